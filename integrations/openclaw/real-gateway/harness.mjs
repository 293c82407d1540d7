// The pieces of the real-gateway test: a real OpenClaw gateway started in
// the foreground with its own HOME, state, config, log file and temp dir;
// `reins` daemons and commands in isolated HOME/XDG directories; a plain
// gateway client (Ed25519 device identity, OpenClaw's v3 signature) for
// the requester and "another OpenClaw client". Everything started here is
// killed at the end, the gateway's whole tree included.
//
// Not here: what is asserted (gateway.test.mjs). No fixed sleeps: every
// wait polls a condition with a bound and says what it waited for.

import { spawn, execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Failure guard for anything that takes milliseconds to seconds on a quiet machine; generous because a loaded one (two gateways side by side, 2 cores) is many times slower. */
export const T = 60_000;
/** The gateway takes ~10 s to start (14 bundled plugins) on a slow machine. */
export const GATEWAY_START = 60_000;

/** The installed `openclaw` package (set by scripts/openclaw-real.sh). */
export function openclawPackage() {
  const p = process.env.OPENCLAW_PACKAGE;
  if (!p || !fs.existsSync(path.join(p, 'openclaw.mjs'))) {
    throw new Error('OPENCLAW_PACKAGE must name an installed openclaw package: run scripts/openclaw-real.sh');
  }
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) {
    throw new Error(`OpenClaw needs Node.js >= 24 and this is ${process.version}: run scripts/openclaw-real.sh`);
  }
  return p;
}

/** The `reins` binary under test. */
export function reinsBin() {
  const p = path.resolve(process.env.REINS_BIN || '');
  if (!process.env.REINS_BIN || !fs.existsSync(p)) {
    throw new Error('REINS_BIN must name the built reins binary (cargo build -p reins)');
  }
  return p;
}

