// PairChannel.open: the 12 checks of §6.3, tampering, replays and time.
import { describe, expect, it } from 'vitest';
import { loadVector } from './vectors.js';
import { b64uDecode, b64uEncode, hex, utf8 } from '../src/proto/bytes.js';
import { OpenError, parseEnvelope } from '../src/proto/envelope.js';
import { PairChannel } from '../src/proto/channel.js';
import { Payload } from '../src/proto/payload.js';
import { ReplayWindow } from '../src/proto/replay.js';

const d = loadVector('derivation.json');
const K = hex(d.pair_key);
const NOW = 1_700_000_000_000;
const desktop = PairChannel.paired('desktop', K, 'reins/');
const phone = PairChannel.paired('phone', K, 'reins/');
const hb: Payload = { kind: 'heartbeat', body: { interval_s: 30 } };

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof OpenError ? e.code : `other: ${(e as Error).message}`;
  }
  return 'opened';
}
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const open = (topic: string, bytes: Uint8Array | string, w = new ReplayWindow(), now = NOW) =>
  codeOf(() => phone.open(topic, typeof bytes === 'string' ? utf8(bytes) : bytes, w, now));

describe('opening a desktop message on the phone', () => {
  it('accepts an authentic message once and drops its redelivery as a duplicate', () => {
    const m = desktop.seal(hb, 1, NOW);
    const w = new ReplayWindow();
    expect(open(m.topic, m.bytes, w)).toBe('opened');
    expect(open(m.topic, m.bytes, w)).toBe('duplicate');
  });

  it('refuses the wire after any single bit flip in any byte', () => {
    const m = desktop.seal(hb, 1, NOW);
    for (let i = 0; i < m.bytes.length; i++) {
      for (const bit of [0, 3, 6]) {
        const t = m.bytes.slice();
        t[i] = t[i]! ^ (1 << bit);
        const c = open(m.topic, t);
        expect(c, `byte ${i} bit ${bit}`).not.toBe('opened');
      }
    }
  });

  it('refuses a message moved to another topic', () => {
    const m = desktop.seal(hb, 1, NOW);
    expect(open('reins/00000000000000000000000000000000', m.bytes)).toBe('wrong_topic');
  });

  it('refuses a reflection of its own message as the wrong direction', () => {
    const m = phone.seal(hb, 1, NOW);
    // Even delivered on the phone's receive topic, the direction gives it away.
    expect(open(phone.recvTopic, m.bytes)).toBe('wrong_direction');
  });

  it('refuses a message of another pair', () => {
    const other = PairChannel.paired('desktop', new Uint8Array(32).fill(7), 'reins/');
    const m = other.seal(hb, 1, NOW);
    expect(open(m.topic, m.bytes)).toBe('wrong_topic');
    expect(open(phone.recvTopic, m.bytes)).toBe('wrong_pairing');
    const env = JSON.parse(text(desktop.seal(hb, 1, NOW).bytes));
    env.pairing_id = JSON.parse(text(m.bytes)).pairing_id;
    expect(open(phone.recvTopic, JSON.stringify(env))).toBe('wrong_pairing');
  });

  it('refuses a message whose sender is not the desktop', () => {
    const env = JSON.parse(text(desktop.seal(hb, 1, NOW).bytes));
    env.sender = 'AAAAAAAAAAAAAAAAAAAAAA';
    expect(open(phone.recvTopic, JSON.stringify(env))).toBe('wrong_sender');
  });

  it('refuses a pairing kind on the paired channel', () => {
    const m = desktop.sealRaw('pairing_accepted', utf8('{"desktop_name":"x"}'), 1, NOW, new Uint8Array(16).fill(1), new Uint8Array(24).fill(1));
    expect(open(m.topic, m.bytes)).toBe('kind_not_allowed');
  });

  it('refuses a kind that only the phone may send', () => {
    const m = desktop.sealRaw('command', utf8('{"op":"stop","target":"all"}'), 1, NOW, new Uint8Array(16).fill(1), new Uint8Array(24).fill(1));
    expect(open(m.topic, m.bytes)).toBe('kind_not_allowed');
  });

  it('refuses stale and future timestamps beyond 120 seconds', () => {
    expect(open(phone.recvTopic, desktop.seal(hb, 1, NOW - 120_001).bytes)).toBe('stale');
    expect(open(phone.recvTopic, desktop.seal(hb, 1, NOW + 120_001).bytes)).toBe('future');
    expect(open(phone.recvTopic, desktop.seal(hb, 1, NOW - 120_000).bytes)).toBe('opened');
    expect(open(phone.recvTopic, desktop.seal(hb, 1, NOW + 120_000).bytes)).toBe('opened');
  });

  it('refuses a replay with a new msg_id but an old seq, and a seq below the window', () => {
    const w = new ReplayWindow();
    expect(open(phone.recvTopic, desktop.seal(hb, 5, NOW).bytes, w)).toBe('opened');
    expect(open(phone.recvTopic, desktop.seal(hb, 5, NOW).bytes, w)).toBe('duplicate');
    expect(open(phone.recvTopic, desktop.seal(hb, 200, NOW).bytes, w)).toBe('opened');
    expect(open(phone.recvTopic, desktop.seal(hb, 72, NOW).bytes, w)).toBe('too_old');
    expect(open(phone.recvTopic, desktop.seal(hb, 73, NOW).bytes, w)).toBe('opened');
  });

  it('changes no replay state when authentication fails', () => {
    const m = desktop.seal(hb, 9, NOW);
    const env = JSON.parse(text(m.bytes));
    const ct = b64uDecode(env.ct)!;
    ct[0] = ct[0]! ^ 1;
    const forged = JSON.stringify({ ...env, ct: b64uEncode(ct) });
    const w = new ReplayWindow();
    expect(open(m.topic, forged, w)).toBe('forged');
    expect(w.toJSON()).toEqual(new ReplayWindow().toJSON());
    expect(open(m.topic, m.bytes, w)).toBe('opened');
  });

  it('consumes the seq of an authentic message with a bad body', () => {
    const m = desktop.sealRaw('heartbeat', utf8('{"interval_s":"30"}'), 3, NOW, new Uint8Array(16).fill(2), new Uint8Array(24).fill(2));
    const w = new ReplayWindow();
    expect(open(m.topic, m.bytes, w)).toBe('bad_payload');
    expect(w.highestSeq).toBe(3);
    expect(open(m.topic, m.bytes, w)).toBe('duplicate');
  });

  it('refuses anything over 65,536 bytes before parsing it', () => {
    const big = new Uint8Array(65_537).fill(0x20);
    expect(open(phone.recvTopic, big)).toBe('too_large');
  });

  it('refuses duplicated, missing and unknown envelope keys', () => {
    const wire = text(desktop.seal(hb, 1, NOW).bytes);
    expect(open(phone.recvTopic, wire.replace('{"v":1,', '{"v":1,"v":1,'))).toBe('malformed');
    expect(open(phone.recvTopic, wire.replace('"dir":"d2p",', '"dir":"d2p","dir":"d2p",'))).toBe('malformed');
    expect(open(phone.recvTopic, wire.replace('"dir":"d2p",', ''))).toBe('malformed');
    expect(open(phone.recvTopic, wire.replace('{"v":1,', '{"v":1,"x":0,'))).toBe('malformed');
  });

  it('refuses integers written as 1.0 or 1e0, and seq zero or above 2^53-1', () => {
    const wire = text(desktop.seal(hb, 1, NOW).bytes);
    expect(open(phone.recvTopic, wire.replace('"seq":1,', '"seq":1.0,'))).toBe('malformed');
    expect(open(phone.recvTopic, wire.replace('"seq":1,', '"seq":1e0,'))).toBe('malformed');
    expect(open(phone.recvTopic, wire.replace('"seq":1,', '"seq":0,'))).toBe('malformed');
    expect(open(phone.recvTopic, wire.replace('"seq":1,', '"seq":9007199254740992,'))).toBe('malformed');
    expect(open(phone.recvTopic, wire.replace('"v":1,', '"v":1.0,'))).toBe('malformed');
  });

  it('reports an unknown version before looking at the other fields', () => {
    expect(open(phone.recvTopic, '{"v":2,"suite":1,"whatever":true}')).toBe('unsupported_version');
    expect(open(phone.recvTopic, '{"v":1,"suite":9}')).toBe('unsupported_suite');
  });

  it('accepts whitespace and any key order on receipt', () => {
    const env = JSON.parse(text(desktop.seal(hb, 1, NOW).bytes));
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(env).reverse()), null, 1);
    expect(open(phone.recvTopic, reordered)).toBe('opened');
  });

  it('refuses an all-zero nonce and a ct shorter than the tag', () => {
    const env = JSON.parse(text(desktop.seal(hb, 1, NOW).bytes));
    expect(open(phone.recvTopic, JSON.stringify({ ...env, nonce: 'A'.repeat(32) }))).toBe('zero_nonce');
    expect(open(phone.recvTopic, JSON.stringify({ ...env, ct: 'AAAA' }))).toBe('malformed');
    expect(() => parseEnvelope(utf8(JSON.stringify(env)))).not.toThrow();
  });
});
