// Reins against a REAL OpenClaw gateway (the version pinned in
// package-lock.json), run by scripts/openclaw-real.sh with Node.js 24.
//
// One gateway, started in the foreground with its own state; one `reins
// daemon` that finds it through ~/.openclaw/openclaw.json and a `reins
// approvals --watch` surface (so Reins is an approver); a second gateway
// client that raises approvals the way an agent's exec or a plugin does.
// Every answer is given with the real CLI and checked at the requester.
//
// Not here: the fake-gateway tests (crates/reins-openclaw, tests/), which
// cover what a real gateway cannot be made to do on demand.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import {
  alive, cleanup, freePort, gatewayClient, reinsEnv, startGateway, tempDir, waitFor,
} from './harness.mjs';

const SESSION = 'agent:main:main';
const OPERATOR_SCOPES = ['operator.admin', 'operator.approvals', 'operator.read', 'operator.write'];
const APPROVER_CAPS = ['approvals', 'exec-approvals', 'plugin-approvals'];

let gw;
let reins;
let requester;
let workdir;
let surface;

before(async () => {
  gw = await startGateway(tempDir('reins-openclaw-gateway-'));
  workdir = tempDir('reins-openclaw-work-');
  reins = reinsEnv(tempDir('reins-openclaw-reins-'), {
    gateway: { port: gw.port, auth: { mode: 'token', token: gw.token } },
  });
  await reins.daemon();
  requester = await gatewayClient({ port: gw.port, token: gw.token, name: 'requester', scopes: ['operator.approvals'] });
});

after(cleanup);

/** Waits until reins status shows the link up with Reins as an approver. */
function approverUp(env, timeout) {
  return waitFor(async () => {
    const o = await env.openclaw();
    if (o?.link?.state === 'up' && o.link.approver === true) return o;
    throw new Error(`reins status says ${JSON.stringify(o)}`);
  }, { timeout, what: 'reins status to show the OpenClaw link up with Reins as an approver' });
}

/** The pending Reins request that `pred` picks, once `reins approvals --json` lists it. */
function listed(pred, what) {
  return waitFor(async () => (await reins.json(['approvals'])).find(pred), { what: `reins approvals to list ${what}` });
}

/** Waits until `reins approvals --json` no longer lists `requestId`. */
function gone(requestId) {
  return waitFor(async () => !(await reins.json(['approvals'])).some((r) => r.request_id === requestId), {
    what: `request ${requestId} to leave reins approvals`,
  });
}

/** An exec approval raised on the gateway as an agent's exec tool would; resolves with the requester's answer. */
function requestExec(command) {
  return requester.call('exec.approval.request', {
    command, commandArgv: command.split(' '), cwd: workdir, host: 'gateway', security: 'allowlist', ask: 'always',
    agentId: 'main', sessionKey: SESSION, timeoutMs: 120_000,
  });
}

test('the gateway writes its file log into its temp dir, not /tmp/openclaw', () => {
  assert.ok(fs.existsSync(gw.logFile), `no gateway log at ${gw.logFile}`);
  const log = fs.readFileSync(gw.logFile, 'utf8');
  assert.ok(log.includes(`log file: ${gw.logFile}`), `${gw.logFile} is not this gateway's log: ${log.slice(0, 300)}`);
});

