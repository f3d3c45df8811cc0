# shellcheck shell=bash
# scripts/datatier/common.sh - what every engine of scripts/datatier.sh shares:
# the settings taken from the environment, the run dir (layout, lock, secrets),
# the processes of a component (finding, tagging, sweeping) and the messages.
# Sourced by scripts/datatier.sh after it set REPO_ROOT; starts nothing.

RUN=${PLATFORM_RUN_DIR:-$REPO_ROOT/.run}
case $RUN in
  /*) ;;
  *) RUN=$PWD/$RUN ;;
esac
while [[ $RUN == */ && $RUN != / ]]; do RUN=${RUN%/}; done

PG_PORT=${PG_PORT:-15432}
PG_REPLICA_PORT=${PG_REPLICA_PORT:-15433}
REDIS_PORT=${REDIS_PORT:-16379}
RABBITMQ_PORT=${RABBITMQ_PORT:-15673}
FAST=${PLATFORM_DATATIER_FAST:-0}

# shellcheck disable=SC2034 # read by the engines
STOP_TIMEOUT=30

DATA=$RUN/data
LOGS=$RUN/logs
PIDS=$RUN/pids
SECRETS=$RUN/secrets
CONF=$RUN/conf

IS_ROOT=0
[[ $EUID -eq 0 ]] && IS_ROOT=1

# ---------------------------------------------------------------- messages --

say() { printf 'datatier: %s\n' "$*"; }
warn() { printf 'datatier: %s\n' "$*" >&2; }
die() {
  printf 'datatier: error: %s\n' "$*" >&2
  exit 1
}

# Print the last lines of a log file to stderr and fail.
fail_with_log() {
  local msg=$1 log=$2
  shift 2
  if [[ -s $log ]]; then
    printf 'datatier: ---- last lines of %s ----\n' "$log" >&2
    tail -n 25 "$log" >&2 || true
    printf 'datatier: ----\n' >&2
  fi
  local extra
  for extra in "$@"; do
    if [[ -s $extra ]]; then
      printf 'datatier: ---- last lines of %s ----\n' "$extra" >&2
      tail -n 15 "$extra" >&2 || true
      printf 'datatier: ----\n' >&2
    fi
  done
  die "$msg (log: $log)"
}

now_us() { printf '%s' "${EPOCHREALTIME//[!0-9]/}"; }
since() { # start_us -> "1.2s"
  local us=$(($(now_us) - $1))
  printf '%d.%ds' $((us / 1000000)) $(((us % 1000000) / 100000))
}

# ------------------------------------------------------------- validation --

validate_config() {
  case $RUN in
    *[[:space:]\'\"\\\$\`]*) die "PLATFORM_RUN_DIR must not contain whitespace, quotes, \\, \$ or \`: '$RUN'" ;;
  esac
  [[ $RUN != / ]] || die "PLATFORM_RUN_DIR must not be /"
  local v
  for v in PG_PORT PG_REPLICA_PORT REDIS_PORT RABBITMQ_PORT; do
    if ! [[ ${!v} =~ ^[0-9]{1,5}$ ]] || ((${!v} < 1024 || ${!v} > 65535)); then
      die "$v must be a port number between 1024 and 65535 (got '${!v}')"
    fi
  done
  ((RABBITMQ_PORT >= 4024)) || die "RABBITMQ_PORT must be >= 4024 (epmd/distribution ports are derived below it)"
  RMQ_EPMD_PORT=$((RABBITMQ_PORT - 1000))
  RMQ_DIST_PORT=$((RABBITMQ_PORT - 2000))
  RMQ_CTL_PORT_MIN=$((RABBITMQ_PORT - 3000))
  RMQ_CTL_PORT_MAX=$((RMQ_CTL_PORT_MIN + 9))
  # shellcheck disable=SC2034 # read by rabbitmq.sh
  RMQ_NODE=platform${RABBITMQ_PORT}@localhost
  local ports=("$PG_PORT" "$PG_REPLICA_PORT" "$REDIS_PORT" "$RABBITMQ_PORT" "$RMQ_EPMD_PORT" "$RMQ_DIST_PORT")
  local dup
  dup=$(printf '%s\n' "${ports[@]}" | sort | uniq -d)
  [[ -z $dup ]] || die "port collision ($dup): PG_PORT=$PG_PORT PG_REPLICA_PORT=$PG_REPLICA_PORT REDIS_PORT=$REDIS_PORT RABBITMQ_PORT=$RABBITMQ_PORT (epmd $RMQ_EPMD_PORT, dist $RMQ_DIST_PORT)"
  local p
  for p in "$PG_PORT" "$PG_REPLICA_PORT" "$REDIS_PORT" "$RABBITMQ_PORT" "$RMQ_EPMD_PORT" "$RMQ_DIST_PORT"; do
    if ((p >= RMQ_CTL_PORT_MIN && p <= RMQ_CTL_PORT_MAX)); then
      die "port $p collides with the rabbitmqctl distribution range $RMQ_CTL_PORT_MIN-$RMQ_CTL_PORT_MAX"
    fi
  done
  case $FAST in 0 | 1 | '') ;; *) die "PLATFORM_DATATIER_FAST must be 0 or 1" ;; esac
  [[ $RMQ_TIMEOUT =~ ^[0-9]{1,4}$ ]] || die "PLATFORM_RABBITMQ_TIMEOUT must be a number of seconds (got '$RMQ_TIMEOUT')"
}

