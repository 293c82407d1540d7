// The window: a left nav (top tabs when narrow), the daemon banner, and the
// five screens. Holds the latest DesktopState from `reins://state`, ticks once
// a second for countdowns and uptimes, follows `reins://open` and shows a
// failed tray halt (`reins://halt`). The shell creates the window when it is
// opened, so what it was opened for is asked for once the listeners are up.

import { toUiError, type Api } from './api';
import type { DesktopState } from './bindings/DesktopState';
import type { HaltResultView } from './bindings/HaltResultView';
import type { OpenViewView } from './bindings/OpenViewView';
import { h, setText, show } from '../../web-common/dom';
import { counts, daemonBanner } from './model';
import { agentsScreen } from './screens/agents';
import { approvalsScreen } from './screens/approvals';
import { auditScreen } from './screens/audit';
import { devicesScreen } from './screens/devices';
import { settingsScreen } from './screens/settings';
import type { Ctx, Screen, ScreenId } from './screens/types';

const EMPTY: DesktopState = {
  daemon: 'connecting',
  daemon_error: null,
  agents: [],
  pending: [],
  alerts: [],
  audit_problem: null,
  surfaces: [],
  surface_notes: [],
  link: null,
};

const NAV: ReadonlyArray<readonly [ScreenId, string]> = [
  ['agents', 'Agents'],
  ['approvals', 'Approvals'],
  ['devices', 'Devices'],
  ['audit', 'Audit log'],
  ['settings', 'Settings'],
];

export interface AppHandle {
  go(id: ScreenId): void;
  open(v: OpenViewView): void;
  /** Show a halt's result on the agents view. */
  halt(r: HaltResultView): void;
  setState(s: DesktopState): void;
}

export function mountApp(root: HTMLElement, api: Api, first: ScreenId = 'agents'): AppHandle {
  let state = EMPTY;
  const ctx: Ctx = { api, now: () => Date.now(), state: () => state };

  const approvals = approvalsScreen(ctx);
  const devices = devicesScreen(ctx);
  const agents = agentsScreen(ctx);
  const screens: Record<ScreenId, Screen> = {
    agents,
    approvals,
    devices,
    audit: auditScreen(ctx),
    settings: settingsScreen(ctx),
  };

  const badges = new Map<ScreenId, HTMLElement>();
  const tabs = new Map<ScreenId, HTMLButtonElement>();
  const nav = h('nav', { class: 'nav', 'aria-label': 'Reins' });
  const brand = h('p', { class: 'brand' }, 'Reins');
  const navList = h('ul', { class: 'nav-list' });
  for (const [id, label] of NAV) {
    const badge = h('span', { class: 'badge', 'data-testid': `badge-${id}` });
    show(badge, false);
    const b = h('button', { type: 'button', class: 'nav-item', 'data-screen': id }, h('span', {}, label), badge);
    b.addEventListener('click', () => go(id));
    badges.set(id, badge);
    tabs.set(id, b);
    navList.append(h('li', {}, b));
  }
  nav.append(brand, navList);

  const banner = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite', 'data-testid': 'daemon-banner' });
  show(banner, false);
  const main = h('main', { id: 'main', tabindex: '-1' }, banner, ...Object.values(screens).map((s) => s.el));
  root.replaceChildren(h('div', { class: 'layout' }, nav, main));

  let current: ScreenId = first;
  const go = (id: ScreenId) => {
    current = id;
    for (const [sid, s] of Object.entries(screens) as Array<[ScreenId, Screen]>) show(s.el, sid === id);
    for (const [sid, b] of tabs) {
      if (sid === id) b.setAttribute('aria-current', 'page');
      else b.removeAttribute('aria-current');
    }
    screens[id].update(state, ctx.now());
    screens[id].enter?.();
    main.scrollTop = 0;
  };

  const render = () => {
    const now = ctx.now();
    const b = daemonBanner(state);
    show(banner, b !== null);
    if (b) {
      setText(banner, b.text);
      banner.className = `banner banner-${b.kind}`;
    }
    const c = counts(state);
    const setBadge = (id: ScreenId, n: number, label: string) => {
      const el = badges.get(id)!;
      setText(el, String(n));
      el.setAttribute('aria-label', label);
      show(el, n > 0);
    };
    setBadge('agents', c.running, `${c.running} running`);
    setBadge('approvals', c.waiting, `${c.waiting} waiting`);
    badges.get('approvals')!.classList.add('badge-waiting');
    document.title = c.waiting ? `Reins (${c.waiting} waiting)` : 'Reins';
    screens[current].update(state, now);
  };

  const open = (v: OpenViewView) => {
    switch (v.view) {
      case 'approval':
        go('approvals');
        approvals.focus(v.request_id);
        break;
      case 'agents':
        go('agents');
        break;
      case 'pair':
        go('devices');
        devices.startPairing();
        break;
    }
  };

  go(first);
  render();
  window.setInterval(render, 1000);

  return {
    go,
    open,
    halt(r) {
      go('agents');
      agents.showResult(r);
    },
    setState(s) {
      state = s;
      render();
    },
  };
}

/** Wires the Api's state and open events to the app, then loads the state. */
export async function start(root: HTMLElement, api: Api): Promise<AppHandle> {
  const app = mountApp(root, api);
  await api.onState((s) => app.setState(s));
  await api.onOpen((v) => app.open(v));
  await api.onHalt((r) => app.halt(r));
  try {
    app.setState(await api.getState());
  } catch (e) {
    app.setState({ ...EMPTY, daemon: 'unavailable', daemon_error: toUiError(e).message });
  }
  try {
    const p = await api.takePending();
    if (p.open) app.open(p.open);
    if (p.halt) app.halt(p.halt);
  } catch {
    // Nothing waits: the window shows the agents.
  }
  return app;
}
