//! The daemon at rest: `reins daemon` scanning at its default 1 Hz with
//! about `opts.procs` processes on the machine and one bench agent tree.
//!
//! CPU is the daemon's utime + stime delta from `/proc/<pid>/stat` over
//! `opts.idle_secs`, after a warm-up that lets the first (cold) scans pass,
//! as a percentage of one core. RSS is `VmRSS` sampled every second (the
//! largest sample is reported) and `VmHWM` at the end.

use super::daemon::{Env, clock_ticks, cpu_ticks, file_name, status_kb};
use super::procs::{Bins, Fleet, Tree, check_interrupted, count_processes};
use super::stats::Row;
use super::{Opts, Res};
use std::path::Path;
use std::time::{Duration, Instant};

/// Time for the daemon's first scans (which read every process's cmdline,
/// exe and cwd) before sampling starts.
const WARMUP: Duration = Duration::from_secs(3);

/// Run the idle measure and append its rows.
pub fn run(
    bins: &Bins,
    agent_exe: &Path,
    idle_exe: &Path,
    opts: &Opts,
    rows: &mut Vec<Row>,
) -> Res<()> {
    let env = Env::new(bins, file_name(agent_exe)?)?;
    let agent = Tree::spawn(agent_exe, &["tree", "5"])?;
    let fleet = Fleet::fill_to(idle_exe, opts.procs.saturating_sub(1))?;
    let mut daemon = env.daemon()?;
    let pid = daemon.pid();
    std::thread::sleep(WARMUP);
    if !env.agent_pids()?.contains(&agent.root()) {
        return Err("the daemon does not list the bench agent".into());
    }

    let procs = count_processes()?;
    let (t0, c0) = (Instant::now(), cpu_ticks(pid)?);
    let mut rss_max = 0;
    while t0.elapsed() < Duration::from_secs(opts.idle_secs) {
        check_interrupted()?;
        std::thread::sleep(Duration::from_secs(1));
        rss_max = rss_max.max(status_kb(pid, "VmRSS")?);
    }
    let (secs, c1) = (t0.elapsed().as_secs_f64(), cpu_ticks(pid)?);
    let hwm = status_kb(pid, "VmHWM")?;
    let cpu = (c1 - c0) as f64 / clock_ticks() as f64 / secs * 100.0;
    daemon.shutdown();

    let cond = format!(
        "1 Hz, {procs} processes ({} fillers, 1 agent), {secs:.0} s, {} ticks",
        fleet.len(),
        c1 - c0
    );
    let mb = |kb: u64| kb as f64 / 1024.0;
    let candidates = [
        Row::new(
            "daemon idle: CPU, % of one core",
            &cond,
            "%",
            &[cpu],
            Some(0.5),
        ),
        Row::new(
            "daemon idle: RSS (largest VmRSS sample)",
            &cond,
            "MB",
            &[mb(rss_max)],
            Some(25.0),
        ),
        Row::new(
            "daemon idle: peak RSS (VmHWM)",
            &cond,
            "MB",
            &[mb(hwm)],
            None,
        ),
    ];
    rows.extend(candidates.into_iter().flatten());
    drop(fleet);
    drop(agent);
    Ok(())
}
