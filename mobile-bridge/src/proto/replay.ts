// The replay window (protocol §8): highest accepted seq, a 128-entry bitmap
// below it, and the msg_ids seen in the last 120 s (at most 4096). `check` is
// read-only; `accept` records. Serializes to plain JSON for IndexedDB.
// Not here: persistence itself (the caller stores `toJSON()` before acting).

import { hexEncode } from './bytes.js';

export const REPLAY_WINDOW = 128;
export const MAX_SKEW_MS = 120_000;
export const MSG_ID_CACHE_MAX = 4096;

export type ReplayVerdict = 'accept' | 'duplicate' | 'stale' | 'future' | 'too_old' | 'invalid_seq';

export interface ReplayWindowJson {
  highest: number;
  /** The 128-bit bitmap as 32 lowercase hex digits; bit 0 = `highest`. */
  bitmap: string;
  /** [hex msg_id, ts_ms], oldest first. */
  seen: [string, number][];
}

const MASK128 = (1n << 128n) - 1n;

export class ReplayWindow {
  private highest = 0;
  private bits = 0n;
  private seen: { id: string; tsMs: number }[] = [];

  static fromJSON(j: ReplayWindowJson): ReplayWindow {
    const w = new ReplayWindow();
    if (!Number.isSafeInteger(j.highest) || j.highest < 0 || !/^[0-9a-f]{32}$/.test(j.bitmap)) {
      throw new Error('corrupt replay window');
    }
    w.highest = j.highest;
    w.bits = BigInt('0x' + j.bitmap);
    w.seen = j.seen.map(([id, tsMs]) => ({ id, tsMs }));
    return w;
  }

  toJSON(): ReplayWindowJson {
    return {
      highest: this.highest,
      bitmap: this.bits.toString(16).padStart(32, '0'),
      seen: this.seen.map((s) => [s.id, s.tsMs]),
    };
  }

  clone(): ReplayWindow {
    return ReplayWindow.fromJSON(this.toJSON());
  }

  get highestSeq(): number {
    return this.highest;
  }

  check(seq: number, tsMs: number, msgId: Uint8Array, nowMs: number): ReplayVerdict {
    if (seq === 0) return 'invalid_seq';
    if (seq <= this.highest) {
      const back = this.highest - seq;
      if (back < REPLAY_WINDOW && (this.bits >> BigInt(back)) & 1n) return 'duplicate';
    }
    const id = hexEncode(msgId);
    if (this.seen.some((s) => s.id === id)) return 'duplicate';
    if (tsMs + MAX_SKEW_MS < nowMs) return 'stale';
    if (tsMs > nowMs + MAX_SKEW_MS) return 'future';
    if (seq <= this.highest && this.highest - seq >= REPLAY_WINDOW) return 'too_old';
    return 'accept';
  }

  accept(seq: number, tsMs: number, msgId: Uint8Array, nowMs: number): ReplayVerdict {
    const verdict = this.check(seq, tsMs, msgId, nowMs);
    if (verdict !== 'accept') return verdict;
    if (seq > this.highest) {
      const shift = seq - this.highest;
      const shifted = shift >= REPLAY_WINDOW ? 0n : (this.bits << BigInt(shift)) & MASK128;
      this.bits = shifted | 1n;
      this.highest = seq;
    } else {
      this.bits |= 1n << BigInt(this.highest - seq);
    }
    this.seen = this.seen.filter((s) => s.tsMs + MAX_SKEW_MS >= nowMs);
    if (this.seen.length >= MSG_ID_CACHE_MAX) this.seen.shift();
    this.seen.push({ id: hexEncode(msgId), tsMs });
    return 'accept';
  }
}


