// Scenario 13: the app served by the daemon is an installable PWA on
// http://127.0.0.1 (a secure context), and its shell loads offline.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Daemon, Env, T, diag, fileSetup, newPhone, tid } from './harness/index.mjs';

const { skip, browser } = await fileSetup();

/** The app shell is up: the document is the app's and its UI rendered. */
async function shellShown(page) {
  await page.locator('[data-testid]:visible').first().waitFor();
  assert.match(await page.title(), /reins/i);
}

test('the service worker and manifest make the app installable on http://127.0.0.1, and its shell loads offline and with the daemon stopped', { skip, timeout: 90_000 }, async () => {
  const env = new Env({ label: 'pwa' });
  const daemon = await Daemon.start(env);
  const phone = await newPhone(await browser());
  const { page, context } = phone;

  await page.goto(daemon.appUrl);
  await shellShown(page);
  assert.equal(await page.evaluate(() => window.isSecureContext), true);
  assert.equal(await page.locator(tid('insecure-banner')).isVisible(), false, 'no insecure banner on loopback');

  // The service worker takes control.
  const ready = await page.evaluate(
    (guard) => Promise.race([
      navigator.serviceWorker.ready.then(() => true),
      new Promise((r) => setTimeout(() => r(false), guard)), // failure guard only
    ]),
    T,
  );
  assert.equal(ready, true, `no service worker became ready\n${diag(phone)}`);
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  // Installable: a manifest without errors, no installability errors.
  const cdp = await context.newCDPSession(page);
  const manifest = await cdp.send('Page.getAppManifest');
  assert.ok(manifest.url.startsWith(daemon.origin), `manifest at ${manifest.url}`);
  assert.deepEqual(manifest.errors, [], `manifest errors: ${JSON.stringify(manifest.errors)}`);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  const errors = installabilityErrors.filter((e) => e.errorId !== 'in-incognito');
  assert.deepEqual(errors, [], `installability errors: ${JSON.stringify(errors)}`);
  await cdp.detach();

  // Offline: the shell comes from the service worker.
  await context.setOffline(true);
  await page.reload();
  await shellShown(page);
  await context.setOffline(false);

  // The daemon (the origin server) is gone: still the shell.
  await daemon.stop();
  await page.reload();
  await shellShown(page);
  assert.deepEqual(phone.errors, [], diag(phone));
});
