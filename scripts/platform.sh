#!/usr/bin/env bash
# The local platform, as `make run` / `make stop` / `make status` use it:
#   up     data tier (scripts/datatier.sh) and SMTP server (scripts/mailsink.sh) → build → migrations → local keyset → the four services
#          in the background (logs in $PLATFORM_RUN_DIR/logs) → wait for every /readyz → print the URLs.
#          Idempotent: what already runs is left running.
#   down   stops the services this script started, then the data tier. Leaves no process behind.
#   status what runs, where.
#   rotate-keys  one whole rotation of the local keyset (publish → activate → retire → remove, ~85 s) with
#          the operator's CLI, asking the running auth which keyset it has loaded before activating.
#   create-admin EMAIL  makes EMAIL an admin of the local platform (creating the account if it is new), with
#          auth's own create-admin command. A new account's password comes from $PLATFORM_ADMIN_PASSWORD or
#          stdin; there is no default password.
# Every port and the run directory can be overridden by environment variables (see README).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${PLATFORM_RUN_DIR:-$ROOT/.run}"
CONFIGURATION="${PLATFORM_CONFIGURATION:-Release}"
GATEWAY_PORT="${GATEWAY_PORT:-8080}"
AUTH_PORT="${AUTH_PORT:-8081}"
TASKS_PORT="${TASKS_PORT:-8082}"
FILES_PORT="${FILES_PORT:-8083}"
# Auth and tasks also listen for the gateway on a port that speaks only HTTP/2 without TLS (see service_env).
AUTH_H2C_PORT="${AUTH_H2C_PORT:-8181}"
TASKS_H2C_PORT="${TASKS_H2C_PORT:-8182}"
export SMTP_PORT="${SMTP_PORT:-11025}"
READY_TIMEOUT="${PLATFORM_READY_TIMEOUT:-90}"
SERVICES=(auth tasks files gateway)
export PLATFORM_RUN_DIR="$RUN"

say() { printf '%s\n' "$*"; }
die() { printf 'platform: %s\n' "$*" >&2; exit 1; }

project_of() {
  case "$1" in
    auth) echo Platform.Auth ;; tasks) echo Platform.Tasks ;; files) echo Platform.Files ;; gateway) echo Platform.Gateway ;;
    *) die "unknown service $1" ;;
  esac
}

port_of() {
  case "$1" in
    auth) echo "$AUTH_PORT" ;; tasks) echo "$TASKS_PORT" ;; files) echo "$FILES_PORT" ;; gateway) echo "$GATEWAY_PORT" ;;
  esac
}

h2c_port_of() {
  case "$1" in
    auth) echo "$AUTH_H2C_PORT" ;; tasks) echo "$TASKS_H2C_PORT" ;;
  esac
}

dll_of() {
  local project; project="$(project_of "$1")"
  echo "$ROOT/services/$project/bin/$CONFIGURATION/net10.0/$project.dll"
}

operator_dll() { echo "$ROOT/operator/Platform.Operator/bin/$CONFIGURATION/net10.0/Platform.Operator.dll"; }

pid_file() { echo "$RUN/pids/$1.pid"; }

