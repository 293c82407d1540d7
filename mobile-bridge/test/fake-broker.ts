/// <reference types="node" />
// An in-memory broker and a simulated desktop for link and app tests.
import { Conn, Connect } from '../src/link/transport.js';
import { PairChannel } from '../src/proto/channel.js';
import { b64uDecode, b64uEncode, hex } from '../src/proto/bytes.js';
import { Payload, decodeBody } from '../src/proto/payload.js';
import { open as openEnvelope } from '../src/proto/envelope.js';
import { ReplayWindow } from '../src/proto/replay.js';
import { pairKey, pairedChannelKeys, sharedSecret, tokenChannelKeys, transcriptHash } from '../src/proto/keys.js';

interface FakeConn extends Conn {
  url: string;
  subs: Set<string>;
  msg: ((t: string, p: Uint8Array, r: boolean) => void)[];
  close: ((e: string | null) => void)[];
  open: boolean;
}

export class FakeBroker {
  readonly down = new Set<string>();
  readonly conns: FakeConn[] = [];
  readonly published: { topic: string; bytes: Uint8Array; url: string }[] = [];
  connects: string[] = [];
  /** When set, connect() never settles (a stuck CONNECTING socket). */
  hang = false;
  /** When set, subscribe() never gets a SUBACK. */
  hangSubscribe = false;

  connect: Connect = (url) => {
    this.connects.push(url);
    if (this.hang) return new Promise(() => {});
    if (this.down.has(url)) return Promise.reject(new Error('connection refused'));
    const c: FakeConn = {
      url, subs: new Set(), msg: [], close: [], open: true,
      subscribe: (t) => {
        if (this.hangSubscribe) return new Promise(() => {});
        c.subs.add(t);
        return Promise.resolve();
      },
      publish: async (topic, bytes) => {
        if (!c.open) throw new Error('closed');
        this.published.push({ topic, bytes, url });
        this.deliver(topic, bytes);
      },
      onMessage: (cb) => c.msg.push(cb),
      onClose: (cb) => c.close.push(cb),
      end: () => {
        c.open = false;
      },
    };
    this.conns.push(c);
    return Promise.resolve(c);
  };

  deliver(topic: string, bytes: Uint8Array, retained = false): void {
    for (const c of this.conns) if (c.open && c.subs.has(topic)) for (const cb of c.msg) cb(topic, bytes, retained);
  }

  /** The broker drops every open connection. */
  dropAll(): void {
    for (const c of this.conns) {
      if (!c.open) continue;
      c.open = false;
      for (const cb of c.close) cb('connection lost');
    }
  }

  openConns(): FakeConn[] {
    return this.conns.filter((c) => c.open);
  }

  on(topic: string) {
    return this.published.filter((p) => p.topic === topic);
  }
}

export const DESKTOP_SECRET = hex('b009faf438ec07729337e6d5fc788e22a48f4668da2af825e4b75332c3bd617f');
export const DESKTOP_PUBLIC = hex('3f315f474f2c107b612f3ac32618c8be8ad81ba4e05754a9ac4a7c12961fb311');
export const TOKEN = hex('a6ab9d8cc3c802a6713a4b11fa5b22c9');

export function offerUrl(o: { exp: number; brokers: string[]; topic?: string; tp?: string }): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  const tp = o.tp ?? 'reins/';
  const t = o.topic ?? `${tp}164871a7b1ef3547d9a157d89baace88`;
  return `https://reins.example/pair#v=1&pk=${b64uEncode(DESKTOP_PUBLIC)}&tok=${b64uEncode(TOKEN)}` +
    `&t=${enc(t)}&tp=${enc(tp)}&exp=${o.exp}` + o.brokers.map((b) => `&b=${enc(b)}`).join('');
}

/** The desktop's side of one pairing and of the paired channel after it. */
export class FakeDesktop {
  k: Uint8Array | null = null;
  chan: PairChannel | null = null;
  seq = 0;
  readonly window = new ReplayWindow();

  constructor(readonly broker: FakeBroker, readonly prefix = 'reins/') {}

  /** Opens the phone's hello on the pairing topic and derives K. */
  receiveHello(topic: string, now: number): string {
    const hello = this.broker.on(topic)[0];
    if (!hello) throw new Error('no hello published');
    const inc = PairChannel.pairing('desktop', tokenChannelKeys(TOKEN), topic).open(topic, hello.bytes, new ReplayWindow(), now);
    if (inc.payload.kind !== 'pairing_hello') throw new Error('not a hello');
    const pub = b64uDecode(inc.payload.body.phone_public)!;
    const th = transcriptHash(DESKTOP_PUBLIC, pub, topic, inc.payload.body.device_name);
    this.k = pairKey(sharedSecret(DESKTOP_SECRET, pub)!, TOKEN, th);
    this.chan = PairChannel.paired('desktop', this.k, this.prefix);
    return inc.payload.body.device_name;
  }

  accept(topic: string, now: number, name = 'ana-laptop'): void {
    const ch = PairChannel.pairing('desktop', pairedChannelKeys(this.k!), topic);
    this.seq = 1;
    const m = ch.seal({ kind: 'pairing_accepted', body: { desktop_name: name } }, 1, now);
    this.broker.deliver(topic, m.bytes);
  }

  reject(topic: string, now: number, reason: 'user_rejected' | 'expired'): void {
    const ch = PairChannel.pairing('desktop', tokenChannelKeys(TOKEN), topic);
    this.broker.deliver(topic, ch.seal({ kind: 'pairing_rejected', body: { reason } }, 1, now).bytes);
  }

  /** Answers the latest hello on the topic with already_used, naming it (as a desktop whose token is spent does). */
  alreadyUsed(topic: string, now: number, seq = 1): void {
    const hellos = this.broker.on(topic);
    const hello = hellos[hellos.length - 1];
    if (!hello) throw new Error('no hello published');
    const ch = PairChannel.pairing('desktop', tokenChannelKeys(TOKEN), topic);
    const inc = ch.open(topic, hello.bytes, new ReplayWindow(), now);
    const body = { reason: 'already_used' as const, hello_msg_id: b64uEncode(inc.header.msgId) };
    this.broker.deliver(topic, ch.seal({ kind: 'pairing_rejected', body }, seq, now).bytes);
  }

  get pairingIdHex(): string {
    return Buffer.from(this.chan!.pairingId).toString('hex');
  }

  /** Seals and delivers a d2p message; returns the wire bytes. */
  send(p: Payload, now: number): Uint8Array {
    const m = this.chan!.seal(p, ++this.seq, now);
    this.broker.deliver(m.topic, m.bytes);
    return m.bytes;
  }

  sendRaw(kind: Payload['kind'], json: string, now: number): void {
    const m = this.chan!.sealRaw(kind, new TextEncoder().encode(json), ++this.seq, now, crypto.getRandomValues(new Uint8Array(16)), crypto.getRandomValues(new Uint8Array(24)));
    this.broker.deliver(m.topic, m.bytes);
  }

  /** Every p2d message the phone published, opened in order (no replay window: old ones too). */
  received(_now?: number): { payload: Payload; text: string; seq: number }[] {
    return this.broker.on(this.chan!.recvTopic).map((p) => {
      const { header, plaintext } = openEnvelope(this.chan!.keys.p2dKey, p.topic, p.bytes);
      const text = new TextDecoder().decode(plaintext);
      return { payload: decodeBody(header.kind, text), seq: header.seq, text };
    });
  }
}
