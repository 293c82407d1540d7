//! A stop sent from a paired phone to a real `reins daemon`, end to end:
//! phone publish → broker → the daemon's link (open, replay window saved)
//! → halt → ack sealed and published → ack opened at the phone.
//!
//! The daemon runs in private XDG dirs ([`Env`]) watching only the bench's
//! agent copy, with its embedded broker on loopback, and is paired once
//! through a real `reins pair` ([`pair`]). Trees (`fake-agent tree N`) are
//! started in batches of [`BATCH`] and stopped only once `reins status`
//! lists them, one `command` per tree. On every `opts.watch_every`-th run
//! the `/proc` [`Watcher`] times "all in T" and "all gone" from just before
//! the publish; on every run the phone times the ack, and the ack's own
//! `frozen_after_us` / `gone_after_us` (from the daemon's receipt) split it.
//!
//! Deliberately not measured here: pairing (done once, untimed), the
//! daemon's discovery of a new tree (the scan is waited out before each
//! stop), filler processes (the machine is as it is; `cli` measures a full
//! machine), and the broker alone (the transport measure). A stop not acked
//! as done for the whole tree, or leaving a process alive, is an error.

use super::pair::pair;
use super::{T, es};
use crate::bench::daemon::{Env, file_name};
use crate::bench::halt::{Watch, Watcher};
use crate::bench::procs::{Bins, Tree, check_interrupted, is_dead};
use crate::bench::stats::{Row, ms};
use crate::bench::{Opts, Res};
use reins_link::PhoneClient;
use reins_proto::Payload;
use reins_proto::payload::{self as p, AckOutcome, CommandOp, Target};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Trees started (and waited for in `reins status`) at a time.
const BATCH: usize = 4;

/// What the daemon's config needs beyond [`Env`]'s: the link, with the
/// embedded broker on loopback and free ports.
const LINK_CONFIG: &str = "\n[link]\nenabled = true\nembedded_bind = \"127.0.0.1\"\n\
                           embedded_tcp_port = 0\nembedded_ws_port = 0\n";

/// Enable the link in the config [`Env::new`] wrote (which already limits
/// the daemon to the bench's agent copy).
pub(crate) fn enable_link(env: &Env) -> Res<()> {
    let cmd = env.reins();
    let config_home = cmd
        .get_envs()
        .find(|(k, _)| *k == "XDG_CONFIG_HOME")
        .and_then(|(_, v)| v)
        .ok_or("the bench env has no XDG_CONFIG_HOME")?;
    std::fs::OpenOptions::new()
        .append(true)
        .open(Path::new(config_home).join("reins/config.toml"))
        .and_then(|mut f| f.write_all(LINK_CONFIG.as_bytes()))
        .map_err(|e| format!("cannot write the config: {e}"))
}

