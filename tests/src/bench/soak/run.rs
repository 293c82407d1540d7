//! One soak run: set-up (broker, daemon, phones, agents), the load, the
//! schedule of stops, pauses, resumes and faults, the wait for every
//! outstanding hook, and the gathering of everything the checker needs.
//!
//! The schedule is sequential: each step waits for its own confirmation
//! (a phone's ack, the CLI's exit, the restarted daemon listing every
//! agent) before the next starts, so two steps never race each other;
//! the load runs on its own thread throughout.

use super::agents::{Agent, Done, group_members, payload};
use super::daemon_view::{WAIT, audit, converge, devices, verify, wait_link, wait_listed};
use super::faults::{Mosquitto, flood};
use super::phones::{self, Phone, PhoneCmd, lock};
use super::{CostSample, Gathered, SentRequest, SoakOpts, StopDone};
use crate::bench::Res;
use crate::bench::daemon::{Env, clock_ticks, cpu_ticks, status_kb};
use crate::bench::procs::{Bins, check_interrupted};
use reins_proto::payload::{AckOutcome, CommandOp, Target};
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Where an agent stands, as the run drives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    Paused,
    Stopped,
}

struct Slot {
    agent: Agent,
    id: String,
    state: State,
}

type Slots = Arc<Mutex<Vec<Slot>>>;

fn guard(s: &Slots) -> std::sync::MutexGuard<'_, Vec<Slot>> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Run a soak and gather what happened (the checker judges it).
pub fn soak(bins: &Bins, opts: &SoakOpts) -> Res<Gathered> {
    let say = |m: &str| {
        if opts.verbose {
            eprintln!("reins-bench: soak: {m}");
        }
    };
    let mut broker = Mosquitto::start()?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a tempdir: {e}"))?;
    let name = format!("rsoak{}", std::process::id());
    let exe = dir.path().join(&name);
    std::fs::copy("/bin/bash", &exe).map_err(|e| format!("cannot copy /bin/bash: {e}"))?;
    let env = Env::new(bins, &name)?;
    configure(&env, &broker.url(), opts)?;
    let mut daemon = env.daemon()?;
    let daemon_pid = Arc::new(AtomicU32::new(daemon.pid()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))?;
    say(&format!("pairing {} phones...", opts.phones));
    let mut phones = Vec::new();
    for i in 0..opts.phones {
        let client = phones::pair(&rt, &env, &format!("soak phone {i}"))?;
        phones.push(phones::start(
            &rt,
            client,
            i,
            opts.phones,
            opts.approval_timeout,
        )?);
    }
    say(&format!("starting {} agents...", opts.agents));
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let mut started = Vec::new();
    for _ in 0..opts.agents {
        started.push(Agent::spawn(&env, &exe, done_tx.clone())?);
    }
    drop(done_tx);
    let ids = wait_listed(&env, &started.iter().map(Agent::pid).collect::<Vec<_>>())?;
    let slots: Slots = Arc::new(Mutex::new(
        started
            .into_iter()
            .zip(ids)
            .map(|(agent, id)| Slot {
                agent,
                id,
                state: State::Running,
            })
            .collect(),
    ));
    let mut g = Gathered {
        agent_ids: guard(&slots).iter().map(|s| s.id.clone()).collect(),
        ..Gathered::default()
    };
    let flood = match opts.flood_per_s {
        Some(rate) => {
            let topics = phones.iter().map(|p| p.p2d_topic.clone()).collect();
            Some(flood(&rt, &broker.url(), topics, rate)?)
        }
        None => None,
    };
    let stop_load = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let sampler = sample_cost(daemon_pid.clone(), opts.sample_every, stop_load.clone(), t0);
    let load = generate(slots.clone(), opts.rate_per_min, stop_load.clone());
    say(&format!(
        "load: {} requests a minute for {} s{}",
        opts.rate_per_min,
        opts.duration.as_secs(),
        opts.flood_per_s
            .map_or(String::new(), |r| format!(", flood {r} msg/s"))
    ));
    g.load.0 = Some(t0);
    let schedule = schedule(opts);
    let mut picker = 0usize;
    for (at, step) in schedule {
        while t0.elapsed() < at {
            check_interrupted()?;
            std::thread::sleep(Duration::from_millis(50));
        }
        say(&format!("{:>6.1} s: {step:?}", t0.elapsed().as_secs_f64()));
        match step {
            Step::Halt(op, by_phone) => {
                picker += 7;
                halt(&env, &slots, &phones, op, by_phone, picker, &mut g)?
            }
            Step::PhoneOffline => {
                let _ = phones[phones.len() - 1].tx.send(PhoneCmd::Offline);
            }
            Step::PhoneOnline => {
                let _ = phones[phones.len() - 1].tx.send(PhoneCmd::Online);
            }
            Step::RestartBroker => {
                g.broker_restarted = Some(Instant::now());
                broker.restart()?;
                wait_link(&env)?;
            }
            Step::KillDaemon => {
                g.daemon_killed = Some(Instant::now());
                daemon.kill();
                daemon = env.daemon()?;
                daemon_pid.store(daemon.pid(), Ordering::SeqCst);
                let live: Vec<u32> = guard(&slots)
                    .iter()
                    .filter(|s| s.state != State::Stopped)
                    .map(|s| s.agent.pid())
                    .collect();
                wait_listed(&env, &live)?;
                wait_link(&env)?;
            }
        }
    }
    while t0.elapsed() < opts.duration {
        check_interrupted()?;
        std::thread::sleep(Duration::from_millis(50));
    }
    stop_load.store(true, Ordering::SeqCst);
    g.sent = load.join().map_err(|_| "the load thread panicked")?;
    g.load.1 = Some(Instant::now());
    say(&format!(
        "{} requests raised; waiting for every hook...",
        g.sent.len()
    ));
    g.done = drain(&done_rx, &g.sent, &slots, opts.approval_timeout + WAIT);
    g.flooded = flood.map_or(0, |f| f.sent.load(Ordering::Relaxed));
    g.cost = sampler.join().map_err(|_| "the sampler panicked")?;
    say("checking trees, phones' views and the audit log...");
    for s in &g.stops {
        let left = group_members(s.pgid);
        if !left.is_empty() {
            g.leftovers.push((s.pgid, left));
        }
    }
    g.views_differ = converge(&env, &phones);
    g.devices = devices(&env)?;
    g.audit = audit(&env)?;
    g.audit_broken = verify(&env).err();
    for p in phones {
        let log = std::mem::take(&mut *lock(&p.log));
        g.phones.push(log);
        p.quit(&rt);
    }
    for s in guard(&slots).iter_mut() {
        s.agent.reap_if_exited();
    }
    drop(daemon);
    Ok(g)
}

