// Human labels derived from AppState (agent names, machine names). Pure, no DOM.

import type { AgentSummary, AppState } from '../app/types';

export function agentName(a: AgentSummary): string {
  const base = a.display_name || a.kind;
  return a.project ? `${base} · ${a.project}` : base;
}

/** "claude · api on laptop", or the bare id when the agent is unknown. */
export function agentLabel(s: AppState, machineId: string, agentId: string): string {
  const m = s.machines.find((x) => x.id === machineId);
  const a = m?.agents.find((x) => x.id === agentId);
  const who = a ? agentName(a) : `agent ${agentId}`;
  return m && s.machines.length > 1 ? `${who} on ${m.name}` : who;
}

export function machineName(s: AppState, machineId: string): string {
  return s.machines.find((x) => x.id === machineId)?.name ?? 'a computer';
}
