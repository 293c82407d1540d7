// One side of a channel between a desktop and a phone: its keys and topics,
// `seal` (caller supplies the seq it already persisted) and `open`, which
// runs the 12 checks of protocol §6.3 in order against a replay window the
// caller persists afterwards. Not here: MQTT, storage, app decisions.

import { bytesEqual, randomBytes, utf8, utf8Decode } from './bytes.js';
import {
  Direction, Header, Kind, MAX_ENVELOPE_BYTES, MAX_TOPIC_BYTES, OpenError, decrypt, encodeWire,
  isPairingKind, kindAllowed, parseEnvelope, seal,
} from './envelope.js';
import { ChannelKeys, pairedChannelKeys } from './keys.js';
import { Payload, decodeBody, encodeBody } from './payload.js';
import { ReplayWindow } from './replay.js';

export type Role = 'desktop' | 'phone';
const sendDir = (r: Role): Direction => (r === 'desktop' ? 'd2p' : 'p2d');
const recvDir = (r: Role): Direction => (r === 'desktop' ? 'p2d' : 'd2p');

export function validTopicPrefix(p: string): boolean {
  return p.length <= 64 && /^[A-Za-z0-9_/-]*$/.test(p) && (p === '' || p.endsWith('/'));
}

export interface Outgoing {
  topic: string;
  bytes: Uint8Array;
  msgId: Uint8Array;
  seq: number;
}
export interface Incoming {
  header: Header;
  payload: Payload;
}

export class PairChannel {
  private constructor(
    readonly role: Role,
    readonly keys: ChannelKeys,
    readonly sendTopic: string,
    readonly recvTopic: string,
    private readonly pairingKinds: boolean,
  ) {}

  /** A paired channel under K. */
  static paired(role: Role, k: Uint8Array, topicPrefix: string): PairChannel {
    if (!validTopicPrefix(topicPrefix)) throw new Error('invalid topic prefix');
    const keys = pairedChannelKeys(k);
    const d2p = topicPrefix + keys.d2pTopicId;
    const p2d = topicPrefix + keys.p2dTopicId;
    return role === 'desktop'
      ? new PairChannel(role, keys, d2p, p2d, false)
      : new PairChannel(role, keys, p2d, d2p, false);
  }

  /** A pairing-topic channel (token keys, or K's values for pairing_accepted). */
  static pairing(role: Role, keys: ChannelKeys, pairingTopic: string): PairChannel {
    return new PairChannel(role, keys, pairingTopic, pairingTopic, true);
  }

  get pairingId(): Uint8Array {
    return this.keys.pairingId;
  }

  private kindOk(kind: Kind, dir: Direction): boolean {
    return kindAllowed(kind, dir) && isPairingKind(kind) === this.pairingKinds;
  }

  private senderOf(r: Role): Uint8Array {
    return r === 'desktop' ? this.keys.desktopSender : this.keys.phoneSender;
  }

  /** Seals with a seq the caller has already persisted. */
  seal(payload: Payload, seq: number, nowMs: number, msgId = randomBytes(16), nonce = randomBytes(24)): Outgoing {
    if (!this.kindOk(payload.kind, sendDir(this.role))) throw new Error(`${payload.kind} may not be sent here`);
    return this.sealRaw(payload.kind, utf8(encodeBody(payload)), seq, nowMs, msgId, nonce);
  }

  /** Seals exact plaintext bytes (test vectors). */
  sealRaw(kind: Kind, plaintext: Uint8Array, seq: number, tsMs: number, msgId: Uint8Array, nonce: Uint8Array): Outgoing {
    const header: Header = {
      pairingId: this.keys.pairingId, sender: this.senderOf(this.role), dir: sendDir(this.role),
      kind, seq, tsMs, msgId, nonce,
    };
    const key = this.role === 'desktop' ? this.keys.d2pKey : this.keys.p2dKey;
    const env = seal(key, header, this.sendTopic, plaintext);
    return { topic: this.sendTopic, bytes: encodeWire(env), msgId, seq };
  }

  /**
   * The single entry point for untrusted bytes. `replay` is updated only
   * once the message authenticates (step 11); a bad body still consumes
   * its seq (step 12) and throws 'bad_payload' after the window changed.
   */
  open(topic: string, bytes: Uint8Array, replay: ReplayWindow, nowMs: number): Incoming {
    if (utf8(topic).length > MAX_TOPIC_BYTES) throw new OpenError('topic_too_long');
    if (topic !== this.recvTopic) throw new OpenError('wrong_topic'); // 1
    if (bytes.length > MAX_ENVELOPE_BYTES) throw new OpenError('too_large'); // 2
    const env = parseEnvelope(bytes); // 3, 4
    const h = env.header;
    if (h.dir !== recvDir(this.role)) throw new OpenError('wrong_direction'); // 5
    if (!bytesEqual(h.pairingId, this.keys.pairingId)) throw new OpenError('wrong_pairing'); // 6
    const peer: Role = this.role === 'desktop' ? 'phone' : 'desktop';
    if (!bytesEqual(h.sender, this.senderOf(peer))) throw new OpenError('wrong_sender'); // 7
    if (!this.kindOk(h.kind, h.dir)) throw new OpenError('kind_not_allowed', h.kind); // 8
    replayResult(replay.check(h.seq, h.tsMs, h.msgId, nowMs)); // 9 (read-only)
    const key = this.role === 'desktop' ? this.keys.p2dKey : this.keys.d2pKey;
    const plaintext = decrypt(key, env, topic); // 10
    replayResult(replay.accept(h.seq, h.tsMs, h.msgId, nowMs)); // 11
    const text = utf8Decode(plaintext);
    if (text === null) throw new OpenError('bad_payload', 'not UTF-8');
    try {
      return { header: h, payload: decodeBody(h.kind, text) }; // 12
    } catch (e) {
      throw new OpenError('bad_payload', (e as Error).message);
    }
  }
}

function replayResult(v: ReturnType<ReplayWindow['check']>): void {
  if (v !== 'accept') throw new OpenError(v);
}
