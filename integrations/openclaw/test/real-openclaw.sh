#!/usr/bin/env bash
# The Reins plugin inside a REAL OpenClaw, when one is installed (not part of
# scripts/test.sh: OpenClaw needs Node >= 24.16 and its npm package).
#
#   REINS_BIN=target/debug/reins OPENCLAW_NODE=/opt/oc-lab/node/bin/node \
#   OPENCLAW_MJS=/opt/oc-lab/oc/node_modules/openclaw/openclaw.mjs \
#   integrations/openclaw/test/real-openclaw.sh
#
# In a throw-away HOME it runs `reins install openclaw`, checks that OpenClaw
# accepts the config and loads the plugin, starts a gateway on a free
# loopback port, calls tools through its /tools/invoke endpoint (which runs
# before_tool_call hooks, no model needed): a tool a Reins rule denies is
# blocked with the rule's message, one that needs a person becomes a plugin
# approval (refused at once: no approver is connected), a missing reins
# blocks with the plugin's own reason; then `reins uninstall openclaw`
# restores the config and the tool runs. The gateway is stopped by its PID.
set -euo pipefail
: "${REINS_BIN:?set REINS_BIN}" "${OPENCLAW_NODE:?set OPENCLAW_NODE}" "${OPENCLAW_MJS:?set OPENCLAW_MJS}"
REINS_BIN=$(realpath "$REINS_BIN")
dir=$(mktemp -d /tmp/reins-real-openclaw.XXXXXX)
gw=""
cleanup() {
  if [ -n "$gw" ] && kill -0 "$gw" 2>/dev/null; then
    kill -TERM "$gw"
    for _ in $(seq 1 50); do kill -0 "$gw" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
export HOME="$dir/home" XDG_CONFIG_HOME="$dir/config" XDG_DATA_HOME="$dir/data" \
  XDG_STATE_HOME="$dir/state" XDG_RUNTIME_DIR="$dir/run"
unset OPENCLAW_STATE_DIR OPENCLAW_CONFIG_PATH OPENCLAW_GATEWAY_PORT
mkdir -p "$HOME/.openclaw" "$XDG_CONFIG_HOME/reins" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
oc() { "$OPENCLAW_NODE" "$OPENCLAW_MJS" "$@"; }
pass=0 fail=0
check() { # name, then a command that must succeed
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok: $name"; else fail=$((fail + 1)); echo "FAILED: $name"; fi
}

original='{
  // JSON5, as OpenClaw writes it
  gateway: { mode: "local" },
  tools: { exec: { mode: "full" } },
}
'
printf '%s' "$original" > "$HOME/.openclaw/openclaw.json"
cat > "$XDG_CONFIG_HOME/reins/policy.toml" <<'EOF'
[[rule]]
name = "lab: no session status"
tool = "session_status"
result = "deny"
message = "Reins lab rule: session_status is denied."
EOF

"$REINS_BIN" install openclaw > "$dir/install.out"
check "install rewrote the JSON5 config and said so" grep -q "uses JSON5 syntax" "$dir/install.out"
check "openclaw config validate accepts it" oc config validate
oc plugins inspect reins --runtime --json > "$dir/inspect.json" 2> "$dir/inspect.err"
check "OpenClaw loads the plugin from its load path with its before_tool_call hook" \
  "$OPENCLAW_NODE" -e '
    const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const ok = d.plugin.status === "loaded" && d.plugin.origin === "config" && d.plugin.enabled &&
      d.typedHooks.some((h) => h.name === "before_tool_call");
    process.exit(ok ? 0 : 1);' "$dir/inspect.json"
check "exec-policy show reports ask=always" sh -c "$(printf '%q ' "$OPENCLAW_NODE" "$OPENCLAW_MJS") exec-policy show --json | grep -q '\"always\"'"

port=$("$OPENCLAW_NODE" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
token="reins-lab-$RANDOM$RANDOM"
OPENCLAW_GATEWAY_TOKEN=$token setsid "$OPENCLAW_NODE" "$OPENCLAW_MJS" gateway run --allow-unconfigured \
  --bind loopback --auth token --token "$token" --port "$port" > "$dir/gateway.log" 2>&1 &
gw=$!
invoke() {
  curl -s -m 20 -X POST "http://127.0.0.1:$port/tools/invoke" -H "Authorization: Bearer $token" \
    -H 'content-type: application/json' -d "$1"
}
for _ in $(seq 1 300); do
  grep -q "http server listening" "$dir/gateway.log" && break
  kill -0 "$gw" 2>/dev/null || break
  sleep 0.1
done
check "the gateway started with the plugin" grep -q "plugins:.*reins" "$dir/gateway.log"
r=$(invoke '{"tool":"session_status","args":{}}')
check "a tool a Reins rule denies is blocked with the rule's message" \
  grep -q '"tool_call_blocked".*Reins lab rule: session_status is denied' <<<"$r"
r=$(invoke '{"tool":"web_fetch","args":{"url":"http://127.0.0.1:9/"}}')
check "a tool that needs a person becomes a plugin approval" grep -q '"requiresApproval":true' <<<"$r"

"$OPENCLAW_NODE" -e '
  const fs = require("fs"), p = process.argv[1], c = JSON.parse(fs.readFileSync(p, "utf8"));
  c.plugins.entries.reins.config.reinsPath = "/nonexistent/reins";
  fs.writeFileSync(p, JSON.stringify(c, null, 2) + "\n");' "$HOME/.openclaw/openclaw.json"
for _ in $(seq 1 100); do
  r=$(invoke '{"tool":"session_status","args":{}}')
  grep -q "cannot run reins" <<<"$r" && break
  sleep 0.2
done
check "a missing reins blocks the call and says so" grep -q 'cannot run reins at /nonexistent/reins: ENOENT' <<<"$r"

"$REINS_BIN" uninstall openclaw > "$dir/uninstall.out"
for _ in $(seq 1 100); do
  r=$(invoke '{"tool":"session_status","args":{}}')
  grep -q '"ok":true' <<<"$r" && break
  sleep 0.2
done
check "after uninstall the plugin is gone and the tool runs" grep -q '"ok":true' <<<"$r"
check "after uninstall exec is back to mode full" grep -q '"mode": "full"' "$HOME/.openclaw/openclaw.json"
check "after uninstall the plugin's directory is gone" test ! -e "$HOME/.openclaw/extensions/reins"

echo "real openclaw: $pass passed, $fail failed"
[ "$fail" = 0 ]
