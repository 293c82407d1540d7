// The app core end to end over an in-memory broker and a simulated desktop.
/// <reference types="node" />
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { App } from '../src/app/types.js';
import { FakeBroker, FakeDesktop, offerUrl } from './fake-broker.js';
import { PAIRING_TOPIC, WS1, WS2, advance, flush, freshWorld, openApp, resync } from './app-fixtures.js';

let broker: FakeBroker;
let desk: FakeDesktop;
let factory: IDBFactory;
let logs: string[];

const newApp = () => openApp({ broker, desk, factory, logs });

/** Pairs a fresh app with the simulated desktop and lets the first resync arrive. */
async function pairedApp(brokers = [WS1]): Promise<App> {
  const app = await newApp();
  await app.pair(offerUrl({ exp: Date.now() + 170_000, brokers }));
  await flush();
  desk.receiveHello(PAIRING_TOPIC, Date.now());
  desk.accept(PAIRING_TOPIC, Date.now());
  await flush();
  resync(desk);
  await flush();
  return app;
}

beforeEach(() => {
  ({ broker, desk, factory, logs } = freshWorld());
});
afterEach(() => {
  vi.useRealTimers();
});

describe('pairing through the app', () => {
  it('shows the code, then stores the machine and opens its link once the desktop accepts', async () => {
    const app = await newApp();
    await app.pair(offerUrl({ exp: Date.now() + 170_000, brokers: ['mqtts://no.browser:8883', WS1] }));
    await flush();
    const s = app.state().pairing;
    expect(s.kind).toBe('waiting');
    expect(desk.receiveHello(PAIRING_TOPIC, Date.now())).toBe('Test phone');
    desk.accept(PAIRING_TOPIC, Date.now());
    await flush();
    expect(app.state().pairing).toEqual({ kind: 'paired', machineId: desk.pairingIdHex, name: 'ana-laptop' });
    const m = app.state().machines[0]!;
    expect(m.name).toBe('ana-laptop');
    expect(m.link.kind).toBe('connected');
    expect(broker.connects.every((u) => u.startsWith('ws://'))).toBe(true);
    // After SUBACK the phone says it is online; that is p2d seq 1 under K.
    const sent = desk.received(Date.now());
    expect(sent.map((x) => [x.payload.kind, x.seq])).toEqual([['presence', 1]]);
    expect(sent[0]!.text).toBe('{"online":true}');
  });

  it('accepts the fragment alone as well as the full URL', async () => {
    const app = await newApp();
    const url = offerUrl({ exp: Date.now() + 170_000, brokers: [WS1] });
    await app.pair(url.slice(url.indexOf('#')));
    expect(app.state().pairing.kind).toBe('waiting');
  });

  it('fails as bad_link for a link that does not parse', async () => {
    const app = await newApp();
    await app.pair('https://example.com/#v=1&pk=nope');
    expect(app.state().pairing).toMatchObject({ kind: 'failed', reason: 'bad_link' });
  });

  it('fails as expired for an offer already past its life', async () => {
    const app = await newApp();
    await app.pair(offerUrl({ exp: Date.now() - 121_000, brokers: [WS1] }));
    expect(app.state().pairing).toMatchObject({ kind: 'failed', reason: 'expired' });
  });

  it('fails as unreachable when no broker in the link answers', async () => {
    broker.down.add(WS1).add(WS2);
    const app = await newApp();
    await app.pair(offerUrl({ exp: Date.now() + 170_000, brokers: [WS1, WS2] }));
    await flush();
    expect(app.state().pairing).toMatchObject({ kind: 'failed', reason: 'unreachable' });
  });

  it('fails as rejected when the desktop user rejects the code', async () => {
    const app = await newApp();
    await app.pair(offerUrl({ exp: Date.now() + 170_000, brokers: [WS1] }));
    await flush();
    desk.reject(PAIRING_TOPIC, Date.now(), 'user_rejected');
    await flush();
    expect(app.state().pairing).toMatchObject({ kind: 'failed', reason: 'rejected' });
    expect(app.state().machines).toEqual([]);
  });

  it('fails as already_used at once when the desktop answers the hello with already_used', async () => {
    const app = await newApp();
    await app.pair(offerUrl({ exp: Date.now() + 170_000, brokers: [WS1] }));
    await flush();
    desk.alreadyUsed(PAIRING_TOPIC, Date.now());
    await flush();
    expect(app.state().pairing).toMatchObject({ kind: 'failed', reason: 'already_used' });
    expect((app.state().pairing as { message: string }).message).toMatch(/already used.*reins pair/);
    expect(app.state().machines).toEqual([]);
  });

  it('fails as already_used without touching the network when this phone opens a link it used before', async () => {
    const url = offerUrl({ exp: Date.now() + 170_000, brokers: [WS1] });
    const app = await newApp();
    await app.pair(url);
    await flush();
    desk.receiveHello(PAIRING_TOPIC, Date.now());
    desk.accept(PAIRING_TOPIC, Date.now());
    await flush();
    expect(app.state().pairing.kind).toBe('paired');
    const connects = broker.connects.length;
    const published = broker.on(PAIRING_TOPIC).length;
    await app.pair(url);
    expect(app.state().pairing).toMatchObject({ kind: 'failed', reason: 'already_used' });
    // Remembered in IndexedDB: a restarted app knows it too.
    const again = await newApp();
    const afterRestart = broker.connects.length;
    await again.pair(url);
    await flush();
    expect(again.state().pairing).toMatchObject({ kind: 'failed', reason: 'already_used' });
    expect(broker.connects.length - afterRestart).toBe(0);
    expect(afterRestart - connects).toBe(1); // only the restarted app's machine link
    expect(broker.on(PAIRING_TOPIC).length).toBe(published);
  });

  it('does not remember a link whose hello never went out, so it can be retried', async () => {
    broker.down.add(WS1);
    const url = offerUrl({ exp: Date.now() + 170_000, brokers: [WS1] });
    const app = await newApp();
    await app.pair(url);
    await flush();
    expect(app.state().pairing).toMatchObject({ kind: 'failed', reason: 'unreachable' });
    broker.down.delete(WS1);
    await app.pair(url);
    await flush();
    expect(app.state().pairing.kind).toBe('waiting');
  });

  it('times out when nobody answers before the offer runs out', async () => {
    const app = await newApp();
    await app.pair(offerUrl({ exp: Date.now() + 170_000, brokers: [WS1] }));
    await flush();
    await advance(170_000 + 120_001);
    expect(app.state().pairing).toMatchObject({ kind: 'failed', reason: 'timeout' });
  });

  it('goes back to idle when the user cancels', async () => {
    const app = await newApp();
    await app.pair(offerUrl({ exp: Date.now() + 170_000, brokers: [WS1] }));
    app.cancelPairing();
    expect(app.state().pairing).toEqual({ kind: 'idle' });
  });
});
