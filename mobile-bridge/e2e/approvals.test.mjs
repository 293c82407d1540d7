// Scenarios 3, 4, 5, 9, 10: approval prompts from real
// `reins hook claude permission-request` processes, answered on the phone
// (or on the desktop), with what the hook printed as the verdict.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { diag, fileSetup, holdUntilArmed, pairedMachine, screenshot, textOf, tid } from './harness/index.mjs';

const { skip, browser } = await fileSetup();
let m; // { env, daemon, phone, page, machineId }
let n = 0;

before(async () => {
  if (skip) return;
  m = await pairedMachine(await browser(), { label: 'appr' });
});

/**
 * Starts a hook for `command`, waits for the daemon to list it and the
 * phone to show it. Resolves { hook, request, card }.
 */
async function ask(command, { cwd } = {}) {
  const hook = m.env.hook({ command, cwd });
  const request = await m.env.waitApprovals(
    (list) => list.find((r) => r.command === command),
    `the daemon to list ${JSON.stringify(command)}`,
  );
  const card = m.page.locator(tid('approval', { 'request-id': request.request_id }));
  await card.waitFor().catch((e) => {
    throw new Error(`${e.message}\n${diag(m.phone)}`);
  });
  return { hook, request, card };
}

test('approving a pending request on the phone makes the waiting hook print allow', { skip, timeout: 60_000 }, async () => {
  const cwd = `/srv/e2e-project-${process.pid}`;
  const command = `make deploy-e2e-${n++}`;
  const { hook, request, card } = await ask(command, { cwd });
  assert.equal(request.risk, 'medium');
  assert.equal(await card.getAttribute('data-machine-id'), m.machineId);
  assert.equal(await card.getAttribute('data-risk'), 'medium');
  assert.equal(await textOf(card.locator(tid('approval-command'))), command);
  assert.ok((await textOf(card.locator(tid('approval-cwd')))).includes(`e2e-project-${process.pid}`), 'the cwd is shown');
  assert.match(await textOf(card.locator(tid('approval-agent'))), /claude/i);
  assert.ok(await card.locator(tid('approval-time-left')).isVisible(), 'the time left is shown');
  assert.ok(hook.running(), 'the hook waits for a person');

  await card.locator(tid('approve')).tap();
  const r = await hook.result();
  assert.equal(r.behavior, 'allow', `hook printed: ${r.stdout} ${r.stderr}`);
  await card.waitFor({ state: 'detached' });
});

test('denying a pending request on the phone makes the waiting hook print deny', { skip, timeout: 60_000 }, async () => {
  const command = `cargo publish --dry-run-${n++}`;
  const { hook, card } = await ask(command);
  await card.locator(tid('deny')).tap();
  const r = await hook.result();
  assert.equal(r.behavior, 'deny', `hook printed: ${r.stdout} ${r.stderr}`);
  await card.waitFor({ state: 'detached' });
});

