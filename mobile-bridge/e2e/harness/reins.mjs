// A real `reins daemon` per test machine, with a private HOME and XDG
// directories, loopback-only free ports, and helpers around the real CLI:
// `status --json`, `approvals --json`, `approve`, `reins pair` (driven like
// a person would), `reins hook claude permission-request`, and fake-agent
// process trees detected as a private agent kind.

import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { comm, spawnTracked, trackDir, trackPids } from './procs.mjs';
import { T, waitFor } from './util.mjs';

/** The binaries under test: REINS_BIN / FAKE_AGENT, else $CARGO_TARGET_DIR/debug. */
export function bins() {
  const target = process.env.CARGO_TARGET_DIR || '/var/cache/reins-target';
  return {
    reins: process.env.REINS_BIN || join(target, 'debug', 'reins'),
    fakeAgent: process.env.FAKE_AGENT || join(target, 'debug', 'fake-agent'),
  };
}

/** Free loopback ports, all held at once (so they differ), then released. */
export async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      await new Promise((res, rej) => {
        s.once('error', rej);
        s.listen(0, '127.0.0.1', res);
      });
      servers.push(s);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** Runs `cmd args`, optionally writing `input` to stdin; resolves {code, stdout, stderr}. */
export function run(cmd, args, { env, input, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    c.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    c.on('error', reject);
    c.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    c.stdin.on('error', () => {});
    c.stdin.end(input ?? '');
  });
}

/**
 * Stand-in mode, for developing these tests before the daemon serves the
 * app: E2E_APP_URL=http://127.0.0.1:4173/ (e.g. `npx vite preview`) is used
 * as the app, daemons run without `[phone]` keys, and pairing links are
 * rebased onto it (the fragment is kept). Assertions about the daemon's own
 * server are skipped in this mode.
 */
export const STAND_IN = process.env.E2E_APP_URL || null;

let webSupport;
/**
 * Whether this `reins` has the phone web server (a `[phone]` config
 * section): an older binary refuses the unknown key and says so. Cached.
 * Resolves { ok, why }.
 */
export function phoneWebSupported() {
  webSupport ??= (async () => {
    const { reins } = bins();
    if (STAND_IN && existsSync(reins)) return { ok: true, why: '' };
    if (!existsSync(reins)) return { ok: false, why: `${reins} is missing: build it (cargo build --bins)` };
    const env = new Env({ label: 'probe', web: true });
    const r = await env.run(['status', '--json']);
    if (r.code === 0) return { ok: true, why: '' };
    return { ok: false, why: `this reins has no phone web server (${reins}): ${r.stderr.trim().split('\n')[0]}` };
  })();
  return webSupport;
}

let counter = 0;

/**
 * One machine's private environment: HOME, XDG_CONFIG_HOME, XDG_DATA_HOME,
 * XDG_RUNTIME_DIR (0700) under a fresh temporary directory, a config that
 * watches only this env's own agent name (kind `e2ebot`), and `fake-agent`
 * copied under that name.
 */
