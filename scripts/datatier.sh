#!/usr/bin/env bash
# scripts/datatier.sh - the local data tier as plain processes on 127.0.0.1:
# a PostgreSQL 15 primary, a streaming hot-standby replica, Redis and RabbitMQ.
# No Docker, no systemd: every component has its own data directory, log,
# pid file and ports, so several run dirs (make run, tests) can run side by side.
#
# Usage: scripts/datatier.sh <command> [component...]
#   components: primary replica redis rabbitmq  (default: all, in that order;
#               reverse order for down)
#   install           install missing Debian packages (root only)
#   up [c...]         start what is not running yet and wait until it answers
#   down [c...]       stop what this script started for this run dir
#   status            table: component, port, state, pid, data dir
#   env               NAME='value' lines with connection strings
#   destroy [c...]    down, then delete the data (all: the whole run dir content,
#                     secrets included; 'primary' implies 'replica')
# Helpers (for people, not for the fixtures):
#   psql <primary|replica> [args]   psql as superuser over the local socket
#   redis-cli [args]                redis-cli with the password
#   rabbitmqctl [args]              rabbitmqctl against this run dir's node
#
# Environment (all optional):
#   PLATFORM_RUN_DIR        default <repo>/.run
#   PG_PORT=15432 PG_REPLICA_PORT=15433 REDIS_PORT=16379 RABBITMQ_PORT=15673
#     RabbitMQ's other ports are derived from RABBITMQ_PORT (R):
#       epmd = R-1000, Erlang distribution = R-2000,
#       rabbitmqctl (CLI) distribution = R-3000 .. R-2991
#     so the defaults use 12673-15673 and e.g. R=25673 uses 22673-25673.
#     No management/prometheus plugin is enabled (enabled-plugins file is empty).
#   PLATFORM_DATATIER_FAST=1   PostgreSQL with fsync/synchronous_commit/
#                              full_page_writes off (tests)
#   PLATFORM_RABBITMQ_TIMEOUT  seconds RabbitMQ may take to start (default 60)
#
# Layout under $PLATFORM_RUN_DIR:
#   data/{primary,replica,redis,rabbitmq}  logs/<component>.log  pids/
#   secrets/{postgres,replication,redis,rabbitmq} (700/600)  conf/ (700)
#   sockets/ (PostgreSQL unix sockets)
#
# When run as root, PostgreSQL runs as the 'postgres' system user (it refuses
# to run as root); Redis and RabbitMQ run as root.  Every process started here
# carries PLATFORM_DATATIER_TAG=<run dir>/<component> in its environment; down
# uses it to make sure nothing of that run dir is left behind.
set -euo pipefail

readonly ALL_COMPONENTS=(primary replica redis rabbitmq)

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(dirname -- "$SCRIPT_DIR")

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

PG_BIN=/usr/lib/postgresql/15/bin
RMQ_BIN=/usr/lib/rabbitmq/bin

PG_TIMEOUT=30
REDIS_TIMEOUT=30
# RabbitMQ's boot after a crash repairs its stores first (tens of seconds on a busy machine): PLATFORM_RABBITMQ_TIMEOUT allows more.
RMQ_TIMEOUT=${PLATFORM_RABBITMQ_TIMEOUT:-60}
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

