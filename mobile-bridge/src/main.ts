// Entry point: picks the app (the mock with ?mock, else the core's createApp),
// takes a pairing link out of the address bar, mounts the UI, wires wake-ups
// (visibilitychange, pageshow, online) and registers the service worker in a
// secure context. Not the UI itself (src/ui) nor the app core (src/app).

import './ui/styles.css';
import type { App } from './app/types';
import { mountShell } from './ui/shell';
import { focusApproval } from './ui/notify';

type CoreModule = { createApp: (opts?: unknown) => App | Promise<App> };
// Resolved at build time: an empty map until the core's app.ts lands.
const core = import.meta.glob<CoreModule>('./app/app.ts');

async function loadApp(): Promise<App> {
  const params = new URLSearchParams(location.search);
  const load = core['./app/app.ts'];
  if (params.has('mock') || !load) {
    const { createMockApp } = await import('./ui/mock');
    return createMockApp();
  }
  const mod = await load();
  return mod.createApp();
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
  const app = await loadApp();
  const swReady = registerServiceWorker();
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

  if (pairingUrl) await app.pair(pairingUrl).catch((e: unknown) => console.warn('reins: pairing', e));
}

void start();
