#!/usr/bin/env bash
# scripts/mailsink.sh - the local SMTP server (make run, the tests): Debian's python3-aiosmtpd on 127.0.0.1,
# delivering every message into a maildir under the run dir (scripts/mailsink.py). A process of its own, like
# the data tier's servers, with its own port, pid file and log, so several run dirs can run side by side.
#
# Usage: scripts/mailsink.sh up|down|status|env
# Environment: PLATFORM_RUN_DIR (default <repo>/.run), SMTP_PORT (default 11025)
# Layout under $PLATFORM_RUN_DIR: mail/{new,cur,tmp} (the maildir), logs/smtp.log, pids/smtp.pid
#
# Why not OpenSMTPD: its spool (/var/spool/smtpd) and control socket (/var/run/smtpd.sock) are compiled in, so
# one machine runs one instance — make run and a test run (or two checkouts) could not each have their own.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${PLATFORM_RUN_DIR:-$ROOT/.run}"
SMTP_PORT="${SMTP_PORT:-11025}"
PYTHON=/usr/bin/python3
MAILDIR="$RUN/mail"
PID_FILE="$RUN/pids/smtp.pid"
LOG="$RUN/logs/smtp.log"

die() { printf 'mailsink: %s\n' "$*" >&2; exit 1; }

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid; pid="$(cat "$PID_FILE")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q mailsink.py; then
    echo "$pid"
    return 0
  fi
  return 1
}

install() {
  "$PYTHON" -c 'import aiosmtpd' 2>/dev/null && return 0
  [[ $EUID -eq 0 ]] || die "python3-aiosmtpd is missing and this is not root; run: apt-get install -y python3-aiosmtpd"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-aiosmtpd >&2
}

up() {
  local pid deadline
  if pid="$(running_pid)"; then
    printf 'mailsink: already running (pid %s, port %s)\n' "$pid" "$SMTP_PORT"
    return 0
  fi
  install
  mkdir -p "$RUN/logs" "$RUN/pids" "$MAILDIR/new" "$MAILDIR/cur" "$MAILDIR/tmp"
  setsid nohup "$PYTHON" "$ROOT/scripts/mailsink.py" --port "$SMTP_PORT" --maildir "$MAILDIR" >>"$LOG" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"
  deadline=$((SECONDS + 15))
  until port_open "$SMTP_PORT"; do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$LOG" >&2; die "the SMTP server exited during start-up (log: $LOG)"; }
    ((SECONDS < deadline)) || die "the SMTP server does not answer on port $SMTP_PORT after 15 s (log: $LOG)"
    sleep 0.1
  done
  printf 'mailsink: SMTP on 127.0.0.1:%s (pid %s), mail delivered into %s/new\n' "$SMTP_PORT" "$pid" "$MAILDIR"
}

down() {
  local pid
  pid="$(running_pid)" || { rm -f "$PID_FILE"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PID_FILE"
  printf 'mailsink: stopped\n'
}

status() {
  local pid
  if pid="$(running_pid)"; then
    printf '%-10s %-6s %-8s %-8s %s\n' smtp "$SMTP_PORT" running "$pid" "$MAILDIR"
  else
    printf '%-10s %-6s %-8s %-8s %s\n' smtp "$SMTP_PORT" stopped - "$MAILDIR"
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) printf "PLATFORM_SMTP_HOST='127.0.0.1'\nPLATFORM_SMTP_PORT='%s'\nPLATFORM_MAILDIR='%s'\n" "$SMTP_PORT" "$MAILDIR" ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
