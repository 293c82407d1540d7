// Entry point: picks the app (the core's createApp; the mock with ?mock in dev),
// takes a pairing link out of the address bar (at load and on hashchange),
// mounts the UI, wires wake-ups
// (visibilitychange, pageshow, online) and registers the service worker in a
// secure context. Not the UI itself (src/ui) nor the app core (src/app).

import './ui/styles.css';
import type { App } from './app/types';
import { mountShell } from './ui/shell';
import { focusApproval } from './ui/notify';
import { createApp } from './app/app';

async function loadApp(): Promise<App> {
  // The mock exists only in dev (?mock): never fake data in a real build.
  if (import.meta.env.DEV && new URLSearchParams(location.search).has('mock')) {
    const { createMockApp } = await import('./ui/mock');
    return createMockApp();
  }
  // Defaults: IndexedDB "reins", MQTT.js over ws/wss, isSecureContext.
  return createApp();
}

/** A pairing link's fragment ("#v=1&..."), removed from the address bar and history at once. */
function takePairingLink(): string | null {
  const hash = location.hash;
  if (!/^#v=\d/.test(hash)) return null;
  const url = location.href;
  history.replaceState(null, '', location.pathname + location.search);
  return url;
}

function registerServiceWorker(): Promise<ServiceWorkerRegistration | null> {
  if (!window.isSecureContext || !('serviceWorker' in navigator) || import.meta.env.DEV) return Promise.resolve(null);
  return navigator.serviceWorker
    .register('./sw.js', { scope: './' })
    .then(() => navigator.serviceWorker.ready)
    .catch((e: unknown) => {
      console.warn('reins: service worker not registered', e);
      return null;
    });
}

async function start() {
  const pairingUrl = takePairingLink();
  const root = document.getElementById('app');
  if (!root) throw new Error('index.html lacks #app');
  // The offline shell does not depend on the app starting.
  const swReady = registerServiceWorker();
  const app = await loadApp();
  mountShell(root, app, swReady);

  const wake = () => app.wake();
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') wake();
  });
  window.addEventListener('pageshow', wake);
  window.addEventListener('online', wake);
  navigator.serviceWorker?.addEventListener('message', (e: MessageEvent) => {
    const d = e.data as { type?: string; requestId?: string } | null;
    if (d?.type === 'reins-open-approval' && d.requestId) focusApproval(d.requestId);
  });

  const pair = (url: string) => app.pair(url).catch((e: unknown) => console.warn('reins: pairing', e));
  // A pairing link opened in the tab where the app already runs only changes the fragment.
  window.addEventListener('hashchange', () => {
    const url = takePairingLink();
    if (url) void pair(url);
  });
  if (pairingUrl) await pair(pairingUrl);
}

start().catch((e: unknown) => {
  console.error('reins: could not start', e);
  const root = document.getElementById('app');
  if (root) {
    const p = document.createElement('p');
    p.className = 'loading';
    p.textContent = `Reins could not start: ${e instanceof Error ? e.message : String(e)}. Reload the page to try again.`;
    root.replaceChildren(p);
  }
});
