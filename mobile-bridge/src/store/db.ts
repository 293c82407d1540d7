// IndexedDB persistence for paired machines: one record per machine holding
// its pair key K (the app's only long-term secret for it), brokers, topic
// prefix, outgoing p2d seq and d2p replay window. Every update is one
// readwrite transaction, so a seq is persisted before its message is
// published and a window before its message is acted on.
// A second store keeps SHA-256 hashes of the pairing tokens this app has
// used, so a link opened again fails at once without touching the network.
// Not here: encryption at rest (the browser offers none that helps against
// a page-level attacker), or any UI state.

import type { ReplayWindowJson } from '../proto/replay.js';

export interface MachineRecord {
  /** hex(pairing_id): the stable local id, and the desktop's device id for us. */
  id: string;
  name: string;
  brokers: string[];
  topicPrefix: string;
  /** hex(K) */
  pairKey: string;
  /** hex(desktop public key), for display/diagnostics only. */
  desktopPublic: string;
  /** The last p2d seq used (0 = none yet). */
  outSeq: number;
  d2pWindow: ReplayWindowJson;
  pairedAtMs: number;
}

const STORE = 'machines';
const USED_TOKENS = 'used_tokens';

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export class MachineStore {
  private constructor(private readonly db: IDBDatabase) {}

  static open(name = 'reins', factory: IDBFactory = globalThis.indexedDB): Promise<MachineStore> {
    return new Promise((resolve, reject) => {
      // Version 2 added USED_TOKENS; upgrading from 1 keeps every machine.
      const r = factory.open(name, 2);
      r.onupgradeneeded = () => {
        if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE, { keyPath: 'id' });
        if (!r.result.objectStoreNames.contains(USED_TOKENS)) r.result.createObjectStore(USED_TOKENS, { keyPath: 'hash' });
      };
      r.onsuccess = () => resolve(new MachineStore(r.result));
      r.onerror = () => reject(r.error);
      r.onblocked = () => reject(new Error('storage is blocked by another tab'));
    });
  }

  close(): void {
    this.db.close();
  }

  async list(): Promise<MachineRecord[]> {
    const all = await req(this.db.transaction(STORE, 'readonly').objectStore(STORE).getAll());
    return (all as MachineRecord[]).sort((a, b) => a.pairedAtMs - b.pairedAtMs);
  }

  async get(id: string): Promise<MachineRecord | undefined> {
    return (await req(this.db.transaction(STORE, 'readonly').objectStore(STORE).get(id))) as MachineRecord | undefined;
  }

  /** Adds or replaces a machine (after pairing). Resolves once committed. */
  put(rec: MachineRecord): Promise<void> {
    return this.tx((s) => s.put(rec));
  }

  /** Deletes everything stored for a machine (unpair). */
  delete(id: string): Promise<void> {
    return this.tx((s) => s.delete(id));
  }

  /**
   * Read-modify-write in one transaction. `fn` returns the new record, or
   * throws to abort. Resolves with the committed record.
   */
  update(id: string, fn: (r: MachineRecord) => MachineRecord): Promise<MachineRecord> {
    let out: MachineRecord | undefined;
    return this.tx((s, t) => {
      const g = s.get(id);
      g.onsuccess = () => {
        const cur = g.result as MachineRecord | undefined;
        if (!cur) {
          t.abort();
          return;
        }
        try {
          out = fn(cur);
        } catch {
          t.abort();
          return;
        }
        s.put(out);
      };
    }).then(() => {
      if (!out) throw new Error('no such machine');
      return out;
    });
  }

  /** Whether a pairing token with this hash (hex SHA-256) was used here before. */
  async tokenUsed(hash: string): Promise<boolean> {
    const r = await req(this.db.transaction(USED_TOKENS, 'readonly').objectStore(USED_TOKENS).get(hash));
    return r !== undefined;
  }

  /** Remembers that a pairing token (by its hex SHA-256) was used. Resolves once committed. */
  markTokenUsed(hash: string, atMs: number): Promise<void> {
    return this.tx((s) => s.put({ hash, atMs }), USED_TOKENS);
  }

  /** Increments the outgoing seq and resolves with it once it is on disk. */
  async reserveSeq(id: string): Promise<number> {
    return this.reserveSeqs(id, 1);
  }

  /**
   * Advances the outgoing seq by `n` and resolves, once that is on disk,
   * with the first of the `n` seqs now reserved (src/link/seq.ts).
   */
  async reserveSeqs(id: string, n: number): Promise<number> {
    if (!Number.isSafeInteger(n) || n < 1) throw new Error('reserve at least one seq');
    const r = await this.update(id, (m) => {
      if (m.outSeq + n > Number.MAX_SAFE_INTEGER) throw new Error('seq exhausted');
      return { ...m, outSeq: m.outSeq + n };
    });
    return r.outSeq - n + 1;
  }

  /** Stores the d2p replay window; resolves once it is on disk. */
  async saveWindow(id: string, w: ReplayWindowJson): Promise<void> {
    await this.update(id, (m) => ({ ...m, d2pWindow: w }));
  }

  private tx(body: (s: IDBObjectStore, t: IDBTransaction) => void, store = STORE): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = this.db.transaction(store, 'readwrite');
      t.oncomplete = () => resolve();
      t.onabort = () => reject(t.error ?? new Error('no such machine or update refused'));
      t.onerror = () => reject(t.error);
      body(t.objectStore(store), t);
    });
  }
}
