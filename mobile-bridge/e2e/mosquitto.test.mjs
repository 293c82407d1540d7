// Scenario 14: a real Mosquitto as the broker (the daemon's `link.broker`,
// the phone through Mosquitto's own WebSocket listener), the app still
// served by the daemon.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileSetup, isDead, pairedMachine, startMosquitto, textOf, tid, waitProcs } from './harness/index.mjs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackDir } from './harness/procs.mjs';

const { skip, browser } = await fileSetup();

test('through a real Mosquitto, a phone pairs, sees an agent and stops it', { skip, timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-e2e-mosq-'));
  trackDir(dir);
  const broker = await startMosquitto(dir);
  const m = await pairedMachine(await browser(), {
    label: 'mosq',
    config: `[link]\nbroker = "${broker.url}"\nphone_urls = ["${broker.wsUrl}"]\n`,
  });
  const link = (await m.daemon.status()).link;
  assert.equal(link.embedded, false);
  assert.equal(link.broker, broker.url);
  assert.ok(
    m.pairing.url.includes(`b=${encodeURIComponent(broker.wsUrl)}`),
    `the pairing link sends the phone to Mosquitto's WebSocket listener: ${m.pairing.url}`,
  );

  const tree = await m.env.spawnTree(3);
  const agent = await m.env.waitAgent(tree.pid);
  const card = m.page.locator(tid('agent', { 'agent-id': agent.id }));
  await card.waitFor();
  await card.locator(tid('agent-stop')).tap();
  await waitProcs(tree.pids, isDead, 'the whole tree gone');
  const toast = m.page.locator(tid('toast')).filter({ hasText: /stopped/i }).last();
  await toast.waitFor();
  assert.match(await textOf(toast), /\b3 processes\b/);
  assert.equal(await toast.getAttribute('data-level'), 'ok');
});
