// Every process a test starts is registered here and killed when the test
// file's `after` hook runs, and again (synchronously) when the test process
// exits for any reason, so a failing test leaves nothing behind. Also the
// /proc readers the tests use to see process states for themselves.

import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { Lines, T, waitFor } from './util.mjs';

/** Started children (ChildProcess), and loose pids with the comm they had. */
const children = new Set();
const loose = new Map(); // pid -> comm
const dirs = new Set();

/** Spawns `cmd` and registers it for cleanup. stdout/stderr become `Lines`. */
export function spawnTracked(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.add(child);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
    child.on('error', (e) => {
      children.delete(child);
      resolve({ code: null, signal: null, error: e });
    });
  });
  if (child.stdout) child.out = new Lines(child.stdout, `${cmd} ${args.join(' ')} stdout`);
  if (child.stderr) child.err = new Lines(child.stderr, `${cmd} ${args.join(' ')} stderr`);
  return child;
}

/** Registers pids (e.g. a fake-agent tree's descendants) to SIGKILL at cleanup. */
export function trackPids(pids) {
  for (const pid of pids) loose.set(pid, comm(pid));
}

/** Registers a temporary directory to delete at cleanup. */
export function trackDir(dir) {
  dirs.add(dir);
}

/** Kills everything started (SIGKILL; also works on stopped processes). */
export function killAll({ keepDirs = false } = {}) {
  for (const [pid, c] of loose) {
    // Only processes that are still ours (same name): a pid may be reused.
    if (c !== null && comm(pid) === c) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  loose.clear();
  for (const child of children) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
  if (!keepDirs) {
    for (const d of dirs) {
      try { rmSync(d, { recursive: true, force: true }); } catch { /* busy */ }
    }
    dirs.clear();
  }
}

/**
 * Kills what a single test started (agent trees, hooks, `reins pair`) but
 * not long-lived children marked `persistent` (daemons, brokers); waits
 * for them to exit. For `afterEach`.
 */
export async function killTransient() {
  for (const [pid, c] of loose) {
    if (c !== null && comm(pid) === c) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  loose.clear();
  const waits = [];
  for (const child of children) {
    if (child.persistent) continue;
    waits.push(child.exited);
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
  await Promise.all(waits);
}

/** killAll, then waits until every child we spawned has exited. */
export async function cleanup() {
  const waits = [...children].map((c) => c.exited);
  killAll({ keepDirs: true });
  await Promise.all(waits);
  killAll();
}

process.on('exit', () => killAll());
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    killAll();
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
  });
}

/** /proc/<pid>/comm, or null when gone. */
export function comm(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trimEnd();
  } catch {
    return null;
  }
}

/** The state letter from /proc/<pid>/stat (R, S, T, Z, ...), or null when gone. */
export function procState(pid) {
  let s;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return s.slice(s.lastIndexOf(')') + 2)[0];
}

/** Gone, or a zombie waiting to be reaped. */
export function isDead(pid) {
  const s = procState(pid);
  return s === null || s === 'Z' || s === 'X';
}

/** Stopped by a signal (T) — what `pause` must achieve for every process. */
export function isStopped(pid) {
  return procState(pid) === 'T';
}

/** Alive and not stopped (running or sleeping). */
export function isRunning(pid) {
  const s = procState(pid);
  return s !== null && s !== 'T' && s !== 't' && s !== 'Z' && s !== 'X';
}

/** Polls /proc until `pred` holds for every pid (bounded by the guard). */
export function waitProcs(pids, pred, what, timeout = T) {
  return waitFor(() => pids.every(pred), {
    timeout,
    what: () => `${what}: ${pids.map((p) => `${p}=${procState(p)}`).join(' ')}`,
  });
}

export { T };
