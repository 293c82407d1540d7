// Scenario 1: pairing a phone in a real browser with `reins pair`.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Daemon, Env, STAND_IN, diag, fileSetup, finishPairing, newPhone, pairPhone, screenshot, tid } from './harness/index.mjs';

const { skip, browser } = await fileSetup();

test('a phone pairs by opening the link reins pair prints, both sides show the same code, and the secret fragment leaves the address bar and history', { skip, timeout: 60_000 }, async () => {
  const env = new Env({ label: 'pair' });
  const daemon = await Daemon.start(env);
  const phone = await newPhone(await browser());
  const { page } = phone;

  const paired = await pairPhone(phone, env, { onCode: (p) => screenshot(p, 'pairing-code') }).catch((e) => {
    throw new Error(`${e.message}\n${diag(phone)}`);
  });

  // The link opens this daemon's app, and its broker is the same origin's /mqtt.
  if (!STAND_IN) {
    assert.ok(paired.url.startsWith(`${daemon.origin}/#v=1&`), `pairing link ${paired.url} opens ${daemon.origin}/`);
    const b = encodeURIComponent(`ws://127.0.0.1:${daemon.port}/mqtt`);
    assert.ok(paired.url.includes(`b=${b}`), `the link names the same-origin broker ${b}: ${paired.url}`);
  }
  assert.match(paired.code, /^\d{6}$/);
  assert.match(paired.pairOutput, /Paired with/);

  // The fragment (the pairing secret) is gone from the address bar and from history.
  assert.ok(!page.url().includes('#'), `the address bar still has the fragment: ${page.url()}`);
  assert.equal(await page.evaluate(() => location.hash), '');
  const cdp = await page.context().newCDPSession(page);
  const { entries } = await cdp.send('Page.getNavigationHistory');
  await cdp.detach();
  for (const e of entries) {
    assert.ok(!e.url.includes('tok=') && !e.url.includes('#v=1'), `history keeps the pairing secret: ${e.url}`);
  }

  // The desktop knows one phone; the phone shows the machine, connected.
  assert.equal((await env.devices()).length, 1);
  await finishPairing(page);
  const machine = page.locator(tid('machine', { 'machine-id': paired.machineId }));
  await machine.waitFor();
  await machine.locator(`${tid('machine-link')}[data-state="connected"]`).waitFor();
  assert.ok(await machine.getAttribute('data-machine-name'), 'the machine has a name');
  assert.equal((await daemon.status()).link.devices, 1);
  assert.deepEqual(phone.errors, [], diag(phone));
});

// A link for the same origin opened in the tab where the app already runs
// is a same-document navigation: only `hashchange` sees it.
test('a pairing link opened in the tab where the app already runs pairs too and leaves no fragment behind', { skip, timeout: 60_000 }, async () => {
  const env = new Env({ label: 'same' });
  const daemon = await Daemon.start(env);
  const phone = await newPhone(await browser());
  const { page } = phone;
  await page.goto(daemon.appUrl);
  await page.locator(tid('pairing')).waitFor();
  const pair = await env.startPair();
  await page.goto(pair.url); // same origin and path: only the fragment changes
  const code = page.locator(tid('pair-code'));
  await code.waitFor({ timeout: 5_000 });
  const desktop = await pair.prompt();
  assert.equal(desktop.code, (await code.textContent()).replace(/\D/g, ''));
  pair.answer('y\n');
  await page.locator(tid('pair-status', { state: 'paired' })).waitFor();
  assert.ok(!page.url().includes('#'), `the address bar keeps the fragment: ${page.url()}`);
});

test('opening the same pairing link a second time after pairing fails at once as already used, and a second phone is told so by the desktop', { skip, timeout: 60_000 }, async () => {
  const env = new Env({ label: 'used' });
  await Daemon.start(env);
  const phone = await newPhone(await browser());
  const { page } = phone;
  const paired = await pairPhone(phone, env);
  await finishPairing(page);

  // The same phone: it remembers the link's token and needs no network.
  await page.goto('about:blank');
  await page.goto(paired.url);
  const failed = tid('pair-status', { state: 'failed', reason: 'already_used' });
  await page.locator(failed).waitFor();
  assert.match(await page.locator(tid('pair-status')).textContent(), /already used.*reins pair/s);

  // Another phone with the same link: the desktop answers its hello.
  const other = await newPhone(await browser());
  await other.page.goto(paired.url);
  await other.page.locator(failed).waitFor();
  assert.equal((await env.devices()).length, 1);
  assert.deepEqual(phone.errors, [], diag(phone));
});
