// Hold-to-confirm button: the deliberate act for high-risk approvals and the
// "stop all" buttons. Press and hold (pointer, or Space/Enter on a keyboard)
// for `ms`; a progress fill grows, and the action fires when it completes.
// A tap, or releasing early, only shows a hint. Not a generic button.

import { h, setText } from '../../../web-common/dom';

export interface HoldOptions {
  label: string;
  ariaLabel: string;
  /** Shown after a tap or an early release, e.g. "Hold to approve". */
  hint: string;
  ms: number;
  className?: string;
  testid: string;
  onConfirm: () => void;
}

export interface HoldButton {
  el: HTMLButtonElement;
  setDisabled(d: boolean): void;
  setAriaLabel(s: string): void;
  destroy(): void;
}

export function holdButton(o: HoldOptions): HoldButton {
  const fill = h('span', { class: 'hold-fill', 'aria-hidden': 'true' });
  const text = h('span', { class: 'hold-label' }, o.label);
  const sub = h('span', { class: 'hold-sub' }, `hold ${o.ms / 1000} s`);
  const btn = h(
    'button',
    {
      type: 'button',
      class: `btn hold ${o.className ?? ''}`,
      'data-testid': o.testid,
      'data-hold': 'true',
      'aria-label': o.ariaLabel || null,
    },
    fill,
    text,
    sub,
  );
  let start = 0;
  let raf = 0;
  let hintTimer = 0;
  let done = false;
  let blocked = false;
  let swallowClick = false;

  const setProgress = (p: number) => {
    fill.style.transform = `scaleX(${p})`;
  };
  const tick = () => {
    const p = Math.min(1, (performance.now() - start) / o.ms);
    setProgress(p);
    if (p >= 1) {
      raf = 0;
      done = true;
      btn.setAttribute('data-armed', 'true');
      setText(sub, 'confirmed');
      o.onConfirm();
      return;
    }
    raf = requestAnimationFrame(tick);
  };
  const begin = () => {
    if (blocked || start) return;
    done = false;
    swallowClick = false;
    start = performance.now();
    clearTimeout(hintTimer);
    setText(sub, 'keep holding…');
    btn.classList.add('holding');
    raf = requestAnimationFrame(tick);
  };
  const end = () => {
    if (!start) return;
    if (raf) cancelAnimationFrame(raf);
    raf = 0;
    start = 0;
    btn.classList.remove('holding');
    btn.removeAttribute('data-armed');
    setProgress(0);
    if (!done) showHint();
    else {
      setText(sub, `hold ${o.ms / 1000} s`);
      swallowClick = true;
    }
    done = false;
  };
  const showHint = () => {
    setText(sub, o.hint);
    btn.classList.add('hinted');
    clearTimeout(hintTimer);
    hintTimer = window.setTimeout(() => {
      btn.classList.remove('hinted');
      setText(sub, `hold ${o.ms / 1000} s`);
    }, 2500);
  };

  btn.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    begin();
  });
  for (const t of ['pointerup', 'pointerleave', 'pointercancel'] as const) btn.addEventListener(t, end);
  btn.addEventListener('contextmenu', (e) => e.preventDefault());
  btn.addEventListener('keydown', (e) => {
    if (e.key !== ' ' && e.key !== 'Enter') return;
    e.preventDefault();
    if (!e.repeat) begin();
  });
  btn.addEventListener('keyup', (e) => {
    if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      end();
    }
  });
  btn.addEventListener('blur', end);
  // A click (tap, or assistive tech "activate") never confirms by itself.
  btn.addEventListener('click', (e) => {
    e.preventDefault();
    if (swallowClick) swallowClick = false;
    else if (!start && !done) showHint();
  });

  return {
    el: btn,
    // aria-disabled, not disabled: a disabled button gets no pointerup, and
    // data-armed must clear on release even while the decision is in flight.
    setDisabled(d) {
      blocked = d;
      if (d) btn.setAttribute('aria-disabled', 'true');
      else btn.removeAttribute('aria-disabled');
      if (d && start && !done) end();
    },
    setAriaLabel(s) {
      if (btn.getAttribute('aria-label') !== s) btn.setAttribute('aria-label', s);
    },
    destroy() {
      if (raf) cancelAnimationFrame(raf);
      clearTimeout(hintTimer);
    },
  };
}
