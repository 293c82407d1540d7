// Scenario 15: on a plain-HTTP origin that is not loopback (reins.test,
// resolved to 127.0.0.1 by Chromium itself) the app warns it is not secure.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Daemon, Env, fileSetup, newPhone, screenshot, tid } from './harness/index.mjs';

const { skip, browser } = await fileSetup({ args: ['--host-resolver-rules=MAP reins.test 127.0.0.1'] });

test('on a non-localhost plain-HTTP origin the app shows the insecure banner', { skip, timeout: 60_000 }, async () => {
  const env = new Env({ label: 'insec' });
  const daemon = await Daemon.start(env);
  const phone = await newPhone(await browser());
  const { page } = phone;
  const url = `http://reins.test:${daemon.port}/`; // the daemon's app (or the stand-in's) by another name
  const response = await page.goto(url);
  assert.ok(response?.ok(), `${url} answered ${response?.status()}`);
  assert.equal(await page.evaluate(() => window.isSecureContext), false);
  await page.locator(tid('insecure-banner')).waitFor();
  assert.ok(await page.locator(tid('insecure-banner')).isVisible());
  await screenshot(page, 'insecure-banner');
});
