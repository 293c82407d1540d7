// The alerts section: one card per alert (Reins froze an agent on its own:
// a stop word, a tripwire, a respawn held by the stop latch; or the
// desktop's audit log cannot be written, with no actions), at the very
// top of the page, impossible to miss. The desktop's message is shown as
// text only (it can hold agent-supplied text), with one button per action
// the desktop offers: Resume, Stop (hold 1 s, like every stop that can not
// be undone), Release, Stop supervisor (hold 1 s too).
// Not the app logic (app.ts) or notifications (notify.ts).

import type { AlertAction, AlertView, App, AppState } from '../app/types';
import { h, setText, show, keyedList, type Keyed } from '../../../web-common/dom';
import { holdButton } from './hold';

type Send = (p: Promise<void>) => void;

const TITLE: Record<string, string> = {
  stop_word: 'Paused by your stop word',
  tripwire: 'Tripwire: agent paused',
  respawn_held: 'Respawn held frozen',
  audit_failing: 'Audit log not written',
};

const LABEL: Record<AlertAction, string> = {
  resume: 'Resume',
  stop: 'Stop',
  release: 'Release',
  stop_supervisor: 'Stop supervisor',
};

export function alertsSection(app: App, send: Send) {
  const list = h('div', { class: 'cards' });
  const el = h('section', { class: 'section alerts', id: 'alerts', 'aria-label': 'Alerts', 'data-testid': 'alerts' }, list);
  const cache = new Map<string, Keyed<AlertView>>();
  function update(s: AppState) {
    show(el, s.alerts.length > 0);
    keyedList(list, cache, s.alerts, (a) => `${a.machineId}/${a.alertId}`, (a) => alertCard(app, a, send));
  }
  return { el, update };
}

function alertCard(app: App, first: AlertView, send: Send): Keyed<AlertView> {
  const title = h('h3', { class: 'card-title' });
  const machine = h('p', { class: 'alert-machine' });
  const message = h('p', { class: 'alert-message', 'data-testid': 'alert-message' });
  const actions = h('div', { class: 'actions' });
  const el = h('article', { class: 'card alert-card', role: 'alert', 'data-testid': 'alert' },
    title, message, machine, actions);
  let cur = first;
  let shown = '';
  const machineName = () => app.state().machines.find((m) => m.id === cur.machineId)?.name ?? 'a computer';
  function buttons(a: AlertView): HTMLElement[] {
    return a.actions.map((op) => {
      const run = () => send(app.command(cur.machineId, op, cur.agentId));
      const testid = `alert-${op.replace('_', '-')}`;
      if (op === 'stop' || op === 'stop_supervisor') {
        return holdButton({
          label: LABEL[op], ariaLabel: `${LABEL[op]} ${a.displayName} (press and hold)`, hint: `Hold to ${LABEL[op].toLowerCase()}`,
          ms: 1000, className: 'danger', testid, onConfirm: run,
        }).el;
      }
      const b = h('button', { type: 'button', class: 'btn primary', 'data-testid': testid, 'aria-label': `${LABEL[op]} ${a.displayName}` }, LABEL[op]);
      b.addEventListener('click', run);
      return b;
    });
  }
  return {
    el,
    update(a) {
      cur = a;
      el.setAttribute('data-alert-id', String(a.alertId));
      el.setAttribute('data-agent-id', a.agentId);
      el.setAttribute('data-reason', a.reason);
      setText(title, TITLE[a.reason] ?? 'Reins acted on an agent');
      // As a sentence: the desktop's lines may start in lower case.
      setText(message, a.message.charAt(0).toUpperCase() + a.message.slice(1));
      setText(machine, `on ${machineName()}`);
      const key = a.actions.join(',');
      if (key !== shown) {
        shown = key;
        actions.replaceChildren(...buttons(a));
      }
    },
  };
}
