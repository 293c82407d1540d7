// A paired machine in the app: resync, approvals, decisions, commands,
// reconnects, staleness, wake, forged input, restart and unpair.
/// <reference types="node" />
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../src/app/types.js';
import { MachineStore } from '../src/store/db.js';
import { actionHash } from '../src/proto/payload.js';
import { b64uEncode } from '../src/proto/bytes.js';
import { FakeBroker, FakeDesktop, offerUrl } from './fake-broker.js';
import { PAIRING_TOPIC, WS1, WS2, advance, agent, flush, freshWorld, openApp, request, resync } from './app-fixtures.js';

let broker: FakeBroker;
let desk: FakeDesktop;
let factory: IDBFactory;
let logs: string[];
let app: App;
let id: string;

const newApp = () => openApp({ broker, desk, factory, logs });
const sentKinds = () => desk.received(Date.now()).map((m) => m.payload.kind);

beforeEach(async () => {
  ({ broker, desk, factory, logs } = freshWorld());
  app = await newApp();
  await app.pair(offerUrl({ exp: Date.now() + 170_000, brokers: [WS1, WS2] }));
  await flush();
  desk.receiveHello(PAIRING_TOPIC, Date.now());
  desk.accept(PAIRING_TOPIC, Date.now());
  await flush();
  id = desk.pairingIdHex;
  resync(desk);
  await flush();
});
afterEach(() => vi.useRealTimers());

