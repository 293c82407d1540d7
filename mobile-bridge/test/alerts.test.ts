// Alerts on a paired machine: shown once, cleared, dropped by a resync
// snapshot until the desktop resends them, tolerant of a newer desktop's
// kinds and actions, and their buttons send the right commands.
/// <reference types="node" />
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../src/app/types.js';
import type { Alert } from '../src/proto/payload.js';
import { FakeBroker, FakeDesktop, offerUrl } from './fake-broker.js';
import { PAIRING_TOPIC, WS1, agent, flush, freshWorld, openApp, resync } from './app-fixtures.js';

let broker: FakeBroker;
let desk: FakeDesktop;
let factory: IDBFactory;
let logs: string[];
let app: App;
let id: string;

const stopWord = (alertId: number, extra: Partial<Alert> = {}) => ({
  kind: 'alert' as const,
  body: {
    alert_id: alertId, reason: { kind: 'stop_word' as const, word: 'STOP' }, agent_id: agent.id,
    display_name: 'Claude Code', project: 'api-server', message: 'Stop word: claude · api-server paused; you typed “STOP”',
    actions: ['resume' as const, 'stop' as const], raised_at: 1_700_000_100, ...extra,
  },
});

beforeEach(async () => {
  ({ broker, desk, factory, logs } = freshWorld());
  app = await openApp({ broker, desk, factory, logs });
  await app.pair(offerUrl({ exp: Date.now() + 170_000, brokers: [WS1] }));
  await flush();
  desk.receiveHello(PAIRING_TOPIC, Date.now());
  desk.accept(PAIRING_TOPIC, Date.now());
  await flush();
  id = desk.pairingIdHex;
  resync(desk);
  await flush();
});
afterEach(() => vi.useRealTimers());

describe('alerts', () => {
  it('shows an alert once, announces it once, and removes it when the desktop clears it', async () => {
    const seen: number[] = [];
    app.onNewAlert((a) => seen.push(a.alertId));
    desk.send(stopWord(7), Date.now());
    desk.send(stopWord(7), Date.now());
    await flush();
    expect(app.state().alerts).toEqual([{
      machineId: id, alertId: 7, reason: 'stop_word', agentId: agent.id, displayName: 'Claude Code', project: 'api-server',
      message: 'Stop word: claude · api-server paused; you typed “STOP”', actions: ['resume', 'stop'], raisedAt: 1_700_000_100,
    }]);
    expect(seen).toEqual([7]);
    desk.send({ kind: 'alert_cleared', body: { alert_id: 7 } }, Date.now());
    await flush();
    expect(app.state().alerts).toEqual([]);
  });

  it('shows a newer desktop’s alert kind by its message and leaves out actions it does not know', async () => {
    desk.sendRaw('alert', JSON.stringify({
      alert_id: 3, reason: { kind: 'budget', spent: 5 }, agent_id: agent.id, display_name: 'x', project: null,
      message: 'over budget', actions: ['resume', 'teleport', 'stop'], raised_at: 1, extra: true,
    }), Date.now());
    await flush();
    expect(app.state().alerts.map((a) => [a.reason, a.message, a.actions])).toEqual([['other', 'over budget', ['resume', 'stop']]]);
  });

  it('drops a malformed alert and changes nothing', async () => {
    desk.sendRaw('alert', JSON.stringify({ alert_id: 'x', message: 5 }), Date.now());
    await flush();
    expect(app.state().alerts).toEqual([]);
  });

  it('forgets a machine’s alerts at a resync snapshot; the desktop resends the active ones after it', async () => {
    desk.send(stopWord(1), Date.now());
    desk.send(stopWord(2, { agent_id: 'codex-1-2' }), Date.now());
    await flush();
    expect(app.state().alerts).toHaveLength(2);
    desk.send({ kind: 'agent_snapshot', body: { agents: [agent] } }, Date.now());
    desk.send(stopWord(2, { agent_id: 'codex-1-2' }), Date.now());
    await flush();
    expect(app.state().alerts.map((a) => a.alertId)).toEqual([2]);
  });

  it('drops the alerts of an agent that exits', async () => {
    desk.send(stopWord(1), Date.now());
    await flush();
    desk.send({ kind: 'agent_event', body: { event: 'exited', id: agent.id } }, Date.now());
    await flush();
    expect(app.state().alerts).toEqual([]);
  });

  it('sends resume, release and stop_supervisor as commands on the alert’s agent', async () => {
    await app.command(id, 'resume', agent.id);
    await app.command(id, 'release', 'openclaw-9-1');
    await app.command(id, 'stop_supervisor', 'openclaw-9-1');
    const sent = desk.received(Date.now()).filter((m) => m.payload.kind === 'command').map((m) => m.text);
    expect(sent).toEqual([
      `{"op":"resume","target":{"agent":"${agent.id}"}}`,
      '{"op":"release","target":{"agent":"openclaw-9-1"}}',
      '{"op":"stop_supervisor","target":{"agent":"openclaw-9-1"}}',
    ]);
  });

  it('shows the desktop’s audit log problem as an alert with no agent and no actions until it clears', async () => {
    desk.send({
      kind: 'alert',
      body: {
        alert_id: 12, reason: { kind: 'audit_failing', lost: 3, since_ms: 1_700_000_000_000, error: 'No space left on device (os error 28)' },
        agent_id: '', display_name: 'Reins', project: null,
        message: 'the audit log cannot be written: No space left on device (os error 28); 3 entries not logged since 22:13:20 UTC',
        actions: [], raised_at: 1_700_000_000,
      },
    }, Date.now());
    await flush();
    expect(app.state().alerts.map((a) => [a.alertId, a.reason, a.agentId, a.actions])).toEqual([[12, 'audit_failing', '', []]]);
    desk.send({ kind: 'agent_event', body: { event: 'exited', id: agent.id } }, Date.now());
    await flush();
    expect(app.state().alerts).toHaveLength(1);
    desk.send({ kind: 'alert_cleared', body: { alert_id: 12 } }, Date.now());
    await flush();
    expect(app.state().alerts).toEqual([]);
  });
});
