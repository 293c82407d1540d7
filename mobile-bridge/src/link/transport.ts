// A minimal broker connection as the links need it, and its MQTT.js
// implementation: MQTT 3.1.1 over ws:// or wss:// (the daemon's embedded
// rumqttd speaks only 3.1.1 on WebSockets, and every broker speaks it; so no
// MQTT 5 message expiry: receivers drop stale messages by ts_ms anyway),
// random client id, clean session, no automatic reconnect (the links own
// retry policy), QoS 1, never retained, retained messages flagged.
// Not here: retry/backoff, topics, or anything about the protocol.

import mqtt, { type MqttClient } from 'mqtt';
import { hexEncode, randomBytes } from '../proto/bytes.js';

export interface Conn {
  /** Resolves on SUBACK (rejects if the broker refused the subscription). */
  subscribe(topic: string): Promise<void>;
  /** QoS 1, not retained. Resolves on PUBACK. */
  publish(topic: string, payload: Uint8Array): Promise<void>;
  onMessage(cb: (topic: string, payload: Uint8Array, retained: boolean) => void): void;
  /** Called once when the connection is lost or ended. */
  onClose(cb: (error: string | null) => void): void;
  end(): void;
}

/** Opens one connection to one broker URL; rejects on failure or timeout. */
export type Connect = (url: string, timeoutMs: number) => Promise<Conn>;

/**
 * `connect` with a hard deadline, whatever the implementation does: a socket
 * stuck in CONNECTING (common after a phone wakes) must not block the link.
 * A connection that completes after the deadline is closed at once.
 */
export function connectWithin(connect: Connect, url: string, timeoutMs: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    let late = false;
    const t = setTimeout(() => {
      late = true;
      reject(new Error('connect timeout'));
    }, timeoutMs);
    connect(url, timeoutMs).then(
      (c) => {
        clearTimeout(t);
        if (late) c.end();
        else resolve(c);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * mqtt-packet corks the stream for each packet it writes and uncorks it on
 * `process.nextTick`, which MQTT.js's browser bundle shims with
 * `setTimeout(0)`: in a busy page a command then sat 5–15 ms before it left
 * (measured with the bench driver). Uncork at once instead; the scheduled
 * uncork later finds nothing corked and does nothing.
 */
function flushNow(client: MqttClient): void {
  const stream = (client as unknown as { stream?: { uncork?: () => void } }).stream;
  stream?.uncork?.();
}

/** Browsers can only speak MQTT over WebSockets. */
export const usableInBrowser = (url: string): boolean => url.startsWith('ws://') || url.startsWith('wss://');

export const mqttConnect: Connect = (url, timeoutMs) =>
  new Promise<Conn>((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId: 'r' + hexEncode(randomBytes(12)),
      clean: true,
      protocolVersion: 4,
      // The default 'auto' starts a blob: Worker for its timers, which the
      // daemon's CSP (worker-src 'self') refuses; native timers are enough.
      timerVariant: 'native',
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      keepalive: 30,
      resubscribe: false,
    });
    let settled = false;
    let closed = false;
    const closeCbs: ((e: string | null) => void)[] = [];
    let lastError: string | null = null;
    const timer = setTimeout(() => fail('connect timeout'), timeoutMs);
    function fail(why: string) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end(true);
      reject(new Error(why));
    }
    client.on('error', (e) => {
      lastError = e.message;
      fail(e.message);
    });
    client.on('close', () => {
      if (!settled) return fail(lastError ?? 'connection closed');
      if (closed) return;
      closed = true;
      for (const cb of closeCbs) cb(lastError);
    });
    client.on('connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        subscribe: (topic) =>
          new Promise((ok, ko) =>
            client.subscribe(topic, { qos: 1 }, (err, granted) => {
              if (err) return ko(err);
              const code = granted?.[0]?.qos ?? 128;
              return code >= 128 ? ko(new Error('subscription refused')) : ok();
            }),
          ),
        publish: (topic, payload) =>
          new Promise((ok, ko) => {
            client.publish(
              topic,
              // MQTT.js accepts Uint8Array payloads in the browser and in node.
              payload as unknown as Buffer,
              { qos: 1, retain: false },
              (err) => (err ? ko(err) : ok()),
            );
            flushNow(client);
          }),
        onMessage: (cb) =>
          client.on('message', (topic, payload, packet) => cb(topic, new Uint8Array(payload), packet.retain === true)),
        onClose: (cb) => closeCbs.push(cb),
        end: () => {
          closed = true;
          client.end(true);
        },
      });
    });
  });