test('a high-risk request is not approved by a single tap, only by holding approve', { skip, timeout: 60_000 }, async () => {
  // Medium: a marker on the same link, answered after the tap (see below).
  const marker = await ask(`make marker-${n++}`);
  // `rm -r...` is rated high by the policy's risk rules (not denied: no built-in rule matches).
  const command = `rm -rf ./build-e2e-${n++}`;
  const policy = await m.env.run(['policy', 'test', JSON.stringify({
    session_id: 'p', transcript_path: '/t', cwd: '/w', hook_event_name: 'PermissionRequest',
    tool_name: 'Bash', tool_input: { command },
  })]);
  assert.match(policy.stdout, /risk:\s+High/, policy.stdout);
  const { hook, request, card } = await ask(command);
  assert.equal(request.risk, 'high');
  assert.equal(
    await card.getAttribute('data-risk'),
    'high',
    'the daemon rates it high (reins approvals --json) but the phone does not: does approval_request carry `risk`?',
  );
  const approve = card.locator(tid('approve'));
  assert.equal(await approve.getAttribute('data-hold'), 'true', 'high risk: approve is hold-to-confirm');
  await screenshot(m.page, 'approvals-high-risk', { fullPage: true });

  await approve.tap();
  await approve.filter({ hasText: /hold to approve/i }).waitFor(); // only a hint
  // Deny the marker: that decision travels the same link after anything the
  // tap sent, so once its hook has answered, an approval sent by the tap
  // would have been decided too. It was not: the high-risk hook still waits.
  await marker.card.locator(tid('deny')).tap();
  assert.equal((await marker.hook.result()).behavior, 'deny');
  assert.ok(hook.running(), 'the high-risk hook is still waiting after a single tap');
  assert.ok((await m.env.approvals()).some((r) => r.request_id === request.request_id), 'still pending');
  assert.notEqual(await approve.getAttribute('data-armed'), 'true');

  await holdUntilArmed(m.page, approve);
  const r = await hook.result();
  assert.equal(r.behavior, 'allow', `hook printed: ${r.stdout} ${r.stderr}`);
  await card.waitFor({ state: 'detached' });
});

test('a request approved on the desktop disappears from the phone, with a notice saying the terminal decided', { skip, timeout: 60_000 }, async () => {
  const command = `npm publish --tag e2e-${n++}`;
  const { hook, request, card } = await ask(command);
  const o = await m.env.run(['approve', request.request_id]);
  assert.equal(o.code, 0, o.stderr);
  assert.equal((await hook.result()).behavior, 'allow');
  await card.waitFor({ state: 'detached' });
  const notice = m.page.locator(tid('resolved-notice', { 'request-id': request.request_id }));
  await notice.waitFor().catch(async (e) => {
    const all = await m.page.locator(tid('resolved-notice')).allTextContents();
    throw new Error(`${e.message}\nnotices: ${JSON.stringify(all)}`);
  });
  const text = await textOf(notice);
  assert.match(text, /allow|approv/i, `the notice says how it ended: ${text}`);
  assert.match(text, /terminal|desktop|computer|command line|\bcli\b/i, `the notice says who decided: ${text}`);
});

test('a command containing HTML is shown as inert text: no element is created and no script runs', { skip, timeout: 60_000 }, async () => {
  const command = `echo <img src=x onerror=alert(1)> <script>alert(2)</script> e2e-${n++}`;
  const { hook, card } = await ask(command);
  const shown = card.locator(tid('approval-command'));
  assert.equal(await shown.textContent(), command, 'textContent is the command, byte for byte');
  assert.equal(await card.locator('img').count(), 0, 'no img element inside the card');
  assert.equal(await card.locator('script').count(), 0, 'no script element inside the card');
  assert.equal(await m.page.locator('img[src="x"]').count(), 0, 'no injected img anywhere');
  await card.locator(tid('deny')).tap();
  assert.equal((await hook.result()).behavior, 'deny');
  assert.deepEqual(m.phone.dialogs, [], 'no dialog or alert fired');
});

test('a 5,000-character command reaches the phone whole, readable and without horizontal scrolling', { skip, timeout: 60_000 }, async () => {
  // Benign enough that the policy asks a person (an ssh-key read would be denied outright).
  const tail = ` && echo the-end-e2e-${n++}`;
  const command = 'echo <b>x</b> ' + 'ls ./build/cache-entry '.repeat(250).slice(0, 5_000 - tail.length - 14) + tail;
  assert.equal(command.length, 5_000);
  const { hook, card } = await ask(command);
  assert.equal(await card.locator(tid('approval-command')).textContent(), command, 'the whole command, byte for byte');
  assert.equal(await card.locator('b').count(), 0, 'markup stays text');
  const overflow = await m.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
  await card.locator(tid('deny')).tap();
  assert.equal((await hook.result()).behavior, 'deny');
});