usage() {
  cat >&2 <<'EOF'
usage: scripts/datatier.sh <command> [component...]
  commands:   install | up [c...] | down [c...] | status | env | destroy [c...]
  helpers:    psql <primary|replica> [args] | redis-cli [args] | rabbitmqctl [args]
  components: primary replica redis rabbitmq (default: all)
  env vars:   PLATFORM_RUN_DIR PG_PORT PG_REPLICA_PORT REDIS_PORT RABBITMQ_PORT
              PLATFORM_DATATIER_FAST=1
EOF
  exit 2
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

# -------------------------------------------------------------- install --

missing_packages() {
  local pk=()
  if ! [[ -x $PG_BIN/postgres && -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl && -x $PG_BIN/pg_basebackup && -x $PG_BIN/psql ]]; then
    pk+=(postgresql)
  fi
  if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    pk+=(redis-server)
  fi
  if ! [[ -x $RMQ_BIN/rabbitmq-server && -x $RMQ_BIN/rabbitmqctl ]] || ! command -v epmd >/dev/null 2>&1; then
    pk+=(rabbitmq-server)
  fi
  printf '%s\n' "${pk[@]}"
}

cmd_install() {
  local verbose=${1:-1} missing
  missing=$(missing_packages | xargs)
  if [[ -z $missing ]]; then
    ((verbose)) && say "install: postgresql 15, redis-server and rabbitmq-server are present"
    return 0
  fi
  ((IS_ROOT)) || die "missing packages ($missing) and not root; run as root: apt-get update && apt-get install -y postgresql redis-server rabbitmq-server"
  say "install: missing $missing; installing from Debian (output on stderr)"
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql redis-server rabbitmq-server >&2
  missing=$(missing_packages | xargs)
  [[ -z $missing ]] || die "still missing after apt-get install: $missing"
}

# --------------------------------------------------------------- layout --

PG_OS_USER=

init_layout() {
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
  for n in postgres replication redis rabbitmq; do
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

# ------------------------------------------------------------ postgres --

as_pg() {
  if ((IS_ROOT)); then
    (cd / && exec runuser -u "$PG_OS_USER" -- "$@")
  else
    (cd / && exec "$@")
  fi
}

pg_port() { if [[ $1 == primary ]]; then printf '%s' "$PG_PORT"; else printf '%s' "$PG_REPLICA_PORT"; fi; }
pg_data() { printf '%s' "$DATA/$1"; }

PG_SOCK_DIR=
pg_sock_dir() {
  if [[ -z $PG_SOCK_DIR ]]; then
    # unix socket paths are limited to 107 bytes
    if ((${#RUN} + 30 <= 107)); then
      PG_SOCK_DIR=$RUN/sockets
    else
      PG_SOCK_DIR=${TMPDIR:-/tmp}/datatier-pgsock-$(printf '%s' "$RUN" | cksum | cut -d' ' -f1)
    fi
  fi
  printf '%s' "$PG_SOCK_DIR"
}

pg_pid() { # comp -> pid of a live postmaster of that data dir
  local d pid
  d=$(pg_data "$1")
  pid=$(read_pid "$d/postmaster.pid") || return 1
  proc_is "$pid" postgres "$d" || return 1
  printf '%s' "$pid"
}

pg_running() { pg_pid "$1" >/dev/null; }

# After a crash (kill -9) the lock files name a dead postmaster.  PostgreSQL
# only checks kill(pid, 0), which also succeeds for a zombie, and PID 1 on
# this kind of machine reaps orphans only after a while: remove them here.
pg_clean_stale() {
  local comp=$1 d lock pid
  d=$(pg_data "$comp")
  if [[ -f $d/postmaster.pid ]] && ! pg_running "$comp"; then
    warn "$comp: removing stale $d/postmaster.pid"
    rm -f "$d/postmaster.pid"
  fi
  lock=$(pg_sock_dir)/.s.PGSQL.$(pg_port "$comp").lock
  if [[ -f $lock ]] && ! pg_running "$comp"; then
    pid=$(read_pid "$lock") || pid=
    if [[ -z $pid ]] || ! pid_alive "$pid"; then
      warn "$comp: removing stale socket lock $lock"
      rm -f "$lock" "${lock%.lock}"
    fi
  fi
  rm -f "$PIDS/$comp.pid"
}

check_pg_traversal() {
  ((IS_ROOT)) || return 0
  id "$PG_OS_USER" >/dev/null 2>&1 || die "system user '$PG_OS_USER' does not exist (is postgresql installed?)"
  if ! runuser -u "$PG_OS_USER" -- test -x "$RUN" 2>/dev/null; then
    if [[ -O $RUN ]]; then
      chmod go+x "$RUN"
    fi
    runuser -u "$PG_OS_USER" -- test -x "$RUN" 2>/dev/null ||
      die "the '$PG_OS_USER' user cannot reach $RUN (a parent directory lacks o+x); choose another PLATFORM_RUN_DIR or chmod o+x its parents"
  fi
}

# Local admin psql over the unix socket (trust), as the postgres OS user.
pg_local_psql() {
  local comp=$1
  shift
  as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$(pg_sock_dir)" -p "$(pg_port "$comp")" -U platform -d postgres "$@"
}

pg_tcp_query() { # comp sql -> result on stdout (password auth over TCP)
  PGPASSWORD=$(secret postgres) PGCONNECT_TIMEOUT=3 \
    "$PG_BIN/psql" -X -A -t -q -h 127.0.0.1 -p "$(pg_port "$1")" -U platform -d postgres -c "$2" 2>/dev/null
}

pg_write_conf() {
  local comp=$1 d port f
  d=$(pg_data "$comp")
  port=$(pg_port "$comp")
  f=$d/platform.conf
  {
    printf '# generated by scripts/datatier.sh on every up; do not edit\n'
    printf "listen_addresses = '127.0.0.1'\n"
    printf 'port = %s\n' "$port"
    printf "unix_socket_directories = '%s'\n" "$(pg_sock_dir)"
    printf 'max_connections = 300\n'
    printf 'wal_level = replica\n'
    printf 'max_wal_senders = 10\n'
    printf 'max_replication_slots = 10\n'
    printf 'hot_standby = on\n'
    printf 'hot_standby_feedback = on\n'
    printf 'wal_retrieve_retry_interval = 1s\n'
    printf "password_encryption = 'scram-sha-256'\n"
    printf 'logging_collector = off\n'
    printf "log_destination = 'stderr'\n"
    printf "log_line_prefix = '%%m [%%p] %%q%%u@%%d '\n"
    if [[ $FAST == 1 ]]; then
      printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n'
    else
      printf 'fsync = on\nsynchronous_commit = on\nfull_page_writes = on\n'
    fi
    if [[ $comp == replica ]]; then
      printf "primary_conninfo = 'host=127.0.0.1 port=%s user=replicator passfile=''%s'' application_name=replica1'\n" \
        "$PG_PORT" "$DATA/replica.pgpass"
      printf "primary_slot_name = 'replica1'\n"
    fi
  } >"$f.tmp"
  chown "$PG_OS_USER" "$f.tmp"
  chmod 600 "$f.tmp"
  mv -f "$f.tmp" "$f"
}

pg_prepare_dirs() {
  local comp=$1 d sock log
  d=$(pg_data "$comp")
  sock=$(pg_sock_dir)
  mkdir -p "$sock"
  chown "$PG_OS_USER" "$sock"
  chmod 700 "$sock"
  log=$LOGS/$comp.log
  touch "$log"
  chown "$PG_OS_USER" "$log"
  chmod 640 "$log"
  if [[ -d $d ]]; then
    chown "$PG_OS_USER" "$d"
    chmod 700 "$d"
  fi
}

pg_init_primary() {
  local d=$DATA/primary pw=$DATA/.initdb-pw log=$LOGS/primary.log
  say "primary: initdb in $d"
  rm -rf "$d"
  mkdir -p "$d"
  chown "$PG_OS_USER" "$d"
  chmod 700 "$d"
  (
    umask 077
    secret postgres >"$pw"
    printf '\n' >>"$pw"
  )
  chown "$PG_OS_USER" "$pw"
  if ! as_pg "$PG_BIN/initdb" -D "$d" -U platform --pwfile="$pw" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >>"$log" 2>&1; then
    rm -f "$pw"
    rm -rf "$d"
    fail_with_log "primary: initdb failed" "$log"
  fi
  rm -f "$pw"
  cat >"$d/pg_hba.conf" <<'EOF'
# generated by scripts/datatier.sh
# TYPE  DATABASE     USER  ADDRESS        METHOD
local   all          all                  trust
local   replication  all                  trust
host    all          all   127.0.0.1/32   scram-sha-256
host    replication  all   127.0.0.1/32   scram-sha-256
EOF
  chown "$PG_OS_USER" "$d/pg_hba.conf"
  chmod 600 "$d/pg_hba.conf"
  printf "\n# settings of scripts/datatier.sh\ninclude_if_exists = 'platform.conf'\n" >>"$d/postgresql.conf"
  rm -f "$DATA/.primary-bootstrapped"
}

# Roles and database; runs after the first start (idempotent).
pg_bootstrap_primary() {
  [[ -f $DATA/.primary-bootstrapped ]] && return 0
  pg_local_psql primary <<EOF || fail_with_log "primary: bootstrap SQL failed" "$LOGS/primary.log"
\\set replpw '$(secret replication)'
\\set pgpw '$(secret postgres)'
ALTER ROLE platform WITH PASSWORD :'pgpw';
SELECT format('CREATE ROLE replicator WITH LOGIN REPLICATION PASSWORD %L', :'replpw')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'replicator') \\gexec
ALTER ROLE replicator WITH LOGIN REPLICATION PASSWORD :'replpw';
SELECT 'CREATE DATABASE platform OWNER platform'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'platform') \\gexec
EOF
  touch "$DATA/.primary-bootstrapped"
}

pg_init_replica() {
  local d=$DATA/replica log=$LOGS/replica.log pass=$DATA/replica.pgpass slot
  pg_bootstrap_primary # the replicator role must exist
  say "replica: pg_basebackup from primary (port $PG_PORT) into $d"
  (
    umask 077
    printf '127.0.0.1:*:*:replicator:%s\n' "$(secret replication)" >"$pass"
  )
  chown "$PG_OS_USER" "$pass"
  chmod 600 "$pass"
  rm -rf "$d"
  mkdir -p "$d"
  chown "$PG_OS_USER" "$d"
  chmod 700 "$d"
  slot=$(pg_local_psql primary -A -t -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'replica1'") ||
    fail_with_log "replica: cannot query the primary" "$LOGS/primary.log"
  local args=(-D "$d" -h 127.0.0.1 -p "$PG_PORT" -U replicator -w -X stream -R -S replica1 -c fast)
  if [[ $slot == 0 ]]; then
    args+=(-C)
  else
    say "replica: replication slot replica1 exists on the primary, reusing it"
  fi
  if ! PGPASSFILE=$pass as_pg "$PG_BIN/pg_basebackup" "${args[@]}" >>"$log" 2>&1; then
    rm -rf "$d"
    fail_with_log "replica: pg_basebackup failed" "$log" "$LOGS/primary.log"
  fi
  # -R wrote primary_conninfo/primary_slot_name into postgresql.auto.conf;
  # platform.conf carries them instead (port follows PG_PORT, password stays
  # in the passfile), and postgresql.auto.conf would override it.
  as_pg sed -i -e '/^primary_conninfo/d' -e '/^primary_slot_name/d' "$d/postgresql.auto.conf"
  [[ -f $d/standby.signal ]] || die "replica: standby.signal missing after pg_basebackup"
}

pg_start() {
  local comp=$1 d port log t0 pid deadline
  d=$(pg_data "$comp")
  port=$(pg_port "$comp")
  log=$LOGS/$comp.log
  if pid=$(pg_pid "$comp"); then
    pg_wait_ready "$comp" $((SECONDS + PG_TIMEOUT)) || fail_with_log "$comp: running (pid $pid) but not answering on port $port" "$log"
    printf '%s\n' "$pid" >"$PIDS/$comp.pid"
    say "$comp: already running (pid $pid, port $port)"
    return 0
  fi
  t0=$(now_us)
  deadline=$((SECONDS + PG_TIMEOUT))
  if [[ $comp == replica ]]; then
    pg_running primary || {
      say "replica: needs the primary, starting it"
      pg_start primary
    }
  fi
  check_pg_traversal
  pg_clean_stale "$comp"
  sweep "$comp"
  port_open "$port" && die "$comp: port $port is already in use by another process (set $([[ $comp == primary ]] && echo PG_PORT || echo PG_REPLICA_PORT))"
  pg_prepare_dirs "$comp"
  if ! [[ -f $d/PG_VERSION ]]; then
    if [[ $comp == primary ]]; then pg_init_primary; else pg_init_replica; fi
    pg_prepare_dirs "$comp"
  fi
  pg_write_conf "$comp"
  # shellcheck disable=SC2094 # pg_ctl's own output goes to the server log too
  if ! (
    tag_env "$comp"
    as_pg "$PG_BIN/pg_ctl" -D "$d" -l "$log" -w -t "$PG_TIMEOUT" start
  ) </dev/null >>"$log" 2>&1 9>&-; then
    pg_stop "$comp" quiet || true
    fail_with_log "$comp: pg_ctl start failed or timed out after ${PG_TIMEOUT}s" "$log"
  fi
  if ! pg_wait_ready "$comp" "$deadline"; then
    pg_stop "$comp" quiet || true
    fail_with_log "$comp: not answering on 127.0.0.1:$port within ${PG_TIMEOUT}s" "$log"
  fi
  if [[ $comp == primary ]]; then pg_bootstrap_primary; fi
  if [[ $comp == replica ]]; then
    local rec
    rec=$(pg_tcp_query replica 'SELECT pg_is_in_recovery()') || true
    [[ $rec == t ]] || fail_with_log "replica: started but is not in recovery (pg_is_in_recovery=$rec)" "$log"
  fi
  pid=$(pg_pid "$comp") || fail_with_log "$comp: postmaster vanished after start" "$log"
  printf '%s\n' "$pid" >"$PIDS/$comp.pid"
  say "$comp: started (pid $pid, port $port) in $(since "$t0")"
}

pg_wait_ready() { # comp deadline
  local comp=$1 deadline=$2 port
  port=$(pg_port "$comp")
  while :; do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 &&
      [[ $(pg_tcp_query "$comp" 'SELECT 1') == 1 ]]; then
      return 0
    fi
    pg_running "$comp" || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

pg_stop() {
  local comp=$1 quiet=${2:-} d pid t0
  d=$(pg_data "$comp")
  t0=$(now_us)
  if pid=$(pg_pid "$comp"); then
    if ! as_pg "$PG_BIN/pg_ctl" -D "$d" -m fast -w -t "$STOP_TIMEOUT" stop </dev/null >>"$LOGS/$comp.log" 2>&1 9>&-; then
      warn "$comp: pg_ctl stop -m fast failed, sending SIGQUIT"
      kill -QUIT "$pid" 2>/dev/null || true
    fi
    if ! wait_gone "$STOP_TIMEOUT" "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone 5 "$pid" || die "$comp: postmaster $pid does not go away"
    fi
    sweep "$comp"
    pg_clean_stale "$comp"
    [[ -n $quiet ]] || say "$comp: stopped (pid $pid) in $(since "$t0")"
  else
    sweep "$comp"
    pg_clean_stale "$comp"
    [[ -n $quiet ]] || say "$comp: not running"
  fi
}

# --------------------------------------------------------------- redis --

redis_pid() {
  local pid
  pid=$(read_pid "$PIDS/redis.pid") || return 1
  proc_is "$pid" redis-server "$DATA/redis" || return 1
  printf '%s' "$pid"
}

redis_cli() {
  REDISCLI_AUTH=$(secret redis) redis-cli --no-auth-warning -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}

redis_ping() { [[ $(redis_cli ping 2>/dev/null) == PONG ]]; }

redis_write_conf() {
  local f=$CONF/redis.conf
  (
    umask 077
    cat >"$f.tmp" <<EOF
# generated by scripts/datatier.sh on every up; do not edit
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
requirepass $(secret redis)
daemonize yes
supervised no
pidfile "$PIDS/redis.pid"
logfile "$LOGS/redis.log"
loglevel notice
dir "$DATA/redis"
appendonly yes
appendfsync everysec
save ""
always-show-logo no
EOF
  )
  mv -f "$f.tmp" "$f"
}

redis_start() {
  local pid t0 deadline log=$LOGS/redis.log
  if pid=$(redis_pid); then
    redis_wait_ready $((SECONDS + REDIS_TIMEOUT)) || fail_with_log "redis: running (pid $pid) but not answering PING on port $REDIS_PORT" "$log"
    say "redis: already running (pid $pid, port $REDIS_PORT)"
    return 0
  fi
  t0=$(now_us)
  deadline=$((SECONDS + REDIS_TIMEOUT))
  if [[ -e $PIDS/redis.pid ]]; then
    warn "redis: removing stale $PIDS/redis.pid"
    rm -f "$PIDS/redis.pid"
  fi
  sweep redis
  port_open "$REDIS_PORT" && die "redis: port $REDIS_PORT is already in use by another process (set REDIS_PORT)"
  mkdir -p "$DATA/redis"
  chmod 700 "$DATA/redis"
  redis_write_conf
  if ! (
    tag_env redis
    cd "$DATA/redis"
    exec redis-server "$CONF/redis.conf"
  ) </dev/null >>"$log" 2>&1 9>&-; then
    fail_with_log "redis: redis-server failed to start" "$log"
  fi
  if ! redis_wait_ready "$deadline"; then
    redis_stop quiet || true
    fail_with_log "redis: not answering PING on 127.0.0.1:$REDIS_PORT within ${REDIS_TIMEOUT}s" "$log"
  fi
  pid=$(redis_pid) || fail_with_log "redis: answers PING but pid file $PIDS/redis.pid is not valid" "$log"
  say "redis: started (pid $pid, port $REDIS_PORT) in $(since "$t0")"
}

redis_wait_ready() {
  local deadline=$1 p
  while :; do
    redis_pid >/dev/null && redis_ping && return 0
    # the daemon wrote its pid file and died (e.g. could not bind)
    if p=$(read_pid "$PIDS/redis.pid") && ! pid_alive "$p"; then return 1; fi
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

redis_stop() {
  local quiet=${1:-} pid t0
  t0=$(now_us)
  if pid=$(redis_pid); then
    redis_cli shutdown >/dev/null 2>&1 || true
    if ! wait_gone "$STOP_TIMEOUT" "$pid"; then
      warn "redis: SHUTDOWN did not stop pid $pid, sending SIGTERM"
      kill -TERM "$pid" 2>/dev/null || true
      wait_gone 10 "$pid" || { kill -KILL "$pid" 2>/dev/null || true; }
      wait_gone 5 "$pid" || die "redis: pid $pid does not go away"
    fi
    sweep redis
    rm -f "$PIDS/redis.pid"
    [[ -n $quiet ]] || say "redis: stopped (pid $pid) in $(since "$t0")"
  else
    sweep redis
    rm -f "$PIDS/redis.pid"
    [[ -n $quiet ]] || say "redis: not running"
  fi
}

# ------------------------------------------------------------ rabbitmq --


# Environment for rabbitmq-server / rabbitmqctl: everything inside the run
# dir, nothing from /etc/rabbitmq, /var/lib/rabbitmq or /root.
rmq_env() {
  local base=$DATA/rabbitmq
  export HOME=$base
  export LANG=C.UTF-8 LC_ALL=C.UTF-8
  export RABBITMQ_NODENAME=$RMQ_NODE
  export RABBITMQ_USE_LONGNAME=false
  export RABBITMQ_CONF_ENV_FILE=$CONF/rabbitmq-env.conf
  export RABBITMQ_CONFIG_FILE=$CONF/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$CONF/rabbitmq-advanced.config
  export RABBITMQ_ENABLED_PLUGINS_FILE=$CONF/rabbitmq-enabled-plugins
  export RABBITMQ_MNESIA_BASE=$base/mnesia
  export RABBITMQ_PLUGINS_EXPAND_DIR=$base/plugins-expand
  export RABBITMQ_FEATURE_FLAGS_FILE=$base/feature_flags
  export RABBITMQ_LOG_BASE=$LOGS
  export RABBITMQ_LOGS=$LOGS/rabbitmq.log
  export RABBITMQ_PID_FILE=$PIDS/rabbitmq.pid
  export RABBITMQ_DIST_PORT=$RMQ_DIST_PORT
  export RABBITMQ_CTL_DIST_PORT_MIN=$RMQ_CTL_PORT_MIN
  export RABBITMQ_CTL_DIST_PORT_MAX=$RMQ_CTL_PORT_MAX
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
  export RABBITMQ_CTL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'
  export ERL_EPMD_PORT=$RMQ_EPMD_PORT
  export ERL_EPMD_ADDRESS=127.0.0.1
}

rmq_pid() { # beam.smp pid
  local pid
  pid=$(read_pid "$PIDS/rabbitmq.pid") || return 1
  proc_is "$pid" beam.smp "$DATA/rabbitmq" || return 1
  printf '%s' "$pid"
}

epmd_pid() {
  local pid
  pid=$(read_pid "$PIDS/rabbitmq-epmd.pid") || return 1
  proc_is "$pid" epmd "$DATA/rabbitmq" || return 1
  printf '%s' "$pid"
}

rmqctl() {
  (
    rmq_env
    tag_env rabbitmq
    cd "$DATA/rabbitmq"
    exec "$RMQ_BIN/rabbitmqctl" -n "$RMQ_NODE" "$@"
  ) 9>&-
}

# AMQP 0-9-1 protocol header -> the broker must answer with a method frame (type 1).
amqp_ok() {
  local out
  # shellcheck disable=SC2016 # expanded by the inner bash
  out=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "AMQP\x00\x00\x09\x01" >&3
    head -c 1 <&3 | od -An -tx1' _ "$RABBITMQ_PORT" 2>/dev/null) || return 1
  [[ ${out//[[:space:]]/} == 01 ]]
}

rmq_write_conf() {
  local base=$DATA/rabbitmq
  mkdir -p "$base" "$base/mnesia"
  chmod 700 "$base"
  (
    umask 077
    : >"$CONF/rabbitmq-env.conf"
    printf '[].\n' >"$CONF/rabbitmq-enabled-plugins"
    printf '[].\n' >"$CONF/rabbitmq-advanced.config"
    cat >"$CONF/rabbitmq.conf.tmp" <<EOF
# generated by scripts/datatier.sh on every up; do not edit
# default_user/default_pass only take effect when the node boots for the
# first time (empty mnesia dir): then 'platform' is the only user (no guest).
listeners.tcp.1 = 127.0.0.1:$RABBITMQ_PORT
listeners.ssl = none
default_vhost = /
default_user = platform
default_pass = $(secret rabbitmq)
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
log.console = false
log.file.level = info
EOF
    mv -f "$CONF/rabbitmq.conf.tmp" "$CONF/rabbitmq.conf"
    if ! [[ -s $base/.erlang.cookie ]]; then
      rand_hex 20 | tr 'a-f' 'A-F' >"$base/.erlang.cookie"
    fi
  )
  chmod 400 "$base/.erlang.cookie"
}

rmq_start() {
  local pid t0 deadline log=$LOGS/rabbitmq.log out=$LOGS/rabbitmq-stdout.log launcher epmd p
  if pid=$(rmq_pid); then
    if ! amqp_ok; then
      rmq_wait_ready $((SECONDS + RMQ_TIMEOUT)) "$pid" ||
        fail_with_log "rabbitmq: running (pid $pid) but AMQP port $RABBITMQ_PORT not answering" "$log" "$out"
    fi
    say "rabbitmq: already running (pid $pid, port $RABBITMQ_PORT)"
    return 0
  fi
  t0=$(now_us)
  deadline=$((SECONDS + RMQ_TIMEOUT))
  rm -f "$PIDS/rabbitmq.pid" "$PIDS/rabbitmq-launcher.pid" "$PIDS/rabbitmq-epmd.pid"
  sweep rabbitmq
  for p in "$RABBITMQ_PORT" "$RMQ_DIST_PORT" "$RMQ_EPMD_PORT"; do
    port_open "$p" && die "rabbitmq: port $p is already in use by another process (AMQP $RABBITMQ_PORT, distribution $RMQ_DIST_PORT, epmd $RMQ_EPMD_PORT; set RABBITMQ_PORT)"
  done
  rmq_write_conf
  : >>"$log"
  : >>"$out"

  # our own epmd on its own port (never the system-wide one on 4369)
  (
    rmq_env
    tag_env rabbitmq
    cd "$DATA/rabbitmq"
    exec setsid epmd -port "$RMQ_EPMD_PORT" -address 127.0.0.1
  ) </dev/null >>"$LOGS/rabbitmq-epmd.log" 2>&1 9>&- &
  epmd=$!
  printf '%s\n' "$epmd" >"$PIDS/rabbitmq-epmd.pid"
  until port_open "$RMQ_EPMD_PORT"; do
    pid_alive "$epmd" || fail_with_log "rabbitmq: epmd on port $RMQ_EPMD_PORT died" "$LOGS/rabbitmq-epmd.log"
    ((SECONDS < deadline)) || { rmq_stop quiet || true; fail_with_log "rabbitmq: epmd not listening on $RMQ_EPMD_PORT" "$LOGS/rabbitmq-epmd.log"; }
    sleep 0.1
  done

  (
    rmq_env
    tag_env rabbitmq
    cd "$DATA/rabbitmq"
    exec setsid "$RMQ_BIN/rabbitmq-server"
  ) </dev/null >>"$out" 2>&1 9>&- &
  launcher=$!
  printf '%s\n' "$launcher" >"$PIDS/rabbitmq-launcher.pid"

  if ! rmq_wait_ready "$deadline" "$launcher"; then
    rmq_stop quiet || true
    fail_with_log "rabbitmq: not ready on 127.0.0.1:$RABBITMQ_PORT within ${RMQ_TIMEOUT}s" "$log" "$out"
  fi
  pid=$(rmq_pid) || fail_with_log "rabbitmq: ready but $PIDS/rabbitmq.pid is not valid" "$log" "$out"
  say "rabbitmq: started (pid $pid, port $RABBITMQ_PORT, node $RMQ_NODE, epmd $RMQ_EPMD_PORT) in $(since "$t0")"
}

# rmq_wait_ready DEADLINE WATCH_PID: AMQP port answers, then await_startup.
rmq_wait_ready() {
  local deadline=$1 watch=$2 left
  until amqp_ok; do
    pid_alive "$watch" || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
  # the broker may open its listener slightly before it has fully booted
  while :; do
    left=$((deadline - SECONDS))
    ((left >= 5)) || left=5
    if rmqctl await_startup --timeout "$left" >>"$LOGS/rabbitmq-stdout.log" 2>&1; then
      amqp_ok && return 0
    fi
    pid_alive "$watch" || return 1
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

rmq_stop() {
  local quiet=${1:-} pid launcher epmd t0 any=0
  t0=$(now_us)
  if pid=$(rmq_pid); then
    any=1
    # SIGTERM makes the node shut down gracefully (same as rabbitmqctl stop)
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$STOP_TIMEOUT" "$pid"; then
      warn "rabbitmq: node did not stop within ${STOP_TIMEOUT}s, killing pid $pid"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone 5 "$pid" || die "rabbitmq: pid $pid does not go away"
    fi
  fi
  if launcher=$(read_pid "$PIDS/rabbitmq-launcher.pid") && pid_alive "$launcher" &&
    grep -qzxF -- "PLATFORM_DATATIER_TAG=$RUN/rabbitmq" "/proc/$launcher/environ" 2>/dev/null; then
    any=1
    wait_gone 5 "$launcher" || kill -TERM "$launcher" 2>/dev/null || true
    wait_gone 5 "$launcher" || kill -KILL "$launcher" 2>/dev/null || true
  fi
  if epmd=$(epmd_pid); then
    ((any)) || any=2
    kill -TERM "$epmd" 2>/dev/null || true
    wait_gone 5 "$epmd" || kill -KILL "$epmd" 2>/dev/null || true
  fi
  sweep rabbitmq
  rm -f "$PIDS/rabbitmq.pid" "$PIDS/rabbitmq-launcher.pid" "$PIDS/rabbitmq-epmd.pid"
  if [[ -z $quiet ]]; then
    case $any in
      1) say "rabbitmq: stopped (pid ${pid:-?}) in $(since "$t0")" ;;
      2) say "rabbitmq: not running (stopped its leftover epmd, pid $epmd)" ;;
      *) say "rabbitmq: not running" ;;
    esac
  fi
}

# ------------------------------------------------------------- commands --

comp_start() {
  case $1 in
    primary | replica) pg_start "$1" ;;
    redis) redis_start ;;
    rabbitmq) rmq_start ;;
  esac
}

comp_stop() {
  case $1 in
    primary | replica) pg_stop "$1" ;;
    redis) redis_stop ;;
    rabbitmq) rmq_stop ;;
  esac
}

comp_pid() {
  case $1 in
    primary | replica) pg_pid "$1" ;;
    redis) redis_pid ;;
    rabbitmq) rmq_pid ;;
  esac
}

