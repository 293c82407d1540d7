// Approval cards: one per pending request, keyed by request id so a held
// button survives re-renders. Shows the whole command (never cut), cwd, agent,
// session, risk, reason and a live countdown; Approve / Deny / Allow for this
// session. High risk: approve by holding. Not the notification logic.

import type { App, ApprovalView, AppState } from '../app/types';
import { h, setText, show, keyedList, type Keyed } from '../../../web-common/dom';
import { holdButton, type HoldButton } from './hold';
import { riskOf, timeLeft } from './format';
import { agentLabel } from './labels';

const RISK_TEXT = { low: 'Low risk', medium: 'Medium risk', high: 'HIGH RISK' } as const;

interface Card extends Keyed<ApprovalView> {
  tick(now: number): void;
}

export function approvalsSection(app: App) {
  const list = h('div', { class: 'cards' });
  const empty = h('p', { class: 'empty' }, 'No requests waiting. Agents that need you will show up here.');
  const heading = h('h2', { id: 'approvals-h', tabindex: '-1' }, 'Approvals');
  const el = h('section', { class: 'section', 'aria-labelledby': 'approvals-h' }, heading, empty, list);
  const cache = new Map<string, Card>();
  let state: AppState = app.state();

  function update(s: AppState) {
    state = s;
    setText(heading, s.approvals.length ? `Approvals (${s.approvals.length})` : 'Approvals');
    show(empty, s.approvals.length === 0);
    // If the focused card leaves (decided here or elsewhere), keep focus in the list.
    const hadFocus = list.contains(document.activeElement);
    keyedList(list, cache, s.approvals, (a) => a.machineId + '/' + a.requestId, (a) => card(app, a, () => state));
    if (hadFocus && !list.contains(document.activeElement)) {
      (list.querySelector<HTMLElement>('[data-testid="approval"]') ?? heading).focus({ preventScroll: true });
    }
    tick(Date.now());
  }
  function tick(now: number) {
    for (const c of cache.values()) c.tick(now);
  }
  return { el, update, tick };
}

let cardSeq = 0;

