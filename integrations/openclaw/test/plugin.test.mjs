// The Reins plugin for OpenClaw, loaded as OpenClaw loads it (default export,
// register(api), api.on("before_tool_call", handler, opts)) and driven with
// OpenClaw-shaped events against the real `reins` binary (REINS_BIN), in an
// isolated HOME with no daemon: the policy alone decides.
//
// Run: REINS_BIN=/path/to/reins node --test integrations/openclaw/test/

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import plugin, { REINS_TIMEOUT_MS } from "../index.js";

const REINS = process.env.REINS_BIN;
let dir;

before(() => {
  assert.ok(REINS && fs.existsSync(REINS), "set REINS_BIN to the built reins binary");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "reins-openclaw-"));
  for (const [k, sub] of [
    ["HOME", "home"],
    ["XDG_CONFIG_HOME", "config"],
    ["XDG_DATA_HOME", "data"],
    ["XDG_STATE_HOME", "state"],
    ["XDG_RUNTIME_DIR", "run"],
  ]) {
    process.env[k] = path.join(dir, sub);
    fs.mkdirSync(process.env[k], { recursive: true, mode: 0o700 });
  }
  // One allow rule, so the allow path is the policy's, not a default.
  fs.mkdirSync(path.join(dir, "config", "reins"), { recursive: true });
  fs.writeFileSync(
    path.join(dir, "config", "reins", "policy.toml"),
    '[[rule]]\nname = "reading the clock is fine"\ntool = "exec"\ncommand = "date"\nresult = "allow"\n',
  );
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Register the plugin against a fake api shaped like OpenClaw's. */
function load(pluginConfig) {
  const logs = [];
  const hooks = [];
  const api = {
    id: "reins",
    pluginConfig,
    logger: {
      info: (m) => logs.push(["info", m]),
      warn: (m) => logs.push(["warn", m]),
      error: (m) => logs.push(["error", m]),
      debug: () => {},
    },
    on: (name, handler, opts) => hooks.push({ name, handler, opts }),
  };
  plugin.register(api);
  assert.equal(hooks.length, 1);
  assert.equal(hooks[0].name, "before_tool_call");
  const call = (toolName, params) =>
    hooks[0].handler(
      { toolName, params, runId: "run-1", toolCallId: "call-1" },
      { agentId: "main", sessionKey: "agent:main:main", runId: "run-1", toolName },
    );
  return { call, logs, opts: hooks[0].opts };
}

function script(name, body) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

test("an exec the policy allows runs without a prompt", async () => {
  const { call } = load({ reinsPath: REINS });
  assert.equal(await call("exec", { command: "date" }), undefined);
});

test("an exec that needs a person is left to exec approvals when deferred", async () => {
  const { call } = load({ reinsPath: REINS, deferExecToApprovals: true });
  assert.equal(await call("exec", { command: "ls" }), undefined);
});

test("without deferring, an exec that needs a person asks with the exact command", async () => {
  const { call } = load({ reinsPath: REINS });
  const r = await call("exec", { command: "ls -la /srv", workdir: "/srv" });
  assert.equal(r.requireApproval.title, "Reins: exec");
  assert.match(r.requireApproval.description, /^ls -la \/srv\nin \/srv\n/);
  assert.deepEqual(r.requireApproval.allowedDecisions, ["allow-once", "deny"]);
});

test("rm -rf / is blocked by the built-in denylist, deferred or not", async () => {
  for (const deferExecToApprovals of [true, false]) {
    const { call } = load({ reinsPath: REINS, deferExecToApprovals });
    const r = await call("exec", { command: "rm -rf /" });
    assert.equal(r.block, true);
    assert.match(r.blockReason, /Reins blocked this/);
  }
});

test("a non-exec tool asks through a plugin approval with the exact tool input", async () => {
  const { call } = load({ reinsPath: REINS, deferExecToApprovals: true });
  const params = { action: "send", to: "boss@example.com", message: "I quit" };
  const r = await call("message", params);
  assert.ok(r.requireApproval, JSON.stringify(r));
  assert.equal(r.requireApproval.title, "Reins: message");
  assert.ok(
    r.requireApproval.description.startsWith(JSON.stringify(params)),
    r.requireApproval.description,
  );
  assert.ok(["info", "warning", "critical"].includes(r.requireApproval.severity));
});

test("a reinsPath that does not exist blocks, says so and is logged", async () => {
  const missing = path.join(dir, "no-such-reins");
  const { call, logs } = load({ reinsPath: missing });
  const r = await call("exec", { command: "date" });
  assert.equal(r.block, true);
  assert.match(r.blockReason, /cannot run reins at .*no-such-reins: ENOENT/);
  assert.match(r.blockReason, /reins doctor/);
  assert.ok(logs.some(([lvl, m]) => lvl === "error" && m.includes("ENOENT")));
});

test("a reins that prints garbage blocks the call", async () => {
  const { call } = load({ reinsPath: script("garbage", "echo 'hello there'") });
  const r = await call("read", { path: "/etc/hosts" });
  assert.equal(r.block, true);
  assert.match(r.blockReason, /not JSON/);
});

test("a reins that prints two lines or an unknown action blocks the call", async () => {
  for (const body of [
    `echo '{"action":"allow"}'; echo '{"action":"allow"}'`,
    `echo '{"action":"yes"}'`,
    `echo '{"action":"ask","title":"t"}'`,
  ]) {
    const { call } = load({ reinsPath: script("odd", body) });
    const r = await call("read", { path: "/etc/hosts" });
    assert.equal(r.block, true, body);
  }
});

test("a reins that exits non-zero blocks the call even after printing allow", async () => {
  const { call } = load({ reinsPath: script("fails", `echo '{"action":"allow"}'; echo boom >&2; exit 3`) });
  const r = await call("exec", { command: "date" });
  assert.equal(r.block, true);
  assert.match(r.blockReason, /exited with code 3 \(boom\)/);
});

test("a reins that hangs blocks the call after the plugin's timeout", async () => {
  assert.ok(REINS_TIMEOUT_MS < 15_000, "must stay below OpenClaw's 15 s hook limit");
  const { call } = load({ reinsPath: script("hang", "exec sleep 30"), timeoutMs: 300 });
  const r = await call("exec", { command: "date" });
  assert.equal(r.block, true);
  assert.match(r.blockReason, /did not answer within 300 ms/);
});

test("a config without reinsPath blocks every gated call", async () => {
  const { call, logs } = load({});
  const r = await call("exec", { command: "date" });
  assert.equal(r.block, true);
  assert.match(r.blockReason, /reins install openclaw/);
  assert.ok(logs.some(([lvl]) => lvl === "error"));
});

test("with a tools list only those tools are gated, and the matcher says so", async () => {
  const { call, opts } = load({ reinsPath: path.join(dir, "no-such-reins"), tools: ["exec"] });
  assert.deepEqual(opts.matcher, ["exec"]);
  assert.equal(await call("read", { path: "/etc/hosts" }), undefined);
  assert.equal((await call("exec", { command: "date" })).block, true);
});
