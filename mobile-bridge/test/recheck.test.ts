// A stop's recheck on a paired machine: decoded strictly, shown as one line
// whose level says how worried to be, and a verdict this app does not know
// (or a malformed body) is dropped without showing anything.
/// <reference types="node" />
import { IDBFactory } from 'fake-indexeddb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../src/app/types.js';
import { recheckInWords } from '../src/app/words.js';
import { decodeBody, type StopRechecked } from '../src/proto/payload.js';
import { FakeBroker, FakeDesktop, offerUrl } from './fake-broker.js';
import { PAIRING_TOPIC, WS1, flush, freshWorld, openApp, resync } from './app-fixtures.js';

let broker: FakeBroker;
let desk: FakeDesktop;
let factory: IDBFactory;
let logs: string[];
let app: App;

const body = (extra: Partial<StopRechecked> = {}): StopRechecked => ({
  agent_id: 'openclaw-41-900', display_name: 'OpenClaw', project: 'api', after_s: 7,
  verdict: 'still_gone', supervisor: null, ...extra,
});
const unit = 'systemd user unit openclaw-gateway.service';

describe('stop_rechecked codec', () => {
  it('decodes every verdict, with the supervisor and project optional', () => {
    const text = JSON.stringify(body({ verdict: 'respawned_held', supervisor: unit }));
    expect(decodeBody('stop_rechecked', text)).toEqual({
      kind: 'stop_rechecked', body: body({ verdict: 'respawned_held', supervisor: unit }),
    });
    const bare = '{"agent_id":"a-1-2","display_name":"a","after_s":3,"verdict":"respawned","extra":1}';
    expect(decodeBody('stop_rechecked', bare).body).toEqual({
      agent_id: 'a-1-2', display_name: 'a', project: null, after_s: 3, verdict: 'respawned', supervisor: null,
    });
  });

  it('refuses an unknown verdict, a negative delay and a missing agent, naming only the field', () => {
    expect(() => decodeBody('stop_rechecked', JSON.stringify(body({ verdict: 'vanished' as never })))).toThrow('field verdict');
    expect(() => decodeBody('stop_rechecked', JSON.stringify(body({ after_s: -1 })))).toThrow('field after_s');
    expect(() => decodeBody('stop_rechecked', '{"display_name":"x","after_s":1,"verdict":"still_gone"}')).toThrow('field agent_id');
  });
});

describe('stop_rechecked in words', () => {
  it('is calm when the agent stayed gone, a warning when held, an error when it runs', () => {
    expect(recheckInWords(body())).toEqual({ level: 'ok', text: 'OpenClaw · api: still gone 7 s later' });
    expect(recheckInWords(body({ verdict: 'respawned_held', supervisor: unit }))).toEqual({
      level: 'warn', text: `OpenClaw · api: respawned by ${unit}, held frozen`,
    });
    expect(recheckInWords(body({ verdict: 'respawned', supervisor: 'bash (pid 12)', project: null }))).toEqual({
      level: 'error', text: 'OpenClaw: respawned by bash (pid 12) and RUNNING',
    });
  });

  it('names the agent by its id when it has no name, and an unnamed supervisor as something', () => {
    expect(recheckInWords(body({ display_name: ' ', project: null, verdict: 'respawned', supervisor: null })).text)
      .toBe('openclaw-41-900: respawned by something and RUNNING');
  });
});

describe('stop_rechecked on a paired machine', () => {
  beforeEach(async () => {
    ({ broker, desk, factory, logs } = freshWorld());
    app = await openApp({ broker, desk, factory, logs });
    await app.pair(offerUrl({ exp: Date.now() + 170_000, brokers: [WS1] }));
    await flush();
    desk.receiveHello(PAIRING_TOPIC, Date.now());
    desk.accept(PAIRING_TOPIC, Date.now());
    await flush();
    resync(desk);
    await flush();
  });

  it('shows each recheck as one message with its level', async () => {
    desk.send({ kind: 'stop_rechecked', body: body() }, Date.now());
    desk.send({ kind: 'stop_rechecked', body: body({ verdict: 'respawned_held', supervisor: unit }) }, Date.now());
    await flush();
    expect(app.state().toasts.map((t) => [t.level, t.text])).toEqual([
      ['ok', 'OpenClaw · api: still gone 7 s later'],
      ['warn', `OpenClaw · api: respawned by ${unit}, held frozen`],
    ]);
  });

  it('drops a recheck with a verdict it does not know and changes nothing', async () => {
    const before = app.state();
    desk.sendRaw('stop_rechecked', JSON.stringify(body({ verdict: 'teleported' as never })), Date.now());
    await flush();
    expect(app.state().toasts).toEqual([]);
    expect(app.state().alerts).toEqual(before.alerts);
    expect(app.state().machines).toEqual(before.machines);
  });
});