describe('a paired machine', () => {
  it('rebuilds its state from the resync: agents, the pending request, synced', () => {
    const s = app.state();
    expect(s.machines[0]).toMatchObject({ id, synced: true, agents: [agent] });
    expect(s.approvals.map((a) => [a.requestId, a.risk, a.reason, a.allowSession, a.command])).toEqual([
      ['r1', 'high', 'deletes files', true, 'rm -rf ./build'],
    ]);
  });

  it('never shows a request whose action_hash does not match its action', () => {
    const r = request('bad');
    desk.send({ ...r, body: { ...r.body, action_hash: actionHash('ls') } }, Date.now());
    return flush().then(() => expect(app.state().approvals.map((a) => a.requestId)).toEqual(['r1']));
  });

  it('tolerates an older desktop that sends none of the new optional fields', async () => {
    const action = 'ls';
    desk.sendRaw('approval_request', JSON.stringify({
      request_id: 'old', agent_id: agent.id, tool: 'Bash', action, action_hash: actionHash(action), expires_at_ms: Date.now() + 1000,
    }), Date.now());
    await flush();
    expect(app.state().approvals.find((a) => a.requestId === 'old')).toMatchObject({ risk: null, reason: null, allowSession: false, sessionId: null });
  });

  it('announces a new request once, not again when a resync resends it', async () => {
    const seen: string[] = [];
    app.onNewApproval((a) => seen.push(a.requestId));
    desk.send(request('r2'), Date.now());
    desk.send(request('r2'), Date.now());
    await flush();
    expect(seen).toEqual(['r2']);
  });

  it('sends a decision with the request action_hash and scope, keys in the Rust order', async () => {
    await app.approve(id, 'r1', 'session');
    await app.deny(id, 'r1');
    const sent = desk.received(Date.now()).filter((m) => m.payload.kind === 'approval_decision');
    const h = actionHash('rm -rf ./build');
    expect(sent.map((m) => m.text)).toEqual([
      `{"request_id":"r1","action_hash":"${h}","decision":"allow","scope":"session"}`,
      `{"request_id":"r1","action_hash":"${h}","decision":"deny","scope":null}`,
    ]);
  });

  it('refuses to decide a request that is not pending, or whose deadline just passed', async () => {
    await expect(app.approve(id, 'nope', 'once')).rejects.toThrow('no longer pending');
    vi.setSystemTime(Date.now() + 60_000); // the expiry timer has not fired yet
    await expect(app.approve(id, 'r1', 'once')).rejects.toThrow('no longer pending');
    expect(app.state().approvals).toEqual([]);
    expect(sentKinds()).not.toContain('approval_decision');
  });

  it('drops a request when it is resolved, saying who decided in words', async () => {
    desk.send(request('r2'), Date.now());
    desk.send(request('r3'), Date.now());
    desk.send({ kind: 'approval_resolved', body: { request_id: 'r1', action_hash: actionHash('rm -rf ./build'), resolution: 'allowed', by: id, by_name: null } }, Date.now());
    desk.send({ kind: 'approval_resolved', body: { request_id: 'r2', action_hash: '', resolution: 'denied', by: 'cli', by_name: null } }, Date.now());
    desk.send({ kind: 'approval_resolved', body: { request_id: 'r3', action_hash: '', resolution: 'allowed', by: 'tray', by_name: 'Pixel 8' } }, Date.now());
    await flush();
    expect(app.state().approvals).toEqual([]);
    expect(app.state().resolved.map((r) => [r.requestId, r.resolution, r.by])).toEqual([
      ['r1', 'allowed', 'this phone'], ['r2', 'denied', 'the terminal'], ['r3', 'allowed', 'Pixel 8'],
    ]);
  });

  it('drops a request when its deadline passes', async () => {
    await advance(60_001);
    expect(app.state().approvals).toEqual([]);
    expect(app.state().resolved.at(-1)).toMatchObject({ requestId: 'r1', resolution: 'expired' });
  });

  it('turns a command_ack into a sentence with the agent, processes and time', async () => {
    await app.command(id, 'stop', agent.id);
    const cmd = broker.on(desk.chan!.recvTopic).at(-1)!;
    const msgId = b64uEncode(Uint8Array.from(Buffer.from(JSON.parse(new TextDecoder().decode(cmd.bytes)).msg_id, 'base64url')));
    desk.send({ kind: 'command_ack', body: { command_msg_id: msgId, op: 'stop', target: { agent: agent.id }, outcome: 'done', processes: 52, frozen_after_us: null, gone_after_us: 41_200, detail: null } }, Date.now());
    desk.send({ kind: 'command_ack', body: { command_msg_id: 'x', op: 'pause', target: { agent: agent.id }, outcome: 'done', processes: 52, frozen_after_us: 3_000, gone_after_us: null, detail: null } }, Date.now());
    desk.send({ kind: 'command_ack', body: { command_msg_id: 'y', op: 'resume', target: 'all', outcome: 'refused', processes: 0, frozen_after_us: null, gone_after_us: null, detail: 'policy forbids it' } }, Date.now());
    await flush();
    expect(app.state().toasts.map((t) => [t.level, t.text])).toEqual([
      ['ok', 'claude · api-server stopped: 52 processes gone in 41 ms'],
      ['ok', 'claude · api-server paused: 52 processes frozen in 3 ms'],
      ['error', 'All agents on ana-laptop: the desktop refused to resume (policy forbids it)'],
    ]);
    app.dismissToast(app.state().toasts[0]!.id);
    expect(app.state().toasts.length).toBe(2);
  });

  it('sends stop all to every machine for stop everywhere', async () => {
    await app.stopEverywhere();
    const cmds = desk.received(Date.now()).filter((m) => m.payload.kind === 'command');
    expect(cmds.map((m) => m.text)).toEqual(['{"op":"stop","target":"all"}']);
  });

  it('uses strictly increasing p2d seqs', async () => {
    await app.command(id, 'pause', 'all');
    await app.command(id, 'resume', 'all');
    // presence, the heartbeat answering the resync's, then the two commands
    expect(desk.received(Date.now()).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  it('drops forged, replayed and retained messages without changing anything', async () => {
    const before = app.state();
    const wire = desk.send({ kind: 'agent_snapshot', body: { agents: [] } }, Date.now());
    await flush();
    const after = app.state();
    expect(after.machines[0]!.agents).toEqual([]);
    desk.send({ kind: 'agent_snapshot', body: { agents: [agent] } }, Date.now());
    await flush();
    broker.deliver(desk.chan!.sendTopic, wire); // replay of the empty snapshot
    const forged = wire.slice();
    forged[forged.length - 5] = forged[forged.length - 5]! ^ 1;
    broker.deliver(desk.chan!.sendTopic, forged);
    broker.deliver(desk.chan!.sendTopic, new TextEncoder().encode('{"v":1,"suite":1}'), false);
    broker.deliver(desk.chan!.sendTopic, wire, true);
    await flush();
    expect(app.state().machines[0]!.agents).toEqual([agent]);
    expect(before.machines[0]!.agents).toEqual([agent]);
    expect(logs.join('\n')).toMatch(/malformed/);
    expect(logs.join('\n')).not.toContain(Buffer.from(wire).toString());
  });

  it('clears the machine at a reconnect and rebuilds it from the new snapshot', async () => {
    broker.dropAll();
    await flush();
    expect(app.state().machines[0]!.link.kind).toBe('reconnecting');
    expect(app.state().approvals.length).toBe(1); // shown as of the last sync until we are back
    await advance(1_000);
    expect(app.state().machines[0]).toMatchObject({ synced: false, agents: [], link: { kind: 'connected' } });
    expect(app.state().approvals).toEqual([]);
    expect(sentKinds().filter((k) => k === 'presence').length).toBe(2);
    resync(desk);
    await flush();
    expect(app.state().machines[0]).toMatchObject({ synced: true, agents: [agent] });
    expect(app.state().approvals.map((a) => a.requestId)).toEqual(['r1']);
  });

  it('tries the next broker when the first one fails, with backoff capped near 10 s', async () => {
    broker.down.add(WS1).add(WS2);
    broker.dropAll();
    await flush();
    for (let i = 0; i < 8; i++) await advance(10_000);
    const s = app.state().machines[0]!.link;
    expect(s.kind).toBe('reconnecting');
    const attempts = s.kind === 'reconnecting' ? s.attempt : 0;
    expect(attempts).toBeGreaterThanOrEqual(8);
    broker.down.delete(WS2);
    await advance(10_000);
    expect(app.state().machines[0]!.link.kind).toBe('connected');
    expect(broker.openConns().map((c) => c.url)).toEqual([WS2]);
  });

  it('shows stale after three missed heartbeat intervals, then reconnects', async () => {
    await advance(90_001);
    expect(app.state().machines[0]!.link.kind).toBe('stale');
    await advance(30_000);
    expect(app.state().machines[0]!.link.kind).toBe('connected');
    expect(sentKinds().filter((k) => k === 'presence').length).toBe(2);
  });

  it('on wake, treats a quiet socket as dead and reconnects at once', async () => {
    await advance(89_000);
    const before = broker.conns.length;
    app.wake();
    await flush();
    expect(broker.conns.length).toBe(before);
    await advance(5_001); // nothing authentic came back after the wake: a zombie
    expect(broker.conns.length).toBe(before + 1);
    expect(app.state().machines[0]!.link.kind).toBe('connected');
  });

  it('on wake with a live socket, asks for a resync and removes requests that are no longer pending', async () => {
    app.wake();
    await flush();
    expect(sentKinds().filter((k) => k === 'presence').length).toBe(2);
    desk.send({ kind: 'agent_snapshot', body: { agents: [agent] } }, Date.now());
    desk.send({ kind: 'heartbeat', body: { interval_s: 30 } }, Date.now());
    await flush();
    expect(app.state().approvals).toEqual([]);
  });

  it('keeps its keys, seq and replay window across a restart', async () => {
    const old = desk.send({ kind: 'agent_snapshot', body: { agents: [] } }, Date.now());
    await flush();
    broker.dropAll();
    const app2 = await newApp();
    await flush();
    expect(app2.state().machines.map((m) => m.name)).toEqual(['ana-laptop']);
    broker.deliver(desk.chan!.sendTopic, old);
    resync(desk);
    await flush();
    expect(app2.state().machines[0]!.agents).toEqual([agent]);
    await app2.command(id, 'stop', 'all');
    const seqs = desk.received(Date.now()).map((m) => m.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('forgets everything about a machine on unpair', async () => {
    await app.unpair(id);
    expect(app.state().machines).toEqual([]);
    expect(app.state().approvals).toEqual([]);
    const store = await MachineStore.open('reins', factory);
    expect(await store.list()).toEqual([]);
  });

  it('refuses to send while the machine is not connected, and says so', async () => {
    broker.down.add(WS1).add(WS2);
    broker.dropAll();
    await flush();
    await expect(app.command(id, 'stop', 'all')).rejects.toThrow('not connected');
    expect(app.state().toasts.at(-1)?.level).toBe('error');
  });
});
