// Byte helpers: strict unpadded base64url, lowercase hex, UTF-8, big-endian
// integers, concatenation and randomness. Strict means every byte string has
// exactly one accepted encoding (protocol §2). Not a general codec library.

const B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64U_INDEX: Int16Array = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64U.length; i++) t[B64U.charCodeAt(i)] = i;
  return t;
})();

/** Unpadded base64url (RFC 4648 §5). */
export function b64uEncode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64U[n >> 18]! + B64U[(n >> 12) & 63]! + B64U[(n >> 6) & 63]! + B64U[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64U[n >> 18]! + B64U[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64U[n >> 18]! + B64U[(n >> 12) & 63]! + B64U[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Strict unpadded base64url. Returns null for padding, `+` `/`, whitespace,
 * any other character, an impossible length, or non-zero trailing bits.
 */
export function b64uDecode(s: string): Uint8Array | null {
  if (s.length % 4 === 1) return null;
  const vals = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? B64U_INDEX[c]! : -1;
    if (v < 0) return null;
    vals[i] = v;
  }
  const full = Math.floor(s.length / 4);
  const rest = s.length % 4;
  const out = new Uint8Array(full * 3 + (rest === 0 ? 0 : rest - 1));
  let o = 0;
  for (let i = 0; i < full * 4; i += 4) {
    const n = (vals[i]! << 18) | (vals[i + 1]! << 12) | (vals[i + 2]! << 6) | vals[i + 3]!;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  const i = full * 4;
  if (rest === 2) {
    if (vals[i + 1]! & 15) return null; // non-canonical trailing bits
    out[o] = (vals[i]! << 2) | (vals[i + 1]! >> 4);
  } else if (rest === 3) {
    if (vals[i + 2]! & 3) return null;
    const n = (vals[i]! << 12) | (vals[i + 1]! << 6) | vals[i + 2]!;
    out[o++] = n >> 10;
    out[o] = (n >> 2) & 255;
  }
  return out;
}

/** Strict base64url of exactly `len` bytes, or null. */
export function b64uDecodeLen(s: string, len: number): Uint8Array | null {
  const b = b64uDecode(s);
  return b !== null && b.length === len ? b : null;
}

export function hexEncode(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Lowercase or uppercase hex, even length; null otherwise. */
export function hexDecode(s: string): Uint8Array | null {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return null;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Hex decode that throws: for constants and test vectors. */
export function hex(s: string): Uint8Array {
  const b = hexDecode(s);
  if (!b) throw new Error('bad hex');
  return b;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
export const utf8 = (s: string): Uint8Array => enc.encode(s);
/** Strict UTF-8 decode; null on invalid bytes. */
export function utf8Decode(b: Uint8Array): string | null {
  try {
    return dec.decode(b);
  } catch {
    return null;
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const u8 = (n: number): Uint8Array => Uint8Array.of(n & 255);
export const u16be = (n: number): Uint8Array => Uint8Array.of((n >> 8) & 255, n & 255);
export function u64be(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export const isAllZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

export function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  globalThis.crypto.getRandomValues(b);
  return b;
}
