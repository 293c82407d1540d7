// The e2e harness: real daemons, real processes, real Chromium.
//
//   Env, Daemon            a machine: private dirs, `reins daemon`, CLI helpers
//   launchBrowser, newPhone, pairPhone, holdUntilArmed, screenshot, tid
//   procState, isDead, isStopped, isRunning, waitProcs   /proc readers
//   startMosquitto         a real broker
//   cleanup                kill every process started (also runs on exit)
//   pairedMachine          a daemon with a phone paired to it, in one call

export * from './util.mjs';
export * from './procs.mjs';
export * from './reins.mjs';
export * from './browser.mjs';
export * from './mosquitto.mjs';
export * from './setup.mjs';

import { Daemon, Env } from './reins.mjs';
import { finishPairing, newPhone, pairPhone, tid } from './browser.mjs';

/**
 * A machine (env + daemon) and, unless `phone` is given, a new phone in
 * `browser`, paired with it and showing it. Resolves { env, daemon, phone,
 * page, machineId, pairing }.
 */
export async function pairedMachine(browser, { label = 'm', config = '', fixedPorts = false, vars = {}, phone, onCode } = {}) {
  const env = new Env({ label, config });
  const daemon = await Daemon.start(env, { fixedPorts, vars });
  phone ??= await newPhone(browser);
  const pairing = await pairPhone(phone, env, { onCode });
  await finishPairing(phone.page);
  await phone.page.locator(tid('machine', { 'machine-id': pairing.machineId })).waitFor();
  return { env, daemon, phone, page: phone.page, machineId: pairing.machineId, pairing };
}
