// Entry point. Inside the tray shell the Api is Tauri's; with ?mock (dev,
// tests, screenshots) it is the in-page mock, loaded only then.
import './styles.css';
import { connectTauri, type Api } from './api';
import { start } from './app';
import type { ScreenId } from './screens/types';

const root = document.getElementById('app');
if (root) {
  const params = new URLSearchParams(location.search);
  const api: Promise<Api> = params.has('mock')
    ? import('./mock').then((m) => m.createMockApi(params))
    : Promise.resolve(connectTauri());
  void api.then(async (a) => {
    const app = await start(root, a);
    // ?mock&screen=…: open a screen (or an approval, or pairing) for screenshots.
    const screen = params.get('screen');
    if (params.has('mock') && screen) {
      if (screen === 'pair') app.open({ view: 'pair' });
      else if (screen.startsWith('approval:')) app.open({ view: 'approval', request_id: screen.slice(9) });
      else if (['agents', 'approvals', 'devices', 'audit', 'settings'].includes(screen)) app.go(screen as ScreenId);
    }
  });
}