comp_port() {
  case $1 in
    primary) printf '%s' "$PG_PORT" ;;
    replica) printf '%s' "$PG_REPLICA_PORT" ;;
    redis) printf '%s' "$REDIS_PORT" ;;
    rabbitmq) printf '%s' "$RABBITMQ_PORT" ;;
  esac
}

# Selected components in canonical order (reverse with "reverse").
SELECTED=()
select_components() {
  local order=$1 c a found
  shift
  local want=()
  for a in "$@"; do
    found=0
    for c in "${ALL_COMPONENTS[@]}"; do [[ $a == "$c" ]] && found=1; done
    ((found)) || {
      printf 'datatier: unknown component: %s\n' "$a" >&2
      usage
    }
  done
  for c in "${ALL_COMPONENTS[@]}"; do
    if (($# == 0)); then
      want+=("$c")
    else
      for a in "$@"; do
        if [[ $a == "$c" ]]; then
          want+=("$c")
          break
        fi
      done
    fi
  done
  SELECTED=()
  if [[ $order == reverse ]]; then
    local i
    for ((i = ${#want[@]} - 1; i >= 0; i--)); do SELECTED+=("${want[i]}"); done
  else
    SELECTED=("${want[@]}")
  fi
}

cmd_up() {
  select_components forward "$@"
  cmd_install 0
  init_layout
  lock_run_dir
  ensure_secrets
  local t0 c
  t0=$(now_us)
  for c in "${SELECTED[@]}"; do comp_start "$c"; done
  say "up: ${SELECTED[*]} ready in $(since "$t0") (run dir $RUN)"
}

cmd_down() {
  select_components reverse "$@"
  [[ -d $RUN ]] || {
    say "down: $RUN does not exist, nothing to stop"
    return 0
  }
  init_layout
  lock_run_dir
  local c
  for c in "${SELECTED[@]}"; do comp_stop "$c"; done
}

cmd_status() {
  (($# == 0)) || usage
  local c pid state dir
  printf '%-9s %-6s %-8s %-8s %s\n' COMPONENT PORT STATE PID DATA
  for c in "${ALL_COMPONENTS[@]}"; do
    if pid=$(comp_pid "$c" 2>/dev/null); then state=running; else
      state=stopped
      pid=-
    fi
    dir=$DATA/$c
    printf '%-9s %-6s %-8s %-8s %s\n' "$c" "$(comp_port "$c")" "$state" "$pid" "$dir"
  done
  return 0
}

cmd_env() {
  (($# == 0)) || usage
  init_layout
  lock_run_dir
  ensure_secrets
  local pgpw redispw rmqpw
  pgpw=$(secret postgres)
  redispw=$(secret redis)
  rmqpw=$(secret rabbitmq)
  printf "PLATFORM_PG_PRIMARY='Host=127.0.0.1;Port=%s;Username=platform;Password=%s'\n" "$PG_PORT" "$pgpw"
  printf "PLATFORM_PG_REPLICA='Host=127.0.0.1;Port=%s;Username=platform;Password=%s'\n" "$PG_REPLICA_PORT" "$pgpw"
  printf "PLATFORM_REDIS='127.0.0.1:%s,password=%s'\n" "$REDIS_PORT" "$redispw"
  printf "PLATFORM_RABBITMQ='amqp://platform:%s@127.0.0.1:%s/'\n" "$rmqpw" "$RABBITMQ_PORT"
}

cmd_destroy() {
  select_components reverse "$@"
  local all=0
  (($# == 0)) && all=1
  # the replica is a copy of the primary: it cannot outlive it
  if ((!all)) && [[ " ${SELECTED[*]} " == *" primary "* && " ${SELECTED[*]} " != *" replica "* ]]; then
    say "destroy: primary implies replica"
    select_components reverse "$@" replica
  fi
  if [[ ! -d $RUN ]]; then
    say "destroy: $RUN does not exist"
    return 0
  fi
  init_layout
  lock_run_dir
  local c
  for c in "${SELECTED[@]}"; do comp_stop "$c"; done
  if ((all)); then
    # only what this script owns: the run dir is shared with scripts/platform.sh
    # (its pids, logs and keys) and may contain other run dirs (.run/tests/...)
    rm -rf "${DATA:?}" "${SECRETS:?}" "${CONF:?}" "$RUN/sockets"
    local sock
    sock=$(pg_sock_dir)
    if [[ $sock != "$RUN"/* ]]; then rm -rf "$sock"; fi
    rm -f "$LOGS"/{primary,replica,redis,rabbitmq,rabbitmq-stdout,rabbitmq-epmd}.log \
      "$LOGS"/platform[0-9]*@localhost_upgrade.log \
      "$PIDS"/{primary,replica,redis,rabbitmq,rabbitmq-launcher,rabbitmq-epmd}.pid
    rmdir "$LOGS" "$PIDS" 2>/dev/null || true
    say "destroy: removed data, secrets, config and logs of the data tier in $RUN"
  else
    for c in "${SELECTED[@]}"; do
      rm -rf "${DATA:?}/$c"
      case $c in
        primary) rm -f "$DATA/.primary-bootstrapped" "$LOGS/primary.log" ;;
        replica) rm -f "$DATA/replica.pgpass" "$LOGS/replica.log" ;;
        redis) rm -f "$LOGS/redis.log" ;;
        rabbitmq) rm -f "$LOGS"/rabbitmq*.log ;;
      esac
      say "destroy: removed $c data"
    done
  fi
}

cmd_psql() {
  local comp=${1:-}
  [[ $comp == primary || $comp == replica ]] || usage
  shift
  init_layout
  pg_running "$comp" || die "$comp is not running"
  pg_local_psql "$comp" "$@"
}

cmd_redis_cli() {
  init_layout
  redis_pid >/dev/null || die "redis is not running"
  redis_cli "$@"
}

cmd_rabbitmqctl() {
  init_layout
  # a CLI call against a stopped node would start an epmd on our port
  rmq_pid >/dev/null || die "rabbitmq is not running"
  rmqctl "$@"
}

main() {
  (($# >= 1)) || usage
  local cmd=$1
  shift
  case $cmd in
    install | up | down | status | env | destroy | psql | redis-cli | rabbitmqctl) ;;
    -h | --help | help) usage ;;
    *)
      printf 'datatier: unknown command: %s\n' "$cmd" >&2
      usage
      ;;
  esac
  validate_config
  if ((IS_ROOT)); then PG_OS_USER=postgres; else PG_OS_USER=$(id -un); fi
  case $cmd in
    install)
      (($# == 0)) || usage
      cmd_install 1
      ;;
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env "$@" ;;
    destroy) cmd_destroy "$@" ;;
    psql) cmd_psql "$@" ;;
    redis-cli) cmd_redis_cli "$@" ;;
    rabbitmqctl) cmd_rabbitmqctl "$@" ;;
  esac
}

main "$@"
