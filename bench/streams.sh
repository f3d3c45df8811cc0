#!/usr/bin/env bash
# The gateway's memory per idle event stream (issue 19): BENCH_STREAMS (1000) idle GET /api/events streams held
# open for BENCH_STREAM_HOLD seconds (20: past a keep-alive), the gateway's VmRSS read before and with them open.
# Light: one Python asyncio process holds every stream; no wrk, no load. `make bench-streams` runs it.
#
# Uses the platform on GATEWAY_PORT/AUTH_PORT if it answers (its EventStream:MaxStreamsPerUser must allow
# BENCH_STREAMS_PER_USER, default 8, and its tokens must outlive the run), else starts one for the run with
# 10-minute tokens and stops it after (BENCH_KEEP_PLATFORM=1 keeps it).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PLATFORM_RUN_DIR="${PLATFORM_RUN_DIR:-$ROOT/.run}"
export GATEWAY_PORT="${GATEWAY_PORT:-8080}" AUTH_PORT="${AUTH_PORT:-8081}" TASKS_PORT="${TASKS_PORT:-8082}" FILES_PORT="${FILES_PORT:-8083}"
BENCH_STREAMS=${BENCH_STREAMS:-1000}
BENCH_STREAMS_PER_USER=${BENCH_STREAMS_PER_USER:-8}
BENCH_STREAM_HOLD=${BENCH_STREAM_HOLD:-20}

say() { printf 'bench-streams: %s\n' "$*"; }

ready() {
  local port
  for port in "$GATEWAY_PORT" "$AUTH_PORT" "$TASKS_PORT" "$FILES_PORT"; do
    curl -fs -o /dev/null --max-time 3 "http://127.0.0.1:$port/readyz" || return 1
  done
}

started=0
if ! ready; then
  say "starting the platform for the run (10-minute tokens)"
  PLATFORM_ACCESS_TOKEN_MINUTES=10 "$ROOT/scripts/platform.sh" up >&2
  started=1
fi
stop() {
  if (( started )) && [[ ${BENCH_KEEP_PLATFORM:-0} != 1 ]]; then
    say "stopping the platform this run started"
    "$ROOT/scripts/platform.sh" down >&2 || true
  fi
}
trap stop EXIT

pid=$(cat "$PLATFORM_RUN_DIR/pids/gateway.pid")
# A password of two classes, new per run: the accounts are throwaway.
password="Streams-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
say "holding $BENCH_STREAMS idle streams ($BENCH_STREAMS_PER_USER per user) on the gateway (pid $pid) for ${BENCH_STREAM_HOLD}s"
python3 "$ROOT/bench/streams.py" "http://127.0.0.1:$GATEWAY_PORT" "http://127.0.0.1:$AUTH_PORT" "$pid" \
  "$BENCH_STREAMS" "$BENCH_STREAMS_PER_USER" "$password" "$BENCH_STREAM_HOLD"
