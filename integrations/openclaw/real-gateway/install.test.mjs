// `reins install openclaw` against a REAL OpenClaw (the version pinned in
// package-lock.json), run by scripts/openclaw-real.sh with Node.js 24.
//
// In one isolated HOME, as a user would have it: OpenClaw's state in
// ~/.openclaw, `reins install openclaw`, then OpenClaw's own CLI checks the
// result and a real gateway loads the Reins plugin. A tool call made
// through the gateway's `tools.invoke` (no model needed) runs the plugin's
// before_tool_call, which runs `reins hook openclaw before-tool-call` for
// real; Reins' default policy asks, so the call becomes a plugin approval
// that the Reins daemon shows and `reins approve` / `reins deny` answer.
//
// Not here: the approvals protocol itself (gateway.test.mjs), the plugin
// against a fake api (../test/plugin.test.mjs).

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  GATEWAY_START, cleanup, freePort, gatewayClient, openclaw, reinsBin, reinsEnv, startGateway, tempDir, waitFor,
} from './harness.mjs';

const SESSION = 'agent:main:main';
const OPERATOR_SCOPES = ['operator.admin', 'operator.approvals', 'operator.read', 'operator.write'];

let reins;
let gw;
let operator;
let installed;

before(async () => {
  const dir = tempDir('reins-openclaw-install-');
  const port = await freePort();
  const token = crypto.randomBytes(24).toString('hex');
  reins = reinsEnv(path.join(dir, 'reins'), {
    gateway: { mode: 'local', port, auth: { mode: 'token', token } },
    logging: { file: path.join(dir, 'openclaw-file.log') },
  });
  // session_status is read-only, so it runs without a prompt unless a rule
  // names it: this rule of the user's makes it the harmless tool to ask for.
  fs.mkdirSync(path.join(dir, 'reins', 'config', 'reins'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'reins', 'config', 'reins', 'policy.toml'),
    '[[rule]]\nname = "ask before session status"\ntool = "session_status"\nresult = "ask"\n');
  installed = await reins.run(['install', 'openclaw']);
  assert.equal(installed.code, 0, `reins install openclaw failed: ${installed.stdout}${installed.stderr}`);
  gw = await startGateway(dir, { reins, port, token });
  await reins.daemon();
  reins.spawn(['approvals', '--watch']);
  await waitFor(async () => {
    const o = await reins.openclaw();
    if (o?.link?.state === 'up' && o.link.approver === true) return true;
    throw new Error(`reins status says ${JSON.stringify(o)}`);
    // The gateway listens before its sidecars are ready ("gateway starting").
  }, { timeout: GATEWAY_START, what: 'reins status to show the OpenClaw link up with Reins as an approver' });
  operator = await gatewayClient({ port, token, name: 'operator', scopes: OPERATOR_SCOPES });
});

after(cleanup);

/** OpenClaw's CLI as the user, pointed at the running gateway. */
function oc(args) {
  return openclaw(args, { ...reins.env, OPENCLAW_GATEWAY_PORT: String(gw.port), OPENCLAW_GATEWAY_TOKEN: gw.token });
}

/** A tool call through the gateway, as an agent's would run (confirm: wait for an approval). */
function invoke(name, args) {
  return operator.call('tools.invoke', { name, args, confirm: true, sessionKey: SESSION, idempotencyKey: crypto.randomUUID() });
}

function listedPlugin(tool) {
  return waitFor(async () => (await reins.json(['approvals'])).find(
    (a) => a.gateway?.queue === 'plugin' && a.tool_input?.title?.includes(tool),
  ), { what: `reins approvals to list the plugin approval for ${tool}` });
}

test('openclaw config validate accepts what reins install openclaw wrote', async () => {
  const r = await oc(['config', 'validate']);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /Config valid/);
  const config = JSON.parse(fs.readFileSync(gw.config, 'utf8'));
  assert.deepEqual(config.tools.exec, { security: 'allowlist', ask: 'always' });
  assert.equal(config.plugins.entries.reins.config.reinsPath, reinsBin());
});

test('openclaw plugins list shows the Reins plugin enabled and loaded from its install dir', async () => {
  const r = await oc(['plugins', 'list', '--json']);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  const plugin = JSON.parse(r.stdout).plugins.find((p) => p.id === 'reins');
  assert.ok(plugin, 'no plugin reins in openclaw plugins list');
  assert.equal(plugin.enabled, true);
  assert.equal(plugin.status, 'loaded');
  assert.equal(plugin.rootDir, path.join(reins.env.HOME, '.openclaw', 'extensions', 'reins'));
});

test('the real gateway loads the Reins plugin at startup', async () => {
  await waitFor(() => /\[plugins\] loading reins from|plugins: [^"]*\breins\b/.test(fs.readFileSync(gw.logFile, 'utf8')), {
    what: () => `the gateway log to say it loaded reins: ${gw.tail()}`,
  });
});

test('a tool call through the gateway becomes a plugin approval in Reins, and reins approve lets it run', async () => {
  const answer = invoke('session_status', {});
  const r = await listedPlugin('session_status');
  assert.equal(r.kind, 'openclaw');
  assert.match(String(r.agent), new RegExp(`^openclaw-${gw.pid}-`), 'the approval belongs to this gateway');
  assert.equal(r.session_id, SESSION);
  assert.match(r.gateway.id, /^plugin:/);
  const ok = await reins.run(['approve', r.request_id]);
  assert.equal(ok.code, 0, ok.stderr);
  const res = await answer;
  assert.ok(res.ok, JSON.stringify(res.error));
  assert.equal(res.payload.ok, true, `the tool did not run: ${JSON.stringify(res.payload)}`);
  assert.match(res.payload.output.content[0].text, /OpenClaw 2026\.9\.6/, 'session_status ran and reported');
});

test('a tool call denied in Reins does not run', async () => {
  const answer = invoke('session_status', {});
  const r = await listedPlugin('session_status');
  const no = await reins.run(['deny', r.request_id]);
  assert.equal(no.code, 0, no.stderr);
  const res = await answer;
  assert.ok(res.ok, JSON.stringify(res.error));
  assert.equal(res.payload.ok, false, `the denied tool ran: ${JSON.stringify(res.payload)}`);
  assert.match(res.payload.error.message, /^Denied by user\. The tool call did not run\./);
});
