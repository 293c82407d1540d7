// One live connection to one paired machine: first working broker of its
// list, subscribe to the d2p topic, `presence {"online":true}` after SUBACK
// (the desktop answers with a full resync), heartbeat-based staleness, a
// heartbeat back for each of the desktop's (its proof that this app is open
// and reachable, so prompts may wait for it),
// reconnect with jittered backoff, and wake() for mobile zombie sockets.
// Incoming bytes go through PairChannel.open one at a time; the replay
// window is persisted before a message is handed on. Dropped messages are
// counted and logged by error class only.
// Not here: app state (the caller gets onMessage/onSubscribed), pairing.

import type { LinkState } from '../app/types.js';
import { PairChannel, Incoming } from '../proto/channel.js';
import { OpenError } from '../proto/envelope.js';
import { Payload } from '../proto/payload.js';
import { ReplayWindow, ReplayWindowJson } from '../proto/replay.js';
import { Conn, Connect, connectWithin, usableInBrowser } from './transport.js';

export const CONNECT_TIMEOUT_MS = 8_000;
export const PUBLISH_TIMEOUT_MS = 10_000;
export const BACKOFF_CAP_MS = 10_000;
export const WAKE_PROBE_MS = 5_000;
export const RESYNC_RETRY_MS = 2_000;
const DEFAULT_INTERVAL_S = 30;

export interface MachineLinkOptions {
  brokers: string[];
  channel: PairChannel;
  window: ReplayWindow;
  connect: Connect;
  /** Increments and persists the outgoing seq; resolves with it once stored. */
  reserveSeq(): Promise<number>;
  /** Persists the d2p window; resolves once stored. */
  saveWindow(w: ReplayWindowJson): Promise<void>;
  now(): number;
  onState(s: LinkState): void;
  /** A resync is coming: fresh = new subscription (clear), false = wake check on a live socket. */
  onSubscribed(fresh: boolean): void;
  onMessage(inc: Incoming): void;
  log?(msg: string): void;
}

