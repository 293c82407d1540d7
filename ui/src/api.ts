// The window's only door to the tray shell: the typed Api (Tauri commands and
// events) and its Tauri implementation. Every `invoke` and `listen` of the app
// is here; screens see only `Api`. A command that fails rejects with a UiError
// (the shell's `{message, fields}`); anything else that rejects is turned into
// one, so screens handle a single error shape. The mock (src/mock.ts) is the
// other implementation, for ?mock (dev, tests, screenshots).

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { AlertActionView } from './bindings/AlertActionView';
import type { AuditFilter } from './bindings/AuditFilter';
import type { AuditRow } from './bindings/AuditRow';
import type { DecisionView } from './bindings/DecisionView';
import type { DesktopState } from './bindings/DesktopState';
import type { DeviceView } from './bindings/DeviceView';
import type { HaltOpView } from './bindings/HaltOpView';
import type { HaltResultView } from './bindings/HaltResultView';
import type { OpenViewView } from './bindings/OpenViewView';
import type { PairOfferView } from './bindings/PairOfferView';
import type { PairStepView } from './bindings/PairStepView';
import type { SettingsView } from './bindings/SettingsView';
import type { SoftStopView } from './bindings/SoftStopView';
import type { UiError } from './bindings/UiError';
import type { VerifyView } from './bindings/VerifyView';

export type Unlisten = () => void;

/** What waits for a window the shell has just created (`take_pending`). */
export interface PendingView {
  /** Go to this view. */
  open: OpenViewView | null;
  /** A halt from the tray menu that failed: show it on the agents view. */
  halt: HaltResultView | null;
}

export interface Api {
  getState(): Promise<DesktopState>;
  /** Once the listeners are up: what the window was opened for. */
  takePending(): Promise<PendingView>;
  /** `target` is `"all"` or an agent id. */
  halt(op: HaltOpView, target: string): Promise<HaltResultView>;
  /** Act on an alert: `action` on its agent. */
  alertAction(action: AlertActionView, agentId: string): Promise<HaltResultView>;
  /** OpenClaw only: abort the agent's active runs, keep its gateway up. */
  softStop(agentId: string): Promise<SoftStopView>;
  decide(requestId: string, actionHash: string, decision: DecisionView, confirmedHighRisk: boolean): Promise<void>;
  pairStart(): Promise<PairOfferView>;
  /** Long poll: resolves with the pairing's next step. */
  pairNext(session: string): Promise<PairStepView>;
  pairAnswer(session: string, accept: boolean): Promise<void>;
  devices(): Promise<DeviceView[]>;
  renameDevice(id: string, name: string): Promise<DeviceView>;
  revokeDevice(id: string): Promise<void>;
  audit(filter: AuditFilter): Promise<AuditRow[]>;
  auditVerify(): Promise<VerifyView>;
  settings(): Promise<SettingsView>;
  saveSettings(settings: SettingsView): Promise<void>;
  /** `reins://state`: the whole state on every change. */
  onState(cb: (s: DesktopState) => void): Promise<Unlisten>;
  /** `reins://open`: go to a screen (an approval, the agents, pairing). */
  onOpen(cb: (v: OpenViewView) => void): Promise<Unlisten>;
  /** `reins://halt`: a halt from the tray menu failed; show its result. */
  onHalt(cb: (r: HaltResultView) => void): Promise<Unlisten>;
}

/** The event names the shell emits. */
export const STATE_EVENT = 'reins://state';
export const OPEN_EVENT = 'reins://open';
export const HALT_EVENT = 'reins://halt';

/** Any rejection as a UiError: the shell's own, or a message for the rest. */
export function toUiError(e: unknown): UiError {
  if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
    const fields = (e as { fields?: unknown }).fields;
    return {
      message: (e as { message: string }).message,
      fields: Array.isArray(fields)
        ? fields.filter(
            (f): f is UiError['fields'][number] =>
              typeof f === 'object' && f !== null && typeof f.field === 'string' && typeof f.message === 'string',
          )
        : [],
    };
  }
  if (typeof e === 'string' && e) return { message: e, fields: [] };
  return { message: 'The tray did not answer. Try again, or restart Reins.', fields: [] };
}

type Invoke = <T>(cmd: string, args?: Record<string, unknown>) => Promise<T>;
type Listen = <T>(event: string, cb: (e: { payload: T }) => void) => Promise<Unlisten>;

/**
 * The Api over Tauri's `invoke`/`listen` (passed in so tests can record the
 * exact command names and argument objects). Argument keys are camelCase:
 * Tauri v2 maps them to the Rust commands' snake_case parameters.
 */
export function tauriApi(invoke: Invoke, listen: Listen): Api {
  const call = async <T>(cmd: string, args?: Record<string, unknown>): Promise<T> => {
    try {
      return await invoke<T>(cmd, args);
    } catch (e) {
      throw toUiError(e);
    }
  };
  return {
    getState: () => call('get_state'),
    takePending: () => call('take_pending'),
    halt: (op, target) => call('halt', { op, target }),
    alertAction: (action, agentId) => call('alert_action', { action, agentId }),
    softStop: (agentId) => call('soft_stop', { agentId }),
    decide: (requestId, actionHash, decision, confirmedHighRisk) =>
      call('decide', { requestId, actionHash, decision, confirmedHighRisk }),
    pairStart: () => call('pair_start'),
    pairNext: (session) => call('pair_next', { session }),
    pairAnswer: (session, accept) => call('pair_answer', { session, accept }),
    devices: () => call('devices'),
    renameDevice: (id, name) => call('rename_device', { id, name }),
    revokeDevice: (id) => call('revoke_device', { id }),
    audit: (filter) => call('audit', { filter }),
    auditVerify: () => call('audit_verify'),
    settings: () => call('settings'),
    saveSettings: (settings) => call('save_settings', { settings }),
    onState: (cb) => listen<DesktopState>(STATE_EVENT, (e) => cb(e.payload)),
    onOpen: (cb) => listen<OpenViewView>(OPEN_EVENT, (e) => cb(e.payload)),
    onHalt: (cb) => listen<HaltResultView>(HALT_EVENT, (e) => cb(e.payload)),
  };
}

/** The real Api, inside the tray shell. */
export function connectTauri(): Api {
  return tauriApi(invoke as Invoke, listen as Listen);
}
