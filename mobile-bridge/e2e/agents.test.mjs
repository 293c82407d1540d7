// Scenarios 2, 6, 7, 8: agents (real fake-agent process trees) seen and
// controlled from the phone; the tests check the processes themselves in /proc.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import {
  diag, fileSetup, holdUntilArmed, isDead, isRunning, isStopped, pairedMachine, screenshot, textOf, tid, waitProcs,
} from './harness/index.mjs';

const { skip, browser } = await fileSetup();
let m; // { env, daemon, phone, page, machineId }

before(async () => {
  if (skip) return;
  m = await pairedMachine(await browser(), { label: 'agents' });
});

/** The agent's card, once the phone lists it. */
async function card(agentId) {
  const c = m.page.locator(tid('agent', { 'agent-id': agentId }));
  await c.waitFor().catch((e) => {
    throw new Error(`${e.message}\n${diag(m.phone)}`);
  });
  return c;
}

test('a fake agent, a real process tree, is listed on the phone with its kind and process count', { skip, timeout: 60_000 }, async () => {
  const tree = await m.env.spawnTree(5);
  // A scan may first catch the root alone: wait until the daemon saw all 5.
  const agent = await m.env.waitAgent(tree.pid, (a) => a.descendants === 4);
  const c = await card(agent.id);
  assert.equal(await c.getAttribute('data-state'), 'running');
  // The phone shows it once the next update carries the whole tree.
  await c.filter({ hasText: /\b5 processes\b/ }).waitFor().catch(async (e) => {
    throw new Error(`the card shows the process count (5): ${await textOf(c)}\n${e.message}`);
  });
  const text = await textOf(c);
  assert.ok(text.includes(m.env.displayName) || text.includes(m.env.kind), `the card names the kind (${m.env.displayName}): ${text}`);
  await screenshot(m.page, 'agents');
});

test('pausing an agent from the phone stops every process of its tree (state T), and resuming runs them again', { skip, timeout: 60_000 }, async () => {
  const tree = await m.env.spawnTree(3);
  const agent = await m.env.waitAgent(tree.pid);
  const c = await card(agent.id);

  await c.locator(tid('agent-pause')).tap();
  await waitProcs(tree.pids, isStopped, 'every process paused (T)');
  await m.page.locator(tid('agent', { 'agent-id': agent.id, state: 'paused' })).waitFor();

  await c.locator(tid('agent-resume')).tap();
  await waitProcs(tree.pids, isRunning, 'every process running again');
  await m.page.locator(tid('agent', { 'agent-id': agent.id, state: 'running' })).waitFor();
});

test('stopping an agent from the phone ends its whole process tree, and a toast says it stopped', { skip, timeout: 60_000 }, async () => {
  const tree = await m.env.spawnTree(4);
  const agent = await m.env.waitAgent(tree.pid);
  const c = await card(agent.id);

  await c.locator(tid('agent-stop')).tap();
  await waitProcs(tree.pids, isDead, 'every process of the tree gone');
  await tree.root.exited;
  const toast = m.page.locator(tid('toast')).filter({ hasText: /stopped/i }).last();
  await toast.waitFor();
  const said = await textOf(toast);
  assert.match(said, /\b4 processes\b/, `the toast says how many processes are gone: ${said}`);
  assert.equal(await toast.getAttribute('data-level'), 'ok', said);
  await c.waitFor({ state: 'detached' }).catch(async () => {
    // Still listed for a moment as exited is fine; listed as running is not.
    assert.notEqual(await c.getAttribute('data-state'), 'running', 'a stopped agent is not shown as running');
  });
});

test('stop all, held for a second, ends every agent on the machine', { skip, timeout: 60_000 }, async () => {
  const trees = [await m.env.spawnTree(2), await m.env.spawnTree(3)];
  const cards = [];
  for (const t of trees) cards.push(await card((await m.env.waitAgent(t.pid)).id));
  const pids = trees.flatMap((t) => t.pids);

  // A plain tap is not enough. To know the tap was handled without
  // waiting for time to pass, pause the first agent afterwards (sent on the
  // same link, after it): once that took effect, a stop sent by the tap
  // would have begun too, and the second tree would be frozen or gone.
  const button = m.page.locator(tid('stop-all-everywhere'));
  await button.tap();
  await cards[0].locator(tid('agent-pause')).tap();
  await waitProcs(trees[0].pids, isStopped, 'the first agent paused');
  assert.ok(trees[1].pids.every(isRunning), 'a single tap on stop all stopped nothing');

  await holdUntilArmed(m.page, button, { until: () => pids.every(isDead) });
  await waitProcs(pids, isDead, 'every process of both trees gone');
  await Promise.all(trees.map((t) => t.root.exited));
});
