// The replay window of §8: exact semantics and its JSON form.
/// <reference types="node" />
import { describe, expect, it } from 'vitest';
import { MSG_ID_CACHE_MAX, ReplayWindow } from '../src/proto/replay.js';

const NOW = 1_700_000_000_000;
let counter = 0;
const id = () => {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(0, ++counter);
  return b;
};

describe('the replay window', () => {
  it('refuses seq zero', () => expect(new ReplayWindow().accept(0, NOW, id(), NOW)).toBe('invalid_seq'));

  it('accepts out-of-order seqs inside the 128-entry window exactly once', () => {
    const w = new ReplayWindow();
    for (const s of [10, 3, 7, 130]) expect(w.accept(s, NOW, id(), NOW)).toBe('accept');
    expect(w.accept(7, NOW, id(), NOW)).toBe('duplicate');
    expect(w.accept(3, NOW, id(), NOW)).toBe('duplicate'); // 130-3 = 127: still inside
  });

  it('treats a seq exactly 128 below the highest as too old', () => {
    const w = new ReplayWindow();
    w.accept(200, NOW, id(), NOW);
    expect(w.check(72, NOW, id(), NOW)).toBe('too_old');
    expect(w.check(73, NOW, id(), NOW)).toBe('accept');
    w.accept(73, NOW, id(), NOW);
    expect(w.check(73, NOW, id(), NOW)).toBe('duplicate');
  });

  it('remembers bits across a shift', () => {
    const w = new ReplayWindow();
    w.accept(1, NOW, id(), NOW);
    w.accept(100, NOW, id(), NOW);
    expect(w.check(1, NOW, id(), NOW)).toBe('duplicate');
    w.accept(129, NOW, id(), NOW); // 129-1 = 128: out of the window
    expect(w.check(1, NOW, id(), NOW)).toBe('too_old');
    expect(w.check(100, NOW, id(), NOW)).toBe('duplicate');
  });

  it('drops a known msg_id as a duplicate even with a fresh seq', () => {
    const w = new ReplayWindow();
    const m = id();
    w.accept(1, NOW, m, NOW);
    expect(w.check(2, NOW, m, NOW)).toBe('duplicate');
  });

  it('checks duplicates before timestamps, as the protocol orders them', () => {
    const w = new ReplayWindow();
    const m = id();
    w.accept(1, NOW, m, NOW);
    expect(w.check(1, NOW, m, NOW + 10 * 60_000)).toBe('duplicate');
  });

  it('forgets msg_ids older than 120 seconds when recording', () => {
    const w = new ReplayWindow();
    const m = id();
    w.accept(1, NOW, m, NOW);
    w.accept(2, NOW + 120_001, id(), NOW + 120_001);
    expect(w.toJSON().seen.length).toBe(1);
  });

  it('caps the msg_id cache at 4096 entries, oldest evicted first', () => {
    const w = new ReplayWindow();
    const first = id();
    w.accept(1, NOW, first, NOW);
    for (let s = 2; s <= MSG_ID_CACHE_MAX + 1; s++) w.accept(s, NOW, id(), NOW);
    const seen = w.toJSON().seen;
    expect(seen.length).toBe(MSG_ID_CACHE_MAX);
    expect(seen.some(([h]) => h === Buffer.from(first).toString('hex'))).toBe(false);
  });

  it('survives a round trip through plain JSON, so a replay still fails after a restart', () => {
    const w = new ReplayWindow();
    const m = id();
    w.accept(42, NOW, m, NOW);
    w.accept(40, NOW, id(), NOW);
    const back = ReplayWindow.fromJSON(JSON.parse(JSON.stringify(w.toJSON())));
    expect(back.check(42, NOW, id(), NOW)).toBe('duplicate');
    expect(back.check(40, NOW, id(), NOW)).toBe('duplicate');
    expect(back.check(41, NOW, id(), NOW)).toBe('accept');
    expect(back.check(43, NOW, m, NOW)).toBe('duplicate');
  });

  it('refuses a corrupt stored window', () => {
    expect(() => ReplayWindow.fromJSON({ highest: -1, bitmap: '0'.repeat(32), seen: [] })).toThrow();
    expect(() => ReplayWindow.fromJSON({ highest: 1, bitmap: 'zz', seen: [] })).toThrow();
  });
});
