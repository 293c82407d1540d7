// Opt-in interop check against a real `reins daemon` (embedded broker, ws):
// REINS_LIVE=1 npx vitest run test/live
// The core pairs through `reins pair`, gets the resync, and its presence and
// commands are accepted by the Rust side. Skipped unless REINS_LIVE=1.
/// <reference types="node" />
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { spawn, ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app/app.js';
import type { App, AppState } from '../../src/app/types.js';
import { MachineStore } from '../../src/store/db.js';

const BIN = process.env.REINS_BIN ?? '/var/cache/reins-target/debug/reins';
const live = process.env.REINS_LIVE === '1' && existsSync(BIN);
let dir = '';
let env: Record<string, string> = {};
function makeEnv(): void {
  dir = mkdtempSync(join(tmpdir(), 'reins-live-'));
  for (const d of ['home', 'config/reins', 'data', 'run']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'run'), 0o700);
  writeFileSync(join(dir, 'config/reins/config.toml'), '[scan]\nbuiltin_signatures = false\n');
  env = {
    PATH: process.env.PATH ?? '', HOME: join(dir, 'home'), XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'), XDG_RUNTIME_DIR: join(dir, 'run'),
    REINS__LINK__EMBEDDED_BIND: '127.0.0.1', REINS__LINK__EMBEDDED_TCP_PORT: '0', REINS__LINK__EMBEDDED_WS_PORT: '0',
  };
}
const children: ChildProcess[] = [];
const reins = (args: string[]) => execFileSync(BIN, args, { env, cwd: env.HOME, encoding: 'utf8' });

async function until<T>(f: () => T | null | undefined | Promise<T | null | undefined>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterAll(async () => {
  for (const c of children) {
    if (c.exitCode !== null) continue;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await gone;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!live)('against a real reins daemon', () => {
  it('pairs, receives the resync, has its stop-all acknowledged and allows a request', async () => {
    makeEnv();
    const daemon = spawn(BIN, ['daemon'], { env, cwd: env.HOME, stdio: 'ignore' });
    children.push(daemon);
    await until(() => {
      try {
        const s = JSON.parse(reins(['status', '--json']));
        return s.link?.state === 'connected' && s.link?.ready === true;
      } catch {
        return false;
      }
    }, 'the daemon link');
    const pair = spawn(BIN, ['pair'], { env, cwd: env.HOME, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(pair);
    let out = '';
    pair.stdout!.on('data', (b) => (out += b));
    const url = await until(() => /Pairing link: (\S+)/.exec(out)?.[1], 'the pairing link');
    const store = await MachineStore.open('live', new IDBFactory());
    const app: App = await createApp({ store, deviceName: 'Live test phone', log: (m) => console.log('core:', m) });
    let s: AppState = app.state();
    app.subscribe((n) => (s = n));
    await app.pair(url);
    const code = await until(() => (s.pairing.kind === 'waiting' ? s.pairing.code : null), 'the code');
    const prompt = await until(() => /Does the phone show (\d{6})\?/.exec(out)?.[1], 'the desktop prompt');
    expect(prompt).toBe(code);
    pair.stdin!.end('y\n');
    await until(() => s.pairing.kind === 'paired', `pairing to finish (${JSON.stringify(s.pairing)})`);
    await until(() => s.machines[0]?.synced, 'the first snapshot');
    expect(s.machines[0]!.link.kind).toBe('connected');
    await app.command(s.machines[0]!.id, 'stop', 'all');
    const t = await until(() => s.toasts.at(-1), 'the command ack');
    console.log('ack toast:', t.text);
    // An approval: the hook waits, the phone sees the hash-checked request and allows it.
    const hook = spawn(BIN, ['hook', 'claude', 'permission-request'], { env, cwd: env.HOME, stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(hook);
    let hookOut = '';
    hook.stdout!.on('data', (b) => (hookOut += b));
    hook.stdin!.end(JSON.stringify({
      session_id: 'live-1', transcript_path: '/tmp/t.jsonl', cwd: env.HOME, permission_mode: 'default',
      hook_event_name: 'PermissionRequest', tool_name: 'Bash', tool_input: { command: 'echo live', description: 'run it' },
    }));
    const req = await until(() => s.approvals[0], 'the approval request on the phone');
    console.log('request:', req.tool, req.action, req.command, req.risk, req.allowSession);
    await app.approve(req.machineId, req.requestId, 'once');
    await until(() => hook.exitCode !== null, 'the hook to return');
    expect(hookOut).toContain('"allow"');
    const done = await until(() => s.resolved.at(-1), 'the resolution');
    expect(done).toMatchObject({ requestId: req.requestId, resolution: 'allowed', by: 'this phone' });
    for (const m of s.machines) await app.unpair(m.id);
  }, 60_000);
});
