# Prints "-c name=value" for each setting a hot standby may not have lower than its primary had when this replica's
# control file last recorded it, where the server's own value (its arguments, "postgres -c ...", and the
# configuration in $PGDATA) is lower. A standby refuses to start below the recorded value ("recovery aborted because
# of insufficient parameter settings"), so a helm upgrade that lowers max_connections (it follows the scaling plan)
# would otherwise stop every replica for good. Started with the recorded value, the replica replays the primary's
# change, its control file records the new value, and its next start uses its own.
set -eu
control=$(LC_ALL=C pg_controldata "$PGDATA")
# Each setting as the server names it, and as pg_controldata does.
for setting in max_connections:max_connections max_worker_processes:max_worker_processes \
  max_wal_senders:max_wal_senders max_prepared_transactions:max_prepared_xacts \
  max_locks_per_transaction:max_locks_per_xact; do
  name=${setting%%:*}
  recorded=$(printf '%s\n' "$control" | sed -n "s/^${setting#*:} setting: *//p")
  case "$recorded" in
    '' | *[!0-9]*) echo "no ${setting#*:} setting in pg_controldata's output: $name left as configured" >&2; continue ;;
  esac
  configured=$("$@" -D "$PGDATA" -C "$name")
  if [ "$recorded" -gt "$configured" ]; then
    echo "-c $name=$recorded"
  fi
done
