// The envelope (protocol §6): exact wire encoding, strict decoding, the AAD,
// and low-level seal/open under one direction key. Errors carry the Rust
// side's error class names so the test vectors can be compared directly.
// Not here: topic/direction/sender checks and the replay window (channel.ts).

import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { b64uDecode, b64uDecodeLen, b64uEncode, concat, isAllZero, u16be, u64be, u8, utf8, utf8Decode } from './bytes.js';
import { JsonValue, isObject, parseStrictJson, uint } from './json.js';

export const MAX_ENVELOPE_BYTES = 65_536;
export const MAX_TOPIC_BYTES = 256;
export const TAG_BYTES = 16;
export const PROTOCOL_VERSION = 1;
export const SUITE = 1;

export type Direction = 'd2p' | 'p2d';
export const KINDS = [
  'agent_snapshot', 'agent_event', 'approval_request', 'approval_resolved', 'approval_decision',
  'command', 'command_ack', 'presence', 'heartbeat', 'pairing_hello', 'pairing_accepted', 'pairing_rejected',
  'alert', 'alert_cleared', 'stop_rechecked',
] as const;
export type Kind = (typeof KINDS)[number];

export function kindAllowed(kind: Kind, dir: Direction): boolean {
  if (kind === 'presence' || kind === 'heartbeat') return true;
  if (kind === 'approval_decision' || kind === 'command' || kind === 'pairing_hello') return dir === 'p2d';
  return dir === 'd2p';
}
export const isPairingKind = (k: Kind): boolean => k.startsWith('pairing_');

export interface Header {
  pairingId: Uint8Array; // 16
  sender: Uint8Array; // 16
  dir: Direction;
  kind: Kind;
  seq: number;
  tsMs: number;
  msgId: Uint8Array; // 16
  nonce: Uint8Array; // 24
}
export interface Envelope {
  header: Header;
  ct: Uint8Array;
}

export type OpenErrorCode =
  | 'too_large' | 'malformed' | 'unsupported_version' | 'unsupported_suite' | 'unknown_kind'
  | 'zero_nonce' | 'topic_too_long' | 'wrong_direction' | 'wrong_pairing' | 'wrong_sender'
  | 'wrong_topic' | 'kind_not_allowed' | 'forged' | 'duplicate' | 'stale' | 'future' | 'too_old'
  | 'invalid_seq' | 'bad_payload';

/** A refused message. `message` never contains the message's contents. */
export class OpenError extends Error {
  constructor(readonly code: OpenErrorCode, detail = '') {
    super(detail ? `${code}: ${detail}` : code);
  }
}

const KEY_ORDER = ['v', 'suite', 'pairing_id', 'sender', 'dir', 'kind', 'seq', 'ts_ms', 'msg_id', 'nonce', 'ct'];

export function aad(h: Header, topic: string): Uint8Array {
  const t = utf8(topic);
  const k = utf8(h.kind);
  return concat(
    utf8('reins/v1/aad'), u8(PROTOCOL_VERSION), u8(SUITE), h.pairingId, h.sender,
    u8(h.dir === 'd2p' ? 1 : 2), u8(k.length), k, u64be(h.seq), u64be(h.tsMs),
    h.msgId, h.nonce, u16be(t.length), t,
  );
}

/** The exact wire bytes: fixed key order, no whitespace. */
export function encodeWire(env: Envelope): Uint8Array {
  const h = env.header;
  const s =
    `{"v":${PROTOCOL_VERSION},"suite":${SUITE},"pairing_id":"${b64uEncode(h.pairingId)}",` +
    `"sender":"${b64uEncode(h.sender)}","dir":"${h.dir}","kind":"${h.kind}","seq":${h.seq},` +
    `"ts_ms":${h.tsMs},"msg_id":"${b64uEncode(h.msgId)}","nonce":"${b64uEncode(h.nonce)}",` +
    `"ct":"${b64uEncode(env.ct)}"}`;
  return utf8(s);
}

const malformed = (why: string) => new OpenError('malformed', why);

