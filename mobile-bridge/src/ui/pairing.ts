// The pairing screen: shown while a pairing is in progress or has just ended
// (and as a welcome when nothing is paired yet). Shows the 6-digit code to
// compare with the computer, the waiting state, success, or the failure with
// what to do. Not the link parsing or crypto (the core's app.pair does that).

import type { App, PairingFailure, PairingState } from '../app/types';
import { h, setText, show } from '../../../web-common/dom';
import { clock } from './format';

/** What went wrong, then what to do. `code` spans become <code>. */
const FAILURE: Record<PairingFailure, [string, string]> = {
  bad_link: ['This is not a valid Reins pairing link.', 'Run `reins pair` on your computer and scan the new code.'],
  expired: ['This link has expired.', 'Run `reins pair` again and scan the new code.'],
  rejected: ['The code was rejected on your computer.', 'If the codes did not match, someone may be interfering. Run `reins pair` again.'],
  already_used: ['This pairing link was already used (by another device, or by this phone before).', 'Run `reins pair` again on your computer and scan the new code.'],
  unreachable: ['Cannot reach the broker.', 'Is the phone on the same network as the computer (same Wi-Fi, no VPN in the way)? Is `reins` running there? Then run `reins pair` again.'],
  timeout: ['Your computer did not answer in time.', 'Check that `reins` is running there, then run `reins pair` again.'],
};

/** Sets text with `backtick` spans as <code> elements (all as text nodes). */
export function codeText(el: HTMLElement, text: string): void {
  if (el.dataset.text === text) return;
  el.dataset.text = text;
  el.replaceChildren(...text.split('`').map((part, i) => (i % 2 ? h('code', {}, part) : document.createTextNode(part))));
}

export function pairingScreen(app: App) {
  const heading = h('h2', { id: 'pairing-h' }, 'Pair this phone');
  const hint = h('p', { class: 'pair-hint' });
  const code = h('div', { class: 'pair-code', 'data-testid': 'pair-code' });
  const codeHelp = h('p', { class: 'pair-help' }, 'Check that your computer shows the same code, then confirm there.');
  const status = h('p', { class: 'pair-status', 'data-testid': 'pair-status', role: 'status', 'aria-live': 'polite' });
  const detail = h('p', { class: 'pair-detail' });
  const done = h('button', { type: 'button', class: 'btn primary wide', 'data-testid': 'pair-done' }, 'Continue');
  const cancel = h('button', { type: 'button', class: 'btn secondary wide' }, 'Cancel');
  const close = h('button', { type: 'button', class: 'btn secondary wide' }, 'Close');
  const el = h('section', { class: 'section pairing', 'data-testid': 'pairing', 'aria-labelledby': 'pairing-h' },
    heading, hint, code, codeHelp, status, detail, done, cancel, close);

  let dismissed: string | null = null;
  let current: PairingState = { kind: 'idle' };
  const dismiss = () => {
    dismissed = JSON.stringify(current);
    if (current.kind !== 'idle') app.cancelPairing();
    onDismiss();
  };
  let onDismiss = () => {};
  done.addEventListener('click', dismiss);
  close.addEventListener('click', dismiss);
  cancel.addEventListener('click', () => app.cancelPairing());

  /** Whether the screen should take over the page. */
  function visible(p: PairingState, machines: number): boolean {
    if (dismissed !== null && JSON.stringify(p) === dismissed) return false;
    dismissed = null;
    return p.kind !== 'idle' || machines === 0;
  }

  function update(p: PairingState, machines: number) {
    current = p;
    status.setAttribute('data-state', p.kind);
    if (p.kind === 'failed') status.setAttribute('data-reason', p.reason);
    else status.removeAttribute('data-reason');
    show(code, p.kind === 'waiting');
    show(codeHelp, p.kind === 'waiting');
    show(done, p.kind === 'paired');
    show(cancel, p.kind === 'waiting');
    show(close, p.kind === 'failed');
    show(detail, false);
    switch (p.kind) {
      case 'idle':
        setText(heading, machines ? 'Pair another computer' : 'Pair this phone');
        codeText(hint, 'On your computer, run `reins pair` and scan the code it shows with this phone’s camera.');
        codeText(status, 'Not paired yet.');
        break;
      case 'waiting':
        setText(heading, 'Pair this phone');
        codeText(hint, p.desktopHint ? `Pairing with “${p.desktopHint.replace(/`/g, '')}”.` : 'Pairing with your computer.');
        setText(code, p.code.replace(/\D/g, ''));
        break;
      case 'paired':
        setText(heading, 'Paired');
        codeText(hint, `This phone is now paired with “${p.name.replace(/`/g, '')}”.`);
        codeText(status, 'Paired. You will see its agents and approval requests here.');
        break;
      case 'failed':
        setText(heading, 'Pairing failed');
        codeText(hint, '');
        codeText(status, `${FAILURE[p.reason][0]} ${FAILURE[p.reason][1]}`);
        setText(detail, p.message ? `Details: ${p.message}` : '');
        show(detail, !!p.message);
        break;
    }
    show(hint, hint.textContent !== '');
    tick(Date.now());
  }

  function tick(now: number) {
    if (current.kind !== 'waiting') return;
    const left = current.expiresAtMs - now;
    codeText(status, left > 0
      ? `Waiting for your computer to confirm… (${clock(left)} left)`
      : 'Waiting for your computer to confirm…');
  }

  return {
    el, update, tick, visible,
    setOnDismiss(f: () => void) { onDismiss = f; },
  };
}
