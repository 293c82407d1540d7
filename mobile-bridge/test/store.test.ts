// MachineStore over fake-indexeddb: records, atomic seq, window, unpair.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { MachineRecord, MachineStore } from '../src/store/db.js';
import { ReplayWindow } from '../src/proto/replay.js';

const rec = (id: string, pairedAtMs = 1): MachineRecord => ({
  id, name: `desk ${id}`, brokers: ['ws://x:1/mqtt'], topicPrefix: 'reins/', pairKey: '11'.repeat(32),
  desktopPublic: '22'.repeat(32), outSeq: 0, d2pWindow: new ReplayWindow().toJSON(), pairedAtMs,
});
const fresh = () => MachineStore.open('t', new IDBFactory());

describe('the machine store', () => {
  it('keeps machines across a reopen of the database', async () => {
    const f = new IDBFactory();
    const a = await MachineStore.open('t', f);
    await a.put(rec('aa', 2));
    await a.put(rec('bb', 1));
    a.close();
    const b = await MachineStore.open('t', f);
    expect((await b.list()).map((m) => m.id)).toEqual(['bb', 'aa']);
    expect((await b.get('aa'))?.name).toBe('desk aa');
  });

  it('hands out strictly increasing seqs, each committed before it is returned, even concurrently', async () => {
    const s = await fresh();
    await s.put(rec('aa'));
    const seqs = await Promise.all([s.reserveSeq('aa'), s.reserveSeq('aa'), s.reserveSeq('aa')]);
    expect([...seqs].sort()).toEqual([1, 2, 3]);
    expect((await s.get('aa'))?.outSeq).toBe(3);
  });

  it('reserves blocks of seqs: each block starts past the last and the counter on disk covers them', async () => {
    const s = await fresh();
    await s.put(rec('aa'));
    expect(await s.reserveSeqs('aa', 32)).toBe(1);
    expect(await s.reserveSeq('aa')).toBe(33);
    expect(await s.reserveSeqs('aa', 32)).toBe(34);
    expect((await s.get('aa'))?.outSeq).toBe(65);
    await expect(s.reserveSeqs('aa', 0)).rejects.toThrow();
  });

  it('stores the replay window so a replay still fails after a restart', async () => {
    const s = await fresh();
    await s.put(rec('aa'));
    const w = new ReplayWindow();
    w.accept(7, 1000, new Uint8Array(16).fill(3), 1000);
    await s.saveWindow('aa', w.toJSON());
    const back = ReplayWindow.fromJSON((await s.get('aa'))!.d2pWindow);
    expect(back.check(7, 1000, new Uint8Array(16).fill(9), 1000)).toBe('duplicate');
  });

  it('deletes everything for a machine on unpair and leaves the others alone', async () => {
    const s = await fresh();
    await s.put(rec('aa'));
    await s.put(rec('bb'));
    await s.delete('aa');
    expect(await s.get('aa')).toBeUndefined();
    expect((await s.list()).map((m) => m.id)).toEqual(['bb']);
  });

  it('refuses to update a machine that is gone', async () => {
    const s = await fresh();
    await expect(s.reserveSeq('nope')).rejects.toThrow();
  });

  it('leaves the record unchanged when an update is refused', async () => {
    const s = await fresh();
    await s.put({ ...rec('aa'), outSeq: Number.MAX_SAFE_INTEGER });
    await expect(s.reserveSeq('aa')).rejects.toThrow();
    expect((await s.get('aa'))?.outSeq).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('remembers the hashes of used pairing tokens across a reopen', async () => {
    const f = new IDBFactory();
    const a = await MachineStore.open('t', f);
    expect(await a.tokenUsed('ab'.repeat(32))).toBe(false);
    await a.markTokenUsed('ab'.repeat(32), 1000);
    a.close();
    const b = await MachineStore.open('t', f);
    expect(await b.tokenUsed('ab'.repeat(32))).toBe(true);
    expect(await b.tokenUsed('cd'.repeat(32))).toBe(false);
  });

  it('upgrades a version 1 database without losing its machines', async () => {
    const f = new IDBFactory();
    await new Promise<void>((resolve, reject) => {
      const r = f.open('t', 1);
      r.onupgradeneeded = () => r.result.createObjectStore('machines', { keyPath: 'id' }).put(rec('aa'));
      r.onsuccess = () => {
        r.result.close();
        resolve();
      };
      r.onerror = () => reject(r.error);
    });
    const s = await MachineStore.open('t', f);
    expect((await s.list()).map((m) => m.id)).toEqual(['aa']);
    await s.markTokenUsed('ef'.repeat(32), 1);
    expect(await s.tokenUsed('ef'.repeat(32))).toBe(true);
  });
});
