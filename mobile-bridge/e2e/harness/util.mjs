// Waiting without sleeping: every wait is for a line, a selector or a
// condition polled against /proc or the CLI, bounded by a deadline that is
// only a failure guard (never an assertion about how long anything took).

/** Failure guard for anything that should take milliseconds to seconds. */
export const T = 20_000;

/**
 * Polls `fn` until it returns a truthy value (returned) or `timeout` passes
 * (throws, naming `what` and the last error or value). `interval` only paces
 * the polling of /proc; CLI polls pace themselves by running the CLI.
 */
export async function waitFor(fn, { timeout = T, interval = 20, what = 'a condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      const w = typeof what === 'function' ? what() : what;
      throw new Error(`timed out waiting for ${w} (last: ${detail})`);
    }
    if (interval > 0) await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * A child's output stream, buffered; `until(needle)` resolves with
 * everything up to and including the needle (consumed), or rejects when the
 * stream ends or the guard passes first.
 */
export class Lines {
  constructor(readable, label = 'output') {
    this.label = label;
    this.buf = '';
    this.all = '';
    this.ended = false;
    this.waiters = new Set();
    readable.setEncoding('utf8');
    readable.on('data', (d) => {
      this.buf += d;
      this.all += d;
      if (this.all.length > 1 << 20) this.all = this.all.slice(-(1 << 19));
      this.wake();
    });
    readable.on('end', () => {
      this.ended = true;
      this.wake();
    });
    readable.on('error', () => {
      this.ended = true;
      this.wake();
    });
  }

  wake() {
    for (const w of [...this.waiters]) w();
  }

  until(needle, timeout = T) {
    return new Promise((resolve, reject) => {
      let timer;
      const check = () => {
        const i = this.buf.indexOf(needle);
        if (i >= 0) {
          const out = this.buf.slice(0, i + needle.length);
          this.buf = this.buf.slice(i + needle.length);
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(out);
        } else if (this.ended) {
          this.waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`${this.label} ended before ${JSON.stringify(needle)}; it was: ${JSON.stringify(this.all.slice(-4000))}`));
        }
      };
      timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`never saw ${JSON.stringify(needle)} in ${this.label}; so far: ${JSON.stringify(this.all.slice(-4000))}`));
      }, timeout);
      this.waiters.add(check);
      check();
    });
  }

  /** The rest of the line after `needle`, trimmed. */
  async lineAfter(needle, timeout = T) {
    await this.until(needle, timeout);
    return (await this.until('\n', timeout)).trim();
  }
}
