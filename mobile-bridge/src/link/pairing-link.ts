// The pairing connection: first reachable broker of the offer, subscribe to
// the pairing topic, publish the hello, then feed every message to
// PhonePairing until it is accepted, rejected or the offer runs out. A lost
// connection is retried (same hello bytes; the desktop ignores a redelivery).
// Not here: storing the machine (the caller does, in onDone), URL parsing.

import type { PairingFailure } from '../app/types.js';
import { PairedDesktop, PhonePairing } from '../proto/pairing.js';
import { PairingOffer } from '../proto/url.js';
import { CONNECT_TIMEOUT_MS } from './machine-link.js';
import { Conn, Connect, connectWithin, usableInBrowser } from './transport.js';

export type PairingOutcome =
  | { ok: true; desktop: PairedDesktop }
  | { ok: false; reason: PairingFailure | 'cancelled'; message: string };

export interface PairingLinkOptions {
  offer: PairingOffer;
  deviceName: string;
  connect: Connect;
  now(): number;
  onWaiting(code: string): void;
  onDone(outcome: PairingOutcome): void;
  log?(msg: string): void;
  /** Tests only: a fixed phone key pair. */
  keyPair?: { secretKey: Uint8Array; publicKey: Uint8Array };
}

const SKEW_MS = 120_000;

/** The words for an already_used answer, or a link this phone used before. */
export const ALREADY_USED = 'This pairing link was already used. Run `reins pair` again for a new one.';

export class PairingLink {
  private conn: Conn | null = null;
  private done = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pairing: PhonePairing | null = null;
  private connectedOnce = false;
  readonly dropped = new Map<string, number>();

  constructor(private readonly o: PairingLinkOptions) {}

  start(): void {
    const p = PhonePairing.start(this.o.offer, this.o.deviceName, this.o.now(), this.o.keyPair);
    if (typeof p === 'string') {
      if (p === 'expired') return this.finish({ ok: false, reason: 'expired', message: 'This pairing code has expired. Show a new one on the desktop.' });
      return this.finish({ ok: false, reason: 'bad_link', message: `This pairing link cannot be used (${p.replaceAll('_', ' ')}).` });
    }
    this.pairing = p;
    const left = this.o.offer.expiresAtMs + SKEW_MS - this.o.now();
    this.timer = setTimeout(
      () => this.finish({ ok: false, reason: 'timeout', message: 'The desktop did not confirm before the code expired.' }),
      Math.max(0, left + 1),
    );
    void this.connect();
  }

  /** The verification code, once started. */
  get code(): string | null {
    return this.pairing?.code ?? null;
  }

  cancel(): void {
    this.finish({ ok: false, reason: 'cancelled', message: 'Pairing cancelled.' });
  }

  private finish(outcome: PairingOutcome): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.conn?.end();
    this.conn = null;
    this.o.onDone(outcome);
  }

  private async connect(): Promise<void> {
    const p = this.pairing!;
    const brokers = this.o.offer.brokers.filter(usableInBrowser);
    for (const url of brokers) {
      if (this.done) return;
      let c: Conn | null = null;
      try {
        c = await connectWithin(this.o.connect, url, CONNECT_TIMEOUT_MS);
        if (this.done) return c.end();
        const conn = c;
        conn.onMessage((topic, bytes, retained) => this.receive(topic, bytes, retained));
        conn.onClose(() => {
          if (this.conn !== conn || this.done) return;
          this.conn = null;
          setTimeout(() => void this.connect(), 1000);
        });
        await conn.subscribe(p.offer.pairingTopic);
        await conn.publish(p.hello.topic, p.hello.bytes);
        if (this.done) return conn.end();
        this.conn = conn;
        if (!this.connectedOnce) {
          this.connectedOnce = true;
          this.o.onWaiting(p.code);
        }
        return;
      } catch (e) {
        this.o.log?.(`pairing broker failed: ${(e as Error).message}`);
        c?.end();
      }
    }
    if (this.done) return;
    if (!this.connectedOnce) {
      const why = brokers.length ? 'No broker in the pairing link could be reached.' : 'The pairing link has no ws:// or wss:// broker a browser can use.';
      return this.finish({ ok: false, reason: 'unreachable', message: why });
    }
    setTimeout(() => void this.connect(), 2000);
  }

  private receive(topic: string, bytes: Uint8Array, retained: boolean): void {
    if (this.done || !this.pairing) return;
    if (retained) return this.count('retained');
    const ev = this.pairing.handle(topic, bytes, this.o.now());
    switch (ev.type) {
      case 'paired':
        return this.finish({ ok: true, desktop: ev.desktop });
      case 'failed':
        if (ev.reason === 'user_rejected') {
          return this.finish({ ok: false, reason: 'rejected', message: 'The desktop rejected this phone. If the codes differed, someone else may have the link.' });
        }
        if (ev.reason === 'already_used') {
          return this.finish({ ok: false, reason: 'already_used', message: ALREADY_USED });
        }
        return this.finish({ ok: false, reason: 'expired', message: 'The pairing offer expired before it was confirmed.' });
      case 'refused':
        return this.count(ev.code);
      case 'ignored':
        return;
    }
  }

  private count(code: string): void {
    this.dropped.set(code, (this.dropped.get(code) ?? 0) + 1);
    this.o.log?.(`pairing: dropped a message: ${code}`);
  }
}
