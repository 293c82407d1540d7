// The audit screen's filter: the actions the daemon records (the serde names
// of reins-runtime's AuditAction) with words for people, and the AuditFilter
// sent to the shell built from the form. Pure.

import type { AuditFilter } from './bindings/AuditFilter';

export const AUDIT_ACTIONS: ReadonlyArray<readonly [string, string]> = [
  ['stop', 'Stop'],
  ['pause', 'Pause'],
  ['resume', 'Resume'],
  ['refused', 'Refused'],
  ['approval_requested', 'Approval requested'],
  ['approval_resolved', 'Approval resolved'],
  ['device_paired', 'Phone paired'],
  ['device_renamed', 'Phone renamed'],
  ['device_revoked', 'Phone revoked'],
  ['respawn_held', 'Respawn held'],
  ['released', 'Latch released'],
  ['alert_raised', 'Alert raised'],
  ['tripwire', 'Tripwire'],
  ['daemon_started', 'Daemon started'],
  ['daemon_stopped', 'Daemon stopped'],
];

export const AUDIT_LIMIT = 200;

/** The filter for the form's text and action ('' = every action). */
export function buildFilter(text: string, action: string, limit = AUDIT_LIMIT): AuditFilter {
  const t = text.trim().slice(0, 200);
  return { text: t === '' ? null : t, action: action === '' ? null : action, limit };
}

/** The dropdown's options: the known actions, then any others seen in rows. */
export function actionOptions(seen: Iterable<string>): Array<readonly [string, string]> {
  const known = new Set(AUDIT_ACTIONS.map(([v]) => v));
  const extra = [...new Set(seen)].filter((a) => a && !known.has(a)).sort();
  return [...AUDIT_ACTIONS, ...extra.map((a) => [a, a] as const)];
}

/** Newest first, whatever order the shell sent. */
export function newestFirst<T extends { seq: number }>(rows: readonly T[]): T[] {
  return [...rows].sort((a, b) => b.seq - a.seq);
}

/** Words for an action; an unknown one as it is. */
export function actionLabel(action: string): string {
  return AUDIT_ACTIONS.find(([v]) => v === action)?.[1] ?? action;
}
