// Takes the phone screenshots for the docs from the mock app (?mock, dev
// server: npx vite) with headless Chromium.
// Usage: node scripts/screenshots.mjs http://127.0.0.1:5173/ ../docs/screenshots
// Dev tool only; not part of the app or the tests.
import { chromium } from 'playwright-core';

const base = process.argv[2] ?? 'http://127.0.0.1:5180/';
const out = process.argv[3] ?? '/tmp/shots';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const phone = { width: 390, height: 844 };
const small = { width: 360, height: 640 };

async function shot(name, query, { viewport = phone, scheme = 'light', full = false, before } = {}) {
  const ctx = await browser.newContext({ viewport, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: scheme });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => { errors.push(`a dialog opened: ${d.message()}`); d.dismiss(); });
  await page.goto(base + query);
  await page.waitForSelector('main');
  await page.waitForTimeout(400);
  if (before) await before(page);
  const sw = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  // Markup from agents must stay text: no element it names may exist.
  const injected = await page.evaluate(() => document.querySelectorAll('#app img, #app script, #app b').length);
  if (injected) errors.push(`${injected} injected element(s)`);
  await page.screenshot({ path: `${out}/${name}.png`, fullPage: full });
  console.log(name, sw ? 'HORIZONTAL OVERFLOW' : 'ok', errors.join(' | '));
  await ctx.close();
}

const scrollTo = (sel) => async (page) => {
  await page.evaluate((s) => { const el = document.querySelector(s); el?.scrollIntoView({ block: 'start' }); window.scrollBy(0, -60); }, sel);
  await page.waitForTimeout(200);
};

await shot('phone-approvals', '?mock&toasts=0');
await shot('phone-approvals-hostile', '?mock&toasts=0', { before: scrollTo('[data-request-id="req-html"]') });
await shot('phone-approval-openclaw', '?mock&toasts=0', { before: scrollTo('[data-request-id="req-openclaw"]') });
await shot('phone-agents', '?mock', { before: scrollTo('#machines') });
await shot('phone-machines', '?mock&toasts=0', { before: scrollTo('[data-machine-name="build-server"]') });
await shot('phone-pairing', '?mock&pair=waiting');
await shot('phone-pairing-failed', '?mock&pair=failed');
await shot('phone-unpaired-insecure', '?mock&pair=empty&insecure');
await shot('phone-dark', '?mock&toasts=0', { scheme: 'dark' });
await shot('phone-dark-agents', '?mock', { scheme: 'dark', before: scrollTo('#machines') });
await shot('phone-360-insecure', '?mock&insecure&toasts=0', { viewport: small });
await shot('phone-360-long-command', '?mock&toasts=0', { viewport: small, before: scrollTo('[data-request-id="req-long"]') });
await shot('phone-new-approval-banner', '?mock&new&toasts=0', { before: async (p) => p.waitForSelector('[data-testid="approval-banner"]:not([hidden])', { timeout: 6000 }) });
await shot('phone-hold-progress', '?mock&toasts=0', { before: async (p) => {
  const b = await p.locator('[data-request-id="req-high"] [data-testid="approve"]').boundingBox();
  await p.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
  await p.mouse.down();
  await p.waitForTimeout(800);
} });
// Hostile strings on every screen (markup everywhere, a 5,000-character command).
await shot('phone-stop-recheck', '?mock&recheck');
await shot('phone-alert-audit-failing', '?mock&audit&toasts=0');
await shot('phone-hostile-approval', '?mock&hostile');
await shot('phone-hostile-approval-full', '?mock&hostile', { full: true });
await shot('phone-hostile-agents', '?mock&hostile', { before: scrollTo('#machines') });
await shot('phone-hostile-pairing', '?mock&hostile&pair=waiting');
await shot('phone-hostile-pairing-failed', '?mock&hostile&pair=failed');
await browser.close();
