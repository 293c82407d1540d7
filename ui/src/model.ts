// State → view models: what each screen shows, computed from the shell's
// DesktopState and the clock. Pure (no DOM, `now` passed in), so the words
// and rules here are unit-tested; the screens only put them on the page.

import type { AgentView } from './bindings/AgentView';
import type { ApprovalView } from './bindings/ApprovalView';
import type { DesktopState } from './bindings/DesktopState';
import type { HaltOpView } from './bindings/HaltOpView';
import type { HaltResultView } from './bindings/HaltResultView';
import type { SoftStopView } from './bindings/SoftStopView';
import { bytes, clock, duration, percent, plural, reveal } from './format';

export interface AgentRow {
  id: string;
  name: string;
  project: string;
  cwd: string | null;
  pid: string;
  state: AgentView['state'];
  stateLabel: string;
  uptime: string;
  cpu: string;
  memory: string;
  processes: string;
  /** The buttons this agent offers, in order. */
  ops: HaltOpView[];
  /** Offer "Stop this run" (an OpenClaw gateway that is running: a paused
   * one is frozen and cannot answer). Never instead of Stop. */
  softStop: boolean;
}

const STATE_LABEL: Record<AgentView['state'], string> = {
  running: 'Running',
  paused: 'Paused',
  stopping: 'Stopping…',
  exited: 'Exited',
};
const STATE_ORDER: Record<AgentView['state'], number> = { running: 0, paused: 1, stopping: 2, exited: 3 };

export function agentRow(a: AgentView, now: number): AgentRow {
  const ops: HaltOpView[] =
    a.state === 'running' ? ['pause', 'stop'] : a.state === 'paused' ? ['resume', 'stop'] : [];
  return {
    id: a.id,
    name: a.name || a.kind,
    project: a.project ?? '—',
    cwd: a.cwd === null ? null : reveal(a.cwd).text,
    pid: String(a.pid),
    state: a.state,
    stateLabel: STATE_LABEL[a.state] ?? String(a.state),
    uptime: a.state === 'exited' ? '—' : duration(now - a.started_at_ms),
    cpu: percent(a.cpu_percent),
    memory: bytes(a.memory_bytes),
    processes: String(a.processes),
    ops,
    softStop: a.kind === 'openclaw' && a.state === 'running',
  };
}

/** Live agents first (running, paused, stopping, exited), then oldest first. */
export function agentRows(s: DesktopState, now: number): AgentRow[] {
  return [...s.agents]
    .sort((x, y) => (STATE_ORDER[x.state] ?? 9) - (STATE_ORDER[y.state] ?? 9) || x.started_at_ms - y.started_at_ms)
    .map((a) => agentRow(a, now));
}

/** True when "Stop all agents" has something to stop. */
export function anyStoppable(s: DesktopState): boolean {
  return s.agents.some((a) => a.state === 'running' || a.state === 'paused');
}

export interface ApprovalModel {
  requestId: string;
  agent: string;
  tool: string;
  /** The exact command for shell tools, else the exact action text, with
   * invisible and text-direction characters shown as ⟪U+XXXX⟫. */
  body: string;
  /** The body or cwd had such characters: say so. */
  hidden: boolean;
  bodyLabel: string;
  cwd: string | null;
  reason: string | null;
  /** The agent's session (an OpenClaw session key), shown as is. */
  session: string | null;
  /** Offer "Approve for session" (false for OpenClaw approvals). */
  allowSession: boolean;
  high: boolean;
  riskLabel: string;
  leftMs: number;
  left: string;
  expired: boolean;
}

