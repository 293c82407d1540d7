// Outgoing seqs reserved on disk ahead of use, so a tap on Stop never waits
// for an IndexedDB write (it took 10–20 ms in Chromium, most of the time
// from the tap to the command leaving the page).
//
// docs/protocol.md §8: a sender persists its counter before publishing. Here
// the persisted counter runs up to a block ahead of the seqs handed out, so
// every seq used is ≤ what is on disk and none is ever used twice, even
// after a crash; seqs reserved but unused at a restart are skipped, which a
// receiver's window allows (seqs only have to increase). Not here: the
// storage itself (src/store/db.ts).

/** Seqs reserved per disk write: enough for a burst of taps. */
export const SEQ_BLOCK = 32;

/** Persists `n` more seqs; resolves with the first of them once on disk. */
export type ReserveSeqs = (n: number) => Promise<number>;

export class SeqReservoir {
  /** Persisted, unused ranges [first, end), in increasing order. */
  private ranges: [number, number][] = [];
  private refill: Promise<void> | null = null;

  constructor(private readonly reserve: ReserveSeqs, private readonly block = SEQ_BLOCK) {}

  /** Reserves a block now (at link start), so the first send is free. */
  prime(): Promise<void> {
    return this.available() > 0 ? Promise.resolve() : this.fill();
  }

  /** The next seq, already on disk. Synchronous in effect while any is left. */
  async take(): Promise<number> {
    while (this.available() === 0) await this.fill();
    const r = this.ranges[0]!;
    const seq = r[0]++;
    if (r[0] >= r[1]) this.ranges.shift();
    if (this.available() < this.block / 2) void this.fill().catch(() => {});
    return seq;
  }

  private available(): number {
    return this.ranges.reduce((n, [a, b]) => n + (b - a), 0);
  }

  private fill(): Promise<void> {
    this.refill ??= this.reserve(this.block)
      .then((first) => {
        // Blocks come from one counter on disk, so each starts past the last.
        this.ranges.push([first, first + this.block]);
      })
      .finally(() => {
        this.refill = null;
      });
    return this.refill;
  }
}
