// Toasts (command outcomes from state.toasts) and resolved-request notices
// (from state.resolved), both in aria-live regions. Toasts are dismissible;
// notices fade after a few seconds. Not the approval cards.

import type { App, AppState, ResolvedNotice, Toast } from '../app/types';
import { h, setText, show, keyedList, type Keyed } from '../../../web-common/dom';
import { machineName } from './labels';

const NOTICE_MS = 10_000;
/** ok/warn toasts go away by themselves; errors stay until dismissed. */
const TOAST_MS = 12_000;

export function toastsRegion(app: App) {
  const el = h('div', { class: 'toasts', role: 'region', 'aria-label': 'Messages', 'aria-live': 'polite' });
  const cache = new Map<string, Keyed<Toast>>();
  const timers = new Map<number, number>();
  function update(s: AppState) {
    for (const t of s.toasts) {
      if (t.level === 'error' || timers.has(t.id)) continue;
      const left = Math.max(1000, TOAST_MS - (Date.now() - t.atMs));
      timers.set(t.id, window.setTimeout(() => app.dismissToast(t.id), left));
    }
    for (const [id, timer] of timers) {
      if (!s.toasts.some((t) => t.id === id)) { clearTimeout(timer); timers.delete(id); }
    }
    // The newest three; older ones stay in state until dismissed or expired by the core.
    keyedList(el, cache, s.toasts.slice(-3), (t) => String(t.id), (t) => {
      const text = h('span', { class: 'toast-text' });
      const x = h('button', { type: 'button', class: 'btn icon', 'aria-label': 'Dismiss message' }, '×');
      x.addEventListener('click', () => app.dismissToast(t.id));
      const row = h('div', { class: `toast toast-${t.level}`, 'data-testid': 'toast', 'data-level': t.level,
        role: t.level === 'error' ? 'alert' : null }, text, x);
      return { el: row, update: (u) => setText(text, u.text) };
    });
  }
  return { el, update };
}

/** Remembers what each request was about, so a notice can name it after it left. */
export function resolvedNotices() {
  const el = h('div', { class: 'notices', 'aria-live': 'polite' });
  const cache = new Map<string, Keyed<ResolvedNotice>>();
  const about = new Map<string, string>();
  let state: AppState | null = null;

  function render(now: number) {
    if (!state) return;
    const s = state;
    const fresh = s.resolved.filter((r) => now - r.atMs < NOTICE_MS);
    keyedList(el, cache, fresh, (r) => r.machineId + '/' + r.requestId, (r) => {
      const text = h('span', {});
      const row = h('p', { class: `notice notice-${r.resolution}`, 'data-testid': 'resolved-notice',
        'data-request-id': r.requestId }, text);
      return { el: row, update: (u) => setText(text, noticeText(u, about.get(u.requestId), s)) };
    });
    show(el, fresh.length > 0);
  }
  return {
    el,
    update(s: AppState) {
      state = s;
      for (const a of s.approvals) about.set(a.requestId, a.command ?? a.tool);
      render(Date.now());
    },
    tick: render,
  };
}

function noticeText(r: ResolvedNotice, what: string | undefined, s: AppState): string {
  const verb = { allowed: 'Approved', denied: 'Denied', expired: 'Expired', abstained: 'Left to the computer' }[r.resolution];
  let t = verb;
  if (r.by && r.resolution !== 'expired') t += ` by ${r.by}`;
  if (r.resolution === 'expired') t += ' (no answer in time)';
  const where = machineName(s, r.machineId);
  if (!what) return `A request on ${where}: ${t.toLowerCase()}`;
  const short = what.length > 60 ? what.slice(0, 60) + '…' : what;
  return `${t}: ${short.replace(/\s+/g, ' ')} (${where})`;
}
