# shellcheck shell=bash
# scripts/datatier/commands.sh - the commands of scripts/datatier.sh over the
# whole tier: install, and up, down, status, env and destroy for the selected
# components, each handed to its engine (postgresql.sh, redis.sh, rabbitmq.sh).
# Sourced by scripts/datatier.sh after common.sh and the engines.

readonly ALL_COMPONENTS=(primary replica redis rabbitmq)
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
  local service
  for service in auth tasks files; do
    printf "PLATFORM_PG_PASSWORD_%s='%s'\n" "${service^^}" "$(secret "postgres-$service")"
  done
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
