// The phone's pairing state machine against a simulated desktop.
import { describe, expect, it } from 'vitest';
import { loadVector } from './vectors.js';
import { b64uDecode, b64uEncode, hex, utf8 } from '../src/proto/bytes.js';
import { PairChannel } from '../src/proto/channel.js';
import {
  pairKey, pairedChannelKeys, sharedSecret, tokenChannelKeys, transcriptHash, verificationCode,
} from '../src/proto/keys.js';
import { PhonePairing } from '../src/proto/pairing.js';
import { ReplayWindow } from '../src/proto/replay.js';
import { parsePairingUrl } from '../src/proto/url.js';

const d = loadVector('derivation.json');
const u = loadVector('pairing-url.json');
const offer = parsePairingUrl(u.url);
const NOW = u.expires_at_ms - 60_000;
const phoneKeys = { secretKey: hex(d.phone_secret), publicKey: hex(d.phone_public) };
const token = () => PairChannel.pairing('desktop', tokenChannelKeys(offer.token), offer.pairingTopic);

function start(name = 'Pixel 8 (Ana)') {
  const p = PhonePairing.start(offer, name, NOW, phoneKeys);
  if (typeof p === 'string') throw new Error(p);
  return p;
}

/** What the desktop does with the hello: open it under the token, derive K. */
function desktopReceives(p: PhonePairing) {
  const hello = token().open(p.hello.topic, p.hello.bytes, new ReplayWindow(), NOW);
  if (hello.payload.kind !== 'pairing_hello') throw new Error('not a hello');
  const phonePublic = b64uDecode(hello.payload.body.phone_public)!;
  const shared = sharedSecret(hex(d.desktop_secret), phonePublic)!;
  const th = transcriptHash(offer.desktopPublic, phonePublic, offer.pairingTopic, hello.payload.body.device_name);
  const k = pairKey(shared, offer.token, th);
  return { k, name: hello.payload.body.device_name, kChan: PairChannel.pairing('desktop', pairedChannelKeys(k), offer.pairingTopic) };
}

