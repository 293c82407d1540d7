// The pairing URL (protocol §9.1): strict parsing of the fragment
// `v=1&pk=..&tok=..&t=..&tp=..&exp=..&b=..`, and the expiry rule evaluated
// at a caller-supplied `now`. `+` is a literal plus, never a space.
// Not here: building URLs (the desktop does), QR scanning, or pairing itself.

import { b64uDecodeLen, utf8Decode } from './bytes.js';
import { validTopicPrefix } from './channel.js';
import { MAX_SKEW_MS } from './replay.js';

export const MAX_OFFER_TTL_MS = 180_000;
export const MAX_BROKERS = 4;
const MAX_FIELD_BYTES = 256;

export interface PairingOffer {
  desktopPublic: Uint8Array;
  token: Uint8Array;
  pairingTopic: string;
  topicPrefix: string;
  expiresAtMs: number;
  brokers: string[];
}

export class OfferError extends Error {
  constructor(readonly code: 'malformed' | 'unsupported_version' | 'field' | 'invalid', readonly field = '') {
    super(field ? `${code}: ${field}` : code);
  }
}

function pctDecode(s: string): string | null {
  const out: number[] = [];
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(h)) return null;
      out.push(parseInt(h, 16));
      i += 3;
    } else {
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      out.push(...new TextEncoder().encode(ch));
      i += ch.length;
    }
  }
  return utf8Decode(Uint8Array.from(out));
}

const byteLen = (s: string) => new TextEncoder().encode(s).length;

function validBrokers(brokers: string[]): boolean {
  if (brokers.length < 1 || brokers.length > MAX_BROKERS) return false;
  return brokers.every(
    (b) =>
      ['mqtt://', 'mqtts://', 'ws://', 'wss://'].some((p) => b.startsWith(p)) &&
      byteLen(b) <= MAX_FIELD_BYTES &&
      !/[\u0000-\u001f\u007f-\u009f]/.test(b),
  );
}

/** Parses a full pairing URL (it must contain `#`). Throws OfferError. */
export function parsePairingUrl(url: string): PairingOffer {
  const hash = url.indexOf('#');
  if (hash < 0) throw new OfferError('malformed', 'no fragment');
  const frag = url.slice(hash + 1);
  if (frag.length > 4096) throw new OfferError('malformed', 'too long');
  const one: Record<string, string | undefined> = {};
  const brokers: string[] = [];
  for (const pair of frag.split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new OfferError('malformed', 'key=value');
    const k = pair.slice(0, eq);
    const val = pctDecode(pair.slice(eq + 1));
    if (val === null) throw new OfferError('malformed', 'percent-encoding');
    if (k === 'b') brokers.push(val);
    else if (['v', 'pk', 'tok', 't', 'tp', 'exp'].includes(k)) {
      if (one[k] !== undefined) throw new OfferError('field', k);
      one[k] = val;
    }
  }
  if (one.v === undefined) throw new OfferError('field', 'v');
  if (one.v !== '1') throw new OfferError('unsupported_version', one.v.slice(0, 8));
  if (one.pk === undefined) throw new OfferError('field', 'pk');
  const desktopPublic = b64uDecodeLen(one.pk, 32);
  if (!desktopPublic) throw new OfferError('invalid', 'pk');
  if (one.tok === undefined) throw new OfferError('field', 'tok');
  const token = b64uDecodeLen(one.tok, 16);
  if (!token) throw new OfferError('invalid', 'tok');
  const topicPrefix = one.tp ?? '';
  if (!validTopicPrefix(topicPrefix)) throw new OfferError('invalid', 'tp');
  const t = one.t;
  if (t === undefined) throw new OfferError('field', 't');
  if (t === '' || t.length > MAX_FIELD_BYTES || !/^[A-Za-z0-9_/-]+$/.test(t)) throw new OfferError('invalid', 't');
  const exp = one.exp;
  if (exp === undefined) throw new OfferError('field', 'exp');
  if (!/^[0-9]{1,16}$/.test(exp) || Number(exp) > Number.MAX_SAFE_INTEGER) throw new OfferError('invalid', 'exp');
  if (brokers.length === 0) throw new OfferError('field', 'b');
  if (!validBrokers(brokers)) throw new OfferError('invalid', 'b');
  return { desktopPublic, token, pairingTopic: t, topicPrefix, expiresAtMs: Number(exp), brokers };
}

/** True when the offer may still be used at `nowMs` (§9.1, with 120 s of skew). */
export function offerTimeOk(offer: PairingOffer, nowMs: number): boolean {
  if (nowMs > offer.expiresAtMs + MAX_SKEW_MS) return false;
  if (offer.expiresAtMs > nowMs + MAX_OFFER_TTL_MS + MAX_SKEW_MS) return false;
  return true;
}
