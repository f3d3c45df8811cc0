#!/usr/bin/env bash
# `make bench`: the load scenarios of issue 8 against the local platform, with wrk on loopback, and their report.
#
#   1 cached task read through the gateway     5 session mix: 305 reads, 54 creates, 1 login in every 360 requests
#   2 the same read straight to tasks          6 file upload and download through the gateway (MB/s); 6c the
#                                                same with files' content in a directory (files restarted for it)
#   3 task create through the gateway          7 scenario 1 while `make rotate-keys` runs (if the target exists)
#   4 login at auth, and through the gateway   8 scenario 1 alone, then again while logins saturate auth; the
#                                                same with processes weighted like their pods (bench/pods.sh),
#                                                saturated and at BENCH_STORM_RATE req/s, and
#                                                at that rate with auth and the stores apart
#   R token refresh through the gateway        U 1,000 users: scenario 5 on 1,000 connections, with each process's memory,
#                                                then at BENCH_RATE req/s in all (users' pace, not saturation)
#   rate  1 and 2 (and the baselines) at one fixed offered rate
#   curve  1 at each of BENCH_CURVE_RATES: CPU per read as the load grows, and what a pod carries at the CPU target
#   mixcurve  5's reads and writes (no logins) at each of BENCH_MIX_CURVE_RATES: the same for the session mix
#   runtime  scenario 1 with each runtime setting (gateway and tasks restarted)
#   S  BENCH_STREAMS idle event streams held through the gateway: its memory per stream (bench/streams.sh)
#   baseline  a bare Kestrel endpoint (bench/Platform.Bench.Baseline)
#   nginx     Debian's nginx proxying scenario 2's request to tasks (keepalive upstream)
#
# Every scenario is warmed up, then measured: wrk's rate and latency percentiles, and the CPU time each process
# group used (/proc, see measure.sh) — the figure that transfers to a cluster when the machine is shared.
# bench/report.sh turns the run into bench/results/<date>-<commit>.md and .svg.
#
# If the platform does not answer on its ports, it is started with BENCH_PLATFORM_ENV (default: the gateway's rate
# limits raised far above the load, so logins can be measured through it) on an emptied PostgreSQL and Redis
# (BENCH_FRESH_DATA=0 keeps their data) and stopped at the end, unless BENCH_KEEP_PLATFORM=1. A
# platform that already runs is used as it is: if its gateway rate-limits logins, scenario 4's gateway row says so
# in its non-2xx count. wrk and nginx are installed from Debian when missing (as root).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export BENCH_DIR="$ROOT/bench"
export PLATFORM_RUN_DIR="${PLATFORM_RUN_DIR:-$ROOT/.run}"
export GATEWAY_PORT="${GATEWAY_PORT:-8080}" AUTH_PORT="${AUTH_PORT:-8081}" TASKS_PORT="${TASKS_PORT:-8082}" FILES_PORT="${FILES_PORT:-8083}"

BENCH_DURATION=${BENCH_DURATION:-30}              # seconds per measured scenario
BENCH_WARMUP=${BENCH_WARMUP:-10}                  # seconds of unmeasured load before each (JIT, pools, caches)
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-64}        # scenarios 1, 2, 3, 5, 7, 8 and the baselines
BENCH_LOGIN_CONNECTIONS=${BENCH_LOGIN_CONNECTIONS:-$(( 4 * $(nproc) ))}  # enough to keep every hashing slot busy
BENCH_FILE_CONNECTIONS=${BENCH_FILE_CONNECTIONS:-4}
BENCH_SCENARIOS=${BENCH_SCENARIOS:-"baseline nginx 1 2 rate curve mixcurve runtime 3 4 R 5 U 6 6c 7 8 S"}
BENCH_USERS_CONNECTIONS=${BENCH_USERS_CONNECTIONS:-1000}   # scenario U
BENCH_REFRESHES=${BENCH_REFRESHES:-40}            # scenario R: refreshes per chain, BENCH_LOGIN_CONNECTIONS chains
# Scenario "runtime": gateway and tasks restarted with each of these settings (";" between settings, spaces between
# variables; "PLATFORM_RUNTIME_TUNING=0" is the runtime's own defaults, "-" the platform's), scenario 1 measured
# at BENCH_RATE and saturated under each. The last two read from the primary only (no replica, or one that lags or is
# down): with tasks' memory of generations, and without it (what every read cost there before a generation read from
# the primary could be reused). Then the gateway and tasks pinned to a CPU each, as the kubelet's static CPU manager
# gives a Guaranteed pod whole CPUs of its own, with the runtime sized for two; and the runtime sized for one CPU, as
# it sizes itself under a CPU limit of one core (bench/results/2026-12-06-cpu-pinning.md).
BENCH_RUNTIME_SETTINGS=${BENCH_RUNTIME_SETTINGS:-"PLATFORM_RUNTIME_TUNING=0;-;DOTNET_gcServer=0;PLATFORM_UPSTREAM_HTTP2=0;Redis__SocketManager=Dedicated;PLATFORM_READ_REPLICA=0;PLATFORM_READ_REPLICA=0 Tasks__GenerationMemoSeconds=0;PLATFORM_SERVICE_CPUS_gateway=1 PLATFORM_SERVICE_CPUS_tasks=0 DOTNET_PROCESSOR_COUNT=2;DOTNET_PROCESSOR_COUNT=1"}
BENCH_RESTART_WARMUP=${BENCH_RESTART_WARMUP:-20}  # seconds of load after each restart of scenario runtime (JIT tiering)
export BENCH_STREAMS=${BENCH_STREAMS:-1000}         # scenario S: idle event streams (8 per user)
BENCH_RATE=${BENCH_RATE:-2000}                    # scenario "rate": the fixed offered rate (req/s), below every path's saturation
BENCH_RATE_CONNECTIONS=${BENCH_RATE_CONNECTIONS:-64}  # the connections that rate is sent on (bench/lua/common.lua schedules it)
BENCH_CURVE_RATES=${BENCH_CURVE_RATES:-"500 1000 2000 4000 8000"}  # scenario "curve": offered rates (req/s), each below saturation
BENCH_STORM_RATE=${BENCH_STORM_RATE:-1000}         # scenario 8e/8f: the reads' offered rate (req/s) beside the storm, below saturation during it
BENCH_MIX_CURVE_RATES=${BENCH_MIX_CURVE_RATES:-"500 1000"}  # scenario "mixcurve": offered rates (req/s); at 2000 the mix saturates this 2-core machine
BENCH_BASELINE_PORT=${BENCH_BASELINE_PORT:-8090}
BENCH_NGINX_PORT=${BENCH_NGINX_PORT:-8091}
BENCH_ROTATION_TIMEOUT=${BENCH_ROTATION_TIMEOUT:-240}  # longest scenario 7 may take
# The gateway's limits stay on (their Redis call per request is part of what a request costs), raised so the
# bench's few users and one address are not refused; so is files' quota per user, which scenario 6c's eight uploading
# users pass within a minute at its rate (their uploads are deleted after each file scenario).
BENCH_PLATFORM_ENV=${BENCH_PLATFORM_ENV:-"RateLimiting__Policies__user__Limit=10000000 RateLimiting__Policies__user__Burst=1000000 RateLimiting__Policies__login__Limit=1000000 RateLimiting__Policies__register__Limit=1000000 RateLimiting__Policies__refresh__Limit=1000000 Files__QuotaBytesPerUser=1099511627776"}
export BENCH_THREADS=${BENCH_THREADS:-$(nproc)}
export BENCH_TIMEOUT=${BENCH_TIMEOUT:-10s}
export BENCH_FILE_MB=${BENCH_FILE_MB:-8}
export BENCH_USERS BENCH_TASKS_PER_USER BENCH_LOGIN_USERS BENCH_FILE_USERS

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
export BENCH_TMP="$PLATFORM_RUN_DIR/bench/$STAMP"
export BENCH_DATA="$BENCH_TMP/data"
RAW="$BENCH_TMP/raw"
RESULTS="$BENCH_TMP/results.tsv"
export AUTH_URL="http://127.0.0.1:$AUTH_PORT" GATEWAY_URL="http://127.0.0.1:$GATEWAY_PORT" FILES_URL="http://127.0.0.1:$FILES_PORT"

