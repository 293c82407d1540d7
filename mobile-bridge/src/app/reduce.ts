// Pure state transitions of the app core: applying a received body to the
// AppState of one machine (agents, approvals, resolutions), resync handling
// and expiry. Every function returns a new AppState; nothing does I/O.
// Not here: sending, timers, storage (app.ts).

import type { AgentSummary, AlertView, AppState, ApprovalView, MachineView, ResolvedNotice } from './types.js';
import { Alert, ApprovalRequest, ApprovalResolved, AgentEvent, actionHash } from '../proto/payload.js';
import { byInWords } from './words.js';

export const MAX_RESOLVED = 20;

export function updateMachine(s: AppState, id: string, f: (m: MachineView) => MachineView): AppState {
  return { ...s, machines: s.machines.map((m) => (m.id === id ? f(m) : m)) };
}

/** A new subscription: the desktop resends everything, so forget what we had. */
export function clearForResync(s: AppState, id: string): AppState {
  const t = updateMachine(s, id, (m) => ({ ...m, agents: [], synced: false }));
  return { ...t, approvals: t.approvals.filter((a) => a.machineId !== id), alerts: t.alerts.filter((a) => a.machineId !== id) };
}

/** A snapshot starts a resync: the desktop sends its active alerts right after it. */
export function applySnapshot(s: AppState, id: string, agents: AgentSummary[]): AppState {
  const t = updateMachine(s, id, (m) => ({ ...m, agents, synced: true }));
  return { ...t, alerts: t.alerts.filter((a) => a.machineId !== id) };
}

export function applyAlert(s: AppState, id: string, a: Alert): AppState {
  const view: AlertView = {
    machineId: id, alertId: a.alert_id, reason: a.reason.kind, agentId: a.agent_id, displayName: a.display_name,
    project: a.project, message: a.message, actions: a.actions, raisedAt: a.raised_at,
  };
  const rest = s.alerts.filter((x) => !(x.machineId === id && x.alertId === a.alert_id));
  return { ...s, alerts: [...rest, view] };
}

export function applyAlertCleared(s: AppState, id: string, alertId: number): AppState {
  if (!s.alerts.some((x) => x.machineId === id && x.alertId === alertId)) return s;
  return { ...s, alerts: s.alerts.filter((x) => !(x.machineId === id && x.alertId === alertId)) };
}

export function applyAgentEvent(s: AppState, id: string, e: AgentEvent): AppState {
  if (e.event === 'exited' && s.alerts.some((x) => x.machineId === id && x.agentId === e.id)) {
    // Its alerts are over too (the desktop says so as well).
    s = { ...s, alerts: s.alerts.filter((x) => !(x.machineId === id && x.agentId === e.id)) };
  }
  return updateMachine(s, id, (m) => {
    if (e.event === 'exited') return { ...m, agents: m.agents.filter((a) => a.id !== e.id) };
    const i = m.agents.findIndex((a) => a.id === e.agent.id);
    const agents = i < 0 ? [...m.agents, e.agent] : m.agents.map((a, j) => (j === i ? e.agent : a));
    return { ...m, agents };
  });
}

/**
 * The shell command inside an action, for display: the desktop's canonical
 * action JSON (`{"tool_input":{"command":"…"},…}`), a flat `{"command":"…"}`,
 * or a raw Bash line.
 */
export function commandOf(tool: string, action: string): string | null {
  let v: unknown;
  try {
    v = JSON.parse(action);
  } catch {
    return tool === 'Bash' ? action : null;
  }
  const str = (o: unknown, k: string): string | null => {
    const x = o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined;
    return typeof x === 'string' ? x : null;
  };
  const input = v && typeof v === 'object' ? (v as Record<string, unknown>).tool_input : undefined;
  return str(input, 'command') ?? str(v, 'command');
}

export type RequestVerdict = 'added' | 'updated' | 'bad_hash' | 'expired';

/** Adds a request only if its action_hash matches its action and it has not expired. */
export function applyRequest(s: AppState, id: string, r: ApprovalRequest, nowMs: number): [AppState, RequestVerdict, ApprovalView | null] {
  if (actionHash(r.action) !== r.action_hash) return [s, 'bad_hash', null];
  if (r.expires_at_ms <= nowMs) return [s, 'expired', null];
  const view: ApprovalView = {
    machineId: id, requestId: r.request_id, agentId: r.agent_id, sessionId: r.session_id, tool: r.tool,
    action: r.action, command: commandOf(r.tool, r.action), actionHash: r.action_hash, cwd: r.cwd,
    expiresAtMs: r.expires_at_ms, risk: r.risk, reason: r.reason, allowSession: r.allow_session === true,
  };
  const i = s.approvals.findIndex((a) => a.machineId === id && a.requestId === r.request_id);
  if (i >= 0) return [{ ...s, approvals: s.approvals.map((a, j) => (j === i ? view : a)) }, 'updated', view];
  return [{ ...s, approvals: [...s.approvals, view] }, 'added', view];
}

function addResolved(s: AppState, n: ResolvedNotice): AppState {
  return { ...s, resolved: [...s.resolved, n].slice(-MAX_RESOLVED) };
}

export function applyResolved(s: AppState, id: string, r: ApprovalResolved, nowMs: number): AppState {
  const pending = s.approvals.find((a) => a.machineId === id && a.requestId === r.request_id);
  if (!pending) return s;
  const t = { ...s, approvals: s.approvals.filter((a) => a !== pending) };
  return addResolved(t, {
    machineId: id, requestId: r.request_id, resolution: r.resolution, by: byInWords(r.by, r.by_name, id), atMs: nowMs,
  });
}

/** Drops every request whose deadline has passed. */
export function expireApprovals(s: AppState, nowMs: number): AppState {
  const gone = s.approvals.filter((a) => a.expiresAtMs <= nowMs);
  if (gone.length === 0) return s;
  let t: AppState = { ...s, approvals: s.approvals.filter((a) => a.expiresAtMs > nowMs) };
  for (const a of gone) {
    t = addResolved(t, { machineId: a.machineId, requestId: a.requestId, resolution: 'expired', by: null, atMs: nowMs });
  }
  return t;
}

/** After a wake-time resync: requests the desktop did not resend are gone. */
export function sweepApprovals(s: AppState, id: string, unconfirmed: Set<string>): AppState {
  if (unconfirmed.size === 0) return s;
  return { ...s, approvals: s.approvals.filter((a) => a.machineId !== id || !unconfirmed.has(a.requestId)) };
}
