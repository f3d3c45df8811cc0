#!/usr/bin/env bash
# `make soak` (not in CI): does anything leak over hours? The platform as `make run` starts it (scripts/platform.sh),
# in a run directory and on ports of its own, under a steady mixed load for SOAK_MINUTES (default 30): wrk with
# bench/lua/soak.lua (make bench's scenario 5 mix of cached reads, task creations and logins, paced). Every
# SOAK_INTERVAL seconds it samples each process's memory, open file descriptors, threads and established TCP
# connections (/proc and ss), and each .NET service's managed heap after its last collection (its /metrics). At the
# end of the warm-up and at the end of the run it takes a heap dump of each .NET service (dotnet-gcdump, which first
# forces a full, blocking collection): the bytes of live objects. At the end, a table per process: the first sample
# after the warm-up, the last, the largest, growth per hour, and a verdict against the bounds:
#   a .NET service's live heap (the dumps) may grow by at most SOAK_MAX_MEMORY_GROWTH % (10) from the end of the
#   warm-up to the end: that is what a leak grows. The types that grew most are listed under the table;
#   every process's memory (PSS) must stay within the memory limit the chart gives it (SOAK_MEMORY_LIMITS, MiB);
#   file descriptors, threads and TCP connections may grow by at most SOAK_MAX_COUNT_GROWTH (16).
# The heap after the last collection is printed, not judged: most collections are of the young generations and
# leave the old one's dead objects counted until a full one runs, which at this load comes every 10-20 minutes
# (the 90-minute run in docs/reliability.md judged files +20 % on it from five collections, then flat).
# The services run with the heap limit a pod gives them: .NET takes 75 % of the container's memory limit as its
# heap hard limit (384 MiB of the chart's 512), and the budgets of its collections follow from it; on this machine
# without a limit they would be sized for its 24 GiB. SOAK_GC_HEAP_LIMIT_MIB (384; 0: none) sets it. Server GC, as in
# the image, is the ASP.NET Core SDK's default for every service, make run's too.
# Why not PSS growth for .NET: resident memory follows the GC's allocation budgets, not live data (the 90-minute run
# without a heap limit: files 14 MiB live, 215 MiB resident). PostgreSQL's grows as shared_buffers fills with the
# growing tables. Both are bounded by the memory limit, which is the bound that matters to whoever runs it.
# Memory is PSS (/proc/PID/smaps_rollup): the RSS with pages shared between processes divided among them, so the
# PostgreSQL rows (postmaster and every backend summed) do not count shared buffers once per backend.
# The table is printed and written to .run/soak/report.md; the exit status is 1 when a bound is exceeded.
#
# The warm-up is the first half of the run: at 150 req/s the .NET services take 10-20 min to reach their working set
# (tiered JIT, pools, the GC's budgets; the 30-minute run in docs/reliability.md), so a bound judged after a minute
# reports warm-up as a leak. A leak keeps growing in the second half; warm-up does not.
# Time-bounded state must reach its steady state inside the run too, or its designed growth reads as a leak: the
# event stream's resume log (Redis keys that live EventStream:RetentionSeconds, 1 h by default) is kept
# SOAK_EVENT_RETENTION seconds (600) here, so from minute 10 on Redis holds as many as expire.
#
# Environment: SOAK_MINUTES (30) SOAK_INTERVAL (10 s) SOAK_WARMUP (half the run, at least 60 s) SOAK_EVENT_RETENTION (600 s)
#   SOAK_CONNECTIONS (4) SOAK_DELAY_MS (20: each connection's pause before a request) SOAK_KEEP_PLATFORM=1 (leave it running)
#   SOAK_SEGMENT_MINUTES (20) SOAK_MEMORY_LIMITS SOAK_MAX_MEMORY_GROWTH SOAK_MAX_COUNT_GROWTH (the bounds above)
#   SOAK_GC_HEAP_LIMIT_MIB (384)
#   PLATFORM_TEST_PORT_OFFSET (shifts the ports, base 27300: data tier 27300-27303, SMTP 27309, services 27310-27315)
#   PLATFORM_CONFIGURATION / PLATFORM_SKIP_BUILD as for scripts/platform.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOAK_MINUTES=${SOAK_MINUTES:-30}
SOAK_INTERVAL=${SOAK_INTERVAL:-10}
SOAK_WARMUP=${SOAK_WARMUP:-$(( SOAK_MINUTES * 30 > 60 ? SOAK_MINUTES * 30 : 60 ))}
SOAK_EVENT_RETENTION=${SOAK_EVENT_RETENTION:-600}
SOAK_CONNECTIONS=${SOAK_CONNECTIONS:-4}
SOAK_MAX_MEMORY_GROWTH=${SOAK_MAX_MEMORY_GROWTH:-10}
# charts/platform/values.yaml: resources.limits.memory of each service and of the bundled data tier.
SOAK_MEMORY_LIMITS=${SOAK_MEMORY_LIMITS:-gateway=512 auth=512 tasks=512 files=512 primary=1024 replica=1024 redis=512 rabbitmq=1024}
SOAK_MAX_COUNT_GROWTH=${SOAK_MAX_COUNT_GROWTH:-16}
SOAK_GC_HEAP_LIMIT_MIB=${SOAK_GC_HEAP_LIMIT_MIB:-384}
export PLATFORM_SERVICE_HEAP_LIMIT_MIB=$SOAK_GC_HEAP_LIMIT_MIB # the services only: scripts/platform.sh's start_service
GCDUMP_VERSION=10.0.750501
GCDUMP="$ROOT/.tools/bin/dotnet-gcdump"
export SOAK_DELAY_MS=${SOAK_DELAY_MS:-20}

