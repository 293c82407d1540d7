// MachineLink on its own: backoff, connect timeout, wake during a stuck connect.
/// <reference types="node" />
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BACKOFF_CAP_MS, CONNECT_TIMEOUT_MS, MachineLink, backoffMs } from '../src/link/machine-link.js';
import { PairChannel } from '../src/proto/channel.js';
import { ReplayWindow } from '../src/proto/replay.js';
import type { LinkState } from '../src/app/types.js';
import { FakeBroker } from './fake-broker.js';

const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};
const K = new Uint8Array(32).fill(9);

function makeLink(broker: FakeBroker, brokers: string[]) {
  const states: LinkState[] = [];
  let seq = 0;
  const link = new MachineLink({
    brokers, channel: PairChannel.paired('phone', K, ''), window: new ReplayWindow(), connect: broker.connect,
    reserveSeq: async () => ++seq, saveWindow: async () => {}, now: () => Date.now(),
    onState: (s) => states.push(s), onSubscribed: () => {}, onMessage: () => {},
  });
  return { link, states };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(1_800_000_000_000);
});
afterEach(() => vi.useRealTimers());

describe('the machine link', () => {
  it('backs off exponentially with jitter and never waits more than about 10 s', () => {
    expect(backoffMs(1, 0)).toBe(250);
    expect(backoffMs(1, 1)).toBe(500);
    expect(backoffMs(3, 1)).toBe(2000);
    for (let a = 1; a < 40; a++) expect(backoffMs(a, Math.random())).toBeLessThanOrEqual(BACKOFF_CAP_MS);
    expect(backoffMs(30, 0)).toBe(BACKOFF_CAP_MS / 2);
  });

  it('gives up on a connect that hangs, and retries', async () => {
    const broker = new FakeBroker();
    broker.hang = true;
    const { link, states } = makeLink(broker, ['ws://a/mqtt']);
    link.start();
    vi.advanceTimersByTime(CONNECT_TIMEOUT_MS + 1);
    await flush();
    expect(states.at(-1)).toMatchObject({ kind: 'reconnecting', attempt: 1, error: 'connect timeout' });
    link.stop();
  });

  it('restarts a stuck connect at once on wake, and connects', async () => {
    const broker = new FakeBroker();
    broker.hang = true;
    const { link, states } = makeLink(broker, ['ws://a/mqtt']);
    link.start();
    vi.advanceTimersByTime(3_000);
    broker.hang = false;
    link.wake();
    await flush();
    expect(states.at(-1)?.kind).toBe('connected');
    expect(broker.openConns().length).toBe(1);
    link.stop();
  });

  it('skips brokers a browser cannot use and says why when none is left', async () => {
    const broker = new FakeBroker();
    const { link, states } = makeLink(broker, ['mqtt://a:1883', 'mqtts://b:8883']);
    link.start();
    await flush();
    expect(broker.connects).toEqual([]);
    expect(states.at(-1)).toMatchObject({ kind: 'reconnecting', error: 'no ws:// or wss:// broker for this machine' });
    link.stop();
  });

  it('publishes presence online right after the subscription is acknowledged', async () => {
    const broker = new FakeBroker();
    const { link } = makeLink(broker, ['ws://a/mqtt']);
    link.start();
    await flush();
    const ch = PairChannel.paired('phone', K, '');
    expect(broker.openConns()[0]!.subs.has(ch.recvTopic)).toBe(true);
    expect(broker.published.map((p) => p.topic)).toEqual([ch.sendTopic]);
    link.stop();
  });

  it('repeats presence with a growing delay until the desktop answers with a snapshot', async () => {
    const broker = new FakeBroker();
    const { link } = makeLink(broker, ['ws://a/mqtt']);
    link.start();
    await flush();
    const count = () => broker.published.length;
    expect(count()).toBe(1);
    vi.advanceTimersByTime(2_000);
    await flush();
    expect(count()).toBe(2);
    vi.advanceTimersByTime(4_000);
    await flush();
    expect(count()).toBe(3);
    const desk = PairChannel.paired('desktop', K, '');
    const snap = desk.seal({ kind: 'agent_snapshot', body: { agents: [] } }, 1, Date.now());
    broker.deliver(snap.topic, snap.bytes);
    await flush();
    vi.advanceTimersByTime(60_000);
    await flush();
    expect(count()).toBe(3);
    link.stop();
  });

  it('answers each desktop heartbeat with one of its own, and nothing else', async () => {
    const broker = new FakeBroker();
    const { link } = makeLink(broker, ['ws://a/mqtt']);
    link.start();
    await flush();
    const desk = PairChannel.paired('desktop', K, '');
    const snap = desk.seal({ kind: 'agent_snapshot', body: { agents: [] } }, 1, Date.now());
    broker.deliver(snap.topic, snap.bytes);
    await flush();
    const before = broker.published.length;
    const hb = desk.seal({ kind: 'heartbeat', body: { interval_s: 30 } }, 2, Date.now());
    broker.deliver(hb.topic, hb.bytes);
    await flush();
    expect(broker.published.length).toBe(before + 1);
    const ch = PairChannel.paired('phone', K, '');
    expect(broker.published.at(-1)!.topic).toBe(ch.sendTopic);
    const back = desk.open(ch.sendTopic, broker.published.at(-1)!.bytes, new ReplayWindow(), Date.now());
    expect(back.payload).toEqual({ kind: 'heartbeat', body: { interval_s: 30 } });
    link.stop();
  });

  it('retries when the connection drops while it waits for the SUBACK', async () => {
    const broker = new FakeBroker();
    broker.hangSubscribe = true;
    const { link, states } = makeLink(broker, ['ws://a/mqtt']);
    link.start();
    await flush();
    broker.dropAll();
    await flush();
    expect(states.at(-1)).toMatchObject({ kind: 'reconnecting', attempt: 1 });
    broker.hangSubscribe = false;
    vi.advanceTimersByTime(1_000);
    await flush();
    expect(states.at(-1)?.kind).toBe('connected');
    link.stop();
  });

  it('gives up on a SUBACK that never comes, and retries', async () => {
    const broker = new FakeBroker();
    broker.hangSubscribe = true;
    const { link, states } = makeLink(broker, ['ws://a/mqtt']);
    link.start();
    await flush();
    vi.advanceTimersByTime(CONNECT_TIMEOUT_MS + 1);
    await flush();
    expect(states.at(-1)).toMatchObject({ kind: 'reconnecting', error: 'no SUBACK from the broker' });
    expect(broker.openConns()).toEqual([]);
    link.stop();
  });
});
