# Sourced by bench/run.sh: the platform's processes shared out as a node shares CPU between pods.
#   pods_weigh    puts each process group (measure.sh's group_roots, baselines left out) in a CPU cgroup of its own
#                 whose weight is its pod's CPU request in charts/platform/values.yaml, as the kubelet weighs a pod
#                 (cgroup v1 cpu.shares = millicores × 1024 / 1000; v2 cpu.weight from those shares); fails,
#                 changing nothing, without root or a CPU controller
#   pods_unweigh  moves every process back and removes the cgroups
#   pods_apart CPUS "GROUP…" OTHER_CPUS  those groups' process trees on CPUS, every other group's on OTHER_CPUS, as
#                 if they ran on nodes of their own (every thread, with taskset; what the processes fork inherits it)
#   pods_together every group back on all of the machine's CPUs, after pods_apart (the bench's exit trap calls it)
# Weights only matter while CPU is short: then a group gets its share however many threads it runs. Without
# them (every other scenario) each runnable thread of the machine gets an equal turn, so two hashing threads
# take as much as the gateway's and tasks' busiest two.

PODS_CGROUP_NAME=platform-bench

# "group millicores" lines: the chart's CPU requests of the platform's pods, by measure.sh's group names.
pod_cpu_requests() {
  awk '
    /^[A-Za-z]/ { top = $1; sub(/:.*/, "", top); sub2 = "" }
    /^  [A-Za-z]/ { sub2 = $1; sub(/:.*/, "", sub2) }
    /^ +requests: *\{ *cpu: *[0-9]+m/ {
      match($0, /cpu: *[0-9]+m/); cpu = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", cpu)
      key = top "/" sub2
      if (key == "postgresql/primary") print "pg-primary", cpu
      else if (key == "postgresql/readReplicas") print "pg-replica", cpu
      else if (top ~ /^(gateway|auth|tasks|files|redis|rabbitmq)$/ && sub2 == "resources") print top, cpu
    }' "$ROOT/charts/platform/values.yaml"
}

# Prints the cgroup root to use ("v1 DIR" or "v2 DIR"), or fails.
pods_cgroup_root() {
  [[ $(id -u) == 0 ]] || return 1
  if [[ -e /sys/fs/cgroup/cpu/cpu.shares ]]; then
    echo "v1 /sys/fs/cgroup/cpu/$PODS_CGROUP_NAME"
  elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    echo "v2 /sys/fs/cgroup/$PODS_CGROUP_NAME"
  else
    return 1
  fi
}

# "group pid" for every process now in each group's tree.
pods_members() {
  ps -e -o pid=,ppid= | awk -v roots="$(group_roots | grep -Ev '^(nginx|baseline) ')" '
    function claim(pid, group,    i) {
      if (pid in owner) return
      owner[pid] = group
      print group, pid
      for (i = 1; i <= nchildren[pid]; i++) claim(child[pid, i], group)
    }
    { nchildren[$2]++; child[$2, nchildren[$2]] = $1; alive[$1] = 1 }
    END {
      n = split(roots, lines, "\n")
      for (i = 1; i <= n; i++) { split(lines[i], root, " "); if (root[2] in alive) claim(root[2], root[1]) }
    }'
}

pods_weigh() {
  local version dir group cpu shares total=0 pid
  read -r version dir < <(pods_cgroup_root) || return 1
  declare -A requests=()
  while read -r group cpu; do requests[$group]=$cpu; done < <(pod_cpu_requests)
  (( ${#requests[@]} >= 8 )) || { say "pods: found ${#requests[@]} CPU requests in the chart, expected 8"; return 1; }
  if [[ $version == v2 ]]; then
    grep -qw cpu "${dir%/*}/cgroup.subtree_control" || echo +cpu >"${dir%/*}/cgroup.subtree_control" || return 1
  fi
  mkdir -p "$dir" || return 1
  [[ $version == v2 ]] && { echo +cpu >"$dir/cgroup.subtree_control" || return 1; }
  for group in "${!requests[@]}"; do
    shares=$(( requests[$group] * 1024 / 1000 ))
    total=$(( total + shares ))
    # "pod-": a v1 cgroup has a file named "tasks" of its own.
    mkdir -p "$dir/pod-$group" || return 1
    if [[ $version == v1 ]]; then
      echo "$shares" >"$dir/pod-$group/cpu.shares" || return 1
    else
      echo $(( 1 + (shares - 2) * 9999 / 262142 )) >"$dir/pod-$group/cpu.weight" || return 1
    fi
  done
  # The parent competes as one entity with the processes outside it (wrk, the rest of the machine): weigh it as
  # all its pods together, so wrk's threads do not outweigh the whole platform.
  if [[ $version == v1 ]]; then
    echo "$total" >"$dir/cpu.shares" || return 1
  else
    echo $(( 1 + (total - 2) * 9999 / 262142 )) >"$dir/cpu.weight" || return 1
  fi
  while read -r group pid; do
    [[ -n ${requests[$group]:-} ]] && { echo "$pid" >"$dir/pod-$group/cgroup.procs"; } 2>/dev/null || true
  done < <(pods_members)
  say "pods: $(for group in "${!requests[@]}"; do printf '%s=%sm ' "$group" "${requests[$group]}"; done)(cgroup $version, $dir)"
}

pods_unweigh() {
  local version dir group pid
  read -r version dir < <(pods_cgroup_root) || return 0
  [[ -d $dir ]] || return 0
  for group in "$dir"/*/; do
    [[ -f $group/cgroup.procs ]] || continue
    while read -r pid; do echo "$pid" >"${dir%/*}/cgroup.procs" 2>/dev/null || true; done <"$group/cgroup.procs"
    rmdir "$group" 2>/dev/null || say "pods: could not remove $group"
  done
  rmdir "$dir" 2>/dev/null || say "pods: could not remove $dir"
}

pods_apart() {
  local apart_cpus=$1 apart=" $2 " other_cpus=$3 group pid
  command -v taskset >/dev/null || return 1
  while read -r group pid; do
    taskset -a -p -c "$([[ $apart == *" $group "* ]] && echo "$apart_cpus" || echo "$other_cpus")" "$pid" >/dev/null 2>&1 || true
  done < <(pods_members)
  : >"$BENCH_TMP/pods-apart"
  say "pods: $2 on CPU $apart_cpus, the other pods on CPU $other_cpus"
}

pods_together() {
  local group pid
  [[ -e $BENCH_TMP/pods-apart ]] && command -v taskset >/dev/null || return 0
  rm -f "$BENCH_TMP/pods-apart"
  while read -r group pid; do taskset -a -p -c "0-$(( $(nproc) - 1 ))" "$pid" >/dev/null 2>&1 || true; done < <(pods_members)
}