/** Polls `fn` until it returns a truthy value, or throws after `timeout` naming `what`. */
export async function waitFor(fn, { timeout = T, interval = 50, what = 'a condition' } = {}) {
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
      throw new Error(`timed out after ${timeout} ms waiting for ${typeof what === 'function' ? what() : what} (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** A port that was free a moment ago (bound and released on loopback). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function accepts(port) {
  return new Promise((resolve) => {
    const c = net.connect({ host: '127.0.0.1', port });
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

/**
 * `openclaw args...` (the installed CLI, this Node.js) to completion with
 * `env`: { code, stdout, stderr }.
 */
export function openclaw(args, env) {
  const cli = path.join(openclawPackage(), 'openclaw.mjs');
  const full = { ...env, PATH: `${path.dirname(process.execPath)}:${env.PATH ?? process.env.PATH}` };
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: full, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr });
    });
  });
}

/** A temp dir removed at the end of the test process. */
export function tempDir(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

const cleanups = [];
const syncKills = new Set();
process.on('exit', () => {
  for (const kill of syncKills) kill();
});

/** Runs every registered cleanup, newest first (for `after`). */
export async function cleanup() {
  while (cleanups.length) {
    try { await cleanups.pop()(); } catch { /* best effort */ }
  }
}

function procStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), start: rest[19] };
  } catch {
    return null;
  }
}

/** Every live descendant of `root`, with its start time (to spot pid reuse). */
function descendants(root) {
  const kids = new Map();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const st = procStat(Number(e));
    if (st) kids.set(Number(e), st);
  }
  const out = [];
  const walk = (p) => {
    for (const [pid, st] of kids) {
      if (st.ppid === p) { out.push({ pid, start: st.start }); walk(pid); }
    }
  };
  walk(root);
  return out;
}

export function alive(pid) {
  const st = procStat(pid);
  if (!st) return false;
  try {
    return !fs.readFileSync(`/proc/${pid}/status`, 'utf8').includes('State:\tZ');
  } catch {
    return false;
  }
}

/**
 * OpenClaw keeps its gateway lifecycle lock at a fixed place,
 * /tmp/openclaw-state-locks-<uid>/<family>.<sha256(state db)[..8]>.lock.sqlite
 * (not under TMPDIR): remove the ones of this test's state dir.
 */
function removeLifecycleLocks(state) {
  const dir = `/tmp/openclaw-state-locks-${process.getuid()}`;
  const db = path.join(fs.realpathSync(state), 'state', 'openclaw.sqlite');
  const hash = crypto.createHash('sha256').update(db).digest('hex').slice(0, 8);
  let names = [];
  try { names = fs.readdirSync(dir); } catch { return; }
  for (const n of names.filter((n) => n.endsWith(`.${hash}.lock.sqlite`))) {
    fs.rmSync(path.join(dir, n), { force: true });
  }
}

/**
 * A real gateway: `openclaw gateway run` in the foreground, loopback, token
 * auth, a free port, everything it writes under `dir` (its file log goes to
 * `logging.file`, its temp files to TMPDIR). Resolves once it accepts
 * connections; `stop()` ends its process group and any child that left it
 * (the spawn broker runs in its own session).
 *
 * By default its state and config are its own (OPENCLAW_STATE_DIR and
 * OPENCLAW_CONFIG_PATH under `dir`). With `reins` (a `reinsEnv`), it runs
 * as that user would: that HOME and XDG dirs, state in ~/.openclaw, whose
 * openclaw.json must already name `port`, `token` and `logging.file`.
 */
export async function startGateway(dir, { reins, port, token } = {}) {
  const pkg = openclawPackage();
  port ??= await freePort();
  token ??= crypto.randomBytes(24).toString('hex');
  const tmp = path.join(dir, 'tmp');
  let env;
  let state;
  let config;
  let logFile;
  if (reins) {
    state = path.join(reins.env.HOME, '.openclaw');
    config = path.join(state, 'openclaw.json');
    logFile = JSON.parse(fs.readFileSync(config, 'utf8')).logging?.file;
    env = { ...reins.env };
  } else {
    const home = path.join(dir, 'home');
    state = path.join(dir, 'state');
    config = path.join(state, 'openclaw.json');
    logFile = path.join(dir, 'openclaw-file.log');
    for (const d of [home, state]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    fs.writeFileSync(config, JSON.stringify({ logging: { file: logFile } }, null, 2));
    env = { HOME: home, OPENCLAW_STATE_DIR: state, OPENCLAW_CONFIG_PATH: config };
  }
  fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
  env = {
    ...env,
    PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`,
    TMPDIR: tmp,
    XDG_CACHE_HOME: path.join(env.HOME, '.cache'),
  };
  const home = env.HOME;
  const outFile = path.join(dir, 'gateway.out');
  const out = fs.openSync(outFile, 'a');
  const args = [path.join(pkg, 'openclaw.mjs'), 'gateway', 'run', '--allow-unconfigured',
    '--bind', 'loopback', '--auth', 'token', '--token', token, '--port', String(port)];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out], env, cwd: dir });
  fs.closeSync(out);
  let exited = null;
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => { exited = { code, signal }; resolve(exited); }));
  const tail = () => {
    try { return fs.readFileSync(outFile, 'utf8').slice(-3000); } catch { return ''; }
  };
  const gw = { pid: child.pid, port, token, home, state, config, logFile, outFile, env, tail, exit };
  let tree = [];
  const killSync = () => {
    for (const p of [...tree, ...descendants(child.pid).map((d) => d)]) {
      if (procStat(p.pid)?.start === p.start) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
    }
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  };
  syncKills.add(killSync);
  // SIGTERM lets it shut down cleanly, but it first drains held requests
  // (a pending approval) for up to 315 s: SIGKILL follows after 10 s.
  // `{ signal: 'SIGKILL' }` is a gateway that dies at once.
  gw.stop = async ({ signal = 'SIGTERM' } = {}) => {
    if (exited) return exited;
    tree = descendants(child.pid);
    try { process.kill(-child.pid, signal); } catch { /* gone */ }
    for (const p of tree) { try { process.kill(p.pid, signal); } catch { /* gone */ } }
    const done = await Promise.race([exit, new Promise((r) => setTimeout(() => r(null), 10_000))]);
    killSync();
    syncKills.delete(killSync);
    removeLifecycleLocks(state);
    await waitFor(() => tree.every((p) => procStat(p.pid)?.start !== p.start || !alive(p.pid)), {
      what: `the gateway's children ${tree.map((p) => p.pid).join(', ')} to exit`,
    });
    return done ?? (await exit);
  };
  cleanups.push(() => gw.stop());
  /** The gateway's children now (the lab saw a spawn broker and a sqlite worker). */
  gw.children = () => descendants(child.pid);
  await waitFor(async () => {
    if (exited) throw new Error(`the gateway exited (${JSON.stringify(exited)}): ${tail()}`);
    return accepts(port);
  }, { timeout: GATEWAY_START, interval: 200, what: () => `the gateway to listen on 127.0.0.1:${port}; its output: ${tail()}` });
  return gw;
}

/**
 * An isolated Reins environment (HOME and XDG dirs under a temp dir, the
 * daemon's embedded broker and phone server on free loopback ports, like
 * tests/common's `Env::reins()`), whose `~/.openclaw/openclaw.json` is `openclaw`.
 */
