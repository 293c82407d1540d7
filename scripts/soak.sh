#!/usr/bin/env bash
# The load soak in one command: installs Mosquitto if it is missing,
# builds the release binaries and runs `reins-bench soak` (100 agents, 10
# phones, 1,000 approval requests a minute, with stops, a phone offline, a
# broker restart and a daemon SIGKILL), then exits non-zero if the checker
# found anything lost, doubled or broken. A measuring tool, not a test; the
# figures and how to read them: docs/performance.md, "Load and faults".
#
# Usage: scripts/soak.sh [reins-bench soak options]   (default: --minutes 10)
#   e.g. scripts/soak.sh --minutes 3 --flood 1000
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/reins-target}"
mkdir -p "$CARGO_TARGET_DIR" 2>/dev/null || export CARGO_TARGET_DIR="$HOME/.cache/reins-target"
if [ ! -x /usr/sbin/mosquitto ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mosquitto
fi
command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup (https://rustup.rs) first" >&2; exit 1; }
cargo build --release --locked -p reins -p reins-e2e --bins
[ "$#" -gt 0 ] || set -- --minutes 10
exec "$CARGO_TARGET_DIR/release/reins-bench" soak "$@"
