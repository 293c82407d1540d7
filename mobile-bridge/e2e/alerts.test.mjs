// Issue 11 §3 on the phone: a stop word typed to an agent (the real
// `reins hook claude user-prompt-submit`, run as the child of a fake agent)
// freezes its tree; the phone shows the alert card at the top of the page;
// Resume on the card resumes it and the card goes away. A sentence that
// contains "stop" freezes nothing. The processes are checked in /proc.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { diag, fileSetup, isRunning, isStopped, pairedMachine, screenshot, textOf, tid, waitProcs } from './harness/index.mjs';

const { skip, browser } = await fileSetup();
let m; // { env, daemon, phone, page, machineId }

before(async () => {
  if (skip) return;
  m = await pairedMachine(await browser(), { label: 'alerts' });
});

test('a sentence with "stop" in it is passed on and freezes nothing', { skip, timeout: 60_000 }, async () => {
  const a = m.env.promptAgent("please don't stop the build");
  assert.equal(await a.output(), null, 'no answer: the agent reads the sentence');
  assert.ok(isRunning(a.pid), 'not frozen');
  assert.equal(await m.page.locator(tid('alert')).count(), 0);
});

test('a stop word pauses the agent, the alert card appears, and Resume on it resumes the agent', { skip, timeout: 60_000 }, async () => {
  const a = m.env.promptAgent('STOP');
  await waitProcs([a.pid], isStopped, 'the agent frozen (T)');
  const out = await a.output();
  assert.equal(out?.decision, 'block', `the prompt is blocked: ${JSON.stringify(out)}`);
  const card = m.page.locator(tid('alert', { 'agent-id': (await m.env.waitAgent(a.pid)).id }));
  await card.waitFor().catch((e) => {
    throw new Error(`${e.message}\n${diag(m.phone)}`);
  });
  const text = await textOf(card);
  assert.match(text, /you typed “STOP”/, text);
  assert.ok(isStopped(a.pid), 'still frozen while the card waits');
  await screenshot(m.page, 'alert-stop-word');
  await card.locator(tid('alert-resume')).tap();
  await waitProcs([a.pid], isRunning, 'the agent running again');
  await card.waitFor({ state: 'detached' });
});