# ------------------------------------------------------------- processes --

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
  local pid=$1 s
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # (read, not $(<file): a failing $(<file) aborts the script under set -e)
  { IFS= read -r s <"/proc/$pid/stat"; } 2>/dev/null || return 1
  s=${s##*) }
  [[ ${s%% *} != [ZX] ]]
}

# proc_is PID COMM DIR: alive, has that comm and its cwd is DIR (when readable).
proc_is() {
  local pid=$1 comm=$2 dir=$3 c
  pid_alive "$pid" || return 1
  { IFS= read -r c <"/proc/$pid/comm"; } 2>/dev/null || return 1
  [[ $c == "$comm" ]] || return 1
  if readlink "/proc/$pid/cwd" >/dev/null 2>&1; then
    [[ /proc/$pid/cwd -ef $dir ]] || return 1
  fi
  return 0
}

read_pid() { # file -> pid on stdout
  local f=$1 p
  [[ -r $f ]] || return 1
  p=$(head -n 1 "$f" 2>/dev/null) || return 1
  [[ $p =~ ^[0-9]+$ ]] || return 1
  printf '%s' "$p"
}

# wait_gone SECONDS PID...: wait until none of the pids is alive.
wait_gone() {
  local t=$1 p alive
  shift
  local deadline=$((SECONDS + t))
  while :; do
    alive=0
    for p in "$@"; do pid_alive "$p" && alive=1 && break; done
    ((alive)) || return 0
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# Processes of this run dir for one component: those carrying its environment
# tag, plus data-tier binaries whose working directory is the component's data
# dir (PostgreSQL and Redis overwrite their environment area with the process
# title, so the tag is not visible for them; both chdir to their data dir).
component_pids() {
  local comp=$1 tag="PLATFORM_DATATIER_TAG=$RUN/$1" dir=$DATA/$1 d pid c
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    pid_alive "$pid" || continue
    if grep -qzxF -- "$tag" "$d/environ" 2>/dev/null; then
      printf '%s\n' "$pid"
      continue
    fi
    c=
    { IFS= read -r c <"$d/comm"; } 2>/dev/null || continue
    case $c in
      postgres | redis-server | beam.smp | epmd | erl_child_setup | inet_gethost)
        if [[ -d $dir && $d/cwd -ef $dir ]]; then printf '%s\n' "$pid"; fi
        ;;
    esac
  done
  return 0
}

# Terminate whatever is left of a component (children, orphaned epmd, ...).
sweep() {
  local comp=$1 pids
  mapfile -t pids < <(component_pids "$comp")
  ((${#pids[@]})) || return 0
  warn "$comp: terminating leftover processes: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  if ! wait_gone 10 "${pids[@]}"; then
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait_gone 5 "${pids[@]}" || die "$comp: could not kill processes ${pids[*]}"
  fi
}

# Mark this (sub)shell's children as belonging to this run dir's component.
tag_env() { export PLATFORM_DATATIER_TAG="$RUN/$1"; }

port_open() { # port -> 0 when something accepts connections on 127.0.0.1:port
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

rand_hex() { od -An -tx1 -N "$1" /dev/urandom | tr -d ' \n'; }

# --------------------------------------------------------------- layout --

PG_OS_USER=

init_layout() {
  # shellcheck disable=SC2034 # read by postgresql.sh
  if ((IS_ROOT)); then PG_OS_USER=postgres; else PG_OS_USER=$(id -un); fi
  if [[ ! -d $RUN ]]; then
    mkdir -p "$RUN"
    chmod 755 "$RUN"
  fi
  mkdir -p "$DATA" "$LOGS" "$PIDS" "$SECRETS" "$CONF"
  chmod 711 "$DATA"
  chmod 755 "$LOGS" "$PIDS"
  chmod 700 "$SECRETS" "$CONF"
}

lock_run_dir() {
  exec 9>>"$RUN/.datatier.lock"
  flock -w 600 9 || die "could not lock $RUN/.datatier.lock (another datatier.sh still running?)"
}

ensure_secrets() {
  local n f
  # postgres-<service>: the password of the login role each service runs as (scripts/platform.sh, ServiceRole.cs).
  for n in postgres replication redis rabbitmq postgres-auth postgres-tasks postgres-files; do
    f=$SECRETS/$n
    if ! [[ -s $f ]] || ! grep -qxE '[0-9a-f]{16,}' "$f"; then
      (
        umask 077
        rand_hex 24 >"$f.tmp"
        printf '\n' >>"$f.tmp"
      )
      mv -f "$f.tmp" "$f"
    fi
    chmod 600 "$f"
  done
}

secret() {
  local v
  v=$(head -n 1 "$SECRETS/$1" 2>/dev/null) || die "secret $1 missing"
  [[ $v =~ ^[0-9a-f]+$ ]] || die "secret $SECRETS/$1 is not hex"
  printf '%s' "$v"
}