export function approvalModel(a: ApprovalView, now: number): ApprovalModel {
  const leftMs = Math.max(0, a.expires_at_ms - now);
  const high = a.risk === 'high';
  const body = reveal(a.command ?? a.action);
  const cwd = a.cwd === null ? null : reveal(a.cwd);
  return {
    requestId: a.request_id,
    agent: a.agent_name,
    tool: a.tool,
    body: body.text,
    hidden: body.found || (cwd?.found ?? false),
    bodyLabel: a.command !== null ? 'Command' : 'Action',
    cwd: cwd?.text ?? null,
    reason: a.reason,
    session: a.session === null ? null : reveal(a.session).text,
    allowSession: a.allow_session,
    high,
    riskLabel: high ? 'High risk' : 'Needs approval',
    leftMs,
    left: leftMs > 0 ? `${clock(leftMs)} left` : 'Expired',
    expired: leftMs <= 0,
  };
}

export type Banner = { kind: 'connecting' | 'unavailable' | 'audit'; text: string } | null;

/** The daemon banner: nothing while connected, unless the daemon's audit
 * log cannot be written (then the daemon's own line, as text). */
export function daemonBanner(s: DesktopState): Banner {
  if (s.daemon === 'connected') {
    // The daemon's line already says what failed ("the audit log cannot be
    // written: …"): shown as it is, as a sentence.
    const p = s.audit_problem;
    return p ? { kind: 'audit', text: p.charAt(0).toUpperCase() + p.slice(1) } : null;
  }
  if (s.daemon === 'connecting') return { kind: 'connecting', text: 'Connecting to the Reins daemon…' };
  const why = s.daemon_error ? `: ${s.daemon_error}` : '';
  return {
    kind: 'unavailable',
    text: `Not connected to the Reins daemon${why}. What this window shows may be out of date; Reins keeps trying.`,
  };
}

export interface HaltMessage {
  ok: boolean;
  text: string;
  /** Failed targets' details, one line each. */
  details: string[];
}

const OP_WORD: Record<HaltOpView, string> = { stop: 'Stop', pause: 'Pause', resume: 'Resume' };

/** The halt result for people: the shell's summary, and what failed. */
export function haltMessage(r: HaltResultView): HaltMessage {
  const failed = r.targets.filter((t) => !t.success);
  const text = r.summary || (r.success ? `${OP_WORD[r.op]}: done` : `${OP_WORD[r.op]} failed`);
  return {
    ok: r.success,
    text: r.success ? text : `${OP_WORD[r.op] ?? 'Halt'} failed: ${text}`,
    details: failed.map((t) => `${t.target}: ${t.detail}`),
  };
}

/** A soft stop's result for its row: the shell's summary, and each
 * session's answer when there was more than one or something failed. */
export function softStopMessage(v: SoftStopView): HaltMessage {
  const each = v.runs.length > 1 || !v.success;
  return {
    ok: v.success,
    text: v.summary || (v.success ? 'Stop this run: done' : 'Stop this run failed'),
    details: each ? v.runs.map((r) => `${r.session_key}: ${r.detail}`) : [],
  };
}

/** Nav counts: running agents and waiting approvals. */
export function counts(s: DesktopState): { running: number; waiting: number } {
  return { running: s.agents.filter((a) => a.state === 'running').length, waiting: s.pending.length };
}

/** "3 agents running, 1 paused" for the Agents header. */
export function agentsSummary(s: DesktopState): string {
  const running = s.agents.filter((a) => a.state === 'running').length;
  const paused = s.agents.filter((a) => a.state === 'paused').length;
  if (!running && !paused) return 'No agent is running.';
  const parts = [plural(running, 'agent running', 'agents running')];
  if (paused) parts.push(`${paused} paused`);
  return `${parts.join(', ')}.`;
}

/** The tray icon for a state (icons/tray/<name>.png); the shell mirrors this. */
export function trayIcon(s: DesktopState): 'disconnected' | 'waiting' | 'paused' | 'running' | 'idle' {
  if (s.daemon !== 'connected') return 'disconnected';
  if (s.pending.length) return 'waiting';
  const { running } = counts(s);
  if (running) return 'running';
  if (s.agents.some((a) => a.state === 'paused')) return 'paused';
  return 'idle';
}
