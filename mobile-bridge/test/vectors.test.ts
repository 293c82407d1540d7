// Every case in docs/test-vectors, byte for byte.
import { describe, expect, it } from 'vitest';
import { loadVector } from './vectors.js';
import { b64uEncode, hex, hexEncode, utf8 } from '../src/proto/bytes.js';
import {
  pairKey, pairedChannelKeys, publicKeyOf, sharedSecret, tokenChannelKeys, transcriptHash, verificationCode, ChannelKeys,
} from '../src/proto/keys.js';
import { Header, Kind, OpenError, aad, encodeWire, open, seal } from '../src/proto/envelope.js';
import { PairChannel } from '../src/proto/channel.js';
import { decodeBody, encodeBody } from '../src/proto/payload.js';
import { ReplayWindow } from '../src/proto/replay.js';
import { parsePairingUrl } from '../src/proto/url.js';

const d = loadVector('derivation.json');
const envs = loadVector('envelopes.json');
const rej = loadVector('rejections.json');
const url = loadVector('pairing-url.json');

function keysAsHex(k: ChannelKeys) {
  return {
    d2p_key: hexEncode(k.d2pKey), p2d_key: hexEncode(k.p2dKey), pairing_id: hexEncode(k.pairingId),
    desktop_sender: hexEncode(k.desktopSender), phone_sender: hexEncode(k.phoneSender),
    d2p_topic_id: k.d2pTopicId, p2d_topic_id: k.p2dTopicId,
    d2p_presence_topic_id: k.d2pPresenceTopicId, p2d_presence_topic_id: k.p2dPresenceTopicId,
  };
}

describe('derivation.json', () => {
  it('the public keys follow from the secret keys', () => {
    expect(hexEncode(publicKeyOf(hex(d.desktop_secret)))).toBe(d.desktop_public);
    expect(hexEncode(publicKeyOf(hex(d.phone_secret)))).toBe(d.phone_public);
  });
  it('both sides compute the same X25519 shared secret', () => {
    expect(hexEncode(sharedSecret(hex(d.phone_secret), hex(d.desktop_public))!)).toBe(d.x25519_shared);
    expect(hexEncode(sharedSecret(hex(d.desktop_secret), hex(d.phone_public))!)).toBe(d.x25519_shared);
  });
  it('the transcript hash, K and the verification code match', () => {
    const th = transcriptHash(hex(d.desktop_public), hex(d.phone_public), d.pairing_topic, d.device_name);
    expect(hexEncode(th)).toBe(d.transcript_hash);
    const k = pairKey(hex(d.x25519_shared), hex(d.token), th);
    expect(hexEncode(k)).toBe(d.pair_key);
    expect(verificationCode(k)).toBe(d.verification_code);
  });
  it('every value derived from K matches', () => {
    expect(keysAsHex(pairedChannelKeys(hex(d.pair_key)))).toEqual(d.pair_channel);
  });
  it('every value derived from the token matches', () => {
    expect(keysAsHex(tokenChannelKeys(hex(d.token)))).toEqual(d.pairing_channel_from_token);
  });
  it('a low-order peer key is refused', () => {
    expect(sharedSecret(hex(d.phone_secret), new Uint8Array(32))).toBeNull();
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(sharedSecret(hex(d.phone_secret), one)).toBeNull();
  });
});

function headerOf(h: Record<string, string | number>): Header {
  return {
    pairingId: hex(h.pairing_id as string), sender: hex(h.sender as string), dir: h.dir as 'd2p' | 'p2d',
    kind: h.kind as Kind, seq: h.seq as number, tsMs: h.ts_ms as number,
    msgId: hex(h.msg_id as string), nonce: hex(h.nonce as string),
  };
}

