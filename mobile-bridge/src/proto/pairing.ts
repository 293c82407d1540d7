// The phone's side of pairing (protocol §9.2): from a parsed offer to a
// sealed hello and the code, then the desktop's verdict. pairing_accepted is
// accepted only under K (d2p seq 1 of the pair; its replay window becomes
// the paired channel's d2p window); pairing_rejected only under the token,
// and an already_used one only when it names our own hello (every phone on
// the pairing topic sees every answer).
// Not here: MQTT, timers, storage of K.

import { sha256 } from '@noble/hashes/sha2.js';
import { b64uEncode, hexEncode } from './bytes.js';
import { OpenError } from './envelope.js';
import { generateKeyPair, pairKey, pairedChannelKeys, sharedSecret, tokenChannelKeys, transcriptHash, verificationCode } from './keys.js';
import { PairChannel, Outgoing, validTopicPrefix } from './channel.js';
import type { PairingRejectReason } from './payload.js';
import { ReplayWindow } from './replay.js';
import { PairingOffer, offerTimeOk } from './url.js';

/** hex SHA-256 of a pairing token: what the app remembers of the links it used. */
export function tokenHash(token: Uint8Array): string {
  return hexEncode(sha256(token));
}

export function nameIsValid(name: string): boolean {
  const n = new TextEncoder().encode(name).length;
  return n >= 1 && n <= 64 && !/[\u0000-\u001f\u007f-\u009f]/.test(name) && name.trim() !== '';
}

export type StartError = 'expired' | 'bad_name' | 'bad_topic' | 'bad_desktop_key';

export interface PairedDesktop {
  desktopName: string;
  desktopPublic: Uint8Array;
  k: Uint8Array;
  topicPrefix: string;
  brokers: string[];
  /** The d2p window that accepted pairing_accepted: keep it for the paired channel. */
  d2pWindow: ReplayWindow;
}

export type PairingEvent =
  | { type: 'paired'; desktop: PairedDesktop }
  | { type: 'failed'; reason: PairingRejectReason | 'cancelled' }
  /** Our own echo, a redelivery, or after the end: nothing to do. */
  | { type: 'ignored' }
  /** A message that failed a check: log the class only. */
  | { type: 'refused'; code: string };

export class PhonePairing {
  private done = false;
  private readonly keyReplay = new ReplayWindow();
  private readonly tokenReplay = new ReplayWindow();

  private constructor(
    readonly offer: PairingOffer,
    private readonly k: Uint8Array,
    readonly code: string,
    readonly hello: Outgoing,
    private readonly keyChan: PairChannel,
    private readonly tokenChan: PairChannel,
  ) {}

  /** Fresh X25519 key per pairing unless one is given (tests). */
  static start(
    offer: PairingOffer,
    deviceName: string,
    nowMs: number,
    phone = generateKeyPair(),
  ): PhonePairing | StartError {
    if (!offerTimeOk(offer, nowMs)) return 'expired';
    if (!nameIsValid(deviceName)) return 'bad_name';
    if (!validTopicPrefix(offer.topicPrefix)) return 'bad_topic';
    const shared = sharedSecret(phone.secretKey, offer.desktopPublic);
    if (!shared) return 'bad_desktop_key';
    const th = transcriptHash(offer.desktopPublic, phone.publicKey, offer.pairingTopic, deviceName);
    const k = pairKey(shared, offer.token, th);
    const tokenChan = PairChannel.pairing('phone', tokenChannelKeys(offer.token), offer.pairingTopic);
    const keyChan = PairChannel.pairing('phone', pairedChannelKeys(k), offer.pairingTopic);
    const hello = tokenChan.seal(
      { kind: 'pairing_hello', body: { phone_public: b64uEncode(phone.publicKey), device_name: deviceName } },
      1,
      nowMs,
    );
    return new PhonePairing(offer, k, verificationCode(k), hello, keyChan, tokenChan);
  }

  get finished(): boolean {
    return this.done;
  }

  cancel(): PairingEvent {
    if (this.done) return { type: 'ignored' };
    this.done = true;
    return { type: 'failed', reason: 'cancelled' };
  }

  /** Call on a timer too (with empty input) so expiry is noticed. */
  tick(nowMs: number): PairingEvent {
    if (this.done) return { type: 'ignored' };
    if (nowMs > this.offer.expiresAtMs + 120_000) {
      this.done = true;
      return { type: 'failed', reason: 'expired' };
    }
    return { type: 'ignored' };
  }

  handle(topic: string, bytes: Uint8Array, nowMs: number): PairingEvent {
    const t = this.tick(nowMs);
    if (this.done) return t;
    try {
      const inc = this.keyChan.open(topic, bytes, this.keyReplay, nowMs);
      if (inc.payload.kind !== 'pairing_accepted') return { type: 'refused', code: 'unexpected_kind' };
      this.done = true;
      const name = inc.payload.body.desktop_name;
      return {
        type: 'paired',
        desktop: {
          desktopName: nameIsValid(name) ? name : 'Reins desktop',
          desktopPublic: this.offer.desktopPublic,
          k: this.k,
          topicPrefix: this.offer.topicPrefix,
          brokers: [...this.offer.brokers],
          d2pWindow: this.keyReplay.clone(),
        },
      };
    } catch (e) {
      const code = e instanceof OpenError ? e.code : 'error';
      if (code === 'duplicate' || code === 'wrong_direction') return { type: 'ignored' }; // redelivery / own echo
      if (code !== 'wrong_pairing') return { type: 'refused', code };
    }
    try {
      const inc = this.tokenChan.open(topic, bytes, this.tokenReplay, nowMs);
      if (inc.payload.kind !== 'pairing_rejected') return { type: 'refused', code: 'unexpected_kind' };
      const { reason, hello_msg_id: about } = inc.payload.body;
      if (reason === 'already_used' && about !== b64uEncode(this.hello.msgId)) {
        return { type: 'refused', code: 'not_for_us' };
      }
      this.done = true;
      return { type: 'failed', reason };
    } catch (e) {
      const code = e instanceof OpenError ? e.code : 'error';
      return code === 'duplicate' ? { type: 'ignored' } : { type: 'refused', code };
    }
  }
}