base=$(( 27300 + ${PLATFORM_TEST_PORT_OFFSET:-0} ))
export PLATFORM_RUN_DIR="$ROOT/.run/soak"
export PG_PORT=$base PG_REPLICA_PORT=$((base + 1)) REDIS_PORT=$((base + 2)) RABBITMQ_PORT=$((base + 3))
export GATEWAY_PORT=$((base + 10)) AUTH_PORT=$((base + 11)) TASKS_PORT=$((base + 12)) FILES_PORT=$((base + 13)) SMTP_PORT=$((base + 9)) \
  AUTH_H2C_PORT=$((base + 14)) TASKS_H2C_PORT=$((base + 15))
# The load runs in segments of at most SOAK_SEGMENT_MINUTES (20), the readers logging in again before each, since an
# access token lives at most 60 min (auth refuses more) and wrk's scripts cannot follow a refresh chain. Tokens outlive
# a segment (make run's live a minute); the gateway's limits sit far above a few users on one address. auth insists
# that a session's idle timeout exceed the token's lifetime, so it moves with it.
SOAK_SEGMENT_MINUTES=${SOAK_SEGMENT_MINUTES:-20}
(( SOAK_SEGMENT_MINUTES >= 1 && SOAK_SEGMENT_MINUTES <= 50 )) || { echo "soak: SOAK_SEGMENT_MINUTES must be 1-50" >&2; exit 1; }
export PLATFORM_ACCESS_TOKEN_MINUTES=$(( SOAK_SEGMENT_MINUTES + 10 ))
idle=$(( PLATFORM_ACCESS_TOKEN_MINUTES + 60 ))
export Sessions__IdleTimeout
Sessions__IdleTimeout=$(printf '%d.%02d:%02d:00' $(( idle / 1440 )) $(( idle % 1440 / 60 )) $(( idle % 60 )))
export EventStream__RetentionSeconds=$SOAK_EVENT_RETENTION
export RateLimiting__Policies__user__Limit=10000000 RateLimiting__Policies__user__Burst=1000000 \
  RateLimiting__Policies__login__Limit=1000000 RateLimiting__Policies__register__Limit=1000000 RateLimiting__Policies__refresh__Limit=1000000

# A soak is not a start-up benchmark: give RabbitMQ the time a busy machine needs (datatier.sh's default is 60 s).
export PLATFORM_RABBITMQ_TIMEOUT=${PLATFORM_RABBITMQ_TIMEOUT:-180}

OUT="$PLATFORM_RUN_DIR/soak"
SAMPLES="$OUT/samples.tsv"
COMPONENTS=(gateway auth tasks files primary replica redis rabbitmq)

