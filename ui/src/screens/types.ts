// What every screen gets from the app and gives back to it.

import type { Api } from '../api';
import type { DesktopState } from '../bindings/DesktopState';

export type ScreenId = 'agents' | 'approvals' | 'devices' | 'audit' | 'settings';

export interface Ctx {
  api: Api;
  /** The clock (Date.now in the app). */
  now(): number;
  /** The latest state from the shell. */
  state(): DesktopState;
}

export interface Screen {
  el: HTMLElement;
  /** A new state from the shell, or the 1-second tick. */
  update(s: DesktopState, now: number): void;
  /** The screen was shown (load what it lists). */
  enter?(): void;
}