/// The link to Mosquitto, the web app on loopback, short rechecks, and a
/// policy with no rules (every request asks a person) and a short timeout.
fn configure(env: &Env, broker: &str, opts: &SoakOpts) -> Res<()> {
    let config = env.config_file()?;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&config)
        .map_err(|e| format!("cannot open {}: {e}", config.display()))?;
    write!(
        f,
        "\n[link]\nenabled = true\nbroker = \"{broker}\"\n\n[phone]\nbind = \"127.0.0.1\"\n\
         port = 0\n\n[halt]\nrecheck_after_s = 1\n"
    )
    .map_err(|e| format!("cannot write the config: {e}"))?;
    let policy = config.with_file_name("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[approvals]\ntimeout_secs = {}\n",
            opts.approval_timeout.as_secs().max(1)
        ),
    )
    .map_err(|e| format!("cannot write {}: {e}", policy.display()))
}

/// One step of the schedule.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Stop, pause or resume an agent; from a phone (true) or the CLI.
    Halt(CommandOp, bool),
    PhoneOffline,
    PhoneOnline,
    RestartBroker,
    KillDaemon,
}

/// The steps and when they start: a stop, then a pause and its resume
/// (one by a phone, one by the CLI), repeated about twice a minute; the
/// last phone offline from 30 % to 45 % of the run; the broker restarted
/// at 40 % and the daemon killed at 65 % (with faults).
fn schedule(opts: &SoakOpts) -> Vec<(Duration, Step)> {
    let d = opts.duration.as_secs_f64();
    let rounds = ((d / 30.0).round() as usize).max(2);
    let mut steps = Vec::new();
    for r in 0..rounds {
        let base = d * (r as f64 + 0.2) / (rounds as f64 + 0.2);
        let phone_first = r % 2 == 0;
        steps.push((base, Step::Halt(CommandOp::Stop, phone_first)));
        steps.push((base + 1.0, Step::Halt(CommandOp::Pause, !phone_first)));
        steps.push((base + 3.0, Step::Halt(CommandOp::Resume, phone_first)));
    }
    steps.push((d * 0.30, Step::PhoneOffline));
    steps.push((d * 0.45, Step::PhoneOnline));
    if opts.faults {
        steps.push((d * 0.40, Step::RestartBroker));
        steps.push((d * 0.65, Step::KillDaemon));
    }
    steps.sort_by(|a, b| a.0.total_cmp(&b.0));
    steps
        .into_iter()
        .filter(|(t, _)| *t < d - 2.0)
        .map(|(t, s)| (Duration::from_secs_f64(t), s))
        .collect()
}

