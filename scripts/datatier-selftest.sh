#!/usr/bin/env bash
# scripts/datatier-selftest.sh - exercises scripts/datatier.sh end to end in a
# temporary run dir on non-default ports (25432/25433/26379/25673, RabbitMQ's
# derived ports 22673-24673), so it never touches a running `make run`.
#
# Prints PASS/FAIL per step and exits non-zero on the first failure (after
# showing the relevant logs and cleaning up).  KEEP=1 keeps the temp dir.
# The check functions are only called indirectly (through `step`, `trap`):
# shellcheck disable=SC2317
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
DT=$SCRIPT_DIR/datatier.sh
PG_BIN=/usr/lib/postgresql/15/bin

export PG_PORT=25432 PG_REPLICA_PORT=25433 REDIS_PORT=26379 RABBITMQ_PORT=25673
export PLATFORM_DATATIER_FAST=1
ALL_PORTS=(25432 25433 26379 25673 24673 23673)

TMP=$(mktemp -d /tmp/datatier-selftest.XXXXXX)
chmod 755 "$TMP" # the postgres user must be able to traverse it
export PLATFORM_RUN_DIR=$TMP/run
RUN=$PLATFORM_RUN_DIR

OUT=$TMP/out # output of the last datatier call
FAILED=0
T_START=$SECONDS