/// The agent ids of `trees`, once the daemon lists all of them.
pub(crate) fn wait_listed(env: &Env, trees: &[Tree]) -> Res<Vec<String>> {
    let start = Instant::now();
    loop {
        let v = env.run(&["status", "--json"])?.stdout;
        let v: serde_json::Value = serde_json::from_slice(&v).map_err(es)?;
        let agents = v["agents"].as_array().cloned().unwrap_or_default();
        let ids: Vec<Option<String>> = trees
            .iter()
            .map(|t| {
                agents
                    .iter()
                    .find(|a| a["pid"].as_u64() == Some(u64::from(t.root())))
                    .and_then(|a| a["id"].as_str().map(str::to_owned))
            })
            .collect();
        if ids.iter().all(Option::is_some) {
            return Ok(ids.into_iter().flatten().collect());
        }
        if start.elapsed() > T {
            return Err("the daemon did not list the bench's trees within 20 s".into());
        }
        check_interrupted()?;
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One stop from the phone; watcher figures only on watched runs.
#[derive(Debug)]
struct Sample {
    watched: Option<Watch>,
    ack_us: u64,
    daemon_frozen_us: u64,
    daemon_gone_us: u64,
}

fn loadavg() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split(' ').take(3).collect::<Vec<_>>().join(" ")
}

/// Run `opts.runs` stops from the phone and append their rows.
pub(super) fn run(
    rt: &Runtime,
    bins: &Bins,
    agent: &Path,
    opts: &Opts,
    rows: &mut Vec<Row>,
) -> Res<()> {
    let env = Env::new(bins, file_name(agent)?)?;
    enable_link(&env)?;
    let _daemon = env.daemon()?;
    let mut phone = pair(rt, &env)?;
    let load_before = loadavg();
    let mut samples = Vec::with_capacity(opts.runs);
    while samples.len() < opts.runs {
        check_interrupted()?;
        let n = BATCH.min(opts.runs - samples.len());
        let mut trees = (0..n)
            .map(|_| Tree::spawn(agent, &["tree", &opts.tree.to_string()]))
            .collect::<Res<Vec<_>>>()?;
        let ids = wait_listed(&env, &trees)?;
        for (tree, id) in trees.iter_mut().zip(ids) {
            check_interrupted()?;
            let i = samples.len();
            let watched = opts.watch_every > 0 && i % opts.watch_every == 0;
            samples.push(one(rt, &mut phone, tree, id, opts.tree, watched)?);
        }
    }
    rt.block_on(phone.close());
    let load = format!("load {load_before} before, {} after", loadavg());
    let cond = format!(
        "{}-process tree, daemon + embedded broker on loopback; {load}",
        opts.tree
    );
    push_rows(rows, &cond, &samples);
    Ok(())
}

fn push_rows(rows: &mut Vec<Row>, cond: &str, samples: &[Sample]) {
    let watched: Vec<_> = samples.iter().filter(|s| s.watched.is_some()).collect();
    let unwatched: Vec<_> = samples.iter().filter(|s| s.watched.is_none()).collect();
    let w = |f: &dyn Fn(&Sample, &Watch) -> u64| {
        let v = watched
            .iter()
            .filter_map(|s| Some(ms(f(s, s.watched.as_ref()?))));
        v.collect::<Vec<_>>()
    };
    let wcond = format!("{cond}; watched runs (a /proc poller spins on one core)");
    let mut push = |m: &str, c: &str, v: Vec<f64>, target| {
        rows.extend(Row::new(format!("phone stop: {m}"), c, "ms", &v, target));
    };
    let c = &wcond;
    push(
        "publish → all seen T (watcher)",
        c,
        w(&|_, w| w.frozen_us),
        Some(20.0),
    );
    push(
        "publish → all seen gone (watcher)",
        c,
        w(&|_, w| w.gone_us),
        None,
    );
    let to_receipt = w(&|s, w| w.frozen_us.saturating_sub(s.daemon_frozen_us));
    push(
        "publish → daemon receipt (T − frozen_after_us)",
        c,
        to_receipt,
        None,
    );
    for (set, c) in [
        (&watched, wcond.clone()),
        (&unwatched, format!("{cond}; unwatched runs")),
    ] {
        let all = |f: fn(&Sample) -> u64| set.iter().map(|s| ms(f(s))).collect::<Vec<_>>();
        push(
            "publish → ack opened at the phone",
            &c,
            all(|s| s.ack_us),
            None,
        );
        push(
            "ack's frozen_after_us (from receipt)",
            &c,
            all(|s| s.daemon_frozen_us),
            None,
        );
        push(
            "ack's gone_after_us (from receipt)",
            &c,
            all(|s| s.daemon_gone_us),
            None,
        );
    }
}

/// Stop `tree` (agent `id`, `size` processes) from the phone; checked.
fn one(
    rt: &Runtime,
    phone: &mut PhoneClient,
    tree: &mut Tree,
    id: String,
    size: usize,
    watched: bool,
) -> Res<Sample> {
    let watcher = watched.then(|| Watcher::arm(&tree.pids)).transpose()?;
    let target = Target::Agent(id);
    let command = Payload::Command(p::Command {
        op: CommandOp::Stop,
        target: target.clone(),
    });
    let t0 = watcher.as_ref().map_or_else(Instant::now, Watcher::start);
    phone.send(&command).map_err(es)?;
    let ack = rt.block_on(async {
        loop {
            match phone.recv(T).await {
                Ok(m) => match m.payload {
                    Payload::CommandAck(a) if a.target == target => return Ok(a),
                    _ => {}
                },
                Err(e) => return Err(format!("no ack from the daemon: {e}")),
            }
        }
    })?;
    let ack_us = t0.elapsed().as_micros() as u64;
    let watched = watcher.map(Watcher::finish).transpose()?;
    if ack.outcome != AckOutcome::Done || ack.processes as usize != size {
        return Err(format!(
            "the phone's stop was not done for {size} processes: {ack:?}"
        ));
    }
    if let Some(p) = tree.pids.iter().find(|&&p| !is_dead(p)) {
        return Err(format!("pid {p} survived a stop acked as done"));
    }
    tree.kill_and_reap();
    Ok(Sample {
        watched,
        ack_us,
        daemon_frozen_us: ack
            .frozen_after_us
            .ok_or("the ack has no frozen_after_us")?,
        daemon_gone_us: ack.gone_after_us.ok_or("the ack has no gone_after_us")?,
    })
}