/// Stop, pause or resume an agent (a running one, or for a resume a paused
/// one), from phone `pick % phones` or the CLI; waits for the confirmation.
fn halt(
    env: &Env,
    slots: &Slots,
    phones: &[Phone],
    op: CommandOp,
    by_phone: bool,
    pick: usize,
    g: &mut Gathered,
) -> Res<()> {
    let want = if op == CommandOp::Resume {
        State::Paused
    } else {
        State::Running
    };
    let (index, id, pgid) = {
        let mut s = guard(slots);
        let candidates: Vec<usize> = (0..s.len()).filter(|&i| s[i].state == want).collect();
        let Some(&i) = candidates.get(pick % candidates.len().max(1)) else {
            return Ok(());
        };
        // The load stops writing to it before the command leaves.
        s[i].state = match op {
            CommandOp::Stop => State::Stopped,
            _ => State::Paused,
        };
        (i, s[i].id.clone(), s[i].agent.pid())
    };
    let at = Instant::now();
    // A phone that is offline does not act; the first one always is online.
    let phone = if by_phone {
        pick % (phones.len() - 1).max(1)
    } else {
        0
    };
    let (by, confirmed) = if by_phone {
        let _ = phones[phone].tx.send(PhoneCmd::Command(op, id.clone()));
        (format!("phone {phone}"), wait_ack(&phones[phone], op, &id))
    } else {
        let word = match op {
            CommandOp::Stop => "stop",
            CommandOp::Pause => "pause",
            _ => "resume",
        };
        let mut args = vec![word, id.as_str(), "--json"];
        if op == CommandOp::Stop {
            args.push("--no-wait");
        }
        let o = env.run(&args)?;
        let r = if o.status.success() {
            Ok(())
        } else {
            Err(format!(
                "reins {word} exited {}: {}",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            ))
        };
        ("cli".to_owned(), r)
    };
    // A confirmed stop has landed: nothing of the tree may be left.
    let confirmed = match confirmed {
        Ok(()) if op == CommandOp::Stop => landed(pgid),
        other => other,
    };
    if op == CommandOp::Resume && confirmed.is_ok() {
        guard(slots)[index].state = State::Running;
    }
    match op {
        CommandOp::Stop => g.stops.push(StopDone {
            agent: index,
            pgid,
            by,
            at,
            confirmed,
        }),
        _ => g.halts.push((format!("{op:?} {id} by {by}"), confirmed)),
    }
    Ok(())
}

