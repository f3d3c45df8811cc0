# The command of a read replica's container (templates/datatier/postgresql-read.yaml); its arguments are the
# server's ("postgres -c ..."). It prepares the data directory at every start of the container, not only of the pod:
# the kubelet restarts only the container of a replica whose slot the primary lost (replica-alive.sh), and runs init
# containers again only when it creates the pod, so an init container would restart it on its stale clone forever.
set -eu
scripts=$(dirname "$0")
# As PID 1 this shell ignores a signal it has no handler for: a pod deleted during a clone would wait out its grace
# period. The trap runs at once only while the shell waits on a background job.
trap 'exit 143' TERM INT
sh "$scripts/clone-primary.sh" &
wait $!
raised=$(sh "$scripts/standby-settings.sh" "$@")
if [ -n "$raised" ]; then
  echo "settings raised to what the control file records, until the replica replays the primary's lower ones:" $raised
fi
# The image's entrypoint, as without a command of our own.
# shellcheck disable=SC2086 # $raised is "-c name=value" words, split on purpose
exec docker-entrypoint.sh "$@" $raised
