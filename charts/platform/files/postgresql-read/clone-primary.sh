# The init step of a read replica (templates/datatier/postgresql-read.yaml): keep the clone on the volume while the
# primary still holds the WAL it needs, in this replica's slot; otherwise clone the primary afresh. A replica
# without a slot, or whose slot the primary invalidated (it fell further behind than max_slot_wal_keep_size), can
# never catch up by streaming: the segments it asks for are gone.
set -eu
slot="replica_${HOSTNAME##*-}"
export PGHOST="$PLATFORM_PRIMARY_HOST" PGPORT="$PLATFORM_PRIMARY_PORT" PGUSER="$PLATFORM_REPLICATION_USER"
export PGPASSWORD="$PLATFORM_REPLICATION_PASSWORD" PGDATABASE=postgres PGCONNECT_TIMEOUT=5
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }

until pg_isready -q; do echo "waiting for the primary at $PGHOST:$PGPORT"; sleep 2; done
status=$(sql "SELECT coalesce(wal_status, 'reserved') FROM pg_replication_slots WHERE slot_name = '$slot'")
if [ -s "$PGDATA/PG_VERSION" ]; then
  case "$status" in
    reserved | extended | unreserved)
      echo "slot $slot holds this replica's WAL on the primary ($status): streaming from the clone on the volume"
      exit 0 ;;
  esac
  echo "slot $slot is ${status:-missing} on the primary: the WAL this replica needs may be gone, cloning again"
fi
if [ -n "$status" ]; then
  # A dead replica's walsender lets go of the slot within wal_sender_timeout; only then can it be dropped.
  until [ "$(sql "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot' AND active")" = 0 ]; do sleep 2; done
  sql "SELECT pg_drop_replication_slot('$slot')" > /dev/null
fi
# An interrupted clone leaves a partial directory; pg_basebackup needs an empty one.
rm -rf "$PGDATA"
pg_basebackup -D "$PGDATA" -X stream -R -C -S "$slot" -c fast
echo "cloned the primary into $PGDATA, streaming through slot $slot"