/** Strict decoding (§6.1), in the documented order. */
export function parseEnvelope(bytes: Uint8Array): Envelope {
  if (bytes.length > MAX_ENVELOPE_BYTES) throw new OpenError('too_large', String(bytes.length));
  const text = utf8Decode(bytes);
  if (text === null) throw malformed('not UTF-8');
  let obj: JsonValue;
  try {
    obj = parseStrictJson(text);
  } catch {
    throw malformed('not an envelope');
  }
  if (!isObject(obj)) throw malformed('not an envelope');
  // Lenient probe first: a future version is diagnosed as such.
  const v = uint(obj.v, Number.MAX_VALUE);
  const suite = uint(obj.suite, Number.MAX_VALUE);
  if (v === null || suite === null) throw malformed('not an envelope');
  if (v !== PROTOCOL_VERSION) throw new OpenError('unsupported_version', String(v));
  if (suite !== SUITE) throw new OpenError('unsupported_suite', String(suite));
  const keys = Object.keys(obj);
  if (keys.length !== KEY_ORDER.length || !KEY_ORDER.every((k) => k in obj)) throw malformed('bad field set');
  const s = (k: string): string => {
    const x = obj[k];
    if (typeof x !== 'string') throw malformed('bad field set');
    return x;
  };
  const n = (k: string): number => {
    const x = uint(obj[k], Number.MAX_VALUE);
    if (x === null) throw malformed('bad field set');
    return x;
  };
  const [pid, snd, dir, kind, seq, ts, mid, nonceS, ctS] = [
    s('pairing_id'), s('sender'), s('dir'), s('kind'), n('seq'), n('ts_ms'), s('msg_id'), s('nonce'), s('ct'),
  ];
  if (!(KINDS as readonly string[]).includes(kind)) throw new OpenError('unknown_kind');
  if (dir !== 'd2p' && dir !== 'p2d') throw malformed('dir');
  if (seq === 0 || seq > Number.MAX_SAFE_INTEGER || ts > Number.MAX_SAFE_INTEGER) {
    throw malformed('seq or ts_ms out of range');
  }
  const nonce = b64uDecodeLen(nonceS, 24);
  if (!nonce) throw malformed('nonce');
  if (isAllZero(nonce)) throw new OpenError('zero_nonce');
  const ct = b64uDecode(ctS);
  if (!ct) throw malformed('ct');
  if (ct.length < TAG_BYTES) throw malformed('ct shorter than the tag');
  const field16 = (x: string, name: string) => {
    const b = b64uDecodeLen(x, 16);
    if (!b) throw malformed(name);
    return b;
  };
  const header: Header = {
    pairingId: field16(pid, 'pairing_id'),
    sender: field16(snd, 'sender'),
    dir,
    kind: kind as Kind,
    seq,
    tsMs: ts,
    msgId: field16(mid, 'msg_id'),
    nonce,
  };
  return { header, ct };
}

export class SealError extends Error {}

export function seal(key: Uint8Array, header: Header, topic: string, plaintext: Uint8Array): Envelope {
  if (header.seq < 1 || header.seq > Number.MAX_SAFE_INTEGER || !Number.isInteger(header.seq)) {
    throw new SealError('seq out of range');
  }
  if (header.tsMs < 0 || header.tsMs > Number.MAX_SAFE_INTEGER || !Number.isInteger(header.tsMs)) {
    throw new SealError('ts_ms out of range');
  }
  if (utf8(topic).length > MAX_TOPIC_BYTES) throw new SealError('topic too long');
  if (isAllZero(header.nonce)) throw new SealError('refusing an all-zero nonce');
  if (400 + Math.ceil((plaintext.length + TAG_BYTES) / 3) * 4 > MAX_ENVELOPE_BYTES + 400) {
    throw new SealError('too large');
  }
  const ct = xchacha20poly1305(key, header.nonce, aad(header, topic)).encrypt(plaintext);
  const env = { header, ct };
  if (encodeWire(env).length > MAX_ENVELOPE_BYTES) throw new SealError('too large');
  return env;
}

/** AEAD-decrypts a parsed envelope, as received on `topic`. */
export function decrypt(key: Uint8Array, env: Envelope, topic: string): Uint8Array {
  if (utf8(topic).length > MAX_TOPIC_BYTES) throw new OpenError('topic_too_long');
  try {
    return xchacha20poly1305(key, env.header.nonce, aad(env.header, topic)).decrypt(env.ct);
  } catch {
    throw new OpenError('forged');
  }
}

/** Low-level open: parse, then decrypt. No replay or identity checks. */
export function open(key: Uint8Array, topic: string, bytes: Uint8Array): { header: Header; plaintext: Uint8Array } {
  const env = parseEnvelope(bytes);
  return { header: env.header, plaintext: decrypt(key, env, topic) };
}