export class Env {
  /**
   * @param {object} o
   * @param {string} [o.label] short tag for names
   * @param {string} [o.config] extra TOML appended to config.toml (e.g. a [link] table)
   * @param {boolean} [o.web] set REINS__PHONE__* (loopback, port 0)
   */
  constructor({ label = 'm', config = '', web = !STAND_IN } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), `reins-e2e-${label}-`));
    trackDir(this.dir);
    for (const d of ['home', 'config/reins', 'data', 'run', 'bin', 'work']) mkdirSync(join(this.dir, d), { recursive: true });
    chmodSync(join(this.dir, 'run'), 0o700);
    // A name only this env's daemon watches (comm keeps 15 bytes).
    this.agentName = `ew${process.pid % 100000}${label.slice(0, 3)}${counter++}`.slice(0, 15);
    this.kind = 'e2ebot';
    this.displayName = 'E2E Bot';
    writeFileSync(
      join(this.dir, 'config/reins/config.toml'),
      `[scan]\nbuiltin_signatures = false\n\n[[signatures]]\nkind = "${this.kind}"\ndisplay_name = "${this.displayName}"\nexe_names = ["${this.agentName}"]\n\n${config}\n`,
    );
    this.web = web;
    this.extraVars = {};
  }

  path(rel) {
    return join(this.dir, rel);
  }

  /** The environment every `reins` process of this machine runs with. */
  vars(extra = {}) {
    const v = {
      PATH: process.env.PATH,
      HOME: this.path('home'),
      XDG_CONFIG_HOME: this.path('config'),
      XDG_DATA_HOME: this.path('data'),
      XDG_RUNTIME_DIR: this.path('run'),
      REINS__HALT__GRACE_MS: '1000',
      REINS__SCAN__INTERVAL_MS: '250',
      REINS__LINK__EMBEDDED_BIND: '127.0.0.1',
      REINS__LINK__EMBEDDED_TCP_PORT: '0',
      REINS__LINK__EMBEDDED_WS_PORT: '0',
    };
    if (this.web) {
      v.REINS__PHONE__BIND = '127.0.0.1';
      v.REINS__PHONE__PORT = '0';
      // Serve a fresh build instead of the bundle compiled into reins.
      if (process.env.E2E_APP_DIR) v.REINS__PHONE__APP_DIR = process.env.E2E_APP_DIR;
    }
    return { ...v, ...this.extraVars, ...extra };
  }

  /** Runs `reins args...` to completion. */
  run(args, { input, vars } = {}) {
    return run(bins().reins, args, { env: this.vars(vars), input, cwd: this.path('home') });
  }

  /** Runs `reins args...` and parses its JSON stdout (throws on failure). */
  async json(args) {
    const r = await this.run(args);
    if (r.code !== 0) throw new Error(`reins ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  status() {
    return this.json(['status', '--json']);
  }

  /** Pending approval requests (`reins approvals --json`). */
  approvals() {
    return this.json(['approvals', '--json']);
  }

  /** Polls `reins approvals --json` until `pred(list)` is truthy; returns its value. */
  waitApprovals(pred, what = 'the pending approvals') {
    return waitFor(async () => pred(await this.approvals()), { interval: 0, what });
  }

  /** The fake-agent copy named like this env's agent. */
  agentExe() {
    const exe = this.path(`bin/${this.agentName}`);
    if (!existsSync(exe)) {
      copyFileSync(bins().fakeAgent, exe);
      chmodSync(exe, 0o755);
    }
    return exe;
  }

  /**
   * A fake-agent tree of `n` processes (a real process tree), detected by
   * this env's daemon as kind `e2ebot`. Resolves once every process exists:
   * { root (ChildProcess), pids (root first), pid }.
   */
  async spawnTree(n) {
    // Every tree started here is a new agent. But to the daemon, this test
    // process is the supervisor of the agents it stopped before, and a new
    // agent of the same kind in the same project is their respawn: held
    // frozen by the stop latch before it can even say "ready". End those
    // latches first (a no-op when there are none; with no daemon running,
    // as while a test restarts it, there is no latch to end).
    const released = await this.run(['release', 'all']);
    if (released.code !== 0 && !/no Reins daemon is listening/.test(released.stderr)) {
      throw new Error(`reins release all failed: ${released.stderr}`);
    }
    const exe = this.agentExe();
    const child = spawnTracked(exe, ['tree', String(n)], { cwd: this.path('work'), stdio: ['ignore', 'pipe', 'ignore'] });
    const pids = (await child.out.lineAfter('ready ')).split(/\s+/).map(Number);
    trackPids(pids);
    return { root: child, pids, pid: pids[0], comm: comm(pids[0]) };
  }

  /**
   * Polls `reins status --json` until the daemon lists `pid` (and `pred`
   * holds for its record, e.g. the whole tree was seen); resolves the record.
   */
  waitAgent(pid, pred = () => true) {
    return waitFor(async () => (await this.status()).agents.find((a) => a.pid === pid && pred(a)), {
      interval: 0,
      what: `the daemon to list pid ${pid}`,
    });
  }

  /**
   * `reins hook claude permission-request` with a Claude PermissionRequest
   * payload for a Bash `command`. Returns { child, running(), result() }:
   * result() waits for the hook to exit and resolves { code, stdout,
   * output (parsed or null), behavior: 'allow'|'deny'|'abstain' }.
   */
  hook({ command, session = `s-${counter++}`, cwd = this.path('work') }) {
    const payload = JSON.stringify({
      session_id: session,
      transcript_path: '/tmp/t.jsonl',
      cwd,
      permission_mode: 'default',
      hook_event_name: 'PermissionRequest',
      tool_name: 'Bash',
      tool_input: { command, description: 'run it' },
    });
    const child = spawnTracked(bins().reins, ['hook', 'claude', 'permission-request'], {
      env: this.vars(),
      cwd: this.path('home'),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.on('error', () => {});
    child.stdin.end(payload);
    const result = async () => {
      const { code } = await child.exited;
      // 'close' may lag 'exit' for the pipes: wait for stdout to end.
      await new Promise((r) => (child.stdout.readableEnded ? r() : child.stdout.once('end', r)));
      const stdout = child.out.all;
      let output = null;
      try {
        output = stdout.trim() ? JSON.parse(stdout) : null;
      } catch {
        output = null;
      }
      const behavior = output?.hookSpecificOutput?.decision?.behavior ?? 'abstain';
      return { code, stdout, stderr: child.err.all, output, behavior };
    };
    return {
      child,
      command,
      cwd,
      running: () => child.exitCode === null && child.signalCode === null,
      result,
    };
  }

  /**
   * A fake Claude Code session: bash copied under this env's agent name (so
   * the daemon detects it as this env's agent) that runs the real `reins
   * hook claude user-prompt-submit` as its child with `prompt` typed by the
   * person, then waits on its stdin. Returns { child, pid, output() }:
   * output() polls until the hook wrote its answer and resolves it parsed
   * (null for no answer).
   */
  promptAgent(prompt) {
    mkdirSync(this.path('bash'), { recursive: true });
    const exe = this.path(`bash/${this.agentName}`);
    if (!existsSync(exe)) {
      copyFileSync('/bin/bash', exe);
      chmodSync(exe, 0o755);
    }
    const n = counter++;
    const payload = this.path(`prompt-${n}.json`);
    const out = this.path(`prompt-${n}.out`);
    const done = this.path(`prompt-${n}.done`);
    writeFileSync(payload, JSON.stringify({
      session_id: `s-${n}`, transcript_path: '/tmp/t.jsonl', cwd: this.path('work'),
      permission_mode: 'default', hook_event_name: 'UserPromptSubmit', prompt,
    }));
    const script = `'${bins().reins}' hook claude user-prompt-submit < '${payload}' > '${out}'; echo done > '${done}'; read _`;
    const child = spawnTracked(exe, ['-c', script], { env: this.vars(), cwd: this.path('work'), stdio: ['pipe', 'ignore', 'ignore'] });
    trackPids([child.pid]);
    const output = () => waitFor(() => {
      if (!existsSync(done) && !existsSync(out)) return undefined;
      const text = readFileSync(out, 'utf8');
      return text.trim() ? { parsed: JSON.parse(text) } : existsSync(done) ? { parsed: null } : undefined;
    }, { what: 'the hook to answer' }).then((r) => r.parsed);
    return { child, pid: child.pid, output };
  }

  /**
   * Starts `reins pair`. Resolves once it printed the pairing link:
   * { url, child, prompt(): resolves { code, deviceName, text } when it asks
   * "Does the phone show NNNNNN? [y/N]", answer(text), exited }.
   */
  async startPair() {
    const child = spawnTracked(bins().reins, ['pair'], {
      env: this.vars(),
      cwd: this.path('home'),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.on('error', () => {});
    const printed = await child.out.lineAfter('Pairing link: ');
    const url = STAND_IN ? STAND_IN + printed.slice(printed.indexOf('#')) : printed;
    return {
      url,
      printed,
      child,
      async prompt() {
        const text = await child.out.until('[y/N] ');
        const m = /Does the phone show (\d{6})\?/.exec(text);
        if (!m) throw new Error(`no code in the pair prompt: ${text}`);
        const name = /The phone "([^"]*)" wants to pair/.exec(text);
        return { code: m[1], deviceName: name ? name[1] : null, text };
      },
      answer(text) {
        child.stdin.end(text);
      },
      async finished() {
        const r = await child.exited;
        return { ...r, stdout: child.out.all, stderr: child.err.all };
      },
    };
  }

  /** Paired phones (`reins devices --json`). */
  devices() {
    return this.json(['devices', '--json']);
  }
}

/** Finds the phone app's URL in `reins status --json`, wherever the schema put it. */
export function appUrlOf(status) {
  const known = [
    // docs/cli.md (phone-web): link.app = { url, https, served, local_url, error };
    // local_url is where this daemon serves it, url what pairing links open.
    status?.link?.app?.local_url,
    status?.link?.app?.url,
    status?.phone?.app_url,
    status?.phone?.url,
    status?.phone?.urls?.[0],
    status?.web?.url,
    status?.web?.app_url,
    status?.app_url,
    status?.link?.app_url,
    status?.link?.phone?.app_url,
  ].find((u) => typeof u === 'string' && /^https?:\/\//.test(u));
  if (known) return known;
  // Any other http(s) URL in the document outside the agents list.
  const seen = [];
  const walk = (v, key) => {
    if (typeof v === 'string' && /^https?:\/\//.test(v)) seen.push([key, v]);
    else if (v && typeof v === 'object' && key !== 'agents') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(status, '');
  return seen.length ? seen[0][1] : null;
}

let appChecked = null;
/**
 * Fails fast, once per test file, when the page served is not the built
 * phone app (e.g. the placeholder `mobile-bridge/dist`), instead of every
 * test waiting out its guard for UI that never comes.
 */
async function checkServedApp(url) {
  appChecked ??= (async () => {
    const r = await fetch(url);
    const html = await r.text();
    if (!r.ok || !/id=["']?app["'\s>]/.test(html)) {
      throw new Error(
        `${url} does not serve the built phone app (HTTP ${r.status}; no #app element): ` +
          'build it (npm run build) and rebuild reins, or point E2E_APP_DIR at a build',
      );
    }
  })();
  return appChecked;
}

