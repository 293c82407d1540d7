// The seq reservoir: seqs handed out are strictly increasing, never above
// what is on disk, never reused across a restart, and a primed reservoir
// hands out seqs without waiting for a write.
import { describe, expect, it } from 'vitest';
import { SeqReservoir } from '../src/link/seq.js';

/** A fake disk counter whose writes complete only when we say so. */
function disk() {
  const d = { persisted: 0, writes: 0, pending: [] as (() => void)[] };
  const reserve = (n: number) =>
    new Promise<number>((ok) => {
      d.pending.push(() => {
        d.persisted += n;
        d.writes++;
        ok(d.persisted - n + 1);
      });
    });
  const flushWrites = async () => {
    while (d.pending.length) d.pending.shift()!();
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { d, reserve, flushWrites };
}

describe('SeqReservoir', () => {
  it('hands out strictly increasing seqs that are all on disk already', async () => {
    const { d, reserve, flushWrites } = disk();
    const r = new SeqReservoir(reserve, 4);
    const p = r.prime();
    await flushWrites();
    await p;
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = r.take();
      await flushWrites();
      const s = await t;
      expect(s).toBeLessThanOrEqual(d.persisted);
      seen.push(s);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('a primed reservoir gives the first seq without waiting for a write', async () => {
    const { d, reserve, flushWrites } = disk();
    const r = new SeqReservoir(reserve, 8);
    const p = r.prime();
    await flushWrites();
    await p;
    const writes = d.writes;
    let got: number | null = null;
    void r.take().then((s) => (got = s));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(got).toBe(1);
    expect(d.writes).toBe(writes);
  });

  it('concurrent takes while a write is pending get distinct increasing seqs', async () => {
    const { reserve, flushWrites } = disk();
    const r = new SeqReservoir(reserve, 2);
    const takes = [r.take(), r.take(), r.take(), r.take(), r.take()];
    for (let i = 0; i < 5; i++) await flushWrites();
    const seqs = await Promise.all(takes);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
  });

  it('after a restart, seqs continue above everything reserved before, so none is reused', async () => {
    const { d, reserve, flushWrites } = disk();
    const a = new SeqReservoir(reserve, 16);
    const t = a.take();
    await flushWrites();
    expect(await t).toBe(1); // 2..16 reserved but never used: the app "crashes"
    const b = new SeqReservoir(reserve, 16);
    const u = b.take();
    await flushWrites();
    expect(await u).toBe(17);
    expect(d.persisted).toBeGreaterThanOrEqual(17);
  });

  it('a failed write is an error for the taker and a later take tries again', async () => {
    let fail = true;
    let persisted = 0;
    const r = new SeqReservoir(async (n) => {
      if (fail) throw new Error('disk full');
      persisted += n;
      return persisted - n + 1;
    }, 4);
    await expect(r.take()).rejects.toThrow('disk full');
    fail = false;
    await expect(r.take()).resolves.toBe(1);
  });
});
