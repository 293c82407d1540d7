// Plain-language text for the app core: who resolved a request, what a
// command_ack means ("claude · api-server stopped: 52 processes gone in
// 41 ms") and what a stop's recheck found ("still gone 7 s later"). Pure functions over wire bodies and the current agent list.
// Not here: rendering, or anything that changes state.

import type { AgentSummary, Toast } from './types.js';
import type { CommandAck, CommandOp, StopRechecked, Target } from '../proto/payload.js';

/** `by` of approval_resolved in words. `ownId` is our pairing id in hex (our device id on the desktop). */
export function byInWords(by: string | null, byName: string | null, ownId: string): string | null {
  // Our own decision first: the desktop also sends this phone's name.
  if (by !== null && by === ownId) return 'this phone';
  if (byName && byName.trim()) return byName;
  if (by === null) return null;
  if (by === 'cli') return 'the terminal';
  if (by === 'tray') return 'the desktop';
  if (/^[0-9a-f]{32}$/.test(by)) return 'another phone';
  return by;
}

export function agentName(a: AgentSummary): string {
  const name = a.display_name.trim() || a.kind;
  return a.project ? `${name} · ${a.project}` : name;
}

/** The command's target in words, using the machine's current agent list. */
export function targetInWords(target: Target, agents: AgentSummary[], machineName: string): string {
  if (target === 'all') return `All agents on ${machineName}`;
  const a = agents.find((x) => x.id === target.agent);
  return a ? agentName(a) : target.agent;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
function ms(us: number): string {
  const v = us / 1000;
  return v >= 10 ? `${Math.round(v)} ms` : `${Math.round(v * 10) / 10} ms`;
}
const VERB: Record<CommandOp, [string, string]> = {
  stop: ['stopped', 'stop'],
  pause: ['paused', 'pause'],
  resume: ['resumed', 'resume'],
  release: ['released', 'release'],
  stop_supervisor: ['stopped with its supervisor', 'stop the supervisor of'],
};

export function ackInWords(ack: CommandAck, label: string): Pick<Toast, 'level' | 'text'> {
  const [done, verb] = VERB[ack.op];
  const detail = ack.detail ? ` (${ack.detail})` : '';
  const procs = plural(ack.processes, 'process', 'processes');
  let effect = '';
  if (ack.op === 'stop') effect = ack.gone_after_us !== null ? `${procs} gone in ${ms(ack.gone_after_us)}` : `${procs} gone`;
  if (ack.op === 'pause') effect = ack.frozen_after_us !== null ? `${procs} frozen in ${ms(ack.frozen_after_us)}` : `${procs} frozen`;
  switch (ack.outcome) {
    case 'done':
      return { level: 'ok', text: effect ? `${label} ${done}: ${effect}` : `${label} ${done}` };
    case 'partial':
      return { level: 'warn', text: `${label} only partly ${done}${effect ? `: ${effect}` : ''}${detail}` };
    case 'failed':
      return { level: 'error', text: `${label}: could not ${verb}${detail}` };
    case 'refused':
      return { level: 'error', text: `${label}: the desktop refused to ${verb}${detail}` };
    case 'no_such_agent':
      return { level: 'warn', text: `${label}: no such agent any more, nothing to ${verb}${detail}` };
  }
}

/**
 * A stop's recheck: calm when the agent stayed gone, a warning when it came
 * back and is held frozen (its alert card says what to do), an error when it
 * came back and runs. The stopped agent is gone, so the body names it.
 */
export function recheckInWords(r: StopRechecked): Pick<Toast, 'level' | 'text'> {
  const name = r.display_name.trim() || r.agent_id;
  const label = r.project ? `${name} · ${r.project}` : name;
  const by = r.supervisor && r.supervisor.trim() ? r.supervisor : 'something';
  switch (r.verdict) {
    case 'still_gone':
      return { level: 'ok', text: `${label}: still gone ${r.after_s} s later` };
    case 'respawned_held':
      return { level: 'warn', text: `${label}: respawned by ${by}, held frozen` };
    case 'respawned':
      return { level: 'error', text: `${label}: respawned by ${by} and RUNNING` };
  }
}
