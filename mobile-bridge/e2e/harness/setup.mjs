// Per test file: one Chromium, launched before the first test and closed
// after the last; every process started is killed after each test file
// (and whatever a single test started, after that test).
//
// When the `reins` under test has no phone web server yet, every test is
// skipped with the reason, unless E2E_REQUIRE_WEB=1 (then they fail).

import { after, afterEach } from 'node:test';
import { launchBrowser } from './browser.mjs';
import { cleanup, killTransient } from './procs.mjs';
import { phoneWebSupported } from './reins.mjs';

/**
 * Call at the top level of a test file. Resolves { skip, browser() }:
 * pass `skip` to each test's options; `await browser()` is the file's Chromium.
 */
export async function fileSetup({ args = [], transientAfterEach = true } = {}) {
  const support = await phoneWebSupported();
  const skip = support.ok || process.env.E2E_REQUIRE_WEB === '1' ? false : support.why;
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
