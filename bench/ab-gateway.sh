#!/usr/bin/env bash
# Two builds of the gateway side by side, A/B, on the running platform: the CPU each spends per cached read.
#
#   bench/ab-gateway.sh OLD_BUILD_DIR NEW_BUILD_DIR [SETS] [ROUNDS] [SLICE_SECONDS]
#   AB_A_ENV="VAR=value ..." AB_B_ENV="..."     extra environment for one arm (the same build twice: a setting's A/B)
#   AB_RATE=2000                                 measure at that offered rate (req/s, Poisson arrivals) instead of saturated
#   AB_A_BUSY=0 AB_B_BUSY=2                      that many spinning processes at nice 19 during the arm's slices: the
#                                                same build on a busy machine (a node whose other pods keep its cores
#                                                awake) against an idle one
#
# Needs a platform started by the bench and left running, whose seeded tokens are still valid, e.g.
#   Sessions__IdleTimeout=02:00:00 PLATFORM_ACCESS_TOKEN_MINUTES=60 BENCH_KEEP_PLATFORM=1 BENCH_SCENARIOS=2 \
#     BENCH_DURATION=3 bash bench/run.sh
# Each arm is a gateway of its own (ports 8380 and 8381) with the platform gateway's environment, in front of the
# same auth and tasks. Per set both are started fresh (each process's JIT and PGO differ a little), warmed, then
# loaded in turn, SLICE seconds at a time, in the order ABBA…: slices next to each other in time see the same noise of
# a shared machine, so the ratio of each pair is far steadier than two runs minutes apart (same build against itself:
# medians within 1 %, where separate bench runs differ by 10–20 %). Prints every slice, the median µs per request of
# each arm and the median of the paired ratios B/A. Only one arm carries load at a time, so tasks' CPU in a slice is
# that arm's too: it is printed beside the gateway's, for changes that move work to or from the upstream.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
A_DIR=${1:?old build directory (holding Platform.Gateway.dll)}; B_DIR=${2:?new build directory}
SETS=${3:-3}; ROUNDS=${4:-6}; SLICE=${5:-5}
RUN=${PLATFORM_RUN_DIR:-$ROOT/.run}
OUT="$RUN/bench/ab-gateway.$(date -u +%Y%m%dT%H%M%SZ).txt"
gateway_pid=$(cat "$RUN/pids/gateway.pid")
tasks_pid=$(cat "$RUN/pids/tasks.pid")
BENCH_DATA=${BENCH_DATA:-"$(ls -td "$RUN"/bench/*/data | head -1)"}
export BENCH_DATA BENCH_THREADS=${BENCH_THREADS:-$(nproc)} BENCH_TIMEOUT=10s
mkdir -p "$(dirname "$OUT")"

# The platform gateway's environment, less its address.
mapfile -d '' environment < "/proc/$gateway_pid/environ"
environment=("${environment[@]/#ASPNETCORE_URLS=*/AB_UNUSED=1}")

