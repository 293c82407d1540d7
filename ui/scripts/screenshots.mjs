// Takes the desktop window's screenshots for the docs from the built app
// (dist/, served here on loopback) with ?mock and ?mock&hostile in headless
// Chromium, and fails when a hostile string created an element, a dialog
// opened, the page threw or broke the CSP, or anything scrolls sideways.
// Usage (from ui/, after npm run build): node scripts/screenshots.mjs [outdir]
// Default outdir: ../docs/screenshots. Needs /usr/bin/chromium.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../dist/', import.meta.url));
const out = process.argv[2] ?? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' };

const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
  try {
    const body = await readFile(join(root, path.endsWith('/') ? `${path}index.html` : path));
    res.writeHead(200, { 'content-type': types[extname(path) || '.html'] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const desktop = { width: 900, height: 640 };
const narrow = { width: 640, height: 640 };
let failures = 0;

async function shot(name, query, { viewport = desktop, scheme = 'light', before, save = true } = {}) {
  const ctx = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: scheme });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('dialog', (d) => { errors.push(`a dialog opened: ${d.message()}`); void d.dismiss(); });
  await page.goto(`${base}?mock&${query}`);
  await page.waitForSelector('main .screen:not([hidden])', { timeout: 5000 });
  await page.waitForTimeout(300);
  if (before) {
    try {
      await before(page);
    } catch (e) {
      errors.push(`check failed: ${e.message ?? e}`);
    }
  }
  const check = await page.evaluate(() => {
    const main = document.querySelector('main');
    const sideways = [document.documentElement, document.body, main]
      .filter((el) => el && el.scrollWidth > el.clientWidth + 1)
      .map((el) => el.tagName);
    // Hostile strings carry <img>, <b> and <script>: none may exist in the app.
    const injected = document.querySelectorAll('#app img, #app script, #app b').length;
    return { sideways, injected };
  });
  if (check.sideways.length) errors.push(`scrolls sideways: ${check.sideways.join(', ')}`);
  if (check.injected) errors.push(`${check.injected} injected element(s)`);
  if (save) await page.screenshot({ path: `${out}/desktop-${name}.png` });
  if (errors.length) failures++;
  console.log(`desktop-${name}`, errors.length ? `FAIL ${errors.join(' | ')}` : 'ok');
  await ctx.close();
}

const click = (sel) => async (p) => { await p.click(sel); await p.waitForTimeout(450); };
const hold = (sel, ms) => async (p) => {
  const b = await p.locator(sel).first().boundingBox();
  await p.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
  await p.mouse.down();
  await p.waitForTimeout(ms);
};
const scrollTo = (sel) => async (p) => {
  await p.evaluate((s) => document.querySelector(s)?.scrollIntoView({ block: 'start' }), sel);
  await p.waitForTimeout(150);
};
const settingsErrors = async (p) => {
  await p.fill('#set-broker', 'http://example.com');
  await p.fill('#set-approval_timeout_secs', '99999');
  await p.click('[data-testid="save"]');
  await p.waitForSelector('[data-testid="error-broker"]:not([hidden])');
};
const pairCode = async (p) => { await p.waitForSelector('[data-testid="pair-code"]:not(:empty)', { timeout: 5000 }); };

const screens = async (prefix, q, opts = {}) => {
  await shot(`${prefix}agents`, `${q}&screen=agents`, opts);
  await shot(`${prefix}approvals`, `${q}&screen=approvals`, opts);
  await shot(`${prefix}devices`, `${q}&screen=devices`, opts);
  await shot(`${prefix}pair-qr`, `${q}&screen=pair&pairms=600000`, opts);
  await shot(`${prefix}pair-code`, `${q}&screen=pair&pairms=300`, { ...opts, before: pairCode });
  await shot(`${prefix}audit`, `${q}&screen=audit`, { ...opts, before: click('[data-testid="verify"]') });
  await shot(`${prefix}settings`, `${q}&screen=settings`, opts);
};

// Light, every screen, plus the moments worth seeing.
await screens('', 'x');
await shot('agents-stopped', 'screen=agents', { before: hold('[data-testid="stop-all"]', 1500) });
await shot('agents-halt-failed', 'haltfail&screen=agents', { before: click('[data-agent-id="claude-4242-1"] [data-testid="agent-stop"]') });
// OpenClaw's "Stop this run": a secondary button under its row, the result
// in that row, the gateway (the agent) still running, the red Stop still there.
const softStop = (expect) => async (p) => {
  const row = p.locator('[data-agent-id="openclaw-900-1"]');
  if (!(await row.locator('[data-testid="agent-stop"]').isVisible())) throw new Error('the red Stop is gone');
  await row.locator('[data-testid="agent-soft-stop"]').click();
  await row.locator(`[data-testid="soft-result"].${expect}`).waitFor({ timeout: 3000 });
  if (!(await row.locator('.pill').innerText()).includes('Running')) throw new Error('the soft stop stopped the agent');
  await row.scrollIntoViewIfNeeded();
  await p.evaluate(() => document.querySelector('[data-agent-id="openclaw-900-1"]')?.scrollIntoView({ block: 'end' }));
  await p.waitForTimeout(150);
};
await shot('agents-openclaw-soft-stop', 'screen=agents', { before: softStop('ok') });
await shot('agents-openclaw-soft-stop-failed', 'softfail&screen=agents', { before: softStop('bad') });
await shot('approval-hold', 'screen=approval:req-high', { before: hold('[data-request-id="req-high"] [data-testid="approve"]', 800) });
// A click on a high-risk Approve decides nothing; a full hold does.
await shot('approval-click-is-not-enough', 'screen=approvals', { before: async (p) => {
  await p.click('[data-request-id="req-high"] [data-testid="approve"]');
  await p.waitForTimeout(600);
  if (!(await p.locator('[data-request-id="req-high"]').count())) throw new Error('a click approved a high-risk request');
  await hold('[data-request-id="req-high"] [data-testid="approve"]', 1800)(p);
  await p.mouse.up();
  await p.waitForSelector('[data-request-id="req-high"]', { state: 'detached', timeout: 3000 });
} });
// The hold works from the keyboard too (Space held on the focused button).
await shot('approval-keyboard-hold', 'screen=approvals', { before: async (p) => {
  await p.focus('[data-request-id="req-high"] [data-testid="approve-session"]');
  await p.keyboard.down(' ');
  await p.waitForTimeout(1800);
  await p.keyboard.up(' ');
  await p.waitForSelector('[data-request-id="req-high"]', { state: 'detached', timeout: 3000 });
} });
// reins://open for an approval the state lists only later still lands on it;
// one that never comes says so.
await shot('approval-open-late', 'late&screen=approval:req-late', { before: async (p) => {
  await p.waitForSelector('[data-request-id="req-late"].focused', { timeout: 3000 });
} });
await shot('approval-open-gone', 'screen=approval:req-gone', { before: async (p) => {
  await p.waitForSelector('.notice:not([hidden])', { timeout: 5000 });
} });
await shot('approvals-empty', 'empty&screen=approvals');
// An OpenClaw approval: its session is shown and there is no "Approve for
// session" (OpenClaw has no such answer).
await shot('approvals-openclaw', 'screen=approvals', {
  before: async (page) => {
    const card = page.locator('[data-request-id="req-openclaw"]');
    await card.scrollIntoViewIfNeeded();
    if (await card.locator('[data-testid="approve-session"]').isVisible()) throw new Error('approve-session is shown for OpenClaw');
    const text = await card.innerText();
    if (!text.includes('agent:main:main')) throw new Error('the session key is not shown');
  },
});
await shot('devices-rename-revoke', 'screen=devices', { before: async (p) => {
  await p.click('[data-device-id="d1a2b3"] [data-testid="rename"]');
  await p.fill('[data-device-id="d1a2b3"] input', '   ');
  await p.click('[data-device-id="d1a2b3"] [data-testid="rename-form"] .primary');
  await p.click('[data-device-id="e4f5a6"] [data-testid="revoke"]');
} });
await shot('settings-errors', 'screen=settings', { before: settingsErrors });
await shot('daemon-down', 'daemon=down&screen=agents');
// The daemon's audit log cannot be written: a banner above every screen.
await shot('audit-failing', 'audit&screen=agents');
// Dark.
await screens('dark-', 'x', { scheme: 'dark' });
await shot('dark-daemon-down', 'daemon=down&screen=agents', { scheme: 'dark' });
await shot('dark-audit-failing', 'audit&screen=agents', { scheme: 'dark' });
// 640 px wide.
await shot('640-agents', 'screen=agents', { viewport: narrow });
await shot('640-approvals', 'screen=approvals', { viewport: narrow });
// Hostile strings everywhere (markup, a bidi override, newlines, a 5,000-character command).
await screens('hostile-', 'hostile');
await shot('hostile-approvals-long', 'hostile&screen=approvals', { before: async (p) => {
  // The 5,000-character command arrives whole, as text.
  const n = await p.evaluate(() => document.querySelector('[data-request-id="req-high"] .command')?.textContent.length ?? 0);
  if (n < 5000) throw new Error(`the long command shows ${n} characters`);
  await scrollTo('[data-request-id="req-high"]')(p);
} });
await shot('hostile-approvals-long-end', 'hostile&screen=approvals', { before: scrollTo('[data-request-id="req-high"] .actions') });
await shot('hostile-640-approvals', 'hostile&screen=approvals', { viewport: narrow });
// Checked, not kept: every hostile screen at 640 px and in dark.
await screens('check-hostile-640-', 'hostile', { viewport: narrow, save: false });
await screens('check-hostile-dark-', 'hostile', { scheme: 'dark', save: false });
await shot('hostile-settings-errors', 'hostile&screen=settings', { before: settingsErrors });
await shot('hostile-daemon-down', 'hostile&daemon=down&screen=agents');
await shot('hostile-audit-failing', 'hostile&audit&screen=agents');
await shot('check-hostile-agents-openclaw-soft-stop', 'hostile&softfail&screen=agents', { before: softStop('bad'), save: false });
await shot('hostile-agents-halt-failed', 'hostile&haltfail&screen=agents', { before: click('[data-testid="agent-stop"]') });

await browser.close();
server.close();
if (failures) {
  console.error(`${failures} screenshot(s) failed their checks`);
  process.exit(1);
}
