// Scenario 11: the daemon restarts (same ports, same data directory) while
// the app stays open; it reconnects and catches up by itself.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diag, fileSetup, pairedMachine, tid } from './harness/index.mjs';

const { skip, browser } = await fileSetup();

test('after the daemon restarts, the open app reconnects and lists an agent started while it was down, without a reload', { skip, timeout: 90_000 }, async () => {
  const m = await pairedMachine(await browser(), { label: 'restart', fixedPorts: true });
  const { page, env, daemon } = m;
  const machine = page.locator(tid('machine', { 'machine-id': m.machineId }));
  const link = machine.locator(tid('machine-link'));
  await machine.locator(`${tid('machine-link')}[data-state="connected"]`).waitFor();

  const before = await env.spawnTree(2);
  const a = await env.waitAgent(before.pid);
  await page.locator(tid('agent', { 'agent-id': a.id })).waitFor();

  // Mark this document: a reload would lose the mark.
  await page.evaluate(() => {
    window.__e2eSameDocument = true;
  });
  let loads = 0;
  page.on('load', () => loads++);
  const port = daemon.port;

  await daemon.stop();
  await page.waitForFunction(
    (sel) => document.querySelector(sel)?.getAttribute('data-state') !== 'connected',
    `${tid('machine', { 'machine-id': m.machineId })} ${tid('machine-link')}`,
  );
  const during = await link.getAttribute('data-state');
  assert.ok(['reconnecting', 'stale', 'connecting'].includes(during), `while the daemon is down the link says ${during}`);

  const whileDown = await env.spawnTree(3);
  await daemon.restart();
  assert.equal(daemon.port, port, 'the app is served on the same port');
  const b = await env.waitAgent(whileDown.pid);

  await page.locator(tid('agent', { 'agent-id': b.id })).waitFor().catch((e) => {
    throw new Error(`${e.message}\nlink: ${during}\n${diag(m.phone)}`);
  });
  await machine.locator(`${tid('machine-link')}[data-state="connected"]`).waitFor();
  await page.locator(tid('agent', { 'agent-id': a.id })).waitFor();
  assert.equal(await page.evaluate(() => window.__e2eSameDocument), true, 'the page was not reloaded');
  assert.equal(loads, 0, 'no load event: the page was not reloaded');
});