/**
 * A running `reins daemon` on `env`. Start with `Daemon.start(env, opts)`;
 * `stop()` sends SIGTERM and waits; `restart()` starts it again with the
 * same env, data dir and (with `fixedPorts`) the same ports.
 */
export class Daemon {
  /**
   * @param {Env} env
   * @param {object} [o]
   * @param {boolean} [o.fixedPorts] pick free ports now (phone, embedded TCP, WS) and keep them across restarts
   * @param {object} [o.vars] extra environment (e.g. REINS__PHONE__APP_URL)
   * @param {boolean} [o.waitLink] wait until the link is connected and ready (default true)
   */
  static async start(env, { fixedPorts = false, vars = {}, waitLink = true } = {}) {
    const d = new Daemon(env, vars, waitLink);
    if (fixedPorts) {
      const [phone, tcp, ws] = await freePorts(3);
      d.vars = {
        ...d.vars,
        REINS__LINK__EMBEDDED_TCP_PORT: String(tcp),
        REINS__LINK__EMBEDDED_WS_PORT: String(ws),
      };
      if (env.web) d.vars.REINS__PHONE__PORT = String(phone);
    }
    await d.spawn();
    return d;
  }

  constructor(env, vars, waitLink) {
    this.env = env;
    this.vars = vars;
    this.waitLink = waitLink;
    this.child = null;
  }