say() { printf 'soak: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

install_gcdump() {
  "$GCDUMP" --version 2>/dev/null | grep -q "^${GCDUMP_VERSION%.*}" ||
    dotnet tool install dotnet-gcdump --version "$GCDUMP_VERSION" --tool-path "$ROOT/.tools/bin" >&2 || die "installing dotnet-gcdump failed"
}

if [[ -z ${1:-} ]]; then
  command -v wrk >/dev/null || die "wrk is missing (apt-get install -y wrk)"
  command -v ss >/dev/null || die "ss is missing (apt-get install -y iproute2)"
  install_gcdump
fi

WRK_PID=
cleanup() {
  [[ -z $WRK_PID ]] || kill "$WRK_PID" 2>/dev/null || true
  if [[ ${SOAK_KEEP_PLATFORM:-0} != 1 ]]; then
    "$ROOT/scripts/platform.sh" down >"$OUT/platform-down.log" 2>&1 || say "stopping the platform failed: $OUT/platform-down.log"
  fi
}

# The processes of a component: a service's pid file; for the data tier, its server processes (they work in their data directory).
pids_of() {
  local dir comm d c
  case $1 in
    gateway | auth | tasks | files) cat "$PLATFORM_RUN_DIR/pids/$1.pid" 2>/dev/null || true; return ;;
    primary | replica) dir=$PLATFORM_RUN_DIR/data/$1 comm=postgres ;;
    redis) dir=$PLATFORM_RUN_DIR/data/redis comm=redis-server ;;
    rabbitmq) dir=$PLATFORM_RUN_DIR/data/rabbitmq comm=beam.smp ;;
  esac
  for d in /proc/[0-9]*; do
    { IFS= read -r c <"$d/comm"; } 2>/dev/null || continue
    if [[ $c == "$comm" && $d/cwd -ef $dir ]]; then printf '%s\n' "${d#/proc/}"; fi
  done
}

# A .NET service's managed heap after its last GC in KiB (all generations, from its /metrics); empty for the data tier
# or when the service does not answer.
managed_heap() {
  local port
  case $1 in
    gateway) port=$GATEWAY_PORT ;; auth) port=$AUTH_PORT ;; tasks) port=$TASKS_PORT ;; files) port=$FILES_PORT ;; *) return 0 ;;
  esac
  curl -s --max-time 3 "http://127.0.0.1:$port/metrics" 2>/dev/null |
    awk '/^dotnet_gc_last_collection_heap_size_bytes/ { heap += $2; seen = 1 } END { if (seen) printf "%d", heap / 1024 }' || true
}

# A .NET service's live heap in KiB: a heap dump (after the full collection dotnet-gcdump forces) kept as
# $OUT/heap/COMPONENT-PHASE.gcdump, its per-type report beside it; empty for the data tier or when the dump fails.
live_heap() {
  local component=$1 phase=$2
  case $component in gateway | auth | tasks | files) ;; *) return 0 ;; esac
  mkdir -p "$OUT/heap"
  heap_dump "$(pids_of "$component")" "$OUT/heap/$component-$phase.gcdump" || say "no heap dump of $component: $(tail -n 1 "$OUT/heap/$component-$phase.gcdump.log")"
}

# heap_dump PID FILE: dumps the process's heap to FILE, its report to FILE.txt; prints the live KiB.
heap_dump() {
  timeout 120 "$GCDUMP" collect -p "$1" -o "$2" >"$2.log" 2>&1 || return 1
  timeout 120 "$GCDUMP" report "$2" >"$2.txt" 2>>"$2.log" || return 1
  heap_total "$2.txt"
}

# A dotnet-gcdump report (heapstat) opens with the heap's total ("33,755,775  GC Heap bytes"), then a line per type
# and size class: an object's size (the class's mean), the count, the type, "(Bytes > 1K)" for the larger classes,
# the assembly in brackets.
# heap_total REPORT: the live heap in KiB.
heap_total() {
  awk '$2 == "GC" && $3 == "Heap" && $4 == "bytes" { gsub(",", "", $1); printf "%d", $1 / 1024; exit }' "$1"
}