test('with no surface open Reins is connected but no approver, so OpenClaw routes no approval to it', async () => {
  const o = await waitFor(async () => {
    const s = await reins.openclaw();
    if (s?.link?.state === 'up') return s;
    throw new Error(`reins status says ${JSON.stringify(s)}`);
  }, { what: 'reins status to show the OpenClaw link up' });
  assert.equal(o.link.approver, false);
  const text = await reins.run(['status']);
  assert.match(text.stdout, /not an approver: no surface is open, so OpenClaw's own rules apply/);
  // Nobody can answer: OpenClaw says so at once (decision null: its askFallback applies).
  const res = await requestExec('gog gmail trash --query nobody-watching --all');
  assert.ok(res.ok, JSON.stringify(res.error));
  assert.equal(res.payload.decision, null);
  assert.deepEqual(await reins.json(['approvals']), []);
});

test('with reins approvals --watch open Reins becomes an approver', async () => {
  surface = reins.spawn(['approvals', '--watch']);
  await approverUp(reins);
});

test('reins status shows the link up to the real gateway, its version and Reins as approver', async () => {
  const o = await reins.openclaw();
  assert.equal(o.link.state, 'up');
  assert.equal(o.link.url, `ws://127.0.0.1:${gw.port}`);
  assert.equal(o.link.protocol, 4);
  assert.match(o.link.server_version ?? '', /^2026\.9\.6/);
  const text = await reins.run(['status']);
  assert.match(text.stdout, /OpenClaw gateway: connected to ws:\/\/127\.0\.0\.1:\d+ \(OpenClaw 2026\.9\.6[^)]*\); Reins answers its approvals/);
});

test('an exec approval shows its full command, kind and session, and reins approve answers allow-once', async () => {
  const command = 'gog gmail trash --query in:inbox --all';
  const answer = requestExec(command);
  const r = await listed((a) => a.command === command, `the exec approval for ${command}`);
  assert.equal(r.kind, 'openclaw');
  assert.match(String(r.agent), new RegExp(`^openclaw-${gw.pid}-`), 'the approval belongs to this gateway');
  assert.equal(r.session_id, SESSION);
  assert.equal(r.cwd, workdir);
  assert.equal(r.gateway.queue, 'exec');
  assert.equal(r.gateway.openclaw_agent, 'main');
  assert.deepEqual(r.tool_input.argv, command.split(' '));
  await waitFor(() => surface.output().includes(command), {
    what: () => `reins approvals --watch to show ${command} (it shows: ${surface.output().slice(-500)})`,
  });
  const ok = await reins.run(['approve', r.request_id]);
  assert.equal(ok.code, 0, ok.stderr);
  const res = await answer;
  assert.ok(res.ok, JSON.stringify(res.error));
  assert.equal(res.payload.decision, 'allow-once');
  await gone(r.request_id);
});

test('reins deny answers an exec approval with deny', async () => {
  const command = 'gog gmail trash --query from:boss --all';
  const answer = requestExec(command);
  const r = await listed((a) => a.command === command, `the exec approval for ${command}`);
  const no = await reins.run(['deny', r.request_id]);
  assert.equal(no.code, 0, no.stderr);
  const res = await answer;
  assert.ok(res.ok, JSON.stringify(res.error));
  assert.equal(res.payload.decision, 'deny');
  await gone(r.request_id);
});

test('an approval answered by another OpenClaw client leaves reins approvals', async () => {
  const other = await gatewayClient({
    port: gw.port, token: gw.token, name: 'other-operator', scopes: OPERATOR_SCOPES, caps: APPROVER_CAPS,
  });
  const command = 'gog gmail send --to everyone@example.com';
  const answer = requestExec(command);
  const r = await listed((a) => a.command === command, `the exec approval for ${command}`);
  const resolved = await other.call('exec.approval.resolve', { id: r.gateway.id, decision: 'deny' });
  assert.ok(resolved.ok, JSON.stringify(resolved.error));
  assert.equal((await answer).payload.decision, 'deny');
  await gone(r.request_id);
  // Too late now: Reins says so instead of answering it.
  const late = await reins.run(['approve', r.request_id]);
  assert.notEqual(late.code, 0, `approving an answered request succeeded: ${late.stdout}`);
  await other.close();
});