export function reinsEnv(dir, openclaw) {
  const p = (r) => path.join(dir, r);
  for (const d of ['home', 'config', 'data']) fs.mkdirSync(p(d), { recursive: true });
  fs.mkdirSync(p('run'), { recursive: true, mode: 0o700 });
  fs.chmodSync(p('run'), 0o700);
  fs.mkdirSync(p('home/.openclaw'), { recursive: true });
  fs.writeFileSync(p('home/.openclaw/openclaw.json'), JSON.stringify(openclaw, null, 2));
  const env = {
    PATH: process.env.PATH,
    HOME: p('home'),
    XDG_CONFIG_HOME: p('config'),
    XDG_DATA_HOME: p('data'),
    XDG_RUNTIME_DIR: p('run'),
    REINS__HALT__GRACE_MS: '1000',
    REINS__HALT__RECHECK_AFTER_S: '1',
    REINS__LINK__EMBEDDED_BIND: '127.0.0.1',
    REINS__LINK__EMBEDDED_TCP_PORT: '0',
    REINS__LINK__EMBEDDED_WS_PORT: '0',
    REINS__PHONE__BIND: '127.0.0.1',
    REINS__PHONE__PORT: '0',
  };
  const r = { dir, env };
  /** `reins args...` to completion: { code, stdout, stderr }. */
  r.run = (args) => new Promise((resolve) => {
    execFile(reinsBin(), args, { env, timeout: T }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr });
    });
  });
  /** `reins args... --json`, parsed; throws with stderr on failure. */
  r.json = async (args) => {
    const o = await r.run([...args, '--json']);
    if (o.code !== 0) throw new Error(`reins ${args.join(' ')} --json exited ${o.code}: ${o.stderr}`);
    return JSON.parse(o.stdout);
  };
  /** A long-running `reins args...`, killed at the end. */
  r.spawn = (args) => {
    const child = spawn(reinsBin(), args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { out += d; });
    child.output = () => out;
    child.exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const kill = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
    syncKills.add(kill);
    child.stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(kill, 5000);
        await child.exit;
        clearTimeout(t);
      }
      syncKills.delete(kill);
    };
    cleanups.push(child.stop);
    return child;
  };
  /** `reins daemon`, resolved once it says it is listening. */
  r.daemon = async () => {
    const d = r.spawn(['daemon']);
    await waitFor(() => {
      if (d.exitCode !== null) throw new Error(`reins daemon exited ${d.exitCode}: ${d.output()}`);
      return d.output().includes('listening');
    }, { what: 'reins daemon to say it is listening' });
    return d;
  };
  /** `reins status --json`'s `openclaw` object. */
  r.openclaw = async () => (await r.json(['status'])).openclaw;
  return r;
}

const require = createRequire(import.meta.url);

/**
 * A gateway client of our own: OpenClaw's handshake (challenge, `connect`
 * signed with a fresh Ed25519 device key, v3 payload) as client `cli`.
 * `call` resolves with the response frame; events are kept in `events`.
 * While the gateway is still starting (a retryable UNAVAILABLE), it tries
 * again after the delay the gateway asks for, as OpenClaw's clients do.
 */
export async function gatewayClient(opts) {
  const deadline = Date.now() + T;
  for (;;) {
    try {
      return await connectOnce(opts);
    } catch (e) {
      if (!e.retryable || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, e.retryAfterMs ?? 500));
    }
  }
}

async function connectOnce({ port, token, name, scopes, caps = [] }) {
  const WebSocket = require(require.resolve('ws', { paths: [openclawPackage()] }));
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const raw = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).subarray(-32);
  const deviceId = crypto.createHash('sha256').update(raw).digest('hex');
  const ws = new WebSocket(`ws://127.0.0.1:${port}`);
  const pending = new Map();
  const c = { events: [], closed: null };
  let n = 0;
  c.call = (method, params = {}) => new Promise((resolve, reject) => {
    const id = `${name}-${++n}`;
    if (c.closed) return reject(new Error(`${name}: ${method} after the socket closed`));
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ type: 'req', id, method, params }), (e) => e && reject(e));
  });
  c.close = () => new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', () => resolve());
    ws.close();
  });
  cleanups.push(c.close);
  const hello = new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('close', (code, reason) => {
      c.closed = { code, reason: String(reason) };
      for (const p of pending.values()) p.reject(new Error(`${name}: the socket closed (${code} ${reason}) before the answer`));
      pending.clear();
      reject(new Error(`${name}: the gateway closed the socket (${code} ${reason})`));
    });
    ws.on('message', async (data) => {
      const f = JSON.parse(String(data));
      if (f.type === 'res' && pending.has(f.id)) {
        pending.get(f.id).resolve(f);
        pending.delete(f.id);
      } else if (f.type === 'event' && f.event === 'connect.challenge') {
        const { nonce, ts } = f.payload;
        const client = { id: 'cli', version: '0.0.1', platform: 'linux', mode: 'cli', displayName: name };
        const signed = ['v3', deviceId, client.id, client.mode, 'operator', scopes.join(','), String(ts), token, nonce, 'linux', ''].join('|');
        const signature = crypto.sign(null, Buffer.from(signed), privateKey).toString('base64url');
        const res = await c.call('connect', {
          minProtocol: 4, maxProtocol: 4, client, role: 'operator', scopes, caps, auth: { token },
          device: { id: deviceId, publicKey: raw.toString('base64url'), signature, signedAt: ts, nonce },
        });
        if (res.ok) resolve(res.payload);
        else {
          const e = new Error(`${name}: connect refused: ${JSON.stringify(res.error)}`);
          e.retryable = res.error?.code === 'UNAVAILABLE' && res.error?.retryable === true;
          e.retryAfterMs = res.error?.retryAfterMs;
          reject(e);
        }
      } else if (f.type === 'event') {
        c.events.push(f);
      }
    });
  });
  c.hello = await hello;
  return c;
}