cleanup() {
  local rc=$?
  if [[ -x $DT ]]; then "$DT" destroy >/dev/null 2>&1 || true; fi
  if [[ ${KEEP:-0} == 1 ]]; then
    echo "selftest: kept $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT

now_us() { printf '%s' "${EPOCHREALTIME//[!0-9]/}"; }
secs() { local us=$(($(now_us) - $1)); printf '%d.%ds' $((us / 1000000)) $(((us % 1000000) / 100000)); }

show_logs() {
  local f
  for f in "$RUN"/logs/*.log; do
    [[ -s $f ]] || continue
    printf '      ---- %s (last 15 lines)\n' "$f"
    tail -n 15 "$f" | sed 's/^/      /'
  done
}

# step NAME FUNCTION [args]: run a check, print PASS/FAIL, stop at the first FAIL.
step() {
  local name=$1 t0 log=$TMP/step.log
  shift
  t0=$(now_us)
  # errexit must stay active inside the check, so no `if (...)` here
  local rc=0
  set +e
  (
    set -e
    "$@"
  ) >"$log" 2>&1
  rc=$?
  set -e
  if ((rc == 0)); then
    printf 'PASS  %-58s %s\n' "$name" "$(secs "$t0")"
    sed 's/^/      /' "$log"
  else
    printf 'FAIL  %-58s %s\n' "$name" "$(secs "$t0")"
    sed 's/^/      /' "$log"
    show_logs
    FAILED=1
    exit 1
  fi
}

# dt ARGS: run datatier.sh, keep its stdout+stderr in $OUT, echo them.
dt() {
  local rc=0
  "$DT" "$@" >"$OUT" 2>&1 || rc=$?
  cat "$OUT"
  return "$rc"
}

expect() { # description, then a test command
  local what=$1
  shift
  if ! "$@"; then
    echo "expected: $what"
    return 1
  fi
}

# ----------------------------------------------------------------- helpers --

# field NAME KEY: value of Key=... inside an env var like Host=..;Port=..
field() {
  local s=${!1} k=$2 part
  local IFS=';'
  for part in $s; do
    if [[ ${part%%=*} == "$k" ]]; then
      printf '%s' "${part#*=}"
      return 0
    fi
  done
  return 1
}

pg_q() { # which(PRIMARY|REPLICA) sql [db]; db "-" = none given (libpq/Npgsql default)
  local var=PLATFORM_PG_$1 db=${3:-postgres}
  local dbarg=(-d "$db")
  [[ $db == - ]] && dbarg=()
  PGPASSWORD=$(field "$var" Password) PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -X -A -t -q -v ON_ERROR_STOP=1 \
    -h "$(field "$var" Host)" -p "$(field "$var" Port)" -U "$(field "$var" Username)" \
    "${dbarg[@]}" -c "$2"
}

redis_parts() { # sets RHOST RPORT RPASS from PLATFORM_REDIS
  local hp=${PLATFORM_REDIS%%,*}
  RHOST=${hp%:*}
  RPORT=${hp##*:}
  RPASS=${PLATFORM_REDIS#*,password=}
}

rq() { # redis command with the env password
  redis_parts
  REDISCLI_AUTH=$RPASS redis-cli --no-auth-warning -h "$RHOST" -p "$RPORT" "$@"
}

amqp_handshake() { # port -> 0 when an AMQP 0-9-1 broker answers
  local out
  # shellcheck disable=SC2016 # expanded by the inner bash
  out=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "AMQP\x00\x00\x09\x01" >&3; head -c 1 <&3 | od -An -tx1' _ "$1" 2>/dev/null) || return 1
  [[ ${out//[[:space:]]/} == 01 ]]
}

load_env() {
  local line
  "$DT" env >"$TMP/env.out"
  while IFS= read -r line; do
    eval "export ${line}"
  done <"$TMP/env.out"
}

gone() { # pid -> 0 when the process no longer exists (or is an unreaped zombie)
  local s
  { IFS= read -r s <"/proc/$1/stat"; } 2>/dev/null || return 0
  s=${s##*) }
  [[ ${s%% *} == [ZX] ]]
}

state_of() { # component -> running|stopped
  "$DT" status | awk -v c="$1" '$1 == c { print $3 }'
}
pid_of() { "$DT" status | awk -v c="$1" '$1 == c { print $4 }'; }

# processes of this run dir: tagged by datatier.sh, or a data-tier binary
# whose command line or cwd points into $TMP.
leftovers() {
  local d pid comm args cwd
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
    if grep -qzF -- "PLATFORM_DATATIER_TAG=$RUN/" "$d/environ" 2>/dev/null; then
      echo "$pid $(cat "$d/comm" 2>/dev/null) (tagged)"
      continue
    fi
    comm=$(cat "$d/comm" 2>/dev/null) || continue
    case $comm in postgres | redis-server | beam.smp | epmd | rabbitmq-server | erl_child_setup) ;; *) continue ;; esac
    args=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) || true
    cwd=$(readlink "$d/cwd" 2>/dev/null) || true
    if [[ $args == *"$TMP"* || $cwd == "$TMP"* ]]; then echo "$pid $comm $args"; fi
  done
}

listening_ports() { # which of our ports still listen
  local p
  for p in "${ALL_PORTS[@]}"; do
    if ss -Hltn "sport = :$p" | grep -q .; then echo "$p"; fi
  done
}

wait_replicated() { # token seconds -> 0 when the replica sees the token
  local tok=$1 t=$2 deadline got
  deadline=$((SECONDS + t))
  while ((SECONDS < deadline)); do
    got=$(pg_q REPLICA "SELECT count(*) FROM selftest WHERE v = '$tok'" 2>/dev/null) || got=
    [[ $got == 1 ]] && return 0
    sleep 0.2
  done
  return 1
}

# ------------------------------------------------------------------- steps --

s_usage() {
  local rc=0
  "$DT" bogus >/dev/null 2>"$TMP/err" || rc=$?
  expect "unknown command exits 2 (got $rc)" test "$rc" = 2
  expect "usage on stderr" grep -q usage "$TMP/err"
  rc=0
  "$DT" up bogus >/dev/null 2>&1 || rc=$?
  expect "unknown component exits 2 (got $rc)" test "$rc" = 2
  rc=0
  "$DT" >/dev/null 2>&1 || rc=$?
  expect "no command exits 2 (got $rc)" test "$rc" = 2
}

s_ports_free() {
  local busy
  busy=$(listening_ports)
  expect "selftest ports free (busy: $busy)" test -z "$busy"
}

s_destroy_fresh() { dt destroy; }

s_up_cold() {
  # through a pipe, as the test fixtures call it: a daemon that kept the
  # pipe open would make the reader hang (timeout -> FAIL)
  local rc=0
  # shellcheck disable=SC2016 # expanded by the inner bash
  timeout 180 bash -c '"$1" up 2>&1 | cat' _ "$DT" >"$OUT" || rc=$?
  cat "$OUT"
  expect "up exits 0 and closes its output (rc $rc)" test "$rc" = 0
  local c
  for c in primary replica redis rabbitmq; do
    expect "$c started" grep -q "^datatier: $c: started" "$OUT"
  done
  expect "secrets dir 700" test "$(stat -c %a "$RUN/secrets")" = 700
  expect "secret files 600" test "$(stat -c %a "$RUN/secrets/postgres")" = 600
}

s_status() {
  dt status
  local c
  for c in primary replica redis rabbitmq; do
    expect "$c running" test "$(state_of "$c")" = running
  done
}

s_env() {
  "$DT" env >"$TMP/env.out"
  sed -E 's/[0-9a-f]{16,}/<hex>/g' "$TMP/env.out"
  expect "exactly 7 lines" test "$(wc -l <"$TMP/env.out")" = 7
  expect "NAME='value' lines only" test -z "$(grep -vE "^PLATFORM_[A-Z_]+='[^']*'$" "$TMP/env.out")"
  load_env
  [[ $PLATFORM_PG_PRIMARY =~ ^Host=127\.0\.0\.1\;Port=25432\;Username=platform\;Password=[0-9a-f]{16,}$ ]] || {
    echo "bad PLATFORM_PG_PRIMARY"
    return 1
  }
  [[ $PLATFORM_PG_REPLICA =~ ^Host=127\.0\.0\.1\;Port=25433\;Username=platform\;Password=[0-9a-f]{16,}$ ]] || {
    echo "bad PLATFORM_PG_REPLICA"
    return 1
  }
  [[ $PLATFORM_REDIS =~ ^127\.0\.0\.1:26379,password=[0-9a-f]{16,}$ ]] || {
    echo "bad PLATFORM_REDIS"
    return 1
  }
  [[ $PLATFORM_RABBITMQ =~ ^amqp://platform:[0-9a-f]{16,}@127\.0\.0\.1:25673/$ ]] || {
    echo "bad PLATFORM_RABBITMQ"
    return 1
  }
  local service password
  for service in AUTH TASKS FILES; do
    password="PLATFORM_PG_PASSWORD_$service"
    [[ ${!password:-} =~ ^[0-9a-f]{16,}$ ]] || {
      echo "bad $password"
      return 1
    }
  done
  local again
  again=$("$DT" env)
  expect "env is stable" test "$again" = "$(cat "$TMP/env.out")"
}

s_pg_primary() {
  local who db
  who=$(pg_q PRIMARY 'SELECT current_user')
  expect "query as platform (got '$who')" test "$who" = platform
  # Npgsql without Database= connects to the database named like the user
  db=$(pg_q PRIMARY 'SELECT current_database()' -)
  expect "default database 'platform' exists (got '$db')" test "$db" = platform
  if PGPASSWORD=wrong "$PG_BIN/psql" -X -h 127.0.0.1 -p "$PG_PORT" -U platform -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
    echo "wrong password was accepted"
    return 1
  fi
  local max
  max=$(pg_q PRIMARY 'SHOW max_connections')
  expect "max_connections=300 (got $max)" test "$max" = 300
  local fsync
  fsync=$(pg_q PRIMARY 'SHOW fsync')
  expect "fast mode: fsync off (got $fsync)" test "$fsync" = off
  local la
  la=$(pg_q PRIMARY 'SHOW listen_addresses')
  expect "listen_addresses 127.0.0.1 (got $la)" test "$la" = 127.0.0.1
}

s_replication() {
  local rec tok st
  rec=$(pg_q REPLICA 'SELECT pg_is_in_recovery()')
  expect "replica in recovery (got $rec)" test "$rec" = t
  st=$(pg_q PRIMARY "SELECT state FROM pg_stat_replication WHERE application_name = 'replica1'")
  expect "primary sees replica1 streaming (got '$st')" test "$st" = streaming
  st=$(pg_q PRIMARY "SELECT slot_type || ':' || active FROM pg_replication_slots WHERE slot_name = 'replica1'")
  expect "slot replica1 physical and active (got '$st')" test "$st" = physical:true
  tok=tok-$RANDOM-$RANDOM
  pg_q PRIMARY "CREATE TABLE IF NOT EXISTS selftest (v text); INSERT INTO selftest VALUES ('$tok')" >/dev/null
  local t0
  t0=$(now_us)
  wait_replicated "$tok" 10 || {
    echo "row not on replica after 10s"
    return 1
  }
  echo "row visible on replica after $(secs "$t0")"
  if pg_q REPLICA "INSERT INTO selftest VALUES ('x')" >/dev/null 2>&1; then
    echo "replica accepted a write"
    return 1
  fi
  echo "$tok" >"$TMP/token1"
}

s_redis() {
  local r
  r=$(rq ping)
  expect "PING = PONG (got $r)" test "$r" = PONG
  r=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>&1) || true
  expect "no password -> NOAUTH (got $r)" grep -q NOAUTH <<<"$r"
  r=$(rq set selftest:key persisted)
  expect "SET ok" test "$r" = OK
  r=$(rq config get appendonly | tail -n 1)
  expect "appendonly yes (got $r)" test "$r" = yes
}

s_rabbitmq() {
  local url=$PLATFORM_RABBITMQ pw port users
  pw=${url#amqp://platform:}
  pw=${pw%%@*}
  port=${url##*:}
  port=${port%/}
  expect "AMQP handshake on $port" amqp_handshake "$port"
  users=$("$DT" rabbitmqctl list_users -q)
  echo "$users"
  expect "user platform exists" grep -q '^platform' <<<"$users"
  if grep -q '^guest' <<<"$users"; then
    echo "guest exists"
    return 1
  fi
  "$DT" rabbitmqctl authenticate_user platform "$pw" >/dev/null ||
    {
      echo "platform password rejected"
      return 1
    }
  local perms
  perms=$("$DT" rabbitmqctl list_permissions -q -p /)
  echo "$perms"
  expect "full permissions on /" grep -qE '^platform[[:space:]]+\.\*[[:space:]]+\.\*[[:space:]]+\.\*' <<<"$perms"
}

s_loopback_only() {
  local p bad
  bad=$(for p in "${ALL_PORTS[@]}"; do ss -Hltn "sport = :$p"; done | awk '{print $4}' | grep -vE '^(127\.0\.0\.1|\[::1\]):' || true)
  ss -Hltn | awk '{print $4}' | grep -E ':(2567[0-9]|2[2-6][0-9]{3})$' | sort -u || true
  expect "everything on loopback (not: $bad)" test -z "$bad"
}

s_up_idempotent() {
  local before after
  before=$("$DT" status)
  dt up
  after=$("$DT" status)
  local c
  for c in primary replica redis rabbitmq; do
    expect "$c already running" grep -q "^datatier: $c: already running" "$OUT"
  done
  if grep -q ': started' "$OUT"; then
    echo "something was started"
    return 1
  fi
  expect "same pids" test "$before" = "$after"
}

s_redis_restart() {
  local rpid
  rpid=$(pid_of redis)
  dt down redis
  expect "redis stopped" test "$(state_of redis)" = stopped
  expect "redis pid $rpid gone" gone "$rpid"
  local c
  for c in primary replica rabbitmq; do
    expect "$c still running" test "$(state_of "$c")" = running
  done
  # a stale pid file pointing at a live, unrelated process must not fool up
  echo "$$" >"$RUN/pids/redis.pid"
  expect "stale pid file -> stopped" test "$(state_of redis)" = stopped
  dt up redis
  expect "redis started" grep -q '^datatier: redis: started' "$OUT"
  local v
  v=$(rq get selftest:key)
  expect "key persisted across restart (got '$v')" test "$v" = persisted
}

s_primary_restart() {
  local rpid ppid
  rpid=$(pid_of replica)
  ppid=$(pid_of primary)
  dt down primary
  expect "primary stopped" test "$(state_of primary)" = stopped
  expect "primary pid $ppid gone" gone "$ppid"
  expect "replica still running" test "$(state_of replica)" = running
  local rec
  rec=$(pg_q REPLICA 'SELECT pg_is_in_recovery()')
  expect "replica answers while primary is down (got $rec)" test "$rec" = t
  dt up primary
  expect "primary started" grep -q '^datatier: primary: started' "$OUT"
  expect "replica not restarted" test "$(pid_of replica)" = "$rpid"
  local tok t0 st
  tok=tok2-$RANDOM-$RANDOM
  pg_q PRIMARY "INSERT INTO selftest VALUES ('$tok')" >/dev/null
  t0=$(now_us)
  wait_replicated "$tok" 20 || {
    echo "replica did not catch up within 20s after primary restart"
    return 1
  }
  echo "replica reconnected, row visible after $(secs "$t0")"
  st=$(pg_q REPLICA 'SELECT status FROM pg_stat_wal_receiver')
  expect "wal receiver streaming (got '$st')" test "$st" = streaming
}

s_replica_restart() {
  dt down replica
  expect "replica stopped" test "$(state_of replica)" = stopped
  expect "primary still running" test "$(state_of primary)" = running
  dt up replica
  expect "replica started" grep -q '^datatier: replica: started' "$OUT"
  if grep -q pg_basebackup "$OUT"; then
    echo "replica was re-cloned instead of restarted"
    return 1
  fi
  wait_replicated "$(cat "$TMP/token1")" 10
}

s_rabbitmq_restart() {
  dt down rabbitmq
  expect "rabbitmq stopped" test "$(state_of rabbitmq)" = stopped
  local busy
  busy=$(ss -Hltn "sport = :24673 or sport = :23673 or sport = :25673")
  expect "AMQP/epmd/dist ports closed ($busy)" test -z "$busy"
  dt up rabbitmq
  expect "rabbitmq started" grep -q '^datatier: rabbitmq: started' "$OUT"
  "$DT" rabbitmqctl list_users -q | grep -q '^platform' || {
    echo "platform user lost"
    return 1
  }
}

s_down_all() {
  dt down
  local c left ports
  for c in primary replica redis rabbitmq; do
    expect "$c stopped" test "$(state_of "$c")" = stopped
  done
  left=$(leftovers)
  expect "no process of $RUN left: $left" test -z "$left"
  ports=$(listening_ports)
  expect "no port of this run dir listening: $ports" test -z "$ports"
  dt down
  expect "second down is a no-op" grep -q 'primary: not running' "$OUT"
}

s_up_warm() {
  dt up
  local c
  for c in primary replica redis rabbitmq; do
    expect "$c started" grep -q "^datatier: $c: started" "$OUT"
  done
  if grep -qE 'initdb|pg_basebackup' "$OUT"; then
    echo "data was re-initialized"
    return 1
  fi
  local n v
  n=$(pg_q PRIMARY 'SELECT count(*) FROM selftest')
  expect "rows kept on primary (got $n)" test "$n" = 2
  n=$(pg_q REPLICA 'SELECT count(*) FROM selftest')
  expect "rows kept on replica (got $n)" test "$n" = 2
  v=$(rq get selftest:key)
  expect "redis key kept (got '$v')" test "$v" = persisted
  load_env
  expect "AMQP answers" amqp_handshake "$RABBITMQ_PORT"
}

s_destroy() {
  dt destroy
  local left
  left=$(leftovers)
  expect "no process left: $left" test -z "$left"
  expect "data removed" test ! -e "$RUN/data"
  expect "secrets removed" test ! -e "$RUN/secrets"
  expect "no port listening" test -z "$(listening_ports)"
}

echo "selftest: run dir $RUN"
step "usage errors exit 2" s_usage
step "selftest ports are free" s_ports_free
step "destroy (start clean)" s_destroy_fresh
step "up from cold (initdb, basebackup, first boot)" s_up_cold
step "status shows everything running" s_status
step "env prints the 4 connection strings" s_env
load_env
step "primary: password query via PLATFORM_PG_PRIMARY" s_pg_primary
step "replica: in recovery, row replicated" s_replication
step "redis: PING with password, AOF on" s_redis
step "rabbitmq: AMQP port, users, permissions" s_rabbitmq
step "all listeners on loopback only" s_loopback_only
step "up again is idempotent" s_up_idempotent
step "down redis / up redis (stale pid file, data kept)" s_redis_restart
step "down primary / up primary, replica keeps streaming" s_primary_restart
step "down replica / up replica" s_replica_restart
step "down rabbitmq / up rabbitmq" s_rabbitmq_restart
step "down everything, nothing left behind" s_down_all
step "up again with existing data (warm)" s_up_warm
step "destroy" s_destroy
echo "selftest: all steps passed in $((SECONDS - T_START))s"
exit "$FAILED"
