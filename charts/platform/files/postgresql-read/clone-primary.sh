# Run by start-replica.sh before the server, at every start of a read replica's container: keep the clone on the
# volume while the primary still holds the WAL it needs, in this replica's slot; otherwise clone the primary afresh.
# A replica without a slot, or whose slot the primary invalidated (it fell further behind than
# max_slot_wal_keep_size), can never catch up by streaming: the segments it asks for are gone.
set -eu
slot="replica_${HOSTNAME##*-}"
# pg_basebackup writes here, on the same volume, and the clone becomes $PGDATA by a rename only once it is complete:
# PG_VERSION comes early in a clone, so a clone interrupted in $PGDATA itself would pass for a finished one.
cloning="$PGDATA.cloning"
export PGHOST="$PLATFORM_PRIMARY_HOST" PGPORT="$PLATFORM_PRIMARY_PORT" PGUSER="$PLATFORM_REPLICATION_USER"
export PGPASSWORD="$PLATFORM_REPLICATION_PASSWORD" PGDATABASE=postgres PGCONNECT_TIMEOUT=5
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# pg_control is the last file of a base backup: without it, $PGDATA holds a clone an older version of this script
# was interrupted in, and kept.
complete() { [ -s "$PGDATA/global/pg_control" ]; }

# No server answers the probes until this script is done: the mark tells them the container is alive, preparing its
# data (a clone can take longer than the startup probe allows, and a restart would only begin it again). A mark left
# by a container killed in this script is replaced here and removed at its end.
: > "$PLATFORM_CLONE_MARK"
trap 'rm -f "$PLATFORM_CLONE_MARK"' EXIT
# What an interrupted clone left: pg_basebackup needs an empty directory, and a partial copy is of no use.
rm -rf "$cloning"

# With a clone on the volume the replica can serve reads while the primary is down (and streams again once it is
# back; replica-alive.sh restarts it should its slot turn out lost), so the wait for the primary is bounded. Without
# one there is nothing to serve.
deadline=$(($(date +%s) + ${PLATFORM_PRIMARY_WAIT_SECONDS:-30}))
until pg_isready -q; do
  if complete && [ "$(date +%s)" -ge "$deadline" ]; then
    echo "the primary at $PGHOST:$PGPORT does not answer: starting from the clone on the volume, unchecked"
    exit 0
  fi
  echo "waiting for the primary at $PGHOST:$PGPORT"
  sleep 2
done
status=$(sql "SELECT coalesce(wal_status, 'reserved') FROM pg_replication_slots WHERE slot_name = '$slot'")
if complete; then
  case "$status" in
    reserved | extended | unreserved)
      echo "slot $slot holds this replica's WAL on the primary ($status): streaming from the clone on the volume"
      exit 0 ;;
  esac
  echo "slot $slot is ${status:-missing} on the primary: the WAL this replica needs may be gone, cloning again"
elif [ -e "$PGDATA" ]; then
  echo "$PGDATA holds no complete clone (one was interrupted): cloning again"
fi
if [ -n "$status" ]; then
  # A dead replica's walsender lets go of the slot within wal_sender_timeout; only then can it be dropped.
  until [ "$(sql "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot' AND active")" = 0 ]; do sleep 2; done
  sql "SELECT pg_drop_replication_slot('$slot')" > /dev/null
fi
# The old clone goes first: the volume need not hold two.
rm -rf "$PGDATA"
pg_basebackup -D "$cloning" -X stream -R -C -S "$slot" -c fast
mv "$cloning" "$PGDATA"
echo "cloned the primary into $PGDATA, streaming through slot $slot"