/// Ok once no live process is left in the stopped tree's group. A
/// verified stop leaves only zombies, which its parents reap at their
/// own pace: a short bounded poll covers a member still being torn down.
fn landed(pgid: u32) -> Result<(), String> {
    let start = Instant::now();
    loop {
        let left = group_members(pgid);
        if left.is_empty() {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(2) {
            return Err(format!(
                "stop confirmed but {left:?} of tree {pgid} still run"
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The phone's ack for `op` on `id`: Ok when done.
fn wait_ack(phone: &Phone, op: CommandOp, id: &str) -> Result<(), String> {
    let start = Instant::now();
    let target = Target::Agent(id.to_owned());
    while start.elapsed() < WAIT {
        if let Some(a) = lock(&phone.log)
            .acks
            .iter()
            .find(|a| a.op == op && a.target == target)
        {
            return match a.outcome {
                AckOutcome::Done => Ok(()),
                o => Err(format!("{op:?} {id}: ack {o:?} {:?}", a.detail)),
            };
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Err(format!("{op:?} {id}: no ack within {WAIT:?}"))
}

/// Raise `rate` requests a minute on random running agents until `stop`.
fn generate(
    slots: Slots,
    rate: u64,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<SentRequest>> {
    std::thread::spawn(move || {
        let every = Duration::from_secs_f64(60.0 / rate.max(1) as f64);
        let start = Instant::now();
        let mut sent = Vec::new();
        let mut tag = 0u64;
        while !stop.load(Ordering::SeqCst) {
            let due = start + every * tag as u32;
            let now = Instant::now();
            if due > now {
                std::thread::sleep((due - now).min(Duration::from_millis(50)));
                continue;
            }
            let mut s = guard(&slots);
            let running: Vec<usize> = (0..s.len())
                .filter(|&i| s[i].state == State::Running)
                .collect();
            if running.is_empty() {
                drop(s);
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            let agent = running[rand::random::<u64>() as usize % running.len()];
            // A session of its own: a second request in a session withdraws the
            // first ("the session moved on"), which would cut the decisions short.
            let session = format!("soak-{agent}-{tag}");
            let command = format!("echo soak-{tag}-{:x}", rand::random::<u32>());
            if s[agent]
                .agent
                .request(tag, &payload(&session, &command))
                .is_ok()
            {
                sent.push(SentRequest {
                    tag,
                    agent,
                    at: Instant::now(),
                    unix_ms: reins_link::now_ms(),
                });
            }
            drop(s);
            tag += 1;
        }
        sent
    })
}

/// Sample the daemon's CPU and RSS every `every` until `stop`.
fn sample_cost(
    pid: Arc<AtomicU32>,
    every: Duration,
    stop: Arc<AtomicBool>,
    t0: Instant,
) -> std::thread::JoinHandle<Vec<CostSample>> {
    std::thread::spawn(move || {
        let hz = clock_ticks() as f64;
        let mut out = Vec::new();
        let mut last = (
            pid.load(Ordering::SeqCst),
            cpu_ticks(pid.load(Ordering::SeqCst)).unwrap_or(0),
            Instant::now(),
        );
        while !stop.load(Ordering::SeqCst) {
            let until = Instant::now() + every;
            while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
            }
            let p = pid.load(Ordering::SeqCst);
            let (Ok(ticks), Ok(rss)) = (cpu_ticks(p), status_kb(p, "VmRSS")) else {
                continue;
            };
            let now = Instant::now();
            // After a restart the new daemon's ticks count from its start.
            let used = if p == last.0 {
                ticks.saturating_sub(last.1)
            } else {
                ticks
            };
            let cpu_pct = used as f64 / hz / (now - last.2).as_secs_f64() * 100.0;
            out.push(CostSample {
                t_s: (now - t0).as_secs_f64(),
                cpu_pct,
                rss_kb: rss,
                pid: p,
            });
            last = (p, ticks, now);
        }
        out
    })
}

/// Every hook's answer: wait until each request sent to an agent that was
/// not stopped has one, or `within` passes.
fn drain(
    rx: &mpsc::Receiver<Done>,
    sent: &[SentRequest],
    slots: &Slots,
    within: Duration,
) -> Vec<Done> {
    let stopped: Vec<bool> = guard(slots)
        .iter()
        .map(|s| s.state == State::Stopped)
        .collect();
    let mut want: HashMap<u64, ()> = sent
        .iter()
        .filter(|r| !stopped[r.agent])
        .map(|r| (r.tag, ()))
        .collect();
    let mut done: Vec<Done> = Vec::new();
    let deadline = Instant::now() + within;
    while !want.is_empty() && Instant::now() < deadline {
        if let Ok(d) = rx.recv_timeout(Duration::from_millis(100)) {
            want.remove(&d.tag);
            done.push(d);
        }
    }
    // Anything else already there (answers to stopped agents, duplicates).
    std::thread::sleep(Duration::from_millis(200));
    done.extend(rx.try_iter());
    done
}
