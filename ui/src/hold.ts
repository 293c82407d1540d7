// Hold-to-confirm: the deliberate act for high-risk approvals and for "Stop all
// agents". Press and hold (pointer, or Space/Enter held on the keyboard) for
// `ms`; a fill grows, and the action fires once when it completes. A click, or
// letting go early, only shows a hint. `Hold` is the pure timing core (tested);
// `holdButton` puts it on a button.

import { h, setText } from '../../web-common/dom';

export type Release = 'confirmed' | 'early' | 'idle';

/** The timing of one hold, fed with times; no timers of its own. */
export class Hold {
  private start: number | null = null;
  private fired = false;
  constructor(readonly ms: number) {}

  get holding(): boolean {
    return this.start !== null;
  }
  press(now: number): void {
    if (this.start !== null) return;
    this.start = now;
    this.fired = false;
  }
  progress(now: number): number {
    if (this.start === null) return 0;
    return Math.min(1, Math.max(0, (now - this.start) / this.ms));
  }
  /** True exactly once per hold: when it reaches `ms`. */
  tick(now: number): boolean {
    if (this.start === null || this.fired || this.progress(now) < 1) return false;
    this.fired = true;
    return true;
  }
  /** Letting go: confirmed if it fired (or would fire now), else early. */
  release(now: number): Release {
    if (this.start === null) return 'idle';
    const done = this.fired || this.progress(now) >= 1;
    this.start = null;
    this.fired = false;
    return done ? 'confirmed' : 'early';
  }
  cancel(): void {
    this.start = null;
    this.fired = false;
  }
}

export interface HoldOptions {
  label: string;
  /** Shown after a click or an early release, e.g. "Hold to approve". */
  hint: string;
  ms: number;
  className?: string;
  testid: string;
  onConfirm: () => void;
}

export interface HoldButton {
  el: HTMLButtonElement;
  setDisabled(d: boolean): void;
  destroy(): void;
}

export function holdButton(o: HoldOptions): HoldButton {
  const secs = `${o.ms / 1000} s`;
  const idleSub = `hold ${secs}`;
  const fill = h('span', { class: 'hold-fill', 'aria-hidden': 'true' });
  const text = h('span', { class: 'hold-label' }, o.label);
  const sub = h('span', { class: 'hold-sub' }, idleSub);
  const btn = h(
    'button',
    {
      type: 'button',
      class: `btn hold ${o.className ?? ''}`,
      'data-testid': o.testid,
      'data-hold': 'true',
      'aria-label': `${o.label}: press and hold ${secs} (mouse, or Space or Enter)`,
    },
    fill,
    text,
    sub,
  );
  const hold = new Hold(o.ms);
  let raf = 0;
  let hintTimer = 0;
  let blocked = false;

  const setProgress = (p: number) => {
    fill.style.transform = `scaleX(${p})`;
  };
  const frame = () => {
    const now = performance.now();
    setProgress(hold.progress(now));
    if (hold.tick(now)) {
      raf = 0;
      btn.setAttribute('data-armed', 'true');
      setText(sub, 'confirmed');
      o.onConfirm();
      return;
    }
    raf = requestAnimationFrame(frame);
  };
  const begin = () => {
    if (blocked || hold.holding) return;
    hold.press(performance.now());
    clearTimeout(hintTimer);
    btn.classList.remove('hinted');
    setText(sub, 'keep holding…');
    btn.classList.add('holding');
    raf = requestAnimationFrame(frame);
  };
  const showHint = () => {
    setText(sub, o.hint);
    btn.classList.add('hinted');
    clearTimeout(hintTimer);
    hintTimer = window.setTimeout(() => {
      btn.classList.remove('hinted');
      setText(sub, idleSub);
    }, 2500);
  };
  const end = () => {
    if (raf) cancelAnimationFrame(raf);
    raf = 0;
    // A release is never a confirmation by itself: only the frame that
    // reached `ms` fired onConfirm. Early → a hint.
    const r = hold.release(performance.now());
    btn.classList.remove('holding');
    btn.removeAttribute('data-armed');
    setProgress(0);
    if (r === 'early') showHint();
    else if (r === 'confirmed') setText(sub, idleSub);
  };

  btn.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    btn.focus();
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
    if (e.key !== ' ' && e.key !== 'Enter') return;
    e.preventDefault();
    end();
  });
  btn.addEventListener('blur', end);
  // A click (or an assistive "activate") never confirms.
  btn.addEventListener('click', (e) => {
    e.preventDefault();
    if (!hold.holding && e.detail === 0) showHint();
  });

  return {
    el: btn,
    setDisabled(d) {
      if (d === blocked) return;
      blocked = d;
      btn.disabled = d;
      btn.removeAttribute('data-armed');
      setText(sub, idleSub);
      if (d) {
        if (raf) cancelAnimationFrame(raf);
        raf = 0;
        hold.cancel();
        btn.classList.remove('holding');
        setProgress(0);
      }
    },
    destroy() {
      if (raf) cancelAnimationFrame(raf);
      clearTimeout(hintTimer);
    },
  };
}
