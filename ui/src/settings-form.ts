// The Settings form's pure part: the form's raw values ↔ SettingsView, local
// checks that need no shell (whole numbers), and UiError.fields grouped per
// field. The shell validates everything again and saves all or nothing.

import type { SettingsField } from './bindings/SettingsField';
import type { SettingsView } from './bindings/SettingsView';
import type { UiError } from './bindings/UiError';

export interface SettingsForm {
  link_enabled: boolean;
  broker: string;
  approval_timeout_secs: string;
  on_timeout: string;
  stop_grace_ms: string;
  start_at_login: boolean;
}

export const ON_TIMEOUT: ReadonlyArray<readonly [string, string]> = [
  ['abstain', 'Abstain (the agent asks in its own terminal)'],
  ['deny', 'Deny'],
];

export function toForm(s: SettingsView): SettingsForm {
  return {
    link_enabled: s.link_enabled,
    broker: s.broker,
    approval_timeout_secs: String(s.approval_timeout_secs),
    on_timeout: s.on_timeout,
    stop_grace_ms: String(s.stop_grace_ms),
    start_at_login: s.start_at_login,
  };
}

export type FieldErrors = Partial<Record<SettingsField, string[]>>;

function wholeNumber(raw: string): number | null {
  const t = raw.trim();
  return /^\d{1,10}$/.test(t) ? Number(t) : null;
}

/**
 * The SettingsView to send, or the local errors. `policy_file` is read-only:
 * it comes back from what the shell sent.
 */
export function fromForm(f: SettingsForm, base: SettingsView): { settings: SettingsView } | { errors: FieldErrors } {
  const errors: FieldErrors = {};
  const timeout = wholeNumber(f.approval_timeout_secs);
  if (timeout === null) errors.approval_timeout_secs = ['Enter a whole number of seconds (1 to 3600).'];
  const grace = wholeNumber(f.stop_grace_ms);
  if (grace === null) errors.stop_grace_ms = ['Enter a whole number of milliseconds.'];
  if (f.on_timeout !== 'abstain' && f.on_timeout !== 'deny') errors.on_timeout = ['Choose abstain or deny.'];
  if (timeout === null || grace === null || errors.on_timeout) return { errors };
  return {
    settings: {
      link_enabled: f.link_enabled,
      broker: f.broker.trim(),
      policy_file: base.policy_file,
      approval_timeout_secs: timeout,
      on_timeout: f.on_timeout,
      stop_grace_ms: grace,
      start_at_login: f.start_at_login,
    },
  };
}

/** The shell's per-field messages, grouped by field. */
export function fieldErrors(e: UiError): FieldErrors {
  const out: FieldErrors = {};
  for (const { field, message } of e.fields) (out[field] ??= []).push(message);
  return out;
}

/** A device name as the rename box accepts it, or why not. */
export function checkDeviceName(raw: string): { name: string } | { error: string } {
  const name = raw.trim();
  if (!name) return { error: 'Enter a name.' };
  if ([...name].length > 64) return { error: 'At most 64 characters.' };
  // Control characters and bidi overrides make a name lie about itself.
  if (/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(name))
    return { error: 'No control or text-direction characters.' };
  return { name };
}
