// A real Mosquitto on free loopback ports: MQTT/TCP for the daemon and a
// WebSocket listener for the browser, started from a generated config.

import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { spawnTracked } from './procs.mjs';
import { freePorts } from './reins.mjs';
import { waitFor } from './util.mjs';

export const MOSQUITTO = process.env.MOSQUITTO || '/usr/sbin/mosquitto';

function accepting(port) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Starts Mosquitto with its config in `dir`. Resolves { tcp, ws, url
 * (mqtt://127.0.0.1:tcp, for link.broker), wsUrl (ws://127.0.0.1:ws, for
 * link.phone_urls), child, stop() } once both listeners accept.
 */
export async function startMosquitto(dir) {
  if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} is missing: apt-get install -y mosquitto`);
  const [tcp, ws] = await freePorts(2);
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      'per_listener_settings false',
      'allow_anonymous true',
      'persistence false',
      'set_tcp_nodelay true',
      `listener ${tcp} 127.0.0.1`,
      'protocol mqtt',
      `listener ${ws} 127.0.0.1`,
      'protocol websockets',
      '',
    ].join('\n'),
  );
  const child = spawnTracked(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.persistent = true;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`mosquitto exited: ${child.err.all}`);
      return (await accepting(tcp)) && (await accepting(ws));
    },
    { what: 'mosquitto to accept connections' },
  );
  return {
    tcp,
    ws,
    url: `mqtt://127.0.0.1:${tcp}`,
    wsUrl: `ws://127.0.0.1:${ws}`,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await child.exited;
      }
    },
  };
}
