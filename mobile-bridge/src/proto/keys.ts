// Key derivation (protocol §3, §4): X25519 with the all-zero check, the
// pairing transcript hash, the pair key K, the 6-digit code, and the channel
// values for a paired root (K) or a pairing root (the token).
// Not here: storing keys, or choosing which root a message uses.

import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, hexEncode, isAllZero, u16be, utf8 } from './bytes.js';

export const PAIR_SALT = 'reins/v1/pair';
export const PAIRING_SALT = 'reins/v1/pairing';

export interface ChannelKeys {
  d2pKey: Uint8Array;
  p2dKey: Uint8Array;
  pairingId: Uint8Array;
  desktopSender: Uint8Array;
  phoneSender: Uint8Array;
  d2pTopicId: string;
  p2dTopicId: string;
  d2pPresenceTopicId: string;
  p2dPresenceTopicId: string;
}

export function hkdfSha256(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, len: number): Uint8Array {
  return hkdf(sha256, ikm, salt, info, len);
}

export function generateKeyPair(): { secretKey: Uint8Array; publicKey: Uint8Array } {
  return x25519.keygen();
}

export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secretKey);
}

/** X25519; null for a low-order or otherwise unusable peer key (all-zero result). */
export function sharedSecret(ownSecret: Uint8Array, peerPublic: Uint8Array): Uint8Array | null {
  if (peerPublic.length !== 32 || ownSecret.length !== 32) return null;
  let s: Uint8Array;
  try {
    s = x25519.getSharedSecret(ownSecret, peerPublic);
  } catch {
    return null; // noble refuses the all-zero result itself
  }
  return isAllZero(s) ? null : s;
}

export function transcriptHash(
  desktopPublic: Uint8Array,
  phonePublic: Uint8Array,
  pairingTopic: string,
  deviceName: string,
): Uint8Array {
  const t = utf8(pairingTopic);
  const n = utf8(deviceName);
  return sha256(
    concat(utf8('reins/v1/transcript'), desktopPublic, phonePublic, u16be(t.length), t, u16be(n.length), n),
  );
}

export function pairKey(shared: Uint8Array, token: Uint8Array, th: Uint8Array): Uint8Array {
  return hkdfSha256(token, shared, th, 32);
}

/** Six digits, zero-padded. */
export function verificationCode(k: Uint8Array): string {
  const b = hkdfSha256(utf8(PAIR_SALT), k, utf8('code'), 4);
  const n = new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  return String(n % 1_000_000).padStart(6, '0');
}

function derive(root: Uint8Array, salt: string): ChannelKeys {
  const s = utf8(salt);
  const d = (label: string, len: number) => hkdfSha256(s, root, utf8(label), len);
  return {
    d2pKey: d('d2p key', 32),
    p2dKey: d('p2d key', 32),
    pairingId: d('pairing id', 16),
    desktopSender: d('desktop sender', 16),
    phoneSender: d('phone sender', 16),
    d2pTopicId: hexEncode(d('d2p topic', 16)),
    p2dTopicId: hexEncode(d('p2d topic', 16)),
    d2pPresenceTopicId: hexEncode(d('d2p presence topic', 16)),
    p2dPresenceTopicId: hexEncode(d('p2d presence topic', 16)),
  };
}

/** Channel values of a paired channel (root K). */
export const pairedChannelKeys = (k: Uint8Array): ChannelKeys => derive(k, PAIR_SALT);
/** Channel values used during pairing (root = the token). */
export const tokenChannelKeys = (token: Uint8Array): ChannelKeys => derive(token, PAIRING_SALT);
