/// <reference types="node" />
// Shared fixtures of the app-core tests (app.test.ts, app-machine.test.ts):
// constants, a timer-driven flush, a sample agent and approval request, a
// fresh world (fake timers, broker, desktop, IndexedDB) and the app over it.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { vi } from 'vitest';
import { createApp } from '../src/app/app.js';
import type { AgentSummary, App } from '../src/app/types.js';
import { actionHash } from '../src/proto/payload.js';
import { MachineStore } from '../src/store/db.js';
import { FakeBroker, FakeDesktop } from './fake-broker.js';

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

/** What one test runs against: a broker, the desktop on it, a phone's IndexedDB. */
export interface World {
  broker: FakeBroker;
  desk: FakeDesktop;
  factory: IDBFactory;
  logs: string[];
}

/** Fake timers at T0, and a new broker, desktop and IndexedDB. */
export function freshWorld(): World {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(T0);
  const broker = new FakeBroker();
  return { broker, desk: new FakeDesktop(broker), factory: new IDBFactory(), logs: [] };
}

/** The app over the world's IndexedDB and broker, as after a page load. */
export async function openApp(w: World): Promise<App> {
  const store = await MachineStore.open('reins', w.factory);
  return createApp({ store, connect: w.broker.connect, deviceName: 'Test phone', secureContext: true, log: (m) => w.logs.push(m) });
}

/** What the desktop sends on a resync: the snapshot, one request, a heartbeat. */
export function resync(desk: FakeDesktop): void {
  desk.send({ kind: 'agent_snapshot', body: { agents: [agent] } }, Date.now());
  desk.send(request('r1'), Date.now());
  desk.send({ kind: 'heartbeat', body: { interval_s: 30 } }, Date.now());
}
