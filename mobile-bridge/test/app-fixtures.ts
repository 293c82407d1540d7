/// <reference types="node" />
// Shared fixtures of the app-core tests (app.test.ts, app-machine.test.ts):
// constants, a timer-driven flush, a sample agent and approval request.
import { vi } from 'vitest';
import type { AgentSummary } from '../src/app/types.js';
import { actionHash } from '../src/proto/payload.js';

export const T0 = 1_800_000_000_000;
export const WS1 = 'ws://127.0.0.1:1/mqtt';
export const WS2 = 'ws://127.0.0.1:2/mqtt';
export const PAIRING_TOPIC = 'reins/164871a7b1ef3547d9a157d89baace88';

/** Lets every queued promise and immediate run (fake timers stay paused). */
export const flush = async () => {
  for (let i = 0; i < 30; i++) await new Promise((r) => setImmediate(r));
};
export const advance = async (ms: number) => {
  vi.advanceTimersByTime(ms);
  await flush();
};

export const agent: AgentSummary = {
  id: 'claude-4242-981234', kind: 'claude', display_name: 'claude', pid: 4242, project: 'api-server', cwd: '/src/api',
  started_at: 1_700_000_000, cpu_percent: 3.5, memory_bytes: 1_000_000, descendants: 51, state: 'running',
};
export const request = (id: string, action = 'rm -rf ./build', expiresInMs = 60_000, extra: Record<string, unknown> = {}) => ({
  kind: 'approval_request' as const,
  body: {
    request_id: id, agent_id: agent.id, session_id: 's1', tool: 'Bash', action, action_hash: actionHash(action),
    cwd: '/src/api', expires_at_ms: Date.now() + expiresInMs, risk: 'high' as const, reason: 'deletes files',
    allow_session: true, ...extra,
  },
});