# heap_growth BEFORE AFTER [N]: the N types whose live bytes grew most, as "growth before after type" (bytes).
heap_growth() {
  awk 'FNR == 1 { file++ } $1 ~ /^[0-9,]+$/ && $2 ~ /^[0-9,]+$/ && NF >= 3 {
      size = $1; count = $2; gsub(",", "", size); gsub(",", "", count)
      type = $3; for (i = 4; i <= NF && $i !~ /^[([]/; i++) type = type " " $i
      bytes[type, file] += size * count; types[type] = 1 }
    END { for (t in types) { d = bytes[t, 2] - bytes[t, 1]; if (d > 0) printf "%d\t%d\t%d\t%s\n", d, bytes[t, 1], bytes[t, 2], t } }' "$1" "$2" |
    sort -rn | head -n "${3:-5}"
}

# One line per component: seconds, component, PSS KiB, fds, threads, established TCP connections (summed over its
# processes), managed heap after the last collection KiB, and with a phase, live heap KiB (.NET services).
sample() {
  local at=$1 phase=${2:-} sockets component pid pss fds threads tcp value live
  sockets=$(ss -Htnp state established 2>/dev/null || true)
  for component in "${COMPONENTS[@]}"; do
    pss=0 fds=0 threads=0 tcp=0
    for pid in $(pids_of "$component"); do
      [[ -d /proc/$pid ]] || continue
      # A process may exit while it is read (PostgreSQL's backends come and go; a zombie's smaps_rollup is empty): a
      # measure that cannot be read counts 0, since under set -e a failed substitution or an empty operand would end the soak.
      value=$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null || true); pss=$(( pss + ${value:-0} ))
      value=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l || true); fds=$(( fds + ${value:-0} ))
      value=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true); threads=$(( threads + ${value:-0} ))
      value=$(grep -c "pid=$pid," <<<"$sockets" || true); tcp=$(( tcp + ${value:-0} ))
    done
    live=
    [[ -z $phase ]] || live=$(live_heap "$component" "$phase")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$at" "$component" "$pss" "$fds" "$threads" "$tcp" "$(managed_heap "$component")" "$live" >>"$SAMPLES"
  done
}

# The table: per component and measure, the first sample at or after the warm-up, the last, the largest, growth per
# hour, the bound and the verdict. Usable alone on a samples file: scripts/soak.sh report FILE.
report() {
  awk -F'\t' -v warmup="$SOAK_WARMUP" -v max_memory="$SOAK_MAX_MEMORY_GROWTH" -v max_count="$SOAK_MAX_COUNT_GROWTH" -v limits="$SOAK_MEMORY_LIMITS" '
    BEGIN { n_limits = split(limits, pairs, " "); for (i = 1; i <= n_limits; i++) { split(pairs[i], kv, "="); limit[kv[1]] = kv[2] } }
    { t = $1; c = $2; if (!(c in seen)) { seen[c] = 1; order[++n] = c }
      for (m = 3; m <= 8; m++) {
        if ($m == "") continue
        key = c SUBSEP m
        if (!(key in start) && t >= warmup) { start[key] = $m; start_t[key] = t }
        end[key] = $m; end_t[key] = t
        if (!(key in max) || $m + 0 > max[key] + 0) max[key] = $m
      } }
    END {
      name[3] = "memory (PSS, MiB)"; name[4] = "open fds"; name[5] = "threads"; name[6] = "TCP connections"
      name[7] = "heap after last GC (MiB)"; name[8] = "live heap, full GC (MiB)"
      print "| process | measure | after warm-up | end | max | growth per hour | bound | verdict |"
      print "|---|---|---|---|---|---|---|---|"
      failed = 0
      for (i = 1; i <= n; i++) for (m = 3; m <= 8; m++) {
        key = order[i] SUBSEP m
        if (!(key in start)) continue
        s = start[key]; e = end[key]; x = max[key]; hours = (end_t[key] - start_t[key]) / 3600
        if (m == 3 || m >= 7) { s /= 1024; e /= 1024; x /= 1024 }
        growth = hours > 0 ? (e - s) / hours : 0
        if (m == 3) { bound = (order[i] in limit) ? "max <= " limit[order[i]] " MiB" : "none"; ok = !(order[i] in limit) || x <= limit[order[i]] }
        else if (m == 7) { bound = "printed"; ok = 1 }
        else if (m == 8) { bound = "+" max_memory " %"; ok = s == 0 || (e - s) <= s * max_memory / 100 }
        else { bound = "+" max_count; ok = (e - s) <= max_count }
        if (!ok) failed = 1
        fmt = (m == 3 || m >= 7) ? "%.1f" : "%d"
        printf "| %s | %s | " fmt " | " fmt " | " fmt " | %+.1f | %s | %s |\n", order[i], name[m], s, e, x, growth, bound, m == 7 ? "" : ok ? "within" : "**exceeded**"
      }
      exit failed
    }' "$1"
}

