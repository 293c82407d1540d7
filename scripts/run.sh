#!/usr/bin/env bash
# Build Reins and run it.
#
# On a machine with a display ($DISPLAY or $WAYLAND_DISPLAY): install what
# the tray app needs (WebKitGTK, GTK 3, libayatana-appindicator; apt, only
# what is missing), build `reins` and `reins-tray` (release) and launch the
# tray. The tray starts `reins daemon` if none is running; quitting the tray
# leaves the daemon running (`reins status`).
#
# Without a display (a server over SSH): build `reins` and run the daemon
# (scanner, halt controller, audit log, IPC socket, and — once configured —
# the embedded MQTT broker for the phone), then show `reins status`. Ctrl-C
# stops the daemon. REINS_HEADLESS=1 forces this path on a desktop too.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/reins-target}"
mkdir -p "$CARGO_TARGET_DIR" 2>/dev/null || export CARGO_TARGET_DIR="$HOME/.cache/reins-target"

if [ -z "${REINS_HEADLESS:-}" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  need=()
  for pkg in libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev \
    libxdo-dev libssl-dev pkg-config build-essential; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
  done
  if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
  fi
  # The tray finds `reins` next to itself and starts the daemon with it.
  cargo build --release --locked -p reins -p reins-tray
  echo "reins-tray: $CARGO_TARGET_DIR/release/reins-tray (the Reins icon is in your tray)"
  exec "$CARGO_TARGET_DIR/release/reins-tray" "$@"
fi

cargo build --release --locked -p reins
REINS="$CARGO_TARGET_DIR/release/reins"
echo "reins binary: $REINS (no display: running the daemon; the tray needs a desktop session)"

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