# The service's Npgsql pool per server, as the chart gives each pod: a fixed size (minimum = maximum, opened at start
# by Platform.Data's PoolWarmup), postgresql.maxPoolSize in charts/platform/values.yaml; PLATFORM_PG_POOL overrides it
# for every service, and PLATFORM_PG_POOL=none leaves Npgsql's defaults. Npgsql's own default of 100 let a burst of
# 1,000 users open so many backends at once that their start-up outran the 3 s connection timeout and PostgreSQL spent
# its CPU forking backends that never served a query (bench scenario U: 99 % of requests 503).
pool_size_of() {
  [[ -n ${PLATFORM_PG_POOL:-} ]] && { echo "$PLATFORM_PG_POOL"; return; }
  awk -v service="$1" '
    /^postgresql:/ { in_pg = 1; next }
    in_pg && /^[^ #]/ { in_pg = 0 }
    in_pg && /^  maxPoolSize:/ { in_pool = 1; next }
    in_pool && !/^    / { in_pool = 0 }
    in_pool && $1 == service ":" { print $2; exit }' "$ROOT/charts/platform/values.yaml"
}

running_pid() {
  local file; file="$(pid_file "$1")"
  [[ -f "$file" ]] || return 1
  local pid; pid="$(cat "$file")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "$(project_of "$1").dll"; then
    echo "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

load_datatier_env() {
  local line
  while IFS= read -r line; do
    [[ "$line" =~ ^([A-Z_]+)=\'(.*)\'$ ]] || continue
    export "${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
  done < <("$ROOT/scripts/datatier.sh" env)
}

# The configuration every service gets; gateway routes point at the local service ports.
service_env() {
  export ConnectionStrings__Postgres="$PLATFORM_PG_PRIMARY"
  # PLATFORM_READ_REPLICA=0: the services read from the primary only, as with a data tier without replicas.
  if [[ ${PLATFORM_READ_REPLICA:-1} == 1 ]]; then
    export ConnectionStrings__PostgresReplica="$PLATFORM_PG_REPLICA"
  else
    export ConnectionStrings__PostgresReplica=""
  fi
  export ConnectionStrings__Redis="$PLATFORM_REDIS"
  export ConnectionStrings__RabbitMq="$PLATFORM_RABBITMQ"
  # Tokens: auth signs with the local keyset; every service validates against auth's JWKS.
  export Keys__Directory="$RUN/keys"
  export Tokens__Issuer="http://localhost:$GATEWAY_PORT"
  export Auth__Issuer="http://localhost:$GATEWAY_PORT"
  export Auth__JwksUri="http://127.0.0.1:$AUTH_PORT/.well-known/jwks.json"
  # Short key timings, so `make rotate-keys` completes a whole rotation in about 85 s: a retired key must
  # stay published longer than token lifetime + skew (60 + 5 s; one local clock has no skew to speak of),
  # and a next key longer than auth's 2 s re-read + the 5 s JWKS max-age. Keys rotate uses the same figures.
  export Tokens__AccessTokenMinutes="${PLATFORM_ACCESS_TOKEN_MINUTES:-1}"
  export Auth__ClockSkewSeconds="${PLATFORM_CLOCK_SKEW_SECONDS:-5}"
  export Keys__JwksMaxAgeSeconds="${PLATFORM_JWKS_MAX_AGE_SECONDS:-5}"
  # Auth's mail (password reset, e-mail verification) goes to the local SMTP server, which keeps it in $RUN/mail;
  # its links point at the gateway.
  export Mail__Host=127.0.0.1 Mail__Port="$SMTP_PORT" Mail__Security=None Mail__From="platform@localhost"
  export Accounts__PublicUrl="http://localhost:$GATEWAY_PORT"
  export ReverseProxy__Clusters__auth__Destinations__local__Address="http://127.0.0.1:$AUTH_PORT/"
  export ReverseProxy__Clusters__tasks__Destinations__local__Address="http://127.0.0.1:$TASKS_PORT/"
  export ReverseProxy__Clusters__files__Destinations__local__Address="http://127.0.0.1:$FILES_PORT/"
  # As in the chart, the gateway speaks HTTP/2 to auth and tasks (prior knowledge, no TLS, on their h2c ports): the
  # requests of all its clients share a few connections, so one system call carries many of them; `make bench`
  # measured a cached read at less than half the CPU over HTTP/1.1 (scenario runtime, PLATFORM_UPSTREAM_HTTP2=0).
  # Files stays on HTTP/1.1: its large bodies would queue behind HTTP/2's flow-control windows.
  if [[ ${PLATFORM_UPSTREAM_HTTP2:-1} == 1 ]]; then
    local upstream
    for upstream in auth tasks; do
      export "ReverseProxy__Clusters__${upstream}__Destinations__local__Address=http://127.0.0.1:$(h2c_port_of "$upstream")/"
      export "ReverseProxy__Clusters__${upstream}__HttpRequest__Version=2" "ReverseProxy__Clusters__${upstream}__HttpRequest__VersionPolicy=RequestVersionExact"
    done
  fi
  export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
  # The runtime settings the images ship with (Dockerfile), chosen by `make bench`'s scenario "runtime": a thread
  # pool worker that finds no work sleeps at once instead of spinning, which at below-saturation rates cost up to
  # half the CPU per request and at saturation nothing. PLATFORM_RUNTIME_TUNING=0 runs with the runtime's own defaults.
  if [[ ${PLATFORM_RUNTIME_TUNING:-1} == 1 ]]; then
    export DOTNET_ThreadPool_UnfairSemaphoreSpinLimit="${DOTNET_ThreadPool_UnfairSemaphoreSpinLimit:-0}"
  fi
}

build() {
  if [[ "${PLATFORM_SKIP_BUILD:-0}" == 1 ]]; then return; fi
  say "building ($CONFIGURATION)…"
  # Only what runs (Platform.Run.slnf): the test projects are make test's business.
  dotnet build "$ROOT/Platform.Run.slnf" -c "$CONFIGURATION" -nologo -clp:ErrorsOnly -v:q >"$RUN/logs/build.log" 2>&1 \
    || { cat "$RUN/logs/build.log" >&2; die "build failed (log: $RUN/logs/build.log)"; }
}

# Each service runs as a PostgreSQL login role of its own, which owns its database, which no other service's role may open, as in
# the chart (postgresql.serviceRoles): its migrate command, connecting as the administrator, makes the role (or sets its
# password) and gives it the database; the service then connects as the role and never sees the administrator's password.
role_password_of() {
  local variable="PLATFORM_PG_PASSWORD_${1^^}"
  printf '%s' "${!variable}"
}

# A connection string of the data tier's with another user and password.
as_role() {
  local connection="$1" service="$2"
  [[ -n $connection ]] || return 0
  connection="$(sed -E "s/(^|;)Username=[^;]*/\1Username=$service/; s/(^|;)Password=[^;]*/\1Password=$(role_password_of "$service")/" <<<"$connection")"
  printf '%s' "$connection"
}

migrate() {
  local service
  for service in auth tasks files; do
    (cd "$(dirname "$(dll_of "$service")")" \
      && Postgres__ServiceRole="$service" Postgres__ServiceRolePassword="$(role_password_of "$service")" dotnet "$(dll_of "$service")" migrate) \
      >>"$RUN/logs/migrate.log" 2>&1 \
      || { tail -n 20 "$RUN/logs/migrate.log" >&2; die "migrating $service failed (log: $RUN/logs/migrate.log)"; }
  done
  say "migrations applied"
}

start_service() {
  local service="$1" port pid
  port="$(port_of "$service")"
  if pid="$(running_pid "$service")"; then
    say "$service already running (pid $pid)"
    return
  fi
  # From its output directory: that is the content root, where its appsettings.json is.
  cd "$(dirname "$(dll_of "$service")")"
  # PLATFORM_SERVICE_HEAP_LIMIT_MIB gives the services (not the build or the migrations) the GC heap limit a pod's
  # memory limit would (make soak sets 384, 75 % of the chart's 512 MiB); unset, the runtime sees the machine.
  local heap_limit=()
  if (( ${PLATFORM_SERVICE_HEAP_LIMIT_MIB:-0} > 0 )); then
    heap_limit=("DOTNET_GCHeapHardLimit=$(printf '0x%x' $(( PLATFORM_SERVICE_HEAP_LIMIT_MIB * 1024 * 1024 )))")
  fi
  # No service gets the data tier's administrator connection strings or another service's role password (all exported
  # for this script), and the gateway, which has no database, no connection string at all.
  local database=(-u PLATFORM_PG_PRIMARY -u PLATFORM_PG_REPLICA -u PLATFORM_PG_PASSWORD_AUTH -u PLATFORM_PG_PASSWORD_TASKS
    -u PLATFORM_PG_PASSWORD_FILES -u ConnectionStrings__Postgres -u ConnectionStrings__PostgresReplica) pool sizes=""
  if [[ $service != gateway ]]; then
    pool="$(pool_size_of "$service")"
    [[ -z $pool || $pool == none ]] || sizes=";Minimum Pool Size=$pool;Maximum Pool Size=$pool"
    database+=(ConnectionStrings__Postgres="$(as_role "$ConnectionStrings__Postgres" "$service")$sizes")
    [[ -z $ConnectionStrings__PostgresReplica ]] \
      || database+=(ConnectionStrings__PostgresReplica="$(as_role "$ConnectionStrings__PostgresReplica" "$service")$sizes")
  fi
  local listen=(ASPNETCORE_URLS="http://127.0.0.1:$port") h2c_port
  h2c_port="$(h2c_port_of "$service")"
  if [[ -n $h2c_port ]]; then
    listen=(Kestrel__Endpoints__Http__Url="http://127.0.0.1:$port"
      Kestrel__Endpoints__H2c__Url="http://127.0.0.1:$h2c_port" Kestrel__Endpoints__H2c__Protocols=Http2)
  fi
  # PLATFORM_SERVICE_CPUS_<service> (a CPU list, e.g. PLATFORM_SERVICE_CPUS_gateway=1) runs the service on those CPUs
  # only, as the kubelet's static CPU manager runs a Guaranteed pod with whole CPUs; the runtime then sizes itself to
  # them as it would in such a pod. Unset, it runs anywhere.
  local cpus_setting="PLATFORM_SERVICE_CPUS_$service" pin=()
  if [[ -n ${!cpus_setting:-} ]]; then
    pin=(taskset -c "${!cpus_setting}")
  fi
  env "${database[@]}" "${heap_limit[@]}" "${listen[@]}" setsid nohup "${pin[@]}" dotnet "$(dll_of "$service")" \
    >>"$RUN/logs/$service.log" 2>&1 < /dev/null &
  echo $! > "$(pid_file "$service")"
  cd "$ROOT"
  say "$service started (pid $!, port $port)"
}

wait_ready() {
  local service="$1" port deadline
  port="$(port_of "$service")"
  deadline=$((SECONDS + READY_TIMEOUT))
  until curl -fs -o /dev/null --max-time 3 "http://127.0.0.1:$port/readyz"; do
    running_pid "$service" >/dev/null || { tail -n 30 "$RUN/logs/$service.log" >&2; die "$service exited during start-up (log: $RUN/logs/$service.log)"; }
    (( SECONDS < deadline )) || die "$service is not ready after ${READY_TIMEOUT}s (log: $RUN/logs/$service.log; curl http://127.0.0.1:$port/readyz)"
    sleep 0.5
  done
}

# The gateway is ready as soon as one upstream answers its probe (one failing service must not take the edge out of a
# load balancer), and it probes every 5 s: a service that became ready just after a probe is "down" to the gateway for
# up to 5 s more. "Platform ready" means the gateway reaches all of them: its /api/health says 200.
wait_edge() {
  local deadline=$((SECONDS + READY_TIMEOUT))
  until curl -fs -o /dev/null --max-time 3 "http://127.0.0.1:$GATEWAY_PORT/api/health"; do
    (( SECONDS < deadline )) || die "the gateway does not reach every service after ${READY_TIMEOUT}s (curl http://127.0.0.1:$GATEWAY_PORT/api/health)"
    sleep 0.5
  done
}

stop_service() {
  local service="$1" pid
  pid="$(running_pid "$service")" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$service did not stop in 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pid_file "$service")"
  say "$service stopped"
}

up() {
  local started=$SECONDS service
  command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is required"
  command -v curl >/dev/null || die "curl is required"
  mkdir -p "$RUN/logs" "$RUN/pids"
  "$ROOT/scripts/datatier.sh" up
  "$ROOT/scripts/mailsink.sh" up
  load_datatier_env
  service_env
  build
  migrate
  dotnet "$(operator_dll)" keys init --dir "$RUN/keys"
  for service in "${SERVICES[@]}"; do start_service "$service"; done
  for service in "${SERVICES[@]}"; do wait_ready "$service"; done
  wait_edge
  say ""
  say "platform ready in $((SECONDS - started)) s"
  say "  gateway  http://localhost:$GATEWAY_PORT   (API: /api/auth, /api/tasks, /api/files)"
  say "  auth     http://localhost:$AUTH_PORT   tasks http://localhost:$TASKS_PORT   files http://localhost:$FILES_PORT"
  say "  the gateway reaches auth and tasks over HTTP/2 (h2c) on ports $AUTH_H2C_PORT and $TASKS_H2C_PORT"
  say "  mail     smtp://127.0.0.1:$SMTP_PORT, delivered into the maildir $RUN/mail/new (one file per message)"
  say "  each service: /healthz /readyz /metrics; logs in $RUN/logs; stop with: make stop"
}

down() {
  local i
  for (( i=${#SERVICES[@]}-1; i>=0; i-- )); do stop_service "${SERVICES[$i]}"; done
  "$ROOT/scripts/mailsink.sh" down
  "$ROOT/scripts/datatier.sh" down
}

status() {
  local service pid
  "$ROOT/scripts/datatier.sh" status
  "$ROOT/scripts/mailsink.sh" status
  printf '%-10s %-6s %-8s %s\n' SERVICE PORT STATE PID
  for service in "${SERVICES[@]}"; do
    if pid="$(running_pid "$service")"; then
      printf '%-10s %-6s %-8s %s\n' "$service" "$(port_of "$service")" running "$pid"
    else
      printf '%-10s %-6s %-8s %s\n' "$service" "$(port_of "$service")" stopped -
    fi
  done
}

rotate_keys() {
  [[ -f "$(operator_dll)" ]] || die "the operator is not built; run make run first"
  running_pid auth >/dev/null || die "auth is not running; run make run first"
  dotnet "$(operator_dll)" keys rotate --dir "$RUN/keys" --wait --auth "http://127.0.0.1:$AUTH_PORT"
}

create_admin() {
  local email="${1:-}"
  [[ -n "$email" ]] || die "usage: $0 create-admin EMAIL   (password: \$PLATFORM_ADMIN_PASSWORD or stdin)"
  [[ -f "$(dll_of auth)" ]] || die "auth is not built; run make run first"
  load_datatier_env
  service_env
  (cd "$(dirname "$(dll_of auth)")" && dotnet "$(dll_of auth)" create-admin --email "$email")
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  rotate-keys) rotate_keys ;;
  create-admin) shift; create_admin "$@" ;;
  *) echo "usage: $0 up|down|status|rotate-keys|create-admin EMAIL" >&2; exit 2 ;;
esac