case ${1:-} in
  '') ;;
  report) # reprint the table of a samples file
    [[ -f ${2:-} ]] || die "usage: scripts/soak.sh report SAMPLES.tsv"
    report "$2"
    exit ;;
  heap) # the live heap of one .NET process in KiB, as the soak measures it; the dump and its report stay in DIR
    [[ -d /proc/${2:-none} && -d ${3:-} ]] || die "usage: scripts/soak.sh heap PID DIR"
    install_gcdump
    heap_dump "$2" "$3/$2.gcdump" || die "dotnet-gcdump failed: $(cat "$3/$2.gcdump.log")"
    exit ;;
  *) die "usage: scripts/soak.sh [report SAMPLES.tsv | heap PID DIR]" ;;
esac

mkdir -p "$OUT"
: >"$SAMPLES"
trap cleanup EXIT
say "starting the platform in $PLATFORM_RUN_DIR (gateway :$GATEWAY_PORT)"
"$ROOT/scripts/platform.sh" up >"$OUT/platform-up.log" 2>&1 || { tail -n 20 "$OUT/platform-up.log" >&2; die "platform.sh up failed"; }

# make bench's seeding: readers with tasks and log-in accounts, registered at auth itself.
export BENCH_DATA="$OUT/data" AUTH_URL="http://127.0.0.1:$AUTH_PORT" GATEWAY_URL="http://127.0.0.1:$GATEWAY_PORT" FILES_URL="http://127.0.0.1:$FILES_PORT"
export BENCH_USERS=8 BENCH_TASKS_PER_USER=4 BENCH_LOGIN_USERS=8 BENCH_FILE_USERS=0
password_file="$PLATFORM_RUN_DIR/secrets/soak-password"
[[ -s $password_file ]] || (umask 077 && printf 'Soak-%s\n' "$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" >"$password_file")
BENCH_PASSWORD=$(cat "$password_file") "$ROOT/bench/seed.sh" >"$OUT/seed.log" 2>&1 || { tail -n 20 "$OUT/seed.log" >&2; die "seeding failed"; }

