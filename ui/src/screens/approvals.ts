// Approvals: every waiting request in full (agent, tool, the exact command in a
// wrapping monospace block, cwd, reason, risk, time left), with Approve,
// Approve for session and Deny. A high-risk request is approved only by a
// 1.5 s hold (the deliberate act; `confirmedHighRisk` is true only from it).
// `focus(id)` is where `reins://open` with an approval lands.

import { toUiError } from '../api';
import type { ApprovalView } from '../bindings/ApprovalView';
import type { DecisionView } from '../bindings/DecisionView';
import { h, keyedList, setText, show, type Keyed } from '../../../web-common/dom';
import { holdButton, type HoldButton } from '../hold';
import { approvalModel } from '../model';
import type { Ctx, Screen } from './types';

export const HIGH_RISK_HOLD_MS = 1500;

export interface ApprovalsScreen extends Screen {
  /** Scroll to and focus one approval; false when it is not waiting. */
  focus(requestId: string): boolean;
}

const DONE: Record<DecisionView, string> = {
  approve: 'Approved.',
  approve_session: 'Approved for this session.',
  deny: 'Denied.',
};

export function approvalsScreen(ctx: Ctx): ApprovalsScreen {
  const list = h('ul', { class: 'rows approvals', 'aria-label': 'Waiting approvals' });
  const empty = h(
    'div',
    { class: 'empty', 'data-testid': 'approvals-empty' },
    h('p', { class: 'empty-title' }, 'Nothing is waiting for you.'),
    h('p', {}, 'When an agent asks to do something a person must decide, it appears here and in the tray.'),
  );
  const notice = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  show(notice, false);
  const cache = new Map<string, Keyed<ApprovalView>>();

  const createCard = (first: ApprovalView): Keyed<ApprovalView> => {
    const id = first.request_id;
    const titleId = `ap-${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const agent = h('span', { class: 'name' });
    const tool = h('span', { class: 'tool' });
    const risk = h('span', { class: 'pill' });
    const left = h('span', { class: 'left' });
    const bodyLabel = h('dt', {});
    const body = h('pre', { class: 'command', tabindex: '0', 'data-testid': 'command' });
    const cwd = h('code', { class: 'path' });
    const cwdRow = h('div', { class: 'kv' }, h('dt', {}, 'Directory'), h('dd', {}, cwd));
    const reason = h('dd', {});
    const reasonRow = h('div', { class: 'kv' }, h('dt', {}, 'Why'), reason);
    const sessionText = h('code', { class: 'path' });
    const sessionRow = h('div', { class: 'kv' }, h('dt', {}, 'Session'), h('dd', {}, sessionText));
    const status = h('p', { class: 'card-status', role: 'status', 'aria-live': 'polite' });
    show(status, false);
    let inFlight = false;
    let expired = false;

    const decide = async (d: DecisionView, confirmedHighRisk: boolean) => {
      if (inFlight || expired) return;
      inFlight = true;
      setDisabled(true);
      status.className = 'card-status';
      setText(status, 'Sending…');
      show(status, true);
      try {
        await ctx.api.decide(a.request_id, a.action_hash, d, confirmedHighRisk);
        setText(status, DONE[d]);
        status.classList.add('ok');
        // The card goes when the shell's next state no longer lists it.
      } catch (e) {
        setText(status, `Not sent: ${toUiError(e).message}`);
        status.classList.add('bad');
        inFlight = false;
        setDisabled(false);
      }
    };

    const actions = h('div', { class: 'actions' });
    const deny = h('button', { type: 'button', class: 'btn', 'data-testid': 'deny' }, 'Deny');
    deny.addEventListener('click', () => void decide('deny', false));
    let approve: HTMLButtonElement;
    let session: HTMLButtonElement;
    const holds: HoldButton[] = [];
    if (first.risk === 'high') {
      const hold = (label: string, d: DecisionView, testid: string) => {
        const b = holdButton({ label, hint: 'High risk: hold to approve', ms: HIGH_RISK_HOLD_MS, className: 'primary', testid, onConfirm: () => void decide(d, true) });
        holds.push(b);
        return b.el;
      };
      approve = hold('Approve', 'approve', 'approve');
      session = hold('Approve for session', 'approve_session', 'approve-session');
    } else {
      approve = h('button', { type: 'button', class: 'btn primary', 'data-testid': 'approve' }, 'Approve');
      approve.addEventListener('click', () => void decide('approve', false));
      session = h('button', { type: 'button', class: 'btn', 'data-testid': 'approve-session' }, 'Approve for session');
      session.addEventListener('click', () => void decide('approve_session', false));
    }
    actions.append(approve, session, deny);
    // OpenClaw has no "for this session" answer; the button would only be refused.
    show(session, first.allow_session);
    const setDisabled = (d: boolean) => {
      for (const hb of holds) hb.setDisabled(d);
      if (!holds.length) {
        approve.disabled = d;
        session.disabled = d;
      }
      deny.disabled = d;
    };
    const hiddenNote = h('p', { class: 'high-note', 'data-testid': 'hidden-chars' }, 'This request contains invisible or text-direction characters, shown as ⟪U+…⟫. Read it carefully.');
    show(hiddenNote, false);
    const highNote = h('p', { class: 'high-note' }, 'High risk: press and hold Approve for 1.5 seconds to confirm you mean it.');
    show(highNote, first.risk === 'high');

    let a = first;
    const el = h(
      'li',
      { class: `row approval${first.risk === 'high' ? ' high' : ''}`, 'data-request-id': id, tabindex: '-1', 'aria-labelledby': titleId },
      h('div', { class: 'row-head' }, h('h3', { id: titleId }, agent, tool), risk, left),
      h('dl', { class: 'details' }, h('div', { class: 'kv kv-block' }, bodyLabel, h('dd', {}, body)), cwdRow, sessionRow, reasonRow),
      hiddenNote,
      highNote,
      actions,
      status,
    );
    return {
      el,
      update(next) {
        a = next;
        const m = approvalModel(next, ctx.now());
        setText(agent, m.agent);
        setText(tool, ` · ${m.tool}`);
        setText(risk, m.riskLabel);
        risk.className = `pill ${m.high ? 'risk-high' : 'risk-normal'}`;
        setText(left, m.left);
        left.classList.toggle('urgent', m.leftMs < 30_000);
        setText(bodyLabel, m.bodyLabel);
        setText(body, m.body);
        setText(cwd, m.cwd ?? '');
        show(cwdRow, m.cwd !== null);
        setText(sessionText, m.session ?? '');
        show(sessionRow, m.session !== null);
        setText(reason, m.reason ?? '');
        show(reasonRow, m.reason !== null);
        show(hiddenNote, m.hidden);
        if (m.expired && !expired) {
          expired = true;
          setDisabled(true);
          setText(status, 'Expired: it can no longer be answered here.');
          status.className = 'card-status bad';
          show(status, true);
        }
      },
      destroy() {
        for (const hb of holds) hb.destroy();
      },
    };
  };

  /** A focus asked for before the state listed the approval (events race). */
  let want: { id: string; until: number } | null = null;

  const focusCard = (card: HTMLElement) => {
    show(notice, false);
    for (const c of list.querySelectorAll('.focused')) c.classList.remove('focused');
    card.classList.add('focused');
    card.scrollIntoView({ block: 'start' });
    card.focus({ preventScroll: true });
  };

  const update = () => {
    const pending = ctx.state().pending;
    keyedList(list, cache, pending, (a) => a.request_id, createCard);
    show(empty, pending.length === 0);
    if (!want) return;
    const card = cache.get(want.id)?.el;
    if (card) {
      want = null;
      focusCard(card);
    } else if (ctx.now() >= want.until) {
      want = null;
      setText(notice, 'That approval is no longer waiting: it was answered elsewhere or it expired.');
      show(notice, true);
    }
  };

  const el = h(
    'section',
    { class: 'screen', 'aria-labelledby': 'h-approvals' },
    h('header', { class: 'screen-head' }, h('h2', { id: 'h-approvals' }, 'Approvals')),
    notice,
    list,
    empty,
  );

  return {
    el,
    update,
    focus(requestId) {
      want = { id: requestId, until: ctx.now() + 3000 };
      update();
      return want === null && cache.has(requestId);
    },
  };
}
