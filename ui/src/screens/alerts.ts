// Alert banners at the top of the agents screen: Reins froze an agent on its
// own (a stop word, a tripwire, a respawn held by the stop latch). The
// daemon's message is shown as text only (it can hold agent-supplied text),
// with one button per action the alert offers; Stop and Stop supervisor need
// the same 1 s hold as "Stop all agents". The result is reported like any
// halt's. Not the agents list (agents.ts).

import type { AlertActionView } from '../bindings/AlertActionView';
import type { AlertView } from '../bindings/AlertView';
import type { HaltResultView } from '../bindings/HaltResultView';
import { h, keyedList, setText, show, type Keyed } from '../../../web-common/dom';
import { holdButton } from '../hold';
import type { Ctx } from './types';

const LABEL: Record<AlertActionView, string> = {
  resume: 'Resume', stop: 'Stop', release: 'Release', stop_supervisor: 'Stop supervisor',
};
const TITLE: Record<string, string> = {
  stop_word: 'Paused by your stop word', tripwire: 'Tripwire: agent paused', respawn_held: 'Respawn held frozen',
};

/** `run` performs an action and reports its result (the agents screen's). */
export function alertBanners(ctx: Ctx, run: (label: string, act: () => Promise<HaltResultView>) => Promise<void>) {
  const list = h('div', { class: 'alerts', 'data-testid': 'alerts', 'aria-label': 'Alerts' });
  const cache = new Map<string, Keyed<AlertView>>();
  const create = (first: AlertView): Keyed<AlertView> => {
    let cur = first;
    const title = h('strong', { class: 'alert-title' });
    const message = h('p', { class: 'alert-message', 'data-testid': 'alert-message' });
    const buttons = h('div', { class: 'actions' });
    let shown = '';
    const act = (a: AlertActionView) => () => void run(`${LABEL[a]} ${cur.agent_name}`, () => ctx.api.alertAction(a, cur.agent_id));
    const el = h('div', { class: 'alert-banner', role: 'alert', 'data-testid': 'alert' }, title, message, buttons);
    return {
      el,
      update(a) {
        cur = a;
        el.setAttribute('data-alert-id', String(a.id));
        setText(title, TITLE[a.kind] ?? 'Reins acted on an agent');
        setText(message, a.message);
        const key = a.actions.join(',');
        if (key === shown) return;
        shown = key;
        buttons.replaceChildren(...a.actions.map((x) => {
          const testid = `alert-${x.replace('_', '-')}`;
          if (x === 'stop' || x === 'stop_supervisor') {
            return holdButton({ label: LABEL[x], hint: `Hold to ${LABEL[x].toLowerCase()}`, ms: 1000, className: 'danger', testid, onConfirm: act(x) }).el;
          }
          const b = h('button', { type: 'button', class: 'btn primary', 'data-testid': testid }, LABEL[x]);
          b.addEventListener('click', act(x));
          return b;
        }));
      },
    };
  };
  function update() {
    const alerts = ctx.state().alerts;
    keyedList(list, cache, alerts, (a) => String(a.id), create);
    show(list, alerts.length > 0);
  }
  return { el: list, update };
}
