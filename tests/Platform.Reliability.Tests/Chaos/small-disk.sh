#!/usr/bin/env bash
# The PostgreSQL primary's data directory on a filesystem of its own, small enough to fill: the disk-full drill
# (DiskFullTests.cs) fills it with a ballast file instead of filling the machine's real disk, which other runs share.
#   small-disk.sh mount <headroom-mb>   stop the primary, move its data onto a tmpfs of (data + headroom) MiB, start it
#   small-disk.sh unmount               stop the primary, move its data back onto the run directory's disk, start it
# Needs root (mount) and the data tier's environment (PLATFORM_RUN_DIR, PG_PORT, ...: DataTier.Environment).
# The primary is stopped cleanly around each move: the move is the stage, the full disk is the fault.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
DATA="${PLATFORM_RUN_DIR:?}/data/primary"

die() { printf 'small-disk: %s\n' "$*" >&2; exit 1; }
datatier() { "$ROOT/scripts/datatier.sh" "$@" >&2; }

mount_small() {
  local headroom=${1:?headroom in MiB} used owner
  [[ $EUID -eq 0 ]] || die "needs root, to mount a tmpfs"
  ! mountpoint -q "$DATA" || die "$DATA is already a mount point"
  datatier down primary
  used=$(du -sm "$DATA" | cut -f1)
  owner=$(stat -c '%u' "$DATA")
  mv "$DATA" "$DATA.disk"
  mkdir "$DATA"
  mount -t tmpfs -o "size=$((used + headroom))m,mode=0700,uid=$owner,gid=$(stat -c '%g' "$DATA.disk")" platform-small-disk "$DATA"
  cp -a "$DATA.disk/." "$DATA/"
  datatier up primary
  printf 'small-disk: %s on a %d MiB tmpfs (%d MiB of data)\n' "$DATA" $((used + headroom)) "$used"
}

unmount_small() {
  mountpoint -q "$DATA" || die "$DATA is not a mount point"
  datatier down primary
  rm -f "$DATA/ballast"
  cp -a "$DATA" "$DATA.new"
  umount "$DATA"
  rmdir "$DATA"
  mv "$DATA.new" "$DATA"
  rm -rf "$DATA.disk"
  datatier up primary
  printf 'small-disk: %s back on disk\n' "$DATA"
}

case "${1:-}" in
  mount) mount_small "${2:-}" ;;
  unmount) unmount_small ;;
  *) die "usage: small-disk.sh mount <headroom-mb> | unmount" ;;
esac
