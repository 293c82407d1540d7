//! The stop latch: how fast a respawn of a stopped agent is frozen, and what
//! an active latch costs the idle daemon.
//!
//! The bench itself plays the supervisor: it starts the bench agent, has the
//! daemon stop it (`reins stop --no-wait`), which latches the bench process
//! as the agent's parent. Each run then starts the agent again (same program,
//! same cwd) and times from just before `spawn` until `/proc/<pid>/stat`
//! shows state T, polled every 100 µs; the respawn is then killed and reaped
//! (the latch stays). The idle rows are the daemon's utime + stime over
//! `opts.idle_secs`, once with the latch active and one respawn held frozen
//! (the supervisor then waits on it, as a real one would), once after
//! `reins release all` with nothing latched.

use super::daemon::{Env, clock_ticks, cpu_ticks, file_name};
use super::procs::{Bins, check_interrupted, spawn_retrying};
use super::stats::Row;
use super::{Opts, Res};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The poll interval while waiting for a respawn to be frozen (the
/// resolution of the measure).
const POLL: Duration = Duration::from_micros(100);
/// A respawn not frozen within this is a failure, not a slow sample.
const GIVE_UP: Duration = Duration::from_secs(5);

fn state(pid: u32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s[s.rfind(')')? + 2..].chars().next()
}

fn spawn(agent: &Path, cwd: &Path) -> Res<Child> {
    spawn_retrying(
        Command::new(agent)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
}

fn kill(mut c: Child) {
    let _ = c.kill();
    let _ = c.wait();
}

/// The id `reins status --json` gives the agent with root `pid`.
fn agent_id(env: &Env, pid: u32) -> Res<Option<String>> {
    let o = env.run(&["status", "--json"])?;
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).map_err(|e| format!("status --json: {e}"))?;
    Ok(v["agents"].as_array().and_then(|a| {
        a.iter()
            .find(|x| x["pid"] == pid)
            .and_then(|x| x["id"].as_str().map(str::to_owned))
    }))
}

fn idle_cpu(pid: u32, secs: u64) -> Res<f64> {
    let (t0, c0) = (Instant::now(), cpu_ticks(pid)?);
    while t0.elapsed() < Duration::from_secs(secs) {
        check_interrupted()?;
        std::thread::sleep(Duration::from_millis(200));
    }
    let c1 = cpu_ticks(pid)?;
    Ok((c1 - c0) as f64 / clock_ticks() as f64 / t0.elapsed().as_secs_f64() * 100.0)
}

/// Run the latch measures and append their rows.
pub fn run(bins: &Bins, agent_exe: &Path, opts: &Opts, rows: &mut Vec<Row>) -> Res<()> {
    let env = Env::new(bins, file_name(agent_exe)?)?;
    let cwd = tempfile::tempdir().map_err(|e| format!("cannot create a tempdir: {e}"))?;
    let mut daemon = env.daemon()?;
    let first = spawn(agent_exe, cwd.path())?;
    let deadline = Instant::now() + GIVE_UP;
    let id = loop {
        if let Some(id) = agent_id(&env, first.id())? {
            break id;
        }
        if Instant::now() > deadline {
            return Err("the daemon never listed the bench agent".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let o = env.run(&["stop", "--no-wait", &id])?;
    if !o.status.success() {
        return Err(format!(
            "reins stop failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    kill(first);

    let mut samples = Vec::with_capacity(opts.runs);
    for _ in 0..opts.runs {
        check_interrupted()?;
        let t0 = Instant::now();
        let child = spawn(agent_exe, cwd.path())?;
        let pid = child.id();
        loop {
            if state(pid) == Some('T') {
                samples.push(t0.elapsed().as_secs_f64() * 1e3);
                break;
            }
            if t0.elapsed() > GIVE_UP {
                kill(child);
                let status = env.run(&["status", "--json"])?;
                return Err(format!(
                    "respawn {pid} was not frozen within {GIVE_UP:?}; the daemon says: {}",
                    String::from_utf8_lossy(&status.stdout)
                ));
            }
            std::thread::sleep(POLL);
        }
        kill(child);
    }
    rows.extend(Row::new(
        "respawn → frozen under a stop latch",
        format!(
            "bench as the supervisor, {} respawns, 20 ms watch",
            opts.runs
        ),
        "ms",
        &samples,
        Some(100.0),
    ));

    // Idle: a latch holding one frozen respawn, then no latch at all.
    let held = spawn(agent_exe, cwd.path())?;
    let t0 = Instant::now();
    while state(held.id()) != Some('T') {
        if t0.elapsed() > GIVE_UP {
            return Err("the held respawn was not frozen".into());
        }
        std::thread::sleep(POLL);
    }
    let with = idle_cpu(daemon.pid(), opts.idle_secs)?;
    let o = env.run(&["release", "all"])?;
    if !o.status.success() {
        return Err(format!(
            "reins release failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    kill(held);
    let without = idle_cpu(daemon.pid(), opts.idle_secs)?;
    daemon.shutdown();
    let cond = format!("{} s, 1 Hz scan", opts.idle_secs);
    rows.extend(Row::new(
        "daemon idle CPU, latch active (1 held)",
        cond.clone(),
        "%",
        &[with],
        None,
    ));
    rows.extend(Row::new(
        "daemon idle CPU, no latch",
        cond.clone(),
        "%",
        &[without],
        None,
    ));
    rows.extend(Row::new(
        "extra idle CPU of an active latch",
        cond,
        "%",
        &[with - without],
        None,
    ));
    Ok(())
}
