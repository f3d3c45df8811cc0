# The liveness check of a read replica: the server answers, and the primary does not report this replica's slot
# lost or gone. A replica whose slot is lost streams nothing ever again; restarting its container lets
# clone-primary.sh (run by start-replica.sh before the server) clone the primary afresh. The primary unreachable
# (down, or in a restart) is no reason to restart the replica.
set -u
# Before the server: clone-primary.sh is still preparing the data directory (see there).
[ -e "$PLATFORM_CLONE_MARK" ] && exit 0
# 1 is "rejecting connections": the server is alive, starting up, e.g. replaying the WAL written during a fresh clone
# before it is consistent (the startup probe stopped waiting for it when it saw the clone's mark).
pg_isready -q -h 127.0.0.1 -p 5432
[ $? -le 1 ] || exit 1
slot="replica_${HOSTNAME##*-}"
status=$(PGPASSWORD="$PLATFORM_REPLICATION_PASSWORD" PGCONNECT_TIMEOUT=3 psql -X -q -At -v ON_ERROR_STOP=1 \
  -h "$PLATFORM_PRIMARY_HOST" -p "$PLATFORM_PRIMARY_PORT" -U "$PLATFORM_REPLICATION_USER" -d postgres \
  -c "SELECT coalesce(max(coalesce(wal_status, 'reserved')), 'missing') FROM pg_replication_slots WHERE slot_name = '$slot'") || exit 0
case "$status" in
  lost | missing) echo "slot $slot is $status on the primary" >&2; exit 1 ;;
esac
