#!/usr/bin/env bash
# Renders the tray shell's icons from their SVG sources (icons/src/*.svg) into
# the RGBA PNGs Tauri loads: the app icon at 32, 128, 256 (128x128@2x) and 512
# pixels, and the tray states at 32 px and 64 px (@2x). Needs rsvg-convert
# (Debian: librsvg2-bin). The PNGs are committed; run this after editing an SVG:
#   ./scripts/icons.sh
set -euo pipefail
cd "$(dirname "$0")/../icons"
command -v rsvg-convert >/dev/null || { echo "rsvg-convert not found: apt-get install librsvg2-bin" >&2; exit 1; }

render() { # svg size out
  rsvg-convert --format=png --keep-aspect-ratio -w "$2" -h "$2" "$1" -o "$3"
  # Tauri refuses PNGs that are not RGBA (colour type 6, byte 25 of the file).
  [ "$(od -An -tu1 -j25 -N1 "$3" | tr -d ' ')" = 6 ] || { echo "$3 is not RGBA" >&2; exit 1; }
}

render src/app.svg 32 32x32.png
render src/app.svg 128 128x128.png
render src/app.svg 256 128x128@2x.png
render src/app.svg 512 icon.png
mkdir -p tray
for state in idle running waiting paused disconnected; do
  render "src/tray-$state.svg" 32 "tray/$state.png"
  render "src/tray-$state.svg" 64 "tray/$state@2x.png"
done
# The window's favicon (ui/dist is committed; rebuild ui after this).
cp 32x32.png ../ui/public/icon.png
echo "icons: rendered $(ls ./*.png tray/*.png | wc -l) PNGs"
