// Devices: pair a phone (the QR drawn on a canvas from QrView.modules, the URL,
// the expiry countdown, then the 6-digit code to compare: Confirm or "Codes
// differ"), and the paired phones with last-seen time and an online dot,
// rename inline (validated) and revoke (confirmed).

import { toUiError } from '../api';
import type { DeviceView } from '../bindings/DeviceView';
import type { PairOfferView } from '../bindings/PairOfferView';
import type { PairStepView } from '../bindings/PairStepView';
import { h, keyedList, setText, show, type Keyed } from '../../../web-common/dom';
import { ago, clock, reveal, timestamp } from '../format';
import { paintQrCanvas } from '../qr';
import { checkDeviceName } from '../settings-form';
import type { Ctx, Screen } from './types';

export interface DevicesScreen extends Screen {
  /** Open the pairing panel with a new offer (`reins://open` pair). */
  startPairing(): void;
}

/** "482 913": easier to compare aloud. */
export function spacedCode(code: string): string {
  return code.length === 6 ? `${code.slice(0, 3)} ${code.slice(3)}` : code;
}

export function devicesScreen(ctx: Ctx): DevicesScreen {
  // ── Pairing panel ────────────────────────────────────────────────────────
  const pairBtn = h('button', { type: 'button', class: 'btn primary', 'data-testid': 'pair' }, 'Pair a phone');
  const panel = h('div', { class: 'card pairing', 'data-testid': 'pairing', role: 'region', 'aria-label': 'Pairing' });
  show(panel, false);
  const pTitle = h('h3', {});
  const pText = h('p', { class: 'muted' });
  const canvas = h('canvas', { class: 'qr', role: 'img', 'aria-label': 'QR code of the pairing link' });
  const url = h('code', { class: 'path url', 'data-testid': 'pair-url' });
  const expiry = h('p', { class: 'expiry', 'data-testid': 'pair-expiry' });
  const qrBlock = h('div', { class: 'qr-block' }, canvas, h('div', { class: 'qr-side' }, h('p', { class: 'muted' }, 'Or open this link on the phone:'), url, expiry));
  const codeDevice = h('p', {});
  const code = h('p', { class: 'code', 'data-testid': 'pair-code' });
  const confirm = h('button', { type: 'button', class: 'btn primary', 'data-testid': 'pair-confirm' }, 'Confirm');
  const differ = h('button', { type: 'button', class: 'btn', 'data-testid': 'pair-differ' }, 'Codes differ');
  const codeBlock = h('div', { class: 'code-block' }, codeDevice, code, h('div', { class: 'actions' }, confirm, differ));
  const pStatus = h('p', { class: 'card-status', role: 'status', 'aria-live': 'polite' });
  const again = h('button', { type: 'button', class: 'btn' }, 'New code');
  const close = h('button', { type: 'button', class: 'btn' }, 'Close');
  panel.append(pTitle, pText, qrBlock, codeBlock, pStatus, h('div', { class: 'actions' }, again, close));

  let offer: PairOfferView | null = null;
  /** Bumped on every new pairing or close: stale long polls are ignored. */
  let generation = 0;
  let phase: 'offer' | 'code' | 'done' = 'offer';

  const status = (text: string, kind: 'ok' | 'bad' | 'warn' | '' = '') => {
    setText(pStatus, text);
    pStatus.className = `card-status${kind ? ` ${kind}` : ''}`;
    show(pStatus, text !== '');
  };
  const setPhase = (p: typeof phase) => {
    phase = p;
    show(qrBlock, p === 'offer');
    show(codeBlock, p === 'code');
    show(again, p === 'done');
    confirm.disabled = false;
    differ.disabled = false;
  };

  const step = (gen: number, s: PairStepView) => {
    if (gen !== generation) return;
    switch (s.step) {
      case 'code':
        setPhase('code');
        setText(pTitle, 'Compare the codes');
        setText(pText, 'The phone shows a 6-digit code. Confirm only if it is exactly this one.');
        setText(codeDevice, `The phone calls itself “${reveal(s.device_name).text}”.`);
        setText(code, spacedCode(s.code));
        code.setAttribute('aria-label', `Code ${s.code.split('').join(' ')}`);
        status('');
        confirm.focus();
        break;
      case 'another_device_tried':
        status('Another device tried to use this pairing code. Pair only the phone you are holding.', 'warn');
        break;
      case 'paired':
        setPhase('done');
        setText(pTitle, 'Paired');
        setText(pText, '');
        status(`Paired with “${s.device.name}”. It can now see your agents, approve and stop them.`, 'ok');
        void loadDevices();
        return;
      case 'failed':
        setPhase('done');
        setText(pTitle, 'Pairing did not finish');
        setText(pText, '');
        status(s.message, 'bad');
        return;
    }
    void poll(gen);
  };

  const poll = async (gen: number) => {
    if (!offer || gen !== generation) return;
    try {
      step(gen, await ctx.api.pairNext(offer.session));
    } catch (e) {
      if (gen !== generation) return;
      setPhase('done');
      status(toUiError(e).message, 'bad');
    }
  };

  const start = async () => {
    const gen = ++generation;
    offer = null;
    show(panel, true);
    setPhase('offer');
    setText(pTitle, 'Pair a phone');
    setText(pText, 'Scan this code with the phone’s camera. Only pair a phone you hold.');
    setText(url, '');
    setText(expiry, '');
    status('Making a pairing code…');
    pairBtn.disabled = true;
    try {
      const o = await ctx.api.pairStart();
      if (gen !== generation) return;
      offer = o;
      if (!paintQrCanvas(canvas, o.qr, 220)) status('The QR code could not be drawn; open the link on the phone instead.', 'warn');
      else status('');
      setText(url, reveal(o.url).text);
      tick(ctx.now());
      void poll(gen);
    } catch (e) {
      if (gen !== generation) return;
      setPhase('done');
      setText(pTitle, 'Pairing could not start');
      status(toUiError(e).message, 'bad');
    } finally {
      pairBtn.disabled = false;
    }
    panel.scrollIntoView({ block: 'nearest' });
  };

  const answer = async (accept: boolean) => {
    if (!offer) return;
    confirm.disabled = true;
    differ.disabled = true;
    try {
      await ctx.api.pairAnswer(offer.session, accept);
      if (!accept) {
        generation++;
        setPhase('done');
        setText(pTitle, 'Pairing cancelled');
        status('The codes differed, so nothing was paired. Someone else may have scanned the code; start again.', 'warn');
      } else status('Confirmed. Finishing…');
    } catch (e) {
      confirm.disabled = false;
      differ.disabled = false;
      status(toUiError(e).message, 'bad');
    }
  };

  const tick = (now: number) => {
    if (!offer || phase !== 'offer') return;
    const left = offer.expires_at_ms - now;
    if (left > 0) {
      setText(expiry, `Expires in ${clock(left)}`);
      expiry.classList.remove('bad');
    } else {
      setText(expiry, 'This code expired.');
      expiry.classList.add('bad');
      show(again, true);
    }
  };

  pairBtn.addEventListener('click', () => void start());
  again.addEventListener('click', () => void start());
  close.addEventListener('click', () => {
    // Closing while the codes are shown is a "no": nothing gets paired.
    if (offer && phase === 'code') void ctx.api.pairAnswer(offer.session, false).catch(() => {});
    generation++;
    offer = null;
    show(panel, false);
    pairBtn.focus();
  });
  confirm.addEventListener('click', () => void answer(true));
  differ.addEventListener('click', () => void answer(false));

  // ── The list of phones ───────────────────────────────────────────────────
  const list = h('ul', { class: 'rows devices', 'aria-label': 'Paired phones' });
  const empty = h('p', { class: 'empty' }, 'No phone is paired yet.');
  const listStatus = h('p', { class: 'card-status', role: 'status', 'aria-live': 'polite' });
  show(listStatus, false);
  const cache = new Map<string, Keyed<DeviceView>>();
  let devices: DeviceView[] = [];

  const render = () => {
    keyedList(list, cache, devices, (d) => d.id, createDevice);
    show(empty, devices.length === 0);
  };
  const loadDevices = async () => {
    try {
      devices = await ctx.api.devices();
      show(listStatus, false);
    } catch (e) {
      setText(listStatus, `Could not list the phones: ${toUiError(e).message}`);
      listStatus.className = 'card-status bad';
      show(listStatus, true);
    }
    render();
  };

  const createDevice = (first: DeviceView): Keyed<DeviceView> => {
    let d = first;
    const dot = h('span', { class: 'dot', 'aria-hidden': 'true' });
    const name = h('span', { class: 'name' });
    const online = h('span', { class: 'sr-only' });
    const seen = h('p', { class: 'muted' });
    const rowStatus = h('p', { class: 'card-status', role: 'status', 'aria-live': 'polite' });
    show(rowStatus, false);
    const say = (text: string, kind: 'ok' | 'bad' | '') => {
      setText(rowStatus, text);
      rowStatus.className = `card-status${kind ? ` ${kind}` : ''}`;
      show(rowStatus, text !== '');
    };

    // Rename, inline.
    const renameBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'rename' }, 'Rename');
    const input = h('input', { type: 'text', class: 'input', maxlength: '64', 'aria-label': 'New name', autocomplete: 'off', spellcheck: 'false' });
    const inputErr = h('p', { class: 'field-error' });
    const save = h('button', { type: 'button', class: 'btn primary' }, 'Save');
    const cancelRename = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const renameForm = h('form', { class: 'inline-form', 'data-testid': 'rename-form' }, input, save, cancelRename, inputErr);
    show(renameForm, false);
    show(inputErr, false);

    // Revoke, confirmed.
    const revokeBtn = h('button', { type: 'button', class: 'btn danger-outline', 'data-testid': 'revoke' }, 'Revoke');
    const revokeText = h('p', {});
    const revokeYes = h('button', { type: 'button', class: 'btn danger', 'data-testid': 'revoke-confirm' }, 'Revoke');
    const revokeNo = h('button', { type: 'button', class: 'btn' }, 'Keep');
    const revokeBox = h('div', { class: 'confirm-box', role: 'group', 'aria-label': 'Confirm revoke' }, revokeText, h('div', { class: 'actions' }, revokeYes, revokeNo));
    show(revokeBox, false);
    const buttons = h('div', { class: 'actions' }, renameBtn, revokeBtn);

    renameBtn.addEventListener('click', () => {
      input.value = d.name;
      show(inputErr, false);
      show(renameForm, true);
      show(buttons, false);
      input.focus();
      input.select();
    });
    const closeRename = () => {
      show(renameForm, false);
      show(buttons, true);
      renameBtn.focus();
    };
    cancelRename.addEventListener('click', closeRename);
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') closeRename();
    });
    renameForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const c = checkDeviceName(input.value);
      if ('error' in c) {
        setText(inputErr, c.error);
        show(inputErr, true);
        input.setAttribute('aria-invalid', 'true');
        return;
      }
      input.removeAttribute('aria-invalid');
      show(inputErr, false);
      save.disabled = true;
      void ctx.api
        .renameDevice(d.id, c.name)
        .then((nd) => {
          devices = devices.map((x) => (x.id === nd.id ? nd : x));
          render();
          closeRename();
          say('Renamed.', 'ok');
        })
        .catch((err) => {
          setText(inputErr, toUiError(err).message);
          show(inputErr, true);
        })
        .finally(() => {
          save.disabled = false;
        });
    });
    save.addEventListener('click', () => renameForm.requestSubmit());

    revokeBtn.addEventListener('click', () => {
      setText(revokeText, `Revoke “${d.name}”? It will no longer see, approve or stop anything. Pair it again to undo.`);
      show(revokeBox, true);
      show(buttons, false);
      revokeNo.focus();
    });
    revokeNo.addEventListener('click', () => {
      show(revokeBox, false);
      show(buttons, true);
      revokeBtn.focus();
    });
    revokeYes.addEventListener('click', () => {
      revokeYes.disabled = true;
      void ctx.api
        .revokeDevice(d.id)
        .then(() => {
          devices = devices.filter((x) => x.id !== d.id);
          render();
          setText(listStatus, `Revoked “${d.name}”.`);
          listStatus.className = 'card-status ok';
          show(listStatus, true);
        })
        .catch((err) => {
          show(revokeBox, false);
          show(buttons, true);
          say(`Not revoked: ${toUiError(err).message}`, 'bad');
        })
        .finally(() => {
          revokeYes.disabled = false;
        });
    });

    const el = h(
      'li',
      { class: 'row device', 'data-device-id': first.id },
      h('div', { class: 'row-head' }, h('h3', {}, dot, name, online)),
      seen,
      buttons,
      renameForm,
      revokeBox,
      rowStatus,
    );
    return {
      el,
      update(nd) {
        d = nd;
        const now = ctx.now();
        setText(name, nd.name);
        setText(online, nd.online ? ' (online)' : ' (offline)');
        dot.className = `dot ${nd.online ? 'dot-on' : 'dot-off'}`;
        setText(seen, `${nd.online ? 'Online' : 'Offline'} · last seen ${ago(nd.last_seen_ms, now)} · paired ${timestamp(nd.paired_at_ms)}`);
        renameBtn.setAttribute('aria-label', `Rename ${nd.name}`);
        revokeBtn.setAttribute('aria-label', `Revoke ${nd.name}`);
      },
    };
  };

  const el = h(
    'section',
    { class: 'screen', 'aria-labelledby': 'h-devices' },
    h('header', { class: 'screen-head' }, h('div', {}, h('h2', { id: 'h-devices' }, 'Devices'), h('p', { class: 'muted' }, 'Phones that can see, approve and stop your agents.')), pairBtn),
    panel,
    listStatus,
    list,
    empty,
  );

  return {
    el,
    update(_s, now) {
      tick(now);
      render();
    },
    enter() {
      void loadDevices();
    },
    startPairing() {
      void loadDevices();
      void start();
    },
  };
}
