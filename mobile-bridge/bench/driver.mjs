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
// In-page timing, installed before the app's own scripts: when the tap's
// pointerdown reached the page, and when the page handed each frame to its
// WebSocket (the app's sealed command leaving the page).
await context.addInitScript(() => {
  const w = /** @type {any} */ (window);
  w.__reinsBench = { click: [], sent: [], ev: [], toasts: [] };
  // Every toast element added to the page, whatever its text.
  new MutationObserver((ms) => {
    for (const m of ms) for (const n of m.addedNodes) {
      if (n instanceof Element && (n.matches('[data-testid=toast]') || n.querySelector('[data-testid=toast]'))) {
        w.__reinsBench.toasts.push([performance.now(), n.textContent]);
      }
    }
  }).observe(document, { childList: true, subtree: true });
  for (const k of ['pointerup', 'touchend', 'click']) addEventListener(k, () => w.__reinsBench.ev.push([k, performance.now()]), true);
  addEventListener('pointerdown', () => w.__reinsBench.click.push(performance.now()), true);
  const WS = WebSocket;
  // @ts-ignore: a subclass that notes when each socket opens and hears
  window.WebSocket = class extends WS {
    constructor(...a) {
      super(...a);
      w.__reinsBench.ev.push(['ws-new', performance.now()]);
      this.addEventListener('open', () => w.__reinsBench.ev.push(['ws-open', performance.now()]));
      this.addEventListener('message', () => w.__reinsBench.ev.push(['ws-msg', performance.now()]));
    }
  };
  const send = WS.prototype.send;
  WebSocket.prototype.send = function (data) {
    w.__reinsBench.sent.push(performance.now());
    return send.call(this, data);
  };
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
        if (process.env.REINS_BENCH_DEBUG) {
          process.stderr.write(JSON.stringify(await page.evaluate(() => ({ ...(/** @type {any} */ (window).__reinsBench), nav: performance.getEntriesByType('navigation').map((e) => [e.responseEnd, e.domContentLoadedEventEnd, e.loadEventEnd]) }))) + '\n');
        }
      }
      say('opened');
      return;
    }
    case 'arm': {
      const stop = page.locator(`[data-testid=agent][data-agent-id="${args[0]}"] [data-testid=agent-stop]`);
      await stop.waitFor({ timeout: T });
      await stop.scrollIntoViewIfNeeded();
      const box = await stop.boundingBox();
      if (!box) throw new Error('the Stop button has no box');
      // A real touch at the button's centre, sent straight through CDP: no
      // actionability waits of Playwright's own inside the measured time.
      armed = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
      await page.evaluate(() => { const b = /** @type {any} */ (window).__reinsBench; b.click = []; b.sent = []; b.ev = []; b.toasts = []; });
      say('armed');
      return;
    }
    case 'tap': {
      // A toast element added after the tap (texts may repeat between runs).
      const t0 = now();
      const wall0 = performance.timeOrigin + performance.now();
      await page.touchscreen.tap(armed.x, armed.y);
      say('tapped');
      try {
        await page.waitForFunction(() => /** @type {any} */ (window).__reinsBench.toasts
          .some(([, text]) => /stopped|failed|partial|not sent/i.test(text ?? '')), null, { timeout: T, polling: 'raf' });
      } catch (e) {
        const now = await page.getByTestId('toast').allTextContents();
        throw new Error(`no outcome shown after the tap; toasts now ${JSON.stringify(now)}`);
      }
      const shownUs = us(t0);
      // pointerdown → the first WebSocket frame after it: the app's own share.
      const inPage = await page.evaluate(() => {
        const b = /** @type {any} */ (window).__reinsBench;
        const c = b.click[0];
        const s = b.sent.find((t) => t >= c);
        return c === undefined || s === undefined ? -1 : Math.round((s - c) * 1000);
      });
      if (process.env.REINS_BENCH_DEBUG) {
        const b = await page.evaluate(() => ({ ...(/** @type {any} */ (window).__reinsBench), origin: performance.timeOrigin }));
        b.tapToPointerdown = b.click[0] + b.origin - wall0;
        process.stderr.write(JSON.stringify(b) + '\n');
      }
      say(`shown ${shownUs} ${inPage}`);
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
