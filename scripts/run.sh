#!/usr/bin/env bash
# Build Reins and run the daemon (scanner, halt controller, audit log, IPC
# socket, and — once configured — the embedded MQTT broker for the phone),
# then show `reins status`. Ctrl-C stops the daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/reins-target}"
mkdir -p "$CARGO_TARGET_DIR" 2>/dev/null || export CARGO_TARGET_DIR="$HOME/.cache/reins-target"
cargo build --release --locked -p reins
REINS="$CARGO_TARGET_DIR/release/reins"
echo "reins binary: $REINS"

# Start the daemon and wait for its ready line before asking for status.
fifo=$(mktemp -u); mkfifo "$fifo"
"$REINS" daemon > "$fifo" &
daemon=$!
trap 'kill $daemon 2>/dev/null; rm -f "$fifo"' EXIT INT TERM
read -r ready < "$fifo"
echo "$ready"
cat "$fifo" &
"$REINS" status
echo
echo "Try: $REINS stop all | $REINS approvals | $REINS log --verify   (Ctrl-C stops the daemon)"
wait $daemon