start() { # port dir extra-env
  local port=$1 dir=$2 extra=$3
  # shellcheck disable=SC2086 # the arm's variables are words on purpose
  (cd "$dir" && env -i "${environment[@]}" ASPNETCORE_URLS="http://127.0.0.1:$port" $extra \
    setsid nohup dotnet Platform.Gateway.dll >"$OUT.$port.log" 2>&1 </dev/null &)
}
pid_on() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
stop() { local pid; for pid in "$@"; do kill "$pid" 2>/dev/null || true; while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; done; }
spinners=()
spin() { # n: spinners that end by themselves should this script die before unspin
  local _; for _ in $(seq 1 "$1"); do timeout $((SLICE + 30)) nice -n 19 bash -c 'while :; do :; done' & spinners+=($!); done
}
unspin() { (( ${#spinners[@]} == 0 )) || { kill "${spinners[@]}" 2>/dev/null; wait "${spinners[@]}" 2>/dev/null; } || true; spinners=(); }
trap unspin EXIT

interval=0
(( ${AB_RATE:-0} <= 0 )) || interval=$(( BENCH_THREADS * 1000000 / AB_RATE ))
declare -A pids
for set in $(seq 1 "$SETS"); do
  start 8380 "$A_DIR" "${AB_A_ENV:-}"; start 8381 "$B_DIR" "${AB_B_ENV:-}"
  for port in 8380 8381; do
    for _ in $(seq 1 120); do curl -fs -o /dev/null "http://127.0.0.1:$port/api/health" && break; sleep 0.5; done
    pids[$port]=$(pid_on "$port")
    [[ -n ${pids[$port]} ]] || { cat "$OUT.$port.log" >&2; exit 1; }
    wrk -t"$BENCH_THREADS" -c64 -d10s -s "$ROOT/bench/lua/read.lua" "http://127.0.0.1:$port" >/dev/null
  done
  for round in $(seq 1 "$ROUNDS"); do
    order="8380 8381"; (( round % 2 == 0 )) && order="8381 8380"
    for port in $order; do
      spin "$([[ $port == 8380 ]] && echo "${AB_A_BUSY:-0}" || echo "${AB_B_BUSY:-0}")"
      before=$(ticks "${pids[$port]}"); tasks_before=$(ticks "$tasks_pid")
      result=$(BENCH_THREAD_INTERVAL_US=$interval wrk -t"$BENCH_THREADS" -c64 -d"${SLICE}s" -s "$ROOT/bench/lua/read.lua" "http://127.0.0.1:$port")
      after=$(ticks "${pids[$port]}"); tasks_after=$(ticks "$tasks_pid")
      unspin
      requests=$(awk '/requests in/ {print $1}' <<<"$result")
      failed=$(awk '/Non-2xx/ {print $NF}' <<<"$result")
      p99=$(sed -n 's/^BENCH .*p99_us=\([0-9]*\).*/\1/p' <<<"$result" | awk '{ print $1 / 1000 }')  # read.lua's summary line
      (( ${failed:-0} == 0 )) || { echo "ab-gateway: $failed non-2xx answers on port $port (tokens expired?)" >&2; unspin; stop "${pids[@]}"; exit 1; }
      awk -v slice="$set.$round" -v arm="$([[ $port == 8380 ]] && echo A || echo B)" -v t=$((after - before)) -v n="$requests" \
        -v hz="$(getconf CLK_TCK)" -v s="$SLICE" -v p99="$p99" -v tt=$((tasks_after - tasks_before)) \
        'BEGIN { printf "%s %s %.1f %d %.2f %.1f\n", slice, arm, t * 1e6 / hz / n, n / s, p99, tt * 1e6 / hz / n }'
    done
  done | tee -a "$OUT"
  stop "${pids[8380]}" "${pids[8381]}"
done

echo "slices: $OUT (slice, arm, gateway CPU µs per request, requests/s, p99 latency ms, tasks CPU µs per request)"
median() { sort -n | awk -v format="$1" '{ v[NR] = $1 } END { if (NR) printf format, NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for arm in A B; do
  echo "$arm: median $(awk -v arm="$arm" '$2 == arm { print $3 }' "$OUT" | median %.1f) µs per request," \
    "$(awk -v arm="$arm" '$2 == arm { print $4 }' "$OUT" | median %.0f) requests/s," \
    "p99 $(awk -v arm="$arm" '$2 == arm { print $5 }' "$OUT" | median %.2f) ms," \
    "tasks $(awk -v arm="$arm" '$2 == arm { print $6 }' "$OUT" | median %.1f) µs per request"
done
ratios=$(awk '{ us[$1, $2] = $3; slice[$1] = 1 } END { for (s in slice) print us[s, "B"] / us[s, "A"] }' "$OUT")
echo "paired B/A: median $(median %.3f <<<"$ratios") ($(awk '$1 < 1' <<<"$ratios" | wc -l) of $(wc -l <<<"$ratios") pairs below 1)"
ratios=$(awk '{ us[$1, $2] = $3 + $6; slice[$1] = 1 } END { for (s in slice) print us[s, "B"] / us[s, "A"] }' "$OUT")
echo "paired B/A, gateway + tasks: median $(median %.3f <<<"$ratios") ($(awk '$1 < 1' <<<"$ratios" | wc -l) of $(wc -l <<<"$ratios") pairs below 1)"
