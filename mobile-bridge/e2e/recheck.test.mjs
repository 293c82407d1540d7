// Issue 10 on the phone: a stop's recheck. `[halt] recheck_after_s = 1` here,
// so the daemon looks one second after each verified stop whether the agent
// came back, and every paired phone shows what it found, whoever stopped it
// (the phone itself, or `reins stop` in a terminal). The processes are
// checked in /proc; the respawn verdicts are covered by the unit tests and
// tests/tests/latch_e2e.rs.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { diag, fileSetup, isDead, pairedMachine, screenshot, textOf, tid, waitProcs } from './harness/index.mjs';

const { skip, browser } = await fileSetup();
let m; // { env, daemon, phone, page, machineId }

before(async () => {
  if (skip) return;
  m = await pairedMachine(await browser(), { label: 'recheck', config: '[halt]\nrecheck_after_s = 1\n' });
});

/** The recheck line for the agent named like this env's, once it shows. */
async function recheckToast() {
  const t = m.page.locator(tid('toast')).filter({ hasText: /still gone 1 s later/ }).last();
  await t.waitFor().catch((e) => {
    throw new Error(`${e.message}\n${diag(m.phone)}`);
  });
  return t;
}

test('a stop from the phone is followed by "still gone 1 s later", calm', { skip, timeout: 60_000 }, async () => {
  const tree = await m.env.spawnTree(2);
  const agent = await m.env.waitAgent(tree.pid);
  const c = m.page.locator(tid('agent', { 'agent-id': agent.id }));
  await c.waitFor();
  await c.locator(tid('agent-stop')).tap();
  await waitProcs(tree.pids, isDead, 'every process of the tree gone');
  const t = await recheckToast();
  const said = await textOf(t);
  assert.ok(said.includes(m.env.displayName), `the line names the stopped agent (${m.env.displayName}): ${said}`);
  assert.equal(await t.getAttribute('data-level'), 'ok', said);
  await screenshot(m.page, 'stop-recheck');
});

test('a stop from the terminal is rechecked on the phone too', { skip, timeout: 60_000 }, async () => {
  // Dismiss the first test's lines, so the one awaited below is this stop's.
  const dismiss = m.page.locator(`${tid('toast')} button`);
  for (let n = await dismiss.count(); n > 0; n--) await dismiss.first().tap();
  await m.page.locator(tid('toast')).first().waitFor({ state: 'detached' });
  const tree = await m.env.spawnTree(2);
  const agent = await m.env.waitAgent(tree.pid);
  const r = await m.env.run(['stop', agent.id]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /still gone after 1 s/, `the terminal waits for the recheck: ${r.stdout}`);
  await waitProcs(tree.pids, isDead, 'every process of the tree gone');
  await recheckToast();
});