test('a plugin approval shows with its title and tool, and reins deny answers deny', async () => {
  const title = 'Reins test: message.send to all contacts';
  const answer = requester.call('plugin.approval.request', {
    pluginId: 'reins-test', title, description: 'Send "hello" to 312 contacts?', severity: 'critical',
    toolName: 'message', toolCallId: 'call-real-1', agentId: 'main', sessionKey: SESSION,
    allowedDecisions: ['allow-once', 'deny'], timeoutMs: 120_000,
  });
  const r = await listed((a) => a.gateway?.queue === 'plugin' && a.tool_input?.title === title, 'the plugin approval');
  assert.equal(r.kind, 'openclaw');
  assert.equal(r.session_id, SESSION);
  assert.match(r.gateway.id, /^plugin:/);
  assert.equal(r.risk, 'high', 'a critical plugin approval is shown as high risk');
  const no = await reins.run(['deny', r.request_id]);
  assert.equal(no.code, 0, no.stderr);
  const res = await answer;
  assert.ok(res.ok, JSON.stringify(res.error));
  assert.equal(res.payload.decision, 'deny');
  await gone(r.request_id);
});

test('reins detects the real gateway by its process title and its soft stop leaves it running', async () => {
  const status = await reins.json(['status']);
  const agent = status.agents.find((a) => String(a.id).startsWith(`openclaw-${gw.pid}-`));
  assert.ok(agent, `no OpenClaw agent with pid ${gw.pid} in reins status: ${JSON.stringify(status.agents.map((a) => a.id))}`);
  const stop = await reins.run(['stop', String(agent.id), '--soft']);
  assert.equal(stop.code, 0, `${stop.stdout}${stop.stderr}`);
  assert.match(stop.stdout, /no run was active; nothing to abort/);
  assert.match(stop.stdout, /The gateway and its chat channels stay up/);
  assert.ok(alive(gw.pid), 'the gateway died after a soft stop');
  assert.equal((await reins.openclaw()).link.state, 'up');
});

test('a wrong token is refused by the real gateway and reins status shows its message', async () => {
  const bad = reinsEnv(tempDir('reins-openclaw-badtoken-'), {
    gateway: { port: gw.port, auth: { mode: 'token', token: `not-${gw.token}` } },
  });
  await bad.daemon();
  const o = await waitFor(async () => {
    const s = await bad.openclaw();
    return s?.link?.state === 'refused' && s;
  }, { what: 'the link with a wrong token to be refused' });
  assert.match(o.link.error, /gateway token mismatch/);
  const text = await bad.run(['status']);
  assert.match(text.stdout, /OpenClaw gateway: REFUSED by ws:\/\/127\.0\.0\.1:\d+: .*gateway token mismatch/);
});

test('with no gateway on the configured port the link is down, not refused', async () => {
  const port = await freePort();
  const none = reinsEnv(tempDir('reins-openclaw-nogw-'), {
    gateway: { port, auth: { mode: 'token', token: gw.token } },
  });
  await none.daemon();
  const o = await waitFor(async () => {
    const s = await none.openclaw();
    return s?.link?.state === 'down' && s;
  }, { what: 'the link to a closed port to be down' });
  assert.equal(o.link.url, `ws://127.0.0.1:${port}`);
});

test('when the gateway dies, what Reins showed is withdrawn and the link is no longer up', async () => {
  // Last: this ends the gateway. (Coming back is covered by the fake
  // gateway's reconnect tests, and the start window by `before` above.)
  const command = 'gog gmail trash --query older_than:1y --all';
  const answer = requestExec(command).catch((e) => e);
  const r = await listed((a) => a.command === command, `the exec approval for ${command}`);
  await gw.stop({ signal: 'SIGKILL' });
  await gone(r.request_id);
  assert.ok((await answer) instanceof Error, 'the requester got an answer from a dead gateway');
  await waitFor(async () => (await reins.openclaw()).link.state !== 'up', { what: 'the link to leave the up state' });
  const text = await reins.run(['status']);
  assert.match(text.stdout, /OpenClaw gateway: (not connected to|connecting to) ws:\/\/127\.0\.0\.1:\d+/);
});
