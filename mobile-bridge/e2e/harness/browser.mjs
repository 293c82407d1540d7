// Real headless Chromium (playwright-core, /usr/bin/chromium) with a
// phone-sized touch context, plus the steps a person takes on the phone:
// open the pairing link, compare the code with the terminal, answer y.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { T, waitFor } from './util.mjs';

const here = dirname(fileURLToPath(import.meta.url));
/** docs/screenshots of the repository this checkout belongs to. */
// Screenshots go to a temp dir unless E2E_SCREENSHOTS names one, so a test
// run never changes the tree; E2E_SCREENSHOTS=../docs/screenshots refreshes
// the docs' e2e-*.png.
export const SCREENSHOTS = process.env.E2E_SCREENSHOTS || join(tmpdir(), 'reins-e2e-screenshots');

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless Chromium; `extraArgs` e.g. ['--host-resolver-rules=MAP reins.test 127.0.0.1']. */
export function launchBrowser(extraArgs = []) {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** The phone: 390×844, touch, mobile. */
export const PHONE = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
};

/**
 * A fresh phone (its own storage) in `browser`: { context, page, dialogs,
 * errors, console }. Dialogs are recorded and dismissed; page errors and
 * console errors are recorded for failure messages.
 */
export async function newPhone(browser, opts = {}) {
  const context = await browser.newContext({ ...PHONE, ...opts });
  context.setDefaultTimeout(T);
  const page = await context.newPage();
  const phone = { context, page, dialogs: [], errors: [], console: [] };
  page.on('dialog', (d) => {
    phone.dialogs.push(`${d.type()}: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => phone.errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') phone.console.push(`${m.type()}: ${m.text()}`);
  });
  return phone;
}

/** `[data-testid="id"]` plus attribute filters: tid('agent', {'agent-id': x}). */
export function tid(id, attrs = {}) {
  return `[data-testid="${id}"]` + Object.entries(attrs).map(([k, v]) => `[data-${k}="${String(v).replace(/"/g, '\\"')}"]`).join('');
}

/** Saves a screenshot of the current screen to docs/screenshots/e2e-<name>.png. */
export async function screenshot(page, name, { fullPage = false } = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `e2e-${name}.png`);
  // A full page from the top: scrolled, a sticky header lands mid-image.
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage });
  return path;
}

/**
 * Pairs `phone` with the machine of `env` the way a person does: `reins
 * pair` prints a link, the phone opens it and shows a code, the person
 * checks the terminal shows the same code and answers y. Resolves
 * { code, url, machineId, device } once both sides say paired.
 * `onCode(page)` runs while the code is on screen (e.g. a screenshot).
 */
export async function pairPhone(phone, env, { onCode } = {}) {
  const { page } = phone;
  const pair = await env.startPair();
  // A scanned link opens as a new document. Going to it from a page already
  // on the app's URL would only change the fragment (same document).
  if (page.url() !== 'about:blank') await page.goto('about:blank');
  await page.goto(pair.url);
  const codeEl = page.locator(tid('pair-code'));
  await codeEl.waitFor({ state: 'visible' });
  await page.waitForFunction(
    (sel) => /^\d{6}$/.test((document.querySelector(sel)?.textContent ?? '').replace(/\D/g, '')),
    tid('pair-code'),
  );
  const phoneCode = (await codeEl.textContent()).replace(/\D/g, '');
  await page.locator(tid('pair-status', { state: 'waiting' })).waitFor();
  if (onCode) await onCode(page);
  const desktop = await pair.prompt();
  assert.equal(desktop.code, phoneCode, 'the terminal and the phone show the same code');
  pair.answer('y\n');
  await page.locator(tid('pair-status', { state: 'paired' })).waitFor();
  const done = await pair.finished();
  assert.equal(done.code, 0, `reins pair failed: ${done.stderr}`);
  const devices = await env.devices();
  const device = devices[devices.length - 1];
  return { code: phoneCode, url: pair.url, machineId: device.id, device, deviceName: desktop.deviceName, pairOutput: done.stdout };
}

/** Leaves the pairing screen if it offers a "done" button. */
export async function finishPairing(page) {
  const done = page.locator(tid('pair-done'));
  if (await done.isVisible()) await done.tap();
}

/**
 * Presses `locator` with a finger and keeps it down until the app marks an
 * element `data-armed="true"` (the hold completed) or, if given, `until()`
 * (a Node-side poll, e.g. of /proc) holds; then lifts the finger. Uses CDP
 * touch events, as a phone sends. No timer: the app decides when.
 */
export async function holdUntilArmed(page, locator, { until } = {}) {
  await locator.scrollIntoViewIfNeeded();
  const box = await locator.boundingBox();
  assert.ok(box, 'the button is on screen');
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  // The card may leave the page as soon as the decision lands, so record
  // the moment any element becomes armed rather than polling for it.
  await page.evaluate(() => {
    window.__e2eArmed = !!document.querySelector('[data-armed="true"]');
    window.__e2eArmedObserver?.disconnect();
    const obs = new MutationObserver(() => {
      if (document.querySelector('[data-armed="true"]')) window.__e2eArmed = true;
    });
    obs.observe(document, { attributes: true, childList: true, subtree: true, attributeFilter: ['data-armed'] });
    window.__e2eArmedObserver = obs;
  });
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y, id: 1 }] });
    const armed = page.waitForFunction(() => window.__e2eArmed === true).then(() => 'armed');
    const waits = [armed];
    if (until) waits.push(waitFor(until, { what: 'the held action to take effect' }).then(() => 'done'));
    const how = await Promise.race(waits);
    armed.catch(() => {});
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    return how;
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/** Text of a locator, whitespace collapsed. */
export async function textOf(locator) {
  return ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/** A summary for failure messages: what the page said. */
export function diag(phone) {
  return `page errors: ${JSON.stringify(phone.errors)}\nconsole: ${JSON.stringify(phone.console.slice(-20))}\ndialogs: ${JSON.stringify(phone.dialogs)}`;
}