describe('envelopes.json', () => {
  for (const c of envs.cases) {
    it(`seals "${c.name}" to the exact AAD, ciphertext and wire bytes`, () => {
      const h = headerOf(c.header);
      expect(hexEncode(aad(h, c.topic))).toBe(c.aad);
      const env = seal(hex(c.key), h, c.topic, utf8(c.plaintext));
      expect(hexEncode(env.ct)).toBe(c.ct);
      expect(new TextDecoder().decode(encodeWire(env))).toBe(c.wire);
    });
    it(`opens "${c.name}" to the same header and plaintext`, () => {
      const r = open(hex(c.key), c.topic, utf8(c.wire));
      expect(r.header).toEqual(headerOf(c.header));
      expect(new TextDecoder().decode(r.plaintext)).toBe(c.plaintext);
    });
    it(`opens "${c.name}" through the receiving side's channel`, () => {
      const kind = c.header.kind as Kind;
      const receiver = c.header.dir === 'd2p' ? 'phone' : 'desktop';
      const ch =
        kind === 'pairing_hello' || kind === 'pairing_rejected'
          ? PairChannel.pairing(receiver, tokenChannelKeys(hex(d.token)), c.topic)
          : kind === 'pairing_accepted'
            ? PairChannel.pairing(receiver, pairedChannelKeys(hex(d.pair_key)), c.topic)
            : PairChannel.paired(receiver, hex(d.pair_key), 'reins/');
      const inc = ch.open(c.topic, utf8(c.wire), new ReplayWindow(), c.header.ts_ms);
      expect(inc.payload.kind).toBe(kind);
    });
  }
  it('the desktop\'s already_used answer decodes with the hello it names and encodes byte for byte', () => {
    const c = envs.cases.find((x: { header: { kind: string } }) => x.header.kind === 'pairing_rejected')!;
    const hello = envs.cases.find((x: { header: { kind: string } }) => x.header.kind === 'pairing_hello')!;
    const body = decodeBody('pairing_rejected', c.plaintext);
    expect(body.body).toEqual({ reason: 'already_used', hello_msg_id: b64uEncode(hex(hello.header.msg_id)) });
    expect(encodeBody(body)).toBe(c.plaintext);
  });
  it('the phone channel seals the stop-all vector byte for byte', () => {
    const c = envs.cases[0];
    const ch = PairChannel.paired('phone', hex(d.pair_key), 'reins/');
    const out = ch.seal({ kind: 'command', body: { op: 'stop', target: 'all' } }, 1, c.header.ts_ms,
      hex(c.header.msg_id), hex(c.header.nonce));
    expect(out.topic).toBe(c.topic);
    expect(new TextDecoder().decode(out.bytes)).toBe(c.wire);
  });
  it('the phone channel seals the pause-one-agent vector byte for byte', () => {
    const c = envs.cases[1];
    const ch = PairChannel.paired('phone', hex(d.pair_key), 'reins/');
    const out = ch.seal({ kind: 'command', body: { op: 'pause', target: { agent: 'claude-4242-981234' } } }, 2,
      c.header.ts_ms, hex(c.header.msg_id), hex(c.header.nonce));
    expect(new TextDecoder().decode(out.bytes)).toBe(c.wire);
  });
  it('the pairing hello vector carries the phone public key in base64url', () => {
    const c = envs.cases.find((x: { header: { kind: string } }) => x.header.kind === 'pairing_hello');
    expect(JSON.parse(c.plaintext).phone_public).toBe(b64uEncode(hex(d.phone_public)));
  });
});

describe('rejections.json', () => {
  for (const c of rej.cases) {
    it(`refuses "${c.name}" as ${c.error}`, () => {
      let err: unknown;
      try {
        open(hex(c.key), c.topic, utf8(c.wire));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(OpenError);
      expect((err as OpenError).code).toBe(c.error);
    });
  }
});

describe('pairing-url.json', () => {
  it('parses the URL to exactly the given fields', () => {
    const o = parsePairingUrl(url.url);
    expect(hexEncode(o.desktopPublic)).toBe(url.desktop_public);
    expect(hexEncode(o.token)).toBe(url.token);
    expect(o.pairingTopic).toBe(url.pairing_topic);
    expect(o.topicPrefix).toBe(url.topic_prefix);
    expect(o.expiresAtMs).toBe(url.expires_at_ms);
    expect(o.brokers).toEqual(url.brokers);
    expect(url.url.startsWith(url.base + '#')).toBe(true);
  });
});
