// Per test file: one Chromium, launched before the first test and closed
// after the last; every process started is killed after each test file
// (and whatever a single test started, after that test).
//
// A `reins` without the phone web server (an old binary) fails every test
// with the reason; with E2E_ALLOW_SKIP=1 they are skipped instead.

import { after, afterEach, before } from 'node:test';
import { launchBrowser } from './browser.mjs';
import { cleanup, killTransient } from './procs.mjs';
import { phoneWebSupported } from './reins.mjs';

/**
 * Call at the top level of a test file. Resolves { skip, browser() }:
 * pass `skip` to each test's options; `await browser()` is the file's Chromium.
 */
export async function fileSetup({ args = [], transientAfterEach = true } = {}) {
  const support = await phoneWebSupported();
  const skip = support.ok || process.env.E2E_ALLOW_SKIP !== '1' ? false : support.why;
  if (!support.ok && !skip) {
    before(() => {
      throw new Error(`${support.why} (E2E_ALLOW_SKIP=1 skips these tests instead)`);
    });
  }
  // Launched on first use (root-level `before` hooks of one file may run in
  // any order), closed after the file.
  let launched = null;
  const browser = () => (launched ??= launchBrowser(args));
  if (transientAfterEach) afterEach(() => killTransient());
  after(async () => {
    if (launched) await (await launched.catch(() => null))?.close().catch(() => {});
    await cleanup();
  });
  return { skip, browser };
}