function withDeadline<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, ko) => {
    t = setTimeout(() => ko(new Error(why)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(t));
}

export function backoffMs(attempt: number, random = Math.random()): number {
  const base = Math.min(BACKOFF_CAP_MS, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (random * base) / 2);
}

export class MachineLink {
  private conn: Conn | null = null;
  private gen = 0;
  private attempt = 0;
  private running = false;
  private runStartedMs = 0;
  private stopped = false;
  private timers: Record<'retry' | 'stale' | 'dead' | 'probe' | 'resync', ReturnType<typeof setTimeout> | undefined> = {
    retry: undefined, stale: undefined, dead: undefined, probe: undefined, resync: undefined,
  };
  private lastRxMs: number | null = null;
  private intervalS = DEFAULT_INTERVAL_S;
  private window: ReplayWindow;
  private queue: Promise<void> = Promise.resolve();
  /** Dropped messages by error class (never their contents). */
  readonly dropped = new Map<string, number>();

  constructor(private readonly o: MachineLinkOptions) {
    this.window = o.window;
  }

  start(): void {
    this.o.onState({ kind: 'connecting' });
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.gen++;
    for (const k of Object.keys(this.timers) as (keyof MachineLink['timers'])[]) this.clear(k);
    this.conn?.end();
    this.conn = null;
  }

  get connected(): boolean {
    return this.conn !== null;
  }

  /** visibilitychange/pageshow/online: reconnect now, or verify a socket that looks open. */
  wake(): void {
    if (this.stopped) return;
    if (!this.conn) {
      // Retry now; restart an attempt that has hung for a while (stuck CONNECTING).
      if (this.running && this.o.now() - this.runStartedMs < 2_000) return;
      this.gen++;
      this.running = false;
      this.attempt = 0;
      void this.run();
      return;
    }
    const quietMs = this.o.now() - (this.lastRxMs ?? 0);
    if (quietMs > 3 * this.intervalS * 1000) return this.reconnectNow('no message for too long');
    // Looks alive: ask for a resync; if nothing authentic comes back soon, it is a zombie.
    this.o.onSubscribed(false);
    this.askResync(RESYNC_RETRY_MS);
    this.clear('probe');
    this.timers.probe = setTimeout(() => this.reconnectNow('no answer after wake'), WAKE_PROBE_MS);
  }

  /** Seals with a freshly persisted seq and publishes. Resolves with the msg_id. */
  async send(payload: Payload): Promise<Uint8Array> {
    const c = this.conn;
    if (!c) throw new Error('not connected');
    const seq = await this.o.reserveSeq();
    const out = this.o.channel.seal(payload, seq, this.o.now());
    await withDeadline(c.publish(out.topic, out.bytes), PUBLISH_TIMEOUT_MS, 'no acknowledgement from the broker');
    return out.msgId;
  }

  private clear(k: keyof MachineLink['timers']): void {
    clearTimeout(this.timers[k]);
    this.timers[k] = undefined;
  }

  private async run(): Promise<void> {
    if (this.stopped || this.running) return;
    this.running = true;
    this.runStartedMs = this.o.now();
    const gen = ++this.gen;
    this.clear('retry');
    const brokers = this.o.brokers.filter(usableInBrowser);
    let error = brokers.length ? 'no broker reachable' : 'no ws:// or wss:// broker for this machine';
    try {
      for (const url of brokers) {
        let c: Conn | null = null;
        try {
          c = await connectWithin(this.o.connect, url, CONNECT_TIMEOUT_MS);
          if (gen !== this.gen) return c.end();
          const conn = c;
          conn.onMessage((t, p, r) => gen === this.gen && this.receive(t, p, r));
          conn.onClose((e) => gen === this.gen && this.lost(e ?? 'connection lost'));
          await withDeadline(conn.subscribe(this.o.channel.recvTopic), CONNECT_TIMEOUT_MS, 'no SUBACK from the broker');
          if (gen !== this.gen) return conn.end();
          this.conn = conn;
          this.attempt = 0;
          this.o.onState({ kind: 'connected', lastMessageMs: this.lastRxMs ?? this.o.now() });
          this.o.onSubscribed(true);
          this.armStale();
          this.askResync(RESYNC_RETRY_MS);
          return;
        } catch (e) {
          error = (e as Error).message || 'connection failed';
          c?.end();
        }
      }
      if (gen === this.gen) this.scheduleRetry(error);
    } finally {
      if (gen === this.gen) this.running = false;
    }
  }

  /**
   * presence online, repeated with a growing delay until an agent_snapshot
   * arrives: right after pairing the desktop may not be subscribed yet, and a
   * message to nobody is lost.
   */
  private askResync(delayMs: number): void {
    this.clear('resync');
    void this.sendPresence();
    this.timers.resync = setTimeout(() => this.conn && this.askResync(Math.min(delayMs * 2, 30_000)), delayMs);
  }

  private async sendPresence(): Promise<void> {
    try {
      await this.send({ kind: 'presence', body: { online: true } });
    } catch (e) {
      this.o.log?.(`presence not sent: ${(e as Error).message}`);
    }
  }

  private async sendHeartbeat(): Promise<void> {
    try {
      await this.send({ kind: 'heartbeat', body: { interval_s: this.intervalS } });
    } catch (e) {
      this.o.log?.(`heartbeat not sent: ${(e as Error).message}`);
    }
  }

  private lost(error: string): void {
    // Whatever was in flight on this connection (even a pending SUBACK) is moot.
    this.gen++;
    this.running = false;
    this.conn = null;
    for (const k of ['stale', 'dead', 'probe', 'resync'] as const) this.clear(k);
    this.scheduleRetry(error);
  }

  private reconnectNow(why: string): void {
    this.o.log?.(`reconnecting: ${why}`);
    this.gen++;
    this.conn?.end();
    this.conn = null;
    for (const k of ['stale', 'dead', 'probe', 'resync'] as const) this.clear(k);
    this.attempt = 0;
    this.o.onState({ kind: 'reconnecting', lastSyncMs: this.lastRxMs, attempt: 0, error: why });
    this.running = false;
    void this.run();
  }

  private scheduleRetry(error: string): void {
    if (this.stopped) return;
    this.attempt++;
    this.o.onState({ kind: 'reconnecting', lastSyncMs: this.lastRxMs, attempt: this.attempt, error });
    this.clear('retry');
    this.timers.retry = setTimeout(() => void this.run(), backoffMs(this.attempt));
  }

  private armStale(): void {
    this.clear('stale');
    this.clear('dead');
    const ms = this.intervalS * 1000;
    this.timers.stale = setTimeout(() => {
      this.o.onState({ kind: 'stale', lastSyncMs: this.lastRxMs });
      this.timers.dead = setTimeout(() => this.reconnectNow('heartbeats stopped'), ms);
    }, 3 * ms);
  }

  private receive(topic: string, bytes: Uint8Array, retained: boolean): void {
    if (retained) return this.drop('retained');
    this.queue = this.queue.then(() => this.process(topic, bytes)).catch((e) => this.o.log?.(`receive failed: ${(e as Error).message}`));
  }

  private drop(code: string): void {
    this.dropped.set(code, (this.dropped.get(code) ?? 0) + 1);
    if (code !== 'duplicate') this.o.log?.(`dropped a message: ${code}`);
  }

  private async process(topic: string, bytes: Uint8Array): Promise<void> {
    const now = this.o.now();
    const w = this.window.clone();
    let inc: Incoming;
    try {
      inc = this.o.channel.open(topic, bytes, w, now);
    } catch (e) {
      const code = e instanceof OpenError ? e.code : 'error';
      if (code === 'bad_payload') {
        await this.o.saveWindow(w.toJSON()); // the seq is consumed
        this.window = w;
      }
      return this.drop(code);
    }
    await this.o.saveWindow(w.toJSON()); // persisted before acting
    this.window = w;
    this.lastRxMs = now;
    this.clear('probe');
    if (inc.payload.kind === 'agent_snapshot') this.clear('resync');
    if (inc.payload.kind === 'heartbeat') {
      this.intervalS = Math.min(3600, Math.max(5, inc.payload.body.interval_s));
      // Answer it: the desktop counts this phone as able to show prompts
      // only while it hears from it (docs/protocol.md §5, Liveness).
      if (this.conn) void this.sendHeartbeat();
    }
    if (this.conn) {
      this.armStale();
      this.o.onState({ kind: 'connected', lastMessageMs: now });
    }
    this.o.onMessage(inc);
  }
}