describe('pairing from the phone', () => {
  it('sends a hello on the pairing topic as p2d seq 1 under the token, and shows the same code as the desktop', () => {
    const p = start();
    expect(p.hello.topic).toBe(offer.pairingTopic);
    expect(p.hello.seq).toBe(1);
    const desk = desktopReceives(p);
    expect(desk.name).toBe('Pixel 8 (Ana)');
    expect(hex(d.pair_key)).toEqual(desk.k);
    expect(p.code).toBe(verificationCode(desk.k));
    expect(p.code).toBe(d.verification_code);
  });

  it('ignores its own hello echoed back by the broker', () => {
    const p = start();
    expect(p.handle(p.hello.topic, p.hello.bytes, NOW)).toEqual({ type: 'ignored' });
    expect(p.finished).toBe(false);
  });

  it('is paired by a pairing_accepted sealed under K, keeping the d2p window at seq 1', () => {
    const p = start();
    const { kChan, k } = desktopReceives(p);
    const acc = kChan.seal({ kind: 'pairing_accepted', body: { desktop_name: 'ana-laptop' } }, 1, NOW);
    const ev = p.handle(acc.topic, acc.bytes, NOW);
    expect(ev.type).toBe('paired');
    if (ev.type !== 'paired') return;
    expect(ev.desktop.desktopName).toBe('ana-laptop');
    expect(ev.desktop.k).toEqual(k);
    expect(ev.desktop.brokers).toEqual(u.brokers);
    expect(ev.desktop.d2pWindow.highestSeq).toBe(1);
    // The desktop's first paired message is seq 2, and opens with the same window.
    const desktop = PairChannel.paired('desktop', k, offer.topicPrefix);
    const phone = PairChannel.paired('phone', k, offer.topicPrefix);
    const w = ev.desktop.d2pWindow;
    const m = desktop.seal({ kind: 'heartbeat', body: { interval_s: 30 } }, 2, NOW);
    expect(phone.open(m.topic, m.bytes, w, NOW).payload.kind).toBe('heartbeat');
    const again = desktop.seal({ kind: 'heartbeat', body: { interval_s: 30 } }, 1, NOW);
    expect(() => phone.open(again.topic, again.bytes, w, NOW)).toThrow('duplicate');
  });

  it('refuses a pairing_accepted sealed under the token, so a token holder cannot fake acceptance', () => {
    const p = start();
    const fake = token().seal({ kind: 'pairing_accepted', body: { desktop_name: 'evil' } }, 1, NOW);
    const ev = p.handle(fake.topic, fake.bytes, NOW);
    expect(ev.type).toBe('refused');
    expect(p.finished).toBe(false);
  });

  it('fails with the reason of a pairing_rejected sealed under the token', () => {
    for (const reason of ['user_rejected', 'expired'] as const) {
      const p = start();
      const r = token().seal({ kind: 'pairing_rejected', body: { reason } }, 1, NOW);
      expect(p.handle(r.topic, r.bytes, NOW)).toEqual({ type: 'failed', reason });
      expect(p.finished).toBe(true);
    }
  });

  it('fails as already_used when the desktop answers this phone\'s own hello with already_used', () => {
    const p = start();
    const body = { reason: 'already_used' as const, hello_msg_id: b64uEncode(p.hello.msgId) };
    const r = token().seal({ kind: 'pairing_rejected', body }, 1, NOW);
    expect(p.handle(r.topic, r.bytes, NOW)).toEqual({ type: 'failed', reason: 'already_used' });
    expect(p.finished).toBe(true);
  });

  it('ignores an already_used that names another phone\'s hello, or none, and keeps waiting', () => {
    const p = start();
    const other = b64uEncode(new Uint8Array(16).fill(7));
    for (const [seq, hello_msg_id] of [[1, other], [2, null]] as const) {
      const r = token().seal({ kind: 'pairing_rejected', body: { reason: 'already_used', hello_msg_id } }, seq, NOW);
      expect(p.handle(r.topic, r.bytes, NOW)).toEqual({ type: 'refused', code: 'not_for_us' });
    }
    expect(p.finished).toBe(false);
  });

  it('ignores a pairing_rejected sealed under K', () => {
    const p = start();
    const { kChan } = desktopReceives(p);
    const r = kChan.seal({ kind: 'pairing_rejected', body: { reason: 'user_rejected' } }, 1, NOW);
    expect(p.handle(r.topic, r.bytes, NOW).type).toBe('refused');
    expect(p.finished).toBe(false);
  });

  it('refuses garbage and messages on another topic without ending', () => {
    const p = start();
    expect(p.handle(offer.pairingTopic, utf8('{"hello":1}'), NOW).type).toBe('refused');
    const { kChan } = desktopReceives(p);
    const acc = kChan.seal({ kind: 'pairing_accepted', body: { desktop_name: 'x' } }, 1, NOW);
    expect(p.handle('reins/other', acc.bytes, NOW).type).toBe('refused');
    expect(p.finished).toBe(false);
  });

  it('fails as expired once the offer is 120 s past exp', () => {
    const p = start();
    expect(p.tick(offer.expiresAtMs + 120_000)).toEqual({ type: 'ignored' });
    expect(p.tick(offer.expiresAtMs + 120_001)).toEqual({ type: 'failed', reason: 'expired' });
  });

  it('refuses to start with an expired offer, a bad device name, or a low-order desktop key', () => {
    expect(PhonePairing.start(offer, 'x', offer.expiresAtMs + 120_001, phoneKeys)).toBe('expired');
    expect(PhonePairing.start(offer, '  ', NOW, phoneKeys)).toBe('bad_name');
    expect(PhonePairing.start(offer, 'a\nb', NOW, phoneKeys)).toBe('bad_name');
    expect(PhonePairing.start(offer, 'x'.repeat(65), NOW, phoneKeys)).toBe('bad_name');
    expect(PhonePairing.start({ ...offer, desktopPublic: new Uint8Array(32) }, 'x', NOW, phoneKeys)).toBe('bad_desktop_key');
  });

  it('uses a fresh X25519 key for each pairing', () => {
    const pub = (p: PhonePairing) => {
      const h = token().open(p.hello.topic, p.hello.bytes, new ReplayWindow(), NOW).payload;
      return h.kind === 'pairing_hello' ? h.body.phone_public : '';
    };
    const a = PhonePairing.start(offer, 'x', NOW) as PhonePairing;
    const b = PhonePairing.start(offer, 'x', NOW) as PhonePairing;
    expect(pub(a)).not.toBe(pub(b));
  });
});
