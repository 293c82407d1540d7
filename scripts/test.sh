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
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
if ! command -v cargo >/dev/null; then
  echo "cargo not found: install Rust with rustup (https://rustup.rs) first" >&2
  exit 1
fi

echo "== fmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== build (the end-to-end tests run the real \`reins\` binary)"
cargo build --workspace --bins --locked
echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
