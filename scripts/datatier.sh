#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR # check: shellcheck -x scripts/datatier.sh scripts/datatier/*.sh
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
#   env               NAME='value' lines: connection strings, and each service's database role password
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
#
# This file reads the command and hands it on; the code is in scripts/datatier/:
#   common.sh      settings, run dir layout and secrets, processes, messages
#   postgresql.sh  the primary and the replica
#   redis.sh, rabbitmq.sh
#   commands.sh    install, up, down, status, env, destroy over the components
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(dirname -- "$SCRIPT_DIR")

# shellcheck source=datatier/common.sh
source "$SCRIPT_DIR/datatier/common.sh"
# shellcheck source=datatier/postgresql.sh
source "$SCRIPT_DIR/datatier/postgresql.sh"
# shellcheck source=datatier/redis.sh
source "$SCRIPT_DIR/datatier/redis.sh"
# shellcheck source=datatier/rabbitmq.sh
source "$SCRIPT_DIR/datatier/rabbitmq.sh"
# shellcheck source=datatier/commands.sh
source "$SCRIPT_DIR/datatier/commands.sh"

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