# The load's own health: wrk runs a script that fails to load (or a load that is refused) as a flood of errors at full
# speed, which would make the table below measure the wrong thing. BENCH is the summary line common.lua's done() prints.
load_summary() { awk '/^BENCH / { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "p99_us") { if (kv[2] > v[kv[1]]) v[kv[1]] = kv[2] } else v[kv[1]] += kv[2] } }
  END { printf "%d requests in %.0f s (%.0f/s), %d answered 4xx/5xx, %d socket errors (connect %d, read %d, write %d, timeout %d); p99 %.1f ms (worst segment)",
    v["requests"], v["duration_us"] / 1e6, v["requests"] / (v["duration_us"] / 1e6), v["status"],
    v["connect"] + v["read"] + v["write"] + v["timeout"], v["connect"], v["read"], v["write"], v["timeout"], v["p99_us"] / 1000 }' "$@"; }
check_load() { # check_load <wrk output>: dies unless the script ran and at most 1 % of its requests failed
  grep -q '^BENCH ' "$1" || die "the load did not run as written (no summary from bench/lua/soak.lua): $(grep -v '^ ' "$1" | head -n 3)"
  awk '/^BENCH / { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    exit (v["status"] + v["connect"] + v["read"] + v["write"] + v["timeout"] > v["requests"] / 100) }' "$1" ||
    die "the load itself fails: $(load_summary "$1")"
}
wrk -t1 -c"$SOAK_CONNECTIONS" -d3s --timeout 10s -s "$ROOT/bench/lua/soak.lua" "$GATEWAY_URL" >"$OUT/wrk-check.txt" 2>&1 || die "wrk failed: $(cat "$OUT/wrk-check.txt")"
check_load "$OUT/wrk-check.txt"

say "load for $SOAK_MINUTES min ($SOAK_CONNECTIONS connections, ${SOAK_DELAY_MS} ms between requests each, in segments of ${SOAK_SEGMENT_MINUTES} min); a sample every ${SOAK_INTERVAL} s, warm-up ${SOAK_WARMUP} s, resume log kept ${SOAK_EVENT_RETENTION} s"
started=$SECONDS
segment=0
# The heap dumps: at the first sample after the warm-up and at the first one in the run's last 30 s, under load. One
# more at the start, not judged: a service's first dump leaves objects behind (the runtime describes its event sources
# to the dump's event session once, ~100 KiB), which would count as growth between the two that are.
heap_phase=start
due= # set by next_dump SECONDS: the dump due at that sample, if any
next_dump() {
  due=
  if [[ $heap_phase == start ]]; then heap_phase=warm due=start
  elif [[ $heap_phase == warm ]] && (( $1 >= SOAK_WARMUP )); then heap_phase=end due=warm
  elif [[ $heap_phase == end ]] && (( $1 >= SOAK_MINUTES * 60 - 30 )); then heap_phase=done due=end
  fi
}
for (( left = SOAK_MINUTES; left > 0; left -= SOAK_SEGMENT_MINUTES )); do
  segment=$(( segment + 1 ))
  minutes=$(( left < SOAK_SEGMENT_MINUTES ? left : SOAK_SEGMENT_MINUTES ))
  if (( segment > 1 )); then
    BENCH_PASSWORD=$(cat "$password_file") "$ROOT/bench/seed.sh" tokens >>"$OUT/seed.log" 2>&1 || { tail -n 20 "$OUT/seed.log" >&2; die "logging the readers in again failed"; }
  fi
  wrk -t1 -c"$SOAK_CONNECTIONS" -d"${minutes}m" --timeout 10s -s "$ROOT/bench/lua/soak.lua" "$GATEWAY_URL" >"$OUT/wrk-$segment.txt" 2>&1 &
  WRK_PID=$!
  while kill -0 "$WRK_PID" 2>/dev/null; do
    at=$(( SECONDS - started ))
    next_dump "$at"
    sample "$at" "$due"
    sleep "$SOAK_INTERVAL" & wait $! || true
  done
  wait "$WRK_PID" || die "wrk failed: $(cat "$OUT/wrk-$segment.txt")"
  WRK_PID=
  check_load "$OUT/wrk-$segment.txt"
done
at=$(( SECONDS - started ))
due=end
[[ $heap_phase != done ]] || due=
sample "$at" "$due"

summary=$(load_summary "$OUT"/wrk-[0-9]*.txt)
status=0
table=$(report "$SAMPLES") || status=1
{
  printf '### make soak: %s min, %s\n\n' "$SOAK_MINUTES" "$(date -u '+%Y-%m-%d %H:%M UTC')"
  printf 'Load: %s connections of bench/lua/soak.lua (%s ms between requests each): %s. Samples every %s s; growth counts from the first sample at or after %s s. Resume log kept %s s.\n\n' \
    "$SOAK_CONNECTIONS" "$SOAK_DELAY_MS" "$summary" "$SOAK_INTERVAL" "$SOAK_WARMUP" "$SOAK_EVENT_RETENTION"
  printf '%s\n' "$table"
  for component in gateway auth tasks files; do
    [[ -s $OUT/heap/$component-warm.gcdump.txt && -s $OUT/heap/$component-end.gcdump.txt ]] || continue
    printf '\n%s: the types whose live bytes grew most from the end of the warm-up to the end (KiB before → after)\n\n' "$component"
    heap_growth "$OUT/heap/$component-warm.gcdump.txt" "$OUT/heap/$component-end.gcdump.txt" 5 |
      awk -F'\t' '{ printf "- %s: %.1f → %.1f\n", $4, $2 / 1024, $3 / 1024 }'
  done
} | tee "$PLATFORM_RUN_DIR/report.md"
exit $status