  get pid() {
    return this.child?.pid;
  }

  async spawn() {
    const child = spawnTracked(bins().reins, ['daemon'], {
      env: this.env.vars(this.vars),
      cwd: this.env.path('home'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.persistent = true;
    this.child = child;
    // Later `reins` commands must see the same overrides (ports, app URL).
    this.env.extraVars = { ...this.env.extraVars, ...this.vars };
    await child.out.until('listening', T).catch((e) => {
      throw new Error(`the daemon did not start: ${e.message}\nstderr: ${child.err.all.slice(-4000)}`);
    });
    this.lastStatus = await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the daemon exited: ${child.err.all.slice(-4000)}`);
        const s = await this.env.status();
        if (this.waitLink && !(s.link?.state === 'connected' && s.link?.ready === true)) return null;
        if (this.env.web && !STAND_IN && !appUrlOf(s)) return null;
        return s;
      },
      { interval: 0, what: 'the daemon to be ready (link connected, app URL known)' },
    );
    this.appUrl = STAND_IN ?? (this.env.web ? appUrlOf(this.lastStatus) : null);
    if (this.appUrl) await checkServedApp(this.appUrl);
  }

  /** The app's origin, e.g. http://127.0.0.1:41234 */
  get origin() {
    return this.appUrl ? new URL(this.appUrl).origin : null;
  }

  get port() {
    return this.appUrl ? Number(new URL(this.appUrl).port) : null;
  }

  status() {
    return this.env.status();
  }

  /** SIGTERM; resolves when it exited. */
  async stop() {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const c = this.child;
    c.kill('SIGTERM');
    await c.exited;
  }

  /** Stops it and starts it again (same env, data, ports). */
  async restart() {
    await this.stop();
    await this.spawn();
  }
}
