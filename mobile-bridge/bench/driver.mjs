// The phone side of `reins-bench phone-app`: a real headless Chromium with a
// phone-sized touch viewport, driven line by line over stdin/stdout by the
// Rust bench (tests/src/bench/phone_app.rs), which owns the daemon, the
// process trees and the /proc watcher. This file measures only what happens
// in the page (opening the app, a tap's outcome shown); the tap → frozen
// figure is the Rust watcher's.
//
// Commands (one per line) and replies:
//   open <pairing url>      → code <six digits>     (then the bench answers `reins pair`)
//   paired                  → paired                (once the app shows the machine connected)
//   measure-open <id> <n>   → open <µs> (n lines), then opened
//   arm <agent id>          → armed                 (its Stop button is on screen)
//   tap                     → tapped, then shown <µs> (tap call → outcome toast shown)
//   size                    → size <raw bytes> <gzip bytes> (the built app shell in dist/)
//   quit
// Errors are written as `error <message>` and end the driver.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const T = 20_000; // failure guard for waits, never a measured duration
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const now = () => process.hrtime.bigint();
const us = (t0) => String((now() - t0) / 1000n);
const say = (line) => process.stdout.write(line + '\n');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({
  viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
});
let page = await context.newPage();
let appUrl = null;
let armed = null;

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

async function handle(cmd, args) {
  switch (cmd) {
    case 'open': {
      const url = new URL(args[0]);
      appUrl = url.origin + url.pathname;
      await page.goto(args[0]);
      const code = page.getByTestId('pair-code');
      await code.waitFor({ timeout: T });
      await page.waitForFunction(() => /^\d{6}$/.test(
        document.querySelector('[data-testid=pair-code]')?.textContent?.replace(/\D/g, '') ?? ''), null, { timeout: T });
      say('code ' + (await code.textContent()).replace(/\D/g, ''));
      return;
    }
    case 'paired': {
      await page.locator('[data-testid=pair-status][data-state=paired]').waitFor({ timeout: T });
      const done = page.getByTestId('pair-done');
      if (await done.isVisible()) await done.click();
      await page.locator('[data-testid=machine-link][data-state=connected]').first().waitFor({ timeout: T });
      say('paired');
      return;
    }
    case 'measure-open': {
      const [id, n] = [args[0], Number(args[1])];
      for (let i = 0; i < n; i++) {
        await page.close();
        page = await context.newPage();
        const t0 = now();
        await page.goto(appUrl);
        await page.locator(`[data-testid=agent][data-agent-id="${id}"]`).waitFor({ timeout: T });
        say('open ' + us(t0));
      }
      say('opened');
      return;
    }
    case 'arm': {
      armed = page.locator(`[data-testid=agent][data-agent-id="${args[0]}"] [data-testid=agent-stop]`);
      await armed.waitFor({ timeout: T });
      say('armed');
      return;
    }
    case 'tap': {
      // A toast for this stop: one whose text was not on screen before the tap.
      const before = await page.getByTestId('toast').allTextContents();
      const t0 = now();
      await armed.tap();
      say('tapped');
      await page.waitForFunction((seen) => [...document.querySelectorAll('[data-testid=toast]')]
        .some((t) => !seen.includes(t.textContent) && /stopped|failed|partial/i.test(t.textContent ?? '')),
        before, { timeout: T, polling: 'raf' });
      say('shown ' + us(t0));
      return;
    }
    case 'size': {
      const all = files(dist).filter((f) => /\.(html|js|css|webmanifest)$/.test(f));
      const raw = all.reduce((s, f) => s + statSync(f).size, 0);
      const gz = all.reduce((s, f) => s + gzipSync(readFileSync(f), { level: 9 }).length, 0);
      say(`size ${raw} ${gz}`);
      return;
    }
    case 'quit':
      await browser.close();
      process.exit(0);
    default:
      throw new Error(`unknown command '${cmd}'`);
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (!cmd) continue;
  try {
    await handle(cmd, args);
  } catch (e) {
    say('error ' + String(e?.message ?? e).split('\n')[0]);
    await browser.close();
    process.exit(1);
  }
}
await browser.close();
