# Sourced by bench/run.sh: how a scenario is measured.
#   cpu_ticks           CPU clock ticks used so far by each process group of the platform, one "group ticks" line each
#   run_wrk             one wrk run; prints wrk's BENCH summary line and the CPU ticks wrk itself used
#   scrape              the counters of interest from the services' /metrics, "name{labels} value" lines
# A group is every process in the trees under its root pids. Each process counts its own utime+stime plus the
# cutime+cstime of its children already reaped, so PostgreSQL backends that come and go are counted exactly once.

# "group pid" lines: the roots of every group that runs now.
group_roots() {
  local group file pid
  for group in gateway auth tasks files; do
    file="$PLATFORM_RUN_DIR/pids/$group.pid"
    [[ -s $file ]] && echo "$group $(cat "$file")"
  done
  for file in primary:pg-primary replica:pg-replica redis:redis rabbitmq-launcher:rabbitmq rabbitmq:rabbitmq rabbitmq-epmd:rabbitmq; do
    pid="$PLATFORM_RUN_DIR/pids/${file%%:*}.pid"
    [[ -s $pid ]] && echo "${file#*:} $(cat "$pid")"
  done
  [[ -s $BENCH_TMP/nginx.pid ]] && echo "nginx $(cat "$BENCH_TMP/nginx.pid")"
  [[ -s $BENCH_TMP/baseline.pid ]] && echo "baseline $(cat "$BENCH_TMP/baseline.pid")"
  return 0
}

# "group mib" lines: the resident set of each group now (the sum over its process tree).
rss_mib() {
  ps -e -o pid=,ppid=,rss= | awk -v roots="$(group_roots)" '
    function claim(pid, group,    i) {
      if (pid in owner) return
      owner[pid] = group
      kib[group] += rss[pid]
      for (i = 1; i <= nchildren[pid]; i++) claim(child[pid, i], group)
    }
    { nchildren[$2]++; child[$2, nchildren[$2]] = $1; rss[$1] = $3 }
    END {
      n = split(roots, lines, "\n")
      for (i = 1; i <= n; i++) { split(lines[i], root, " "); if (root[2] in rss) claim(root[2], root[1]) }
      for (group in kib) printf "%s %d\n", group, kib[group] / 1024
    }'
}

cpu_ticks() {
  ps -e -o pid=,ppid= | awk -v roots="$(group_roots)" '
    function stat_ticks(pid,    line, fields, n) {
      line = ""
      if ((getline line < ("/proc/" pid "/stat")) <= 0) { close("/proc/" pid "/stat"); return 0 }
      close("/proc/" pid "/stat")
      sub(/^.*\) /, "", line)              # the command name may hold spaces and parentheses
      n = split(line, fields, " ")         # fields[1] is the state: utime stime cutime cstime are 12..15
      return fields[12] + fields[13] + fields[14] + fields[15]
    }
    function claim(pid, group,    i) {
      if (pid in owner) return
      owner[pid] = group
      ticks[group] += stat_ticks(pid)
      for (i = 1; i <= nchildren[pid]; i++) claim(child[pid, i], group)
    }
    { nchildren[$2]++; child[$2, nchildren[$2]] = $1; alive[$1] = 1 }
    END {
      n = split(roots, lines, "\n")
      for (i = 1; i <= n; i++) {
        split(lines[i], root, " ")
        if (!(root[2] in alive)) continue
        ticks[root[1]] += 0
        claim(root[2], root[1])
      }
      for (group in ticks) print group, ticks[group]
    }'
}

# run_wrk OUTFILE URL SCRIPT CONNECTIONS DURATION [wrk args…]: wrk's output goes to OUTFILE, with a last line
# "WRK_TICKS n" read from this subshell's reaped-children time (wrk is gone when we could ask), and wrk's pid to
# OUTFILE.pid while it runs: SIGINT ends it early with its summary.
run_wrk() {
  local out=$1 url=$2 script=$3 connections=$4 duration=$5
  shift 5
  local threads=$(( connections < BENCH_THREADS ? connections : BENCH_THREADS ))
  (
    # With BENCH_OFFERED_RATE (req/s in all) each wrk thread sends on a schedule of its own (bench/lua/common.lua).
    if (( ${BENCH_OFFERED_RATE:-0} > 0 )); then
      BENCH_THREAD_INTERVAL_US=$(( threads * 1000000 / BENCH_OFFERED_RATE ))
      export BENCH_THREAD_INTERVAL_US
    fi
    # With BENCH_WRK_CPUS wrk runs on those CPUs only (taskset execs it: $! stays wrk's pid).
    local pin=()
    [[ -n ${BENCH_WRK_CPUS:-} ]] && pin=(taskset -c "$BENCH_WRK_CPUS")
    "${pin[@]}" wrk --latency -t "$threads" -c "$connections" -d "$duration" \
      --timeout "$BENCH_TIMEOUT" -s "$BENCH_DIR/lua/$script" "$@" "$url" >"$out" 2>&1 &
    echo $! >"$out.pid"
    wait $! || echo "wrk exited with $?" >>"$out"
    rm -f "$out.pid"
    awk '{ sub(/^.*\) /, ""); print "WRK_TICKS", $14 + $15 }' "/proc/$BASHPID/stat" >>"$out"
  )
}

# Counters to read a ratio from: the token cache (gateway, tasks), the task cache and read routing (tasks), hashing
# (auth); and the count of requests each of them — the services a scenario measures — answered with 400 or more.
scrape() {
  local port
  for port in "$GATEWAY_PORT" "$TASKS_PORT" "$AUTH_PORT"; do
    curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" 2>/dev/null \
      | grep -E '^(token_cache_requests_total|gateway_token_cache_requests_total|cache_requests_total|db_reads_total|auth_password_hash_duration_seconds_(sum|count))|^http_server_request_duration_seconds_count\{.*http_response_status_code="[45]' \
      | sed "s/^/$port:/" || true
  done
}

# non2xx_note PORT DELTAS: what wrk's non-2xx count is made of, from the measured service's own count of its answers
# over the interval — "status:route:count" words joined by ";" (e.g. 503:/api/auth/login:81), or nothing. 499 is
# left out: it is the requests in flight when wrk stopped, which wrk never counts.
non2xx_note() {
  local port=$1 table=$2
  awk -v prefix="$port:http_server_request_duration_seconds_count{" '
    index($1, prefix) == 1 && $2 > 0 && match($1, /http_response_status_code="[0-9]+"/) {
      status = substr($1, RSTART + 27, RLENGTH - 28)
      if (status == "499") next
      route = "-"
      if (match($1, /http_route="[^"]*"/)) route = substr($1, RSTART + 12, RLENGTH - 13)
      count[status ":" route] += $2
    }
    END { for (key in count) printf "%s%s:%d", (n++ ? ";" : ""), key, count[key] }' <<<"$table"
}
