// New-approval alerts while the app is open: a service-worker notification
// (tag = request id, closed when the request resolves) in a secure context
// with permission granted; otherwise vibrate and an in-app banner. Also the
// "Turn on notifications" button (permission is asked only from that tap).
// Not push (closed-app notifications need the daemon's Web Push, not built).

import type { App, ApprovalView, AppState } from '../app/types';
import { h, setText, show } from '../../../web-common/dom';
import { agentLabel } from './labels';

export function notifications(app: App, swReady: Promise<ServiceWorkerRegistration | null>) {
  const enable = h('button', { type: 'button', class: 'btn secondary', 'data-testid': 'notify-enable' },
    'Turn on notifications');
  const enableBox = h('div', { class: 'notify-box' },
    h('p', {}, 'Get a notification when an agent asks for approval while this page is open.'), enable);
  const bannerWhat = h('span', {});
  const bannerText = h('span', {}, h('strong', {}, 'New approval request'), bannerWhat);
  const bannerGo = h('button', { type: 'button', class: 'btn secondary' }, 'Show');
  const bannerX = h('button', { type: 'button', class: 'btn icon', 'aria-label': 'Dismiss' }, '×');
  const banner = h('div', { class: 'approval-banner', 'data-testid': 'approval-banner', role: 'alert' },
    bannerText, bannerGo, bannerX);
  banner.hidden = true;
  // Screen readers hear every new request, whichever alert path is taken.
  const announce = h('div', { class: 'sr-only', 'aria-live': 'assertive' });
  let bannerFor: ApprovalView | null = null;
  let reg: ServiceWorkerRegistration | null = null;
  void swReady.then((r) => { reg = r; refresh(); });

  const canNotify = () => app.state().secureContext && 'Notification' in window && 'serviceWorker' in navigator;
  function refresh() {
    show(enableBox, canNotify() && Notification.permission === 'default');
  }
  enable.addEventListener('click', () => {
    void Notification.requestPermission().then(refresh, refresh);
  });
  bannerX.addEventListener('click', () => { bannerFor = null; show(banner, false); });
  bannerGo.addEventListener('click', () => {
    if (bannerFor) focusApproval(bannerFor.requestId);
    bannerFor = null;
    show(banner, false);
  });

  app.onNewApproval((a) => {
    const who = agentLabel(app.state(), a.machineId, a.agentId);
    const what = a.command ?? a.tool;
    setText(announce, `New approval request from ${who}: ${what.length > 120 ? what.slice(0, 120) + '…' : what}`);
    if (canNotify() && Notification.permission === 'granted' && reg) {
      void reg.showNotification(`Approval needed: ${who}`, {
        tag: a.requestId,
        body: what.length > 200 ? what.slice(0, 200) + '…' : what,
        data: { requestId: a.requestId, machineId: a.machineId },
        requireInteraction: true,
        icon: './icon-192.png',
      }).catch(() => inApp(a, who, what));
      return;
    }
    inApp(a, who, what);
  });

  function inApp(a: ApprovalView, who: string, what: string) {
    try { navigator.vibrate?.([200, 100, 200]); } catch { /* needs a user gesture first on some browsers */ }
    bannerFor = a;
    setText(bannerWhat, `${who}: ${what.length > 80 ? what.slice(0, 80) + '…' : what}`);
    show(banner, true);
  }

  /** Close notifications and the banner for requests that left the list. */
  let before = new Set<string>();
  function update(s: AppState) {
    const pending = new Set(s.approvals.map((a) => a.requestId));
    if (bannerFor && !pending.has(bannerFor.requestId)) { bannerFor = null; show(banner, false); }
    for (const id of before) {
      if (pending.has(id) || !reg) continue;
      void reg.getNotifications({ tag: id }).then((ns) => ns.forEach((n) => n.close())).catch(() => {});
    }
    before = pending;
    refresh();
  }
  return { enableBox, banner, announce, update };
}

export function focusApproval(requestId: string) {
  const card = document.querySelector<HTMLElement>(`[data-testid="approval"][data-request-id="${CSS.escape(requestId)}"]`);
  if (!card) return;
  card.scrollIntoView({ behavior: 'smooth', block: 'start' });
  card.focus({ preventScroll: true });
}
