//! The halt engine measured directly: `reins_os::halt` with `Linux` on a
//! fresh `fake-agent tree N` per run, and an independent watcher that polls
//! `/proc` to check the engine's own timings.
//!
//! Every run stops a tree whose processes keep SIGTERM's default action
//! (exit), so "all gone" is the SIGTERM path, not the SIGKILL fallback. A
//! run whose report is not verified, does not list the whole tree, or
//! leaves a process alive is an error, not a sample.

use super::procs::{Fleet, StatFile, Tree, check_interrupted, count_processes, is_dead};
use super::stats::{Row, ms};
use super::{Opts, Res};
use reins_core::{HaltOp, HaltOptions};
use reins_os::{Linux, ProcessOps, halt};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Pause between a tree's ready line and the halt, so the tree's last
/// exec/page-fault work is done and every process sleeps, as a real
/// agent's idle tree would.
const SETTLE: Duration = Duration::from_millis(30);

/// How long the watcher waits for a tree to vanish before giving up.
const WATCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The stop's grace period: far above what a SIGTERM-honouring tree needs,
/// so the engine returns as soon as everything is gone.
const GRACE: Duration = Duration::from_secs(3);

/// What the watcher saw, in microseconds from the request.
#[derive(Clone, Copy, Debug)]
pub struct Watch {
    /// Until every process was seen in state T (or gone, see `missed`).
    pub frozen_us: u64,
    /// Until every process was seen gone (reaped or zombie).
    pub gone_us: u64,
    /// Processes that vanished before the watcher ever saw them in T (their
    /// vanishing time stands in for their freeze time).
    pub missed: usize,
}

#[derive(Debug, Default)]
struct Shared {
    t0: OnceLock<Instant>,
    cancel: AtomicBool,
}

/// A thread polling a tree's `/proc/<pid>/stat` files from the request on.
#[derive(Debug)]
pub struct Watcher {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<Res<Watch>>>,
}

impl Watcher {
    /// Open every pid's stat file and start a thread that waits for
    /// [`Watcher::start`].
    pub fn arm(pids: &[u32]) -> Res<Watcher> {
        let files = pids
            .iter()
            .map(|&p| StatFile::open(p))
            .collect::<Res<Vec<_>>>()?;
        let shared = Arc::new(Shared::default());
        let s = Arc::clone(&shared);
        let handle = std::thread::spawn(move || watch(&s, &files));
        Ok(Watcher {
            shared,
            handle: Some(handle),
        })
    }

    /// Mark the request time (now) and return it.
    pub fn start(&self) -> Instant {
        *self.shared.t0.get_or_init(Instant::now)
    }