say() { printf 'bench: %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# shellcheck source=bench/measure.sh
source "$BENCH_DIR/measure.sh"
# shellcheck source=bench/pods.sh
source "$BENCH_DIR/pods.sh"

# ------------------------------------------------------------------------------------------ prerequisites --

install_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
  (( ${#missing[@]} )) || return 0
  [[ $EUID -eq 0 ]] || die "missing ${missing[*]} and not root; run as root: apt-get install -y ${missing[*]}"
  say "installing ${missing[*]} from Debian"
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >&2
  # Debian starts the packaged nginx on port 80; the bench runs its own.
  if [[ " ${missing[*]} " == *" nginx-light "* ]] && command -v systemctl >/dev/null; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
}

platform_ready() {
  local port
  for port in "$GATEWAY_PORT" "$AUTH_PORT" "$TASKS_PORT" "$FILES_PORT"; do
    curl -fs -o /dev/null --max-time 3 "http://127.0.0.1:$port/readyz" || return 1
  done
}

STARTED_PLATFORM=0
ensure_platform() {
  if platform_ready; then
    say "using the running platform (gateway :$GATEWAY_PORT)"
    return
  fi
  # Every run writes tasks, sessions and users into the same database: reused, it grows from run to run, and with it
  # the cost of list reads and of the login storm (1887e7d's scenario U failed 99 % of its requests on a data directory
  # seven runs old). A platform the bench starts begins from an empty PostgreSQL and Redis; BENCH_FRESH_DATA=0 keeps them.
  if [[ ${BENCH_FRESH_DATA:-1} == 1 ]]; then
    say "emptying PostgreSQL and Redis of $PLATFORM_RUN_DIR (BENCH_FRESH_DATA=0 keeps them)"
    "$ROOT/scripts/platform.sh" down >/dev/null
    "$ROOT/scripts/datatier.sh" destroy primary redis >/dev/null
  fi
  say "starting the platform with: $BENCH_PLATFORM_ENV"
  # shellcheck disable=SC2086 # the setting is a list of NAME=value words
  env $BENCH_PLATFORM_ENV "$ROOT/scripts/platform.sh" up
  STARTED_PLATFORM=1
}

# The bench's own accounts share one password, generated on the first run and kept with the platform's data.
bench_password() {
  local file="$PLATFORM_RUN_DIR/secrets/bench-password"
  if [[ ! -s $file ]]; then
    mkdir -p "$(dirname "$file")"
    (umask 077 && printf 'Bench-%s\n' "$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" >"$file")
  fi
  cat "$file"
}

# ---------------------------------------------------------------------------------------------- baselines --

start_baseline() {
  local dll="$BENCH_DIR/Platform.Bench.Baseline/bin/Release/net10.0/Platform.Bench.Baseline.dll"
  dotnet build "$BENCH_DIR/Platform.Bench.Baseline" -c Release -warnaserror -nologo -v:q -clp:ErrorsOnly >"$BENCH_TMP/baseline-build.log" 2>&1 \
    || { cat "$BENCH_TMP/baseline-build.log" >&2; die "building the baseline failed"; }
  (cd "$(dirname "$dll")" && exec dotnet "$dll" --urls "http://127.0.0.1:$BENCH_BASELINE_PORT" >"$BENCH_TMP/baseline.log" 2>&1) &
  echo $! >"$BENCH_TMP/baseline.pid"
  wait_http "http://127.0.0.1:$BENCH_BASELINE_PORT/" baseline
}

start_nginx() {
  mkdir -p "$BENCH_TMP/nginx"
  sed -e "s|@PREFIX@|$BENCH_TMP/nginx|g" -e "s|@PID@|$BENCH_TMP/nginx.pid|g" \
    -e "s|@PORT@|$BENCH_NGINX_PORT|g" -e "s|@UPSTREAM@|127.0.0.1:$TASKS_PORT|g" \
    "$BENCH_DIR/nginx.conf" >"$BENCH_TMP/nginx/nginx.conf"
  /usr/sbin/nginx -p "$BENCH_TMP/nginx" -c "$BENCH_TMP/nginx/nginx.conf" -e "$BENCH_TMP/nginx/error.log"
  wait_http "http://127.0.0.1:$BENCH_NGINX_PORT/healthz" nginx
}

wait_http() {
  local deadline=$((SECONDS + 60))
  until curl -fs -o /dev/null --max-time 2 "$1"; do
    (( SECONDS < deadline )) || die "$2 does not answer on $1"
    sleep 0.3
  done
}

stop_pid_file() {
  local file=$1 pid
  [[ -s $file ]] || return 0
  pid=$(cat "$file")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$file"
}

cleanup() {
  pods_unweigh
  pods_together
  stop_pid_file "$BENCH_TMP/relogin.pid"
  stop_pid_file "$BENCH_TMP/nginx.pid"
  stop_pid_file "$BENCH_TMP/baseline.pid"
  if (( STARTED_PLATFORM )) && [[ ${BENCH_KEEP_PLATFORM:-0} != 1 ]]; then
    say "stopping the platform this run started (BENCH_KEEP_PLATFORM=1 keeps it)"
    "$ROOT/scripts/platform.sh" down >"$BENCH_TMP/platform-down.log" 2>&1 || say "make stop failed: $BENCH_TMP/platform-down.log"
  fi
}

# ------------------------------------------------------------------------------------------- measurement --

# make run's access tokens live 1 min (+5 s skew): a measured scenario starts with tokens young enough to outlive its
# warm-up and BENCH_DURATION (else its end is answered 401: scenario runtime's restart warm-up once aged them past
# that), so keep BENCH_DURATION + BENCH_WARMUP under 55 s or start the platform with longer-lived tokens
# (PLATFORM_ACCESS_TOKEN_MINUTES).
TOKENS_AT=0
TOKEN_MAX_AGE=$(( 55 - BENCH_WARMUP - BENCH_DURATION ))
(( TOKEN_MAX_AGE > 0 )) || TOKEN_MAX_AGE=0
fresh_tokens() {
  if (( SECONDS - TOKENS_AT > TOKEN_MAX_AGE )); then
    "$BENCH_DIR/seed.sh" tokens
    TOKENS_AT=$SECONDS
  fi
}

# Deltas of two "key value" snapshots: "key delta" for every key of the second.
deltas() { awk 'NR == FNR { before[$1] = $2; next } { print $1, $2 - before[$1] }' <(echo "$1") <(echo "$2"); }

# Sum of the deltas of one port's metric lines whose name and labels contain every given pattern.
metric() {
  local table=$1; shift
  awk -v patterns="$*" '{ n = split(patterns, p, " "); for (i = 1; i <= n; i++) if (index($1, p[i]) == 0) next; sum += $2 }
    END { printf "%.6f", sum + 0 }' <<<"$table"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.4f", a / b; else printf "n/a" }'; }

# measure ID LABEL URL SCRIPT CONNECTIONS [NOTES_FUNCTION]: warm up, measure, append a row to results.tsv.
# NOTES_FUNCTION, given the metric deltas, prints the row's notes (key=value words).
measure() {
  local id=$1 label=$2 url=$3 script=$4 connections=$5 notes_of=${6:-} before after m0 m1 metrics refused notes=""
  fresh_tokens
  say "scenario $id: $label ($connections connections, ${BENCH_DURATION}s)"
  (( BENCH_WARMUP > 0 )) && run_wrk "$RAW/$id.warmup.txt" "$url" "$script" "$connections" "${BENCH_WARMUP}s"
  m0=$(scrape); before=$(cpu_ticks)
  run_wrk "$RAW/$id.txt" "$url" "$script" "$connections" "${BENCH_DURATION}s"
  after=$(cpu_ticks); m1=$(scrape)
  metrics=$(deltas "$(metric_lines "$m0")" "$(metric_lines "$m1")")
  [[ -n $notes_of ]] && notes=$($notes_of "$metrics")
  refused=$(non2xx_note "${url##*:}" "$metrics")
  [[ -n $refused ]] && notes="${notes:+$notes }non2xx=$refused"
  record "$id" "$label" "$connections" "$RAW/$id.txt" "$(deltas "$before" "$after")" "$notes"
}

# "port:name{labels} value" → "port:name{labels} value" with the labels' spaces removed, so awk sees two fields.
metric_lines() { sed -E 's/ ([0-9.eE+-]+)$/\t\1/; s/ //g; s/\t/ /' <<<"$1"; }

# record ID LABEL CONNECTIONS WRK_OUTPUT CPU_DELTAS NOTES: one row of results.tsv (see report.sh for the columns).
record() {
  local id=$1 label=$2 connections=$3 output=$4 cpu=$5 notes=$6
  grep -q '^BENCH ' "$output" || { cat "$output" >&2; die "scenario $id: wrk gave no summary"; }
  cpu=$(awk 'NF == 2 { printf "%s%s=%d", (n++ ? "," : ""), $1, $2 }' <<<"$cpu")
  # The counts are printed with %.0f, not %d: mawk clamps %d at 2^31 - 1, which a download's bytes pass in 7 s.
  awk -v id="$id" -v label="$label" -v conns="$connections" -v cpu="$cpu" -v notes="$notes" '
    /^BENCH / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
    /^WRK_TICKS / { wrk = $2 }
    END {
      seconds = v["duration_us"] / 1e6
      printf "%s\t%s\t%d\t%.2f\t%.0f\t%.1f\t%.3f\t%.3f\t%.3f\t%.0f\t%.0f\t%.0f\t%s\twrk=%d\t%s\n", id, label, conns, seconds, v["requests"],
        v["requests"] / seconds, v["p50_us"] / 1000, v["p95_us"] / 1000, v["p99_us"] / 1000, v["status"],
        v["connect"] + v["read"] + v["write"] + v["timeout"], v["bytes"], cpu, wrk, notes
    }' "$output" >>"$RESULTS"
}

notes_read() {
  local d=$1
  printf 'gateway_token_cache_hit=%s tasks_token_cache_hit=%s task_cache_hit=%s replica_reads=%s' \
    "$(ratio "$(metric "$d" "$GATEWAY_PORT:gateway_token_cache_requests_total" hit)" "$(metric "$d" "$GATEWAY_PORT:gateway_token_cache_requests_total")")" \
    "$(ratio "$(metric "$d" "$TASKS_PORT:token_cache_requests_total" hit)" "$(metric "$d" "$TASKS_PORT:token_cache_requests_total")")" \
    "$(ratio "$(metric "$d" "$TASKS_PORT:cache_requests_total" hit)" "$(metric "$d" "$TASKS_PORT:cache_requests_total")")" \
    "$(ratio "$(metric "$d" "$TASKS_PORT:db_reads_total" replica)" "$(metric "$d" "$TASKS_PORT:db_reads_total")")"
}

notes_login() {
  local d=$1
  printf 'hash_ms=%s' "$(awk -v s="$(metric "$d" "$AUTH_PORT:auth_password_hash_duration_seconds_sum")" \
    -v n="$(metric "$d" "$AUTH_PORT:auth_password_hash_duration_seconds_count")" 'BEGIN { if (n > 0) printf "%.1f", 1000 * s / n; else printf "n/a" }')"
}

# --------------------------------------------------------------------------------------------- scenarios --

scenario_baseline() { measure baseline "Kestrel baseline (fixed body)" "http://127.0.0.1:$BENCH_BASELINE_PORT" baseline.lua "$BENCH_CONNECTIONS"; }
scenario_nginx() { measure nginx "nginx → tasks (scenario 2's read)" "http://127.0.0.1:$BENCH_NGINX_PORT" read.lua "$BENCH_CONNECTIONS" notes_read; }
scenario_1() { measure 1 "cached read via gateway" "$GATEWAY_URL" read.lua "$BENCH_CONNECTIONS" notes_read; }
scenario_2() { measure 2 "cached read direct to tasks" "http://127.0.0.1:$TASKS_PORT" read.lua "$BENCH_CONNECTIONS" notes_read; }
# Scenario "rate": the baseline, nginx, 1 and 2 again at one fixed offered rate (BENCH_RATE), so the CPU per request of
# each path is compared under the same load rather than at whatever rate each path saturates: a process that
# spins waiting for work, or batches better when busy, shows here.
scenario_rate() {
  export BENCH_OFFERED_RATE=$BENCH_RATE
  [[ -s $BENCH_TMP/baseline.pid ]] && measure r-base "Kestrel baseline at $BENCH_RATE req/s" "http://127.0.0.1:$BENCH_BASELINE_PORT" baseline.lua "$BENCH_RATE_CONNECTIONS"
  [[ -s $BENCH_TMP/nginx.pid ]] && measure r-nginx "nginx → tasks at $BENCH_RATE req/s" "http://127.0.0.1:$BENCH_NGINX_PORT" read.lua "$BENCH_RATE_CONNECTIONS" notes_read
  measure r1 "cached read via gateway at $BENCH_RATE req/s" "$GATEWAY_URL" read.lua "$BENCH_RATE_CONNECTIONS" notes_read
  measure r2 "cached read direct to tasks at $BENCH_RATE req/s" "http://127.0.0.1:$TASKS_PORT" read.lua "$BENCH_RATE_CONNECTIONS" notes_read
  unset BENCH_OFFERED_RATE
}

# Scenario "curve": scenario 1 at each of BENCH_CURVE_RATES, on BENCH_RATE_CONNECTIONS connections. The report reads
# off it what one pod carries at the CPU target, which the saturated cost alone overstates.
scenario_curve() {
  local rate
  for rate in $BENCH_CURVE_RATES; do
    export BENCH_OFFERED_RATE=$rate
    measure "c$rate" "cached read via gateway at $rate req/s" "$GATEWAY_URL" read.lua "$BENCH_RATE_CONNECTIONS" notes_read
  done
  unset BENCH_OFFERED_RATE
}

# Scenario "mixcurve": the session mix's reads and writes (scenario 5 without its logins: 306 reads to 54 creates) at
# each of BENCH_MIX_CURVE_RATES. The capacity plan takes a pod's extra CPU at its own rate from here where it can
# (writes pay more than reads when they arrive alone), from the read curve beyond.
scenario_mixcurve() {
  local rate
  export BENCH_SESSION_LOGINS=0
  for rate in $BENCH_MIX_CURVE_RATES; do
    export BENCH_OFFERED_RATE=$rate
    measure "m$rate" "session reads and writes via gateway at $rate req/s" "$GATEWAY_URL" session.lua "$BENCH_RATE_CONNECTIONS"
  done
  unset BENCH_OFFERED_RATE BENCH_SESSION_LOGINS
}

scenario_runtime() {
  if (( ! STARTED_PLATFORM )); then
    say "scenario runtime: skipped (it restarts gateway and tasks, so it runs only on a platform the bench started)"
    return
  fi
  local settings index=0 setting
  IFS=';' read -r -a settings <<<"$BENCH_RUNTIME_SETTINGS"
  for setting in "${settings[@]}" "-"; do
    restart_with "$setting"
    (( index++ < ${#settings[@]} )) || break   # the last "-" only puts the platform's own settings back
    fresh_tokens
    local label=$setting
    [[ $setting != "-" ]] || label="the platform's defaults"
    run_wrk "$RAW/k$index.warmup.txt" "$GATEWAY_URL" read.lua "$BENCH_CONNECTIONS" "${BENCH_RESTART_WARMUP}s"
    export BENCH_OFFERED_RATE=$BENCH_RATE
    measure "k$index-r" "scenario 1 at $BENCH_RATE req/s, $label" "$GATEWAY_URL" read.lua "$BENCH_RATE_CONNECTIONS" notes_read
    unset BENCH_OFFERED_RATE
    measure "k$index-s" "scenario 1 saturated, $label" "$GATEWAY_URL" read.lua "$BENCH_CONNECTIONS" notes_read
  done
}

# restart_with SETTING [SERVICE…]: the services (default: gateway and tasks) stopped and started again with the
# platform's environment plus SETTING ("-": nothing more).
restart_with() {
  local setting=$1 service pid services=("${@:2}")
  (( ${#services[@]} )) || services=(gateway tasks)
  [[ $setting == "-" ]] && setting=""
  say "restarting ${services[*]} with: ${setting:-their usual settings}"
  for service in "${services[@]}"; do
    pid=$(cat "$PLATFORM_RUN_DIR/pids/$service.pid" 2>/dev/null) || continue
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  # shellcheck disable=SC2086 # both are lists of NAME=value words
  env $BENCH_PLATFORM_ENV $setting PLATFORM_SKIP_BUILD=1 "$ROOT/scripts/platform.sh" up >"$BENCH_TMP/restart.log" 2>&1 \
    || { cat "$BENCH_TMP/restart.log" >&2; die "restarting with '$setting' failed"; }
  TOKENS_AT=0   # tasks and the gateway validate tokens again from scratch: fresh ones keep the run's figures alike
}

# Idle event streams, after the load (no wrk): bench/streams.sh holds them on the running platform and prints its
# figures as JSON last; the hold stays short so make run's 1-minute tokens outlive it (a stream ends with its token).
scenario_S() {
  say "scenario S: $BENCH_STREAMS idle event streams through the gateway"
  if BENCH_STREAM_HOLD=${BENCH_STREAM_HOLD:-10} "$BENCH_DIR/streams.sh" >"$RAW/S.txt" 2>&1; then
    sed -n '/^{/,$p' "$RAW/S.txt" >"$BENCH_TMP/streams.json"
  else
    say "scenario S failed: $RAW/S.txt"
  fi
}
scenario_3() { measure 3 "task create via gateway" "$GATEWAY_URL" create.lua "$BENCH_CONNECTIONS"; }

scenario_4() {
  measure 4a "login direct to auth" "$AUTH_URL" login.lua "$BENCH_LOGIN_CONNECTIONS" notes_login
  measure 4b "login via gateway" "$GATEWAY_URL" login.lua "$BENCH_LOGIN_CONNECTIONS" notes_login
}

scenario_5() { measure 5 "session mix via gateway" "$GATEWAY_URL" session.lua "$BENCH_CONNECTIONS" notes_login; }

# Scenario U: 1,000 users at once, each a connection of scenario 5's session traffic, with the largest resident set
# of each process group while it ran (sampled every second).
scenario_U() {
  local sampler
  sample_rss "$RAW/U.rss" & sampler=$!
  measure U "$BENCH_USERS_CONNECTIONS users, session mix via gateway" "$GATEWAY_URL" session.lua "$BENCH_USERS_CONNECTIONS" rss_notes
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  # The same users at a pace a platform is sized for (together BENCH_RATE req/s, sent on a schedule): a saturated
  # closed loop measures its own queue; this is the latency a user sees.
  export BENCH_OFFERED_RATE=$BENCH_RATE
  measure U-r "$BENCH_USERS_CONNECTIONS users, session mix via gateway at $BENCH_RATE req/s" "$GATEWAY_URL" session.lua "$BENCH_USERS_CONNECTIONS"
  unset BENCH_OFFERED_RATE
}

# Largest RSS (MiB) of each group seen since the file was started: "group mib" lines, rewritten every second.
sample_rss() {
  local out=$1
  : >"$out"
  while :; do
    rss_mib | awk 'NR == FNR { max[$1] = $2; next } { if (!($1 in max) || $2 > max[$1]) max[$1] = $2 } END { for (g in max) print g, max[g] }' "$out" - >"$out.tmp"
    mv -f "$out.tmp" "$out"
    sleep 1
  done
}
rss_notes() { awk '{ printf "%srss_mib_%s=%d", (n++ ? " " : ""), $1, $2 }' "$RAW/U.rss"; }

# Scenario R: token refresh through the gateway. Refresh tokens rotate (each is good once, and a reuse ends the
# session), so each client's chain is followed by curl: BENCH_LOGIN_CONNECTIONS chains in parallel, BENCH_REFRESHES
# refreshes each, after one login per chain that is not measured. curl's own CPU is not in any platform group.
scenario_R() {
  fresh_tokens
  say "scenario R: token refresh via gateway ($BENCH_LOGIN_CONNECTIONS chains of $BENCH_REFRESHES)"
  local before after started chain=0 email password token i
  mkdir -p "$RAW/R"
  while IFS=$'\t' read -r email password; do
    token=$(curl -fsS --max-time 30 -X POST -H 'Content-Type: application/json' -d "{\"email\":\"$email\",\"password\":\"$password\"}" \
      "$AUTH_URL/api/auth/login" | sed -n 's/.*"refreshToken":"\([^"]*\)".*/\1/p')
    [[ -n $token ]] || die "scenario R: login of $email failed"
    echo "$token" >"$RAW/R/start.$((chain++))"
  done < <(head -n "$BENCH_LOGIN_CONNECTIONS" "$BENCH_DATA/logins.tsv")
  before=$(cpu_ticks); started=$(date +%s%N)
  local chains=()
  for (( i = 0; i < chain; i++ )); do refresh_chain "$(cat "$RAW/R/start.$i")" >"$RAW/R/chain.$i" & chains+=($!); done
  wait "${chains[@]}"   # these only: the baselines run in the background too
  after=$(cpu_ticks)
  # The same summary line wrk's scripts print (bench/lua/common.lua), from curl's status and time of each refresh.
  cat "$RAW"/R/chain.* | sort -k2 -g | awk -v us=$(( ($(date +%s%N) - started) / 1000 )) '
    { status[NR] = $1; t[NR] = $2 * 1e6; if ($1 >= 400 || $1 == 0) failed++ }
    function pct(p) { return NR ? t[int((NR - 1) * p / 100) + 1] : 0 }
    END { printf "BENCH requests=%d duration_us=%d bytes=0 status=%d connect=0 read=0 write=0 timeout=0 p50_us=%d p95_us=%d p99_us=%d max_us=%d\nWRK_TICKS 0\n",
      NR, us, failed, pct(50), pct(95), pct(99), t[NR] }' >"$RAW/R.txt"
  record R "token refresh via gateway" "$BENCH_LOGIN_CONNECTIONS" "$RAW/R.txt" "$(deltas "$before" "$after")" ""
}

# refresh_chain TOKEN: BENCH_REFRESHES refreshes, each with the token the last one returned; "status seconds" lines.
refresh_chain() {
  local token=$1 i response
  for (( i = 0; i < BENCH_REFRESHES; i++ )); do
    response=$(curl -sS --max-time 30 -w '\n%{http_code} %{time_total}' -X POST -H 'Content-Type: application/json' \
      -d "{\"refreshToken\":\"$token\"}" "$GATEWAY_URL/api/auth/refresh") || { echo "0 30"; return; }
    tail -n 1 <<<"$response"
    token=$(head -n 1 <<<"$response" | sed -n 's/.*"refreshToken":"\([^"]*\)".*/\1/p')
    [[ -n $token ]] || return
  done
}

scenario_6() {
  measure 6u "upload ${BENCH_FILE_MB} MiB via gateway" "$GATEWAY_URL" upload.lua "$BENCH_FILE_CONNECTIONS"
  measure 6d "download ${BENCH_FILE_MB} MiB via gateway" "$GATEWAY_URL" download.lua "$BENCH_FILE_CONNECTIONS"
  delete_uploads
}

# Scenario 6c: scenario 6 with files' content in a directory (Files__ContentDirectory) instead of PostgreSQL, files
# restarted for it and back after; the downloads read one BENCH_FILE_MB MiB file per file user stored there first.
scenario_6c() {
  if (( ! STARTED_PLATFORM )); then
    say "scenario 6c: skipped (it restarts files, so it runs only on a platform the bench started)"
    return
  fi
  local directory="$PLATFORM_RUN_DIR/data/files-content" reader token id
  rm -rf "$directory"
  restart_with "Files__ContentDirectory=$directory" files
  fresh_tokens
  : >"$BENCH_DATA/files-content-by-reader.tsv"
  while IFS=$'\t' read -r reader _; do
    token=$(awk -F'\t' -v reader="$reader" '$1 == reader { print $2 }' "$BENCH_DATA/reader-tokens.tsv")
    id=$(head -c "$(( BENCH_FILE_MB * 1048576 ))" /dev/urandom | curl -fsS --max-time 120 -X POST -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/octet-stream' --data-binary @- "$GATEWAY_URL/api/files?name=bench-seed.bin" \
      | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
    [[ -n $id ]] || die "scenario 6c: storing a file in the content directory failed"
    printf '%s\t%s\n' "$reader" "$id" >>"$BENCH_DATA/files-content-by-reader.tsv"
  done <"$BENCH_DATA/files-by-reader.tsv"
  TOKENS_AT=0   # files-content.tsv is written with the readers' tokens
  fresh_tokens
  run_wrk "$RAW/6u-c.restart.txt" "$GATEWAY_URL" upload.lua "$BENCH_FILE_CONNECTIONS" "${BENCH_RESTART_WARMUP}s"   # JIT tiering
  measure 6u-c "upload ${BENCH_FILE_MB} MiB via gateway, content directory" "$GATEWAY_URL" upload.lua "$BENCH_FILE_CONNECTIONS"
  export BENCH_FILES_TABLE=files-content.tsv
  measure 6d-c "download ${BENCH_FILE_MB} MiB via gateway, content directory" "$GATEWAY_URL" download.lua "$BENCH_FILE_CONNECTIONS"
  unset BENCH_FILES_TABLE
  delete_uploads
  rm -f "$BENCH_DATA/files-content-by-reader.tsv" "$BENCH_DATA/files-content.tsv"
  restart_with "-" files
  rm -rf "$directory"
}

# The uploads of scenario 6 would fill the users' quotas and the disk on the next run: delete all but the seeds.
delete_uploads() {
  local token id keep
  # After two file scenarios the readers' tokens can be older than make run's 1-minute lifetime.
  TOKENS_AT=0
  fresh_tokens
  keep=$(cut -f2 "$BENCH_DATA/files.tsv")
  while read -r token; do
    while :; do
      mapfile -t ids < <(curl -fsS --max-time 30 -H "Authorization: Bearer $token" "$GATEWAY_URL/api/files?limit=200" \
        | grep -oE '"id":"[0-9a-f-]{36}"' | cut -d'"' -f4 | grep -vxF "$keep" || true)
      (( ${#ids[@]} )) || break
      for id in "${ids[@]}"; do
        curl -fsS -o /dev/null --max-time 30 -X DELETE -H "Authorization: Bearer $token" "$GATEWAY_URL/api/files/$id"
      done
    done
  done <"$BENCH_DATA/tokens.tsv"
}

# Scenario 7: scenario 1's load on (re-reading reads.tsv every 200 requests) while `make rotate-keys` runs, and
# the readers log in again in turn (four every 2 s) so tokens signed with the new key join the load as soon as it is
# active and no token outlives make run's 1-minute lifetime.
scenario_7() {
  if ! make -C "$ROOT" -n rotate-keys >/dev/null 2>&1; then
    say "scenario 7: not available (no rotate-keys target)"
    printf '7\trotation under load\t%d\t0\t0\t0\t0\t0\t0\t0\t0\t0\t\twrk=0\tnot_available=no_rotate-keys_target\n' "$BENCH_CONNECTIONS" >>"$RESULTS"
    return
  fi
  "$BENCH_DIR/seed.sh" tokens; TOKENS_AT=$SECONDS
  say "scenario 7: rotation under load ($BENCH_CONNECTIONS connections, until make rotate-keys ends + ${BENCH_DURATION}s)"
  local before after started=$SECONDS rotation=ok
  before=$(cpu_ticks)
  (export BENCH_RELOAD_EVERY=200; run_wrk "$RAW/7.txt" "$GATEWAY_URL" read.lua "$BENCH_CONNECTIONS" "${BENCH_ROTATION_TIMEOUT}s") &
  local load=$!
  # Four readers every 2 s: every reader's token is renewed well within make run's 1-minute token lifetime.
  ( reader=0; users=$(wc -l <"$BENCH_DATA/reader-tokens.tsv"); while :; do sleep 2
      "$BENCH_DIR/seed.sh" tokens $(for i in 1 2 3 4; do echo $(( (reader + i - 1) % users + 1 )); done) || true
      reader=$(( (reader + 4) % users )); done ) >"$RAW/7.relogin.log" 2>&1 &
  echo $! >"$BENCH_TMP/relogin.pid"
  timeout "$BENCH_ROTATION_TIMEOUT" make -C "$ROOT" rotate-keys >"$RAW/7.rotate-keys.log" 2>&1 || rotation=failed
  sleep "$BENCH_DURATION"
  stop_pid_file "$BENCH_TMP/relogin.pid"
  [[ -s $RAW/7.txt.pid ]] && kill -INT "$(cat "$RAW/7.txt.pid")" 2>/dev/null || true
  wait "$load" || true
  after=$(cpu_ticks)
  record 7 "rotation under load" "$BENCH_CONNECTIONS" "$RAW/7.txt" "$(deltas "$before" "$after")" \
    "rotate_keys=$rotation rotation_s=$(( SECONDS - started - BENCH_DURATION ))"
}

# Scenario 8: scenario 1 alone (8a), then scenario 1 again while a login storm at auth saturates it (8b). The
# storm goes to auth directly: the gateway's per-address limit would stop a storm from one address, and the
# question here is what a storm that gets through (many addresses) does to everyone else's reads. Then the same
# pair with the processes weighted like their pods' CPU requests (8c, 8d; bench/pods.sh), as a node shares CPU:
# 8a/8b are one machine where every thread gets an equal turn, 8c/8d what the chart's pods would get, 8e/8f the same
# pods with the reads at a fixed rate, 8g/8h those again with auth, PostgreSQL and RabbitMQ on a CPU of their own
# (as on nodes of their own).
scenario_8() {
  storm_pair 8a 8b ""
  if (( ! STARTED_PLATFORM )); then
    say "scenario 8: 8c to 8h skipped (they restart auth, so they run only on a platform the bench started)"
    return
  fi
  # auth's pod hashes on as many threads as it requests cores (the chart's platform.auth.hashingSlots); this
  # process would otherwise use one per core of the machine.
  local slots
  slots=$(pod_cpu_requests | awk '$1 == "auth" { n = int(($2 + 999) / 1000); print n < 1 ? 1 : n }')
  restart_with "Passwords__MaxConcurrentHashes=$slots" auth
  if pods_weigh; then
    storm_pair 8c 8d ", processes weighted like their pods' CPU requests, auth hashing on $slots thread(s)"
    # The same pair with the reads offered at a fixed rate below saturation, as a node runs under its autoscaler:
    # saturated, the storm's cut of the CPU shows as queueing of a closed loop of readers; here it shows only as
    # the latency it adds to each read.
    BENCH_OFFERED_RATE=$BENCH_STORM_RATE storm_pair 8e 8f \
      " at $BENCH_STORM_RATE req/s, processes weighted like their pods' CPU requests, auth hashing on $slots thread(s)"
    # And once more with auth and the stores its logins write to on nodes of their own
    # (charts/platform/values-dedicated-nodes.yaml): auth, PostgreSQL, RabbitMQ and the storm's client on the last
    # CPU; gateway, tasks, files, Redis and the readers' client on the others. What a storm then takes from the reads
    # is what it asks of the parts they share (Redis, the revocations and events its evictions publish).
    local apart_cpu=$(( $(nproc) - 1 ))
    if (( apart_cpu >= 1 )) && pods_apart "$apart_cpu" "auth pg-primary pg-replica rabbitmq" "0-$(( apart_cpu - 1 ))"; then
      BENCH_WRK_CPUS="0-$(( apart_cpu - 1 ))" BENCH_STORM_WRK_CPUS=$apart_cpu BENCH_OFFERED_RATE=$BENCH_STORM_RATE storm_pair 8g 8h \
        " at $BENCH_STORM_RATE req/s, auth, PostgreSQL and RabbitMQ on a CPU of their own, auth hashing on $slots thread(s)"
      pods_together
    else
      say "scenario 8: 8g/8h not run (needs 2 CPUs and taskset)"
    fi
    pods_unweigh
  else
    say "scenario 8: no CPU cgroup to weigh the processes by (needs root and a cgroup CPU controller): 8c to 8h not run"
  fi
  restart_with "-" auth
}

# storm_pair ALONE_ID STORM_ID LABEL_SUFFIX
storm_pair() {
  local alone=$1 during=$2 suffix=$3 before after storm
  measure "$alone" "cached read alone (storm reference)$suffix" "$GATEWAY_URL" read.lua "$BENCH_CONNECTIONS"
  fresh_tokens
  say "scenario $during: cached reads during a login storm ($BENCH_LOGIN_CONNECTIONS login connections)$suffix"
  # An offered rate (BENCH_OFFERED_RATE) paces the reads only: the storm's logins come as fast as auth answers.
  BENCH_WRK_CPUS=${BENCH_STORM_WRK_CPUS:-${BENCH_WRK_CPUS:-}} BENCH_OFFERED_RATE=0 run_wrk "$RAW/$during.storm.txt" "$AUTH_URL" login.lua "$BENCH_LOGIN_CONNECTIONS" "$(( BENCH_DURATION + 2 * BENCH_WARMUP + 2 ))s" &
  storm=$!
  sleep "$BENCH_WARMUP"
  before=$(cpu_ticks)
  run_wrk "$RAW/$during.txt" "$GATEWAY_URL" read.lua "$BENCH_CONNECTIONS" "${BENCH_DURATION}s"
  after=$(cpu_ticks)
  wait "$storm" || true
  record "$during" "cached read during login storm$suffix" "$BENCH_CONNECTIONS" "$RAW/$during.txt" "$(deltas "$before" "$after")" \
    "storm_logins_per_s=$(awk '/^BENCH / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } } END { printf "%.1f", v["requests"] / (v["duration_us"] / 1e6) }' "$RAW/$during.storm.txt")"
}

# ------------------------------------------------------------------------------------------------- main --

main() {
  install_tools
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"   # scenario U holds 1,000 connections
  mkdir -p "$RAW" "$BENCH_DATA"
  trap cleanup EXIT
  ensure_platform
  BENCH_PASSWORD="$(bench_password)"
  export BENCH_PASSWORD
  say "seeding (run data: $BENCH_TMP)"
  # The readers' tokens are issued early in the seeding, which then registers, uploads and so on: they are as old as
  # its start, not its end (a 25 s seeding once let scenario 5's last requests meet expired tokens: 74 × 401).
  TOKENS_AT=$SECONDS
  "$BENCH_DIR/seed.sh"
  [[ " $BENCH_SCENARIOS " == *" baseline "* ]] && start_baseline
  [[ " $BENCH_SCENARIOS " == *" nginx "* ]] && start_nginx
  {
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit=$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- services bench 2>/dev/null || echo -dirty)"
    echo "cores=$(nproc)"
    echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "kernel=$(uname -r)"
    echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "duration=$BENCH_DURATION warmup=$BENCH_WARMUP connections=$BENCH_CONNECTIONS login_connections=$BENCH_LOGIN_CONNECTIONS file_connections=$BENCH_FILE_CONNECTIONS threads=$BENCH_THREADS file_mb=$BENCH_FILE_MB"
    echo "rate=$BENCH_RATE"
    echo "platform=$( (( STARTED_PLATFORM )) && echo "started by the bench with $BENCH_PLATFORM_ENV" || echo "already running")"
    echo "data=$( (( STARTED_PLATFORM )) && [[ ${BENCH_FRESH_DATA:-1} == 1 ]] && echo "empty at the start" || echo "as the platform had it")"
  } >"$BENCH_TMP/meta.txt"
  : >"$RESULTS"
  local scenario
  for scenario in $BENCH_SCENARIOS; do
    declare -F "scenario_$scenario" >/dev/null || die "unknown scenario '$scenario' (baseline nginx 1 2 rate curve mixcurve runtime 3 4 R 5 U 6 6c 7 8 S)"
    "scenario_$scenario"
  done
  echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$BENCH_TMP/meta.txt"
  "$BENCH_DIR/report.sh" "$BENCH_TMP" "$BENCH_DIR/results"
}

main "$@"