function card(app: App, first: ApprovalView, getState: () => AppState): Card {
  const titleId = `approval-title-${++cardSeq}`;
  const risk = riskOf(first.risk);
  const who = () => agentLabel(getState(), first.machineId, first.agentId);
  const agentEl = h('span', { class: 'approval-agent', 'data-testid': 'approval-agent' });
  const left = h('span', { class: 'time-left', 'data-testid': 'approval-time-left' });
  const badge = h('span', { class: `risk risk-${risk}` }, RISK_TEXT[risk]);
  const title = h('h3', { class: 'card-title', id: titleId }, agentEl);
  const command = h('pre', { class: 'command', 'data-testid': 'approval-command' });
  const cmdLabel = h('div', { class: 'field-label' });
  const exact = h('details', { class: 'exact' }, h('summary', {}, 'Exact request'), h('pre', { class: 'command small' }));
  const cwd = h('code', { class: 'path', 'data-testid': 'approval-cwd' });
  const session = h('span', { class: 'meta-val' });
  const reason = h('p', { class: 'reason' });
  const status = h('p', { class: 'card-status', role: 'status' });

  let cur = first;
  let busy = false;
  const run = (what: string, p: () => Promise<void>) => {
    if (busy) return;
    busy = true;
    setBusy(true);
    setText(status, what);
    p().then(
      () => setText(status, ''),
      (e: unknown) => {
        busy = false;
        setBusy(false);
        setText(status, `Could not send: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  };
  const approveOnce = () => run('Approving…', () => app.approve(first.machineId, first.requestId, 'once'));
  const approveSession = () => run('Allowing for this session…', () => app.approve(first.machineId, first.requestId, 'session'));

  const holds: HoldButton[] = [];
  // A high-risk request is allowed only by a deliberate hold; others by a tap.
  const allowButton = (label: string, hint: string, cls: string, holdCls: string, testid: string, onConfirm: () => void) => {
    if (risk === 'high') {
      const hb = holdButton({ label, ariaLabel: '', hint, ms: 1500, className: holdCls, testid, onConfirm });
      holds.push(hb);
      return hb.el;
    }
    const b = h('button', { type: 'button', class: `btn ${cls}`, 'data-testid': testid }, label);
    b.addEventListener('click', onConfirm);
    return b;
  };
  const approve = allowButton('Approve', 'Hold to approve', 'primary', 'primary danger-approve', 'approve', approveOnce);
  const session2 = first.allowSession
    ? allowButton('Allow for this session', 'Hold to allow', 'secondary wide', 'secondary wide', 'approve-session', approveSession)
    : null;
  const deny = h('button', { type: 'button', class: 'btn deny', 'data-testid': 'deny' }, 'Deny');
  deny.addEventListener('click', () => run('Denying…', () => app.deny(first.machineId, first.requestId)));

  function setBusy(b: boolean) {
    deny.disabled = b;
    for (const hb of holds) hb.setDisabled(b);
    if (risk !== 'high') approve.disabled = b;
    if (session2 && risk !== 'high') session2.disabled = b;
  }

  const el = h(
    'article',
    {
      class: `card approval risk-border-${risk}`,
      'data-testid': 'approval',
      'data-request-id': first.requestId,
      'data-machine-id': first.machineId,
      'data-risk': risk,
      'aria-labelledby': titleId,
      tabindex: '-1',
    },
    h('div', { class: 'card-head' }, badge, left),
    title,
    cmdLabel,
    command,
    exact,
    h('dl', { class: 'meta' },
      h('dt', {}, 'Folder'), h('dd', {}, cwd),
      h('dt', {}, 'Session'), h('dd', {}, session)),
    reason,
    h('div', { class: 'actions' }, deny, approve),
    session2 ? h('div', { class: 'actions' }, session2) : null,
    status,
  );

  return {
    el,
    update(a) {
      cur = a;
      const name = who();
      setText(agentEl, name);
      setText(cmdLabel, a.command !== null ? `${a.tool}: command` : `${a.tool}: full input`);
      setLines(command, a.command ?? a.action);
      show(exact, a.command !== null);
      setLines(exact.querySelector('pre')!, a.action);
      setText(cwd, a.cwd ?? '(not given)');
      setText(session, a.sessionId ?? '(none)');
      setText(reason, a.reason ? `Why: ${a.reason}` : '');
      show(reason, !!a.reason);
      deny.setAttribute('aria-label', `Deny ${name}`);
      const al = risk === 'high' ? `Approve ${name} (high risk: press and hold)` : `Approve ${name}`;
      if (risk === 'high') holds[0]!.setAriaLabel(al);
      else approve.setAttribute('aria-label', al);
      if (session2) {
        const sl = `Allow ${name} for this session`;
        if (risk === 'high') holds[1]!.setAriaLabel(sl + ' (press and hold)');
        else session2.setAttribute('aria-label', sl);
      }
    },
    tick(now) {
      const expired = cur.expiresAtMs - now <= 0;
      setText(left, timeLeft(cur.expiresAtMs, now));
      left.classList.toggle('urgent', cur.expiresAtMs - now < 30_000);
      el.classList.toggle('expired', expired);
    },
    destroy() {
      for (const hb of holds) hb.destroy();
    },
  };
}

/**
 * Shows `text` exactly (textContent stays byte for byte the same), one block
 * per real line (numbered when there are several), so a soft wrap on a
 * narrow screen cannot be mistaken for a new line of the command.
 */
function setLines(pre: HTMLElement, text: string): void {
  if (pre.dataset.text === text) return;
  pre.dataset.text = text;
  const lines = text.split('\n');
  pre.classList.toggle('multi', lines.length > 1);
  pre.replaceChildren(...lines.map((l, i) => h('span', { class: 'line' }, i < lines.length - 1 ? l + '\n' : l)));
}
