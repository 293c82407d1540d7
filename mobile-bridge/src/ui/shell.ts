// The page shell: header with per-machine link chips, the insecure-origin
// banner, the pairing screen or the main view (approvals first, then agents
// per machine), toasts. Re-renders from AppState on every change and ticks
// once a second for countdowns and ages. Not the app logic or the SW.

import type { App, AppState } from '../app/types';
import { h, setText, show, keyedList, type Keyed } from '../../../web-common/dom';
import { alertsSection } from './alerts';
import { approvalsSection } from './approvals';
import { machinesSection } from './machines';
import { pairingScreen } from './pairing';
import { toastsRegion, resolvedNotices } from './toasts';
import { notifications } from './notify';
import type { MachineView } from '../app/types';

export function mountShell(root: HTMLElement, app: App, swReady: Promise<ServiceWorkerRegistration | null>) {
  const send = (p: Promise<void>) => { p.catch((e: unknown) => console.warn('reins: action failed', e)); };

  const chips = h('ul', { class: 'chips', 'aria-label': 'Connections' });
  const chipCache = new Map<string, Keyed<MachineView>>();
  const header = h('header', { class: 'top' }, h('h1', {}, 'Reins'), chips);
  const insecure = h('div', { class: 'insecure-banner', 'data-testid': 'insecure-banner', role: 'note' },
    h('strong', {}, 'Not a secure connection: '),
    'someone on this network could change this page. Use HTTPS (see docs) for notifications and offline use.');

  const alerts = alertsSection(app, send);
  const approvals = approvalsSection(app);
  const machines = machinesSection(app, send);
  const pairing = pairingScreen(app);
  const toasts = toastsRegion(app);
  const notices = resolvedNotices();
  const notify = notifications(app, swReady);
  const mainView = h('div', { class: 'main-view' }, alerts.el, notices.el, approvals.el, notify.enableBox, machines.el);
  const main = h('main', { id: 'main' }, notify.banner, notify.announce, pairing.el, mainView);
  root.replaceChildren(header, insecure, main, toasts.el);

  let state: AppState = app.state();
  function render(s: AppState) {
    state = s;
    show(insecure, !s.secureContext);
    keyedList(chips, chipCache, s.machines, (m) => m.id, () => {
      const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
      const label = h('span', {});
      const li = h('li', { class: 'chip' }, dot, label);
      return {
        el: li,
        update(m) {
          dot.className = `dot dot-${m.link.kind}`;
          setText(label, `${m.name}: ${m.link.kind}`);
        },
      };
    });
    const pairingVisible = pairing.visible(s.pairing, s.machines.length);
    pairing.update(s.pairing, s.machines.length);
    show(pairing.el, pairingVisible);
    show(mainView, !pairingVisible);
    alerts.update(s);
    approvals.update(s);
    machines.update(s);
    toasts.update(s);
    notices.update(s);
    notify.update(s);
  }
  pairing.setOnDismiss(() => render(app.state()));
  render(state);
  app.subscribe(render);

  const tick = () => {
    const now = Date.now();
    approvals.tick(now);
    machines.tick(now);
    pairing.tick(now);
    notices.tick(now);
  };
  // Align ticks to wall-clock seconds so every countdown changes together.
  const schedule = () => setTimeout(() => { tick(); schedule(); }, 1000 - (Date.now() % 1000) + 5);
  schedule();
}