    /// Wait for the watcher's result.
    pub fn finish(mut self) -> Res<Watch> {
        let handle = self.handle.take().ok_or("watcher already finished")?;
        handle
            .join()
            .map_err(|_| "the watcher thread panicked".to_owned())?
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.shared.cancel.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn watch(shared: &Shared, files: &[StatFile]) -> Res<Watch> {
    let t0 = loop {
        if shared.cancel.load(Ordering::SeqCst) {
            return Err("watcher cancelled".into());
        }
        match shared.t0.get() {
            Some(t) => break *t,
            None => std::thread::yield_now(),
        }
    };
    let mut frozen: Vec<Option<Instant>> = vec![None; files.len()];
    let mut gone: Vec<Option<Instant>> = vec![None; files.len()];
    let mut missed = 0;
    let mut buf = [0u8; 512];
    while gone.iter().any(Option::is_none) {
        if shared.cancel.load(Ordering::SeqCst) || t0.elapsed() > WATCH_TIMEOUT {
            return Err("watcher: the tree did not vanish within 10 s".into());
        }
        for (i, f) in files.iter().enumerate() {
            if gone[i].is_some() {
                continue;
            }
            let state = f.state(&mut buf);
            let now = Instant::now();
            match state {
                Some(b'T' | b't') => {
                    frozen[i].get_or_insert(now);
                }
                None | Some(b'Z' | b'X') => {
                    gone[i] = Some(now);
                    if frozen[i].is_none() {
                        missed += 1;
                        frozen[i] = Some(now);
                    }
                }
                Some(_) => {}
            }
        }
    }
    let latest = |v: &[Option<Instant>]| {
        v.iter()
            .flatten()
            .map(|t| t.duration_since(t0).as_micros() as u64)
            .max()
            .unwrap_or(0)
    };
    Ok(Watch {
        frozen_us: latest(&frozen),
        gone_us: latest(&gone),
        missed,
    })
}

/// One direct halt.
#[derive(Clone, Copy, Debug)]
struct Sample {
    frozen_us: u64,
    gone_us: u64,
    call_us: u64,
    watched: Option<Watch>,
}

fn one(exe: &Path, size: usize, watched: bool) -> Res<Sample> {
    let mut tree = Tree::spawn(exe, &["tree", &size.to_string()])?;
    if tree.pids.len() != size {
        return Err(format!(
            "asked for {size} processes, got {}",
            tree.pids.len()
        ));
    }
    std::thread::sleep(SETTLE);
    let key = Linux
        .info(tree.root())
        .ok_or("the tree's root vanished before the halt")?
        .key;
    let opts = HaltOptions {
        grace: GRACE,
        force: true,
    };
    let watcher = watched.then(|| Watcher::arm(&tree.pids)).transpose()?;
    let t0 = watcher.as_ref().map_or_else(Instant::now, Watcher::start);
    let report = halt(&Linux, key, HaltOp::Stop, &opts);
    let call_us = t0.elapsed().as_micros() as u64;
    let watched = watcher.map(Watcher::finish).transpose()?;
    if !report.success || report.processes.len() != size {
        return Err(format!(
            "halt of a {size}-process tree not verified or incomplete ({} processes): {report:?}",
            report.processes.len()
        ));
    }
    if let Some(p) = tree.pids.iter().find(|&&p| !is_dead(p)) {
        return Err(format!("pid {p} survived a verified stop"));
    }
    tree.kill_and_reap();
    Ok(Sample {
        frozen_us: report.frozen_after_us.ok_or("no frozen_after_us")?,
        gone_us: report.gone_after_us.ok_or("no gone_after_us")?,
        call_us,
        watched,
    })
}

/// Run the direct halt measure twice: on the machine as it is, then with
/// idle fillers bringing it to about `opts.procs` processes.
pub fn run(agent_exe: &Path, idle_exe: &Path, opts: &Opts, rows: &mut Vec<Row>) -> Res<()> {
    let baseline = count_processes()?;
    let passes = [(baseline + opts.tree, false), (opts.procs, true)];
    for (target, fill) in passes {
        let fleet = if fill {
            Fleet::fill_to(idle_exe, target.saturating_sub(opts.tree))?
        } else {
            Fleet::default()
        };
        let mut samples = Vec::with_capacity(opts.runs);
        for i in 0..opts.runs {
            check_interrupted()?;
            let watched = opts.watch_every > 0 && i % opts.watch_every == 0;
            samples.push(one(agent_exe, opts.tree, watched)?);
        }
        let procs = count_processes()? + opts.tree;
        let cond = format!(
            "{}-process tree, {procs} processes on the machine ({} fillers)",
            opts.tree,
            fleet.len()
        );
        push_rows(rows, &cond, &samples);
        drop(fleet);
    }
    Ok(())
}

fn push_rows(rows: &mut Vec<Row>, cond: &str, samples: &[Sample]) {
    let all = |f: fn(&Sample) -> u64| samples.iter().map(|s| ms(f(s))).collect::<Vec<_>>();
    let watched: Vec<(Sample, Watch)> = samples
        .iter()
        .filter_map(|s| s.watched.map(|w| (*s, w)))
        .collect();
    let missed: usize = watched.iter().map(|(_, w)| w.missed).sum();
    let wcond = format!("{cond}; watched runs only, {missed} processes never seen in T");
    let w = |f: fn(&(Sample, Watch)) -> u64| watched.iter().map(|x| ms(f(x))).collect::<Vec<_>>();
    let candidates = [
        Row::new(
            "engine: request → all frozen (frozen_after_us)",
            cond,
            "ms",
            &all(|s| s.frozen_us),
            Some(10.0),
        ),
        Row::new(
            "engine: request → all gone (gone_after_us)",
            cond,
            "ms",
            &all(|s| s.gone_us),
            Some(100.0),
        ),
        Row::new(
            "engine: halt() call, wall",
            cond,
            "ms",
            &all(|s| s.call_us),
            None,
        ),
        Row::new(
            "watcher: request → all seen T",
            &wcond,
            "ms",
            &w(|(_, w)| w.frozen_us),
            Some(10.0),
        ),
        Row::new(
            "engine on the same watched runs: frozen_after_us",
            &wcond,
            "ms",
            &w(|(s, _)| s.frozen_us),
            None,
        ),
        Row::new(
            "watcher: request → all seen gone",
            &wcond,
            "ms",
            &w(|(_, w)| w.gone_us),
            Some(100.0),
        ),
    ];
    rows.extend(candidates.into_iter().flatten());
}
