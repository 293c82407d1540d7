// Scenario 12: one phone paired with two machines (two daemons). The
// second daemon's pairing link opens the first daemon's app (its
// phone.app_url), since the app's keys live in that origin's IndexedDB.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Daemon, Env, STAND_IN, fileSetup, finishPairing, holdUntilArmed, isDead, isRunning, isStopped, pairPhone, pairedMachine,
  screenshot, textOf, tid, waitProcs,
} from './harness/index.mjs';

const { skip, browser } = await fileSetup();

test('a phone paired with two machines lists both and controls the agents of each', { skip, timeout: 90_000 }, async () => {
  const a = await pairedMachine(await browser(), { label: 'one' });
  const { page } = a;
  const envB = new Env({ label: 'two' });
  const daemonB = await Daemon.start(envB, { vars: STAND_IN ? {} : { REINS__PHONE__APP_URL: a.daemon.appUrl } });
  const b = await pairPhone(a.phone, envB);
  assert.ok(b.url.startsWith(`${a.daemon.origin}/`), `the second link opens the first app's origin: ${b.url}`);
  if (!STAND_IN) {
    assert.ok(
      b.url.includes(`b=${encodeURIComponent(`ws://127.0.0.1:${daemonB.port}/mqtt`)}`),
      `the second link names the second daemon's broker: ${b.url}`,
    );
  }
  await finishPairing(page);

  const machineA = page.locator(tid('machine', { 'machine-id': a.machineId }));
  const machineB = page.locator(tid('machine', { 'machine-id': b.machineId }));
  for (const mc of [machineA, machineB]) await mc.locator(`${tid('machine-link')}[data-state="connected"]`).waitFor();
  assert.equal(await page.locator(tid('machine')).count(), 2, 'both machines are listed');

  const treeA = await a.env.spawnTree(2);
  const treeB = await envB.spawnTree(3);
  const agentA = await a.env.waitAgent(treeA.pid);
  const agentB = await envB.waitAgent(treeB.pid);
  const cardA = page.locator(tid('agent', { 'agent-id': agentA.id }));
  const cardB = page.locator(tid('agent', { 'agent-id': agentB.id }));
  await cardA.waitFor();
  await cardB.waitFor();
  await screenshot(page, 'machines', { fullPage: true });

  // Each machine is controlled separately: pause B's agent, stop A's.
  await cardB.locator(tid('agent-pause')).tap();
  await waitProcs(treeB.pids, isStopped, "the second machine's agent paused");
  assert.ok(treeA.pids.every(isRunning), "the first machine's agent is untouched");
  await cardA.locator(tid('agent-stop')).tap();
  await waitProcs(treeA.pids, isDead, "the first machine's agent stopped");
  assert.ok(treeB.pids.every(isStopped), "the second machine's agent is still paused, not stopped");

  // Stop all on the second machine only (1 s hold), paused agent included.
  await holdUntilArmed(page, machineB.locator(tid('stop-all-machine')), { until: () => treeB.pids.every(isDead) });
  await waitProcs(treeB.pids, isDead, "the second machine's agent stopped");
  assert.match(await textOf(machineB), /.+/);
});
