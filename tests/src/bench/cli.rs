//! `reins stop <pid> --json` end to end against a running daemon: process
//! spawn, IPC, the daemon's halt, its audit write and post-halt re-scan,
//! and the reply, with about `opts.procs` processes on the machine.
//!
//! Trees are started in batches of [`BATCH`] and stopped only once
//! `reins status` lists them, so no stop pays for the on-demand scan the
//! daemon runs when it does not yet know a PID. The wall time runs from
//! just before the CLI is spawned until it exits; the report's own
//! `frozen_after_us` / `gone_after_us` (measured inside the daemon from the
//! start of the halt) and, on sampled runs, the `/proc` watcher's
//! "all seen T" from the spawn show where the time goes.

use super::daemon::{Env, file_name};
use super::halt::{Watch, Watcher};
use super::procs::{Bins, Fleet, Tree, check_interrupted, count_processes, is_dead};
use super::stats::{Row, ms};
use super::{Opts, Res};
use std::path::Path;
use std::time::{Duration, Instant};

/// Trees started (and waited for in `reins status`) at a time.
const BATCH: usize = 4;

/// How long to wait for the daemon's 1 Hz scan to list a new tree.
const LISTED_WITHIN: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Sample {
    wall_us: u64,
    frozen_us: u64,
    gone_us: u64,
    watched: Option<Watch>,
}

/// Run the CLI measure and append its rows.
pub fn run(
    bins: &Bins,
    agent_exe: &Path,
    idle_exe: &Path,
    opts: &Opts,
    rows: &mut Vec<Row>,
) -> Res<()> {
    let env = Env::new(bins, file_name(agent_exe)?)?;
    let fleet = Fleet::fill_to(idle_exe, opts.procs.saturating_sub(BATCH * opts.tree))?;
    let _daemon = env.daemon()?;
    let mut samples = Vec::with_capacity(opts.runs);
    let mut procs_seen = Vec::new();
    while samples.len() < opts.runs {
        check_interrupted()?;
        let n = BATCH.min(opts.runs - samples.len());
        let mut trees = (0..n)
            .map(|_| Tree::spawn(agent_exe, &["tree", &opts.tree.to_string()]))
            .collect::<Res<Vec<_>>>()?;
        wait_listed(&env, &trees)?;
        procs_seen.push(count_processes()?);
        for tree in &mut trees {
            check_interrupted()?;
            let i = samples.len();
            let watched = opts.watch_every > 0 && i % opts.watch_every == 0;
            samples.push(one(&env, tree, watched)?);
        }
    }
    let procs = procs_seen.iter().max().copied().unwrap_or(0);
    let cond = format!(
        "{}-process tree, daemon at 1 Hz, up to {procs} processes ({} fillers)",
        opts.tree,
        fleet.len()
    );
    let all = |f: fn(&Sample) -> u64| samples.iter().map(|s| ms(f(s))).collect::<Vec<_>>();
    let w: Vec<f64> = samples
        .iter()
        .filter_map(|s| s.watched.map(|w| ms(w.frozen_us)))
        .collect();
    let candidates = [
        Row::new(
            "cli: `reins stop` wall (spawn → exit)",
            &cond,
            "ms",
            &all(|s| s.wall_us),
            None,
        ),
        Row::new(
            "cli: watcher, spawn → all seen T",
            format!("{cond}; watched runs only"),
            "ms",
            &w,
            None,
        ),
        Row::new(
            "cli: daemon's report frozen_after_us",
            &cond,
            "ms",
            &all(|s| s.frozen_us),
            Some(10.0),
        ),
        Row::new(
            "cli: daemon's report gone_after_us",
            &cond,
            "ms",
            &all(|s| s.gone_us),
            Some(100.0),
        ),
    ];
    rows.extend(candidates.into_iter().flatten());
    drop(fleet);
    Ok(())
}

fn wait_listed(env: &Env, trees: &[Tree]) -> Res<()> {
    let start = Instant::now();
    loop {
        let listed = env.agent_pids()?;
        if trees.iter().all(|t| listed.contains(&t.root())) {
            return Ok(());
        }
        if start.elapsed() > LISTED_WITHIN {
            return Err("the daemon did not list the bench's trees within 10 s".into());
        }
        check_interrupted()?;
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn one(env: &Env, tree: &mut Tree, watched: bool) -> Res<Sample> {
    let watcher = watched.then(|| Watcher::arm(&tree.pids)).transpose()?;
    let root = tree.root().to_string();
    let t0 = watcher.as_ref().map_or_else(Instant::now, Watcher::start);
    let out = env.run(&["stop", &root, "--json"])?;
    let wall_us = t0.elapsed().as_micros() as u64;
    let watched = watcher.map(Watcher::finish).transpose()?;
    if !out.status.success() {
        return Err(format!(
            "reins stop {root} exited {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("reins stop --json is not JSON: {e}"))?;
    let report = &v["targets"][0]["report"];
    let field = |k: &str| {
        report[k]
            .as_u64()
            .ok_or_else(|| format!("report has no {k}: {v}"))
    };
    if report["success"] != serde_json::Value::Bool(true) {
        return Err(format!("stop of {root} not verified: {v}"));
    }
    if let Some(p) = tree.pids.iter().find(|&&p| !is_dead(p)) {
        return Err(format!("pid {p} survived a verified stop"));
    }
    let sample = Sample {
        wall_us,
        frozen_us: field("frozen_after_us")?,
        gone_us: field("gone_after_us")?,
        watched,
    };
    tree.kill_and_reap();
    Ok(sample)
}
