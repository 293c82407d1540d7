//! One `reins_detect::Scanner::scan` (and one `Linux::list`, the halt
//! engine's tree snapshot) timed with about `opts.procs` processes on the
//! machine.
//!
//! The scanner uses the built-in signature table plus a bench signature
//! matching only this run's agent copy, of which one small tree runs, so
//! grouping and record building are exercised too. Scanning reads `/proc`
//! and signals nothing. Scans are spaced by [`SPACING`], not run back to
//! back, so sysinfo's CPU figures have an interval as in the daemon.

use super::procs::{Fleet, Tree, check_interrupted, count_processes};
use super::stats::Row;
use super::{Opts, Res};
use reins_detect::{Scanner, SignatureSpec, SignatureTable};
use reins_os::{Linux, ProcessOps};
use std::path::Path;
use std::time::{Duration, Instant};

/// Time between two timed scans (the daemon's default is 1 s; 100 ms keeps
/// the bench short without running scans back to back).
const SPACING: Duration = Duration::from_millis(100);

/// Size of the agent tree the scanner should find.
const AGENT_TREE: usize = 5;

/// Run the scan measure and append its rows.
pub fn run(agent_exe: &Path, idle_exe: &Path, opts: &Opts, rows: &mut Vec<Row>) -> Res<()> {
    let name = agent_exe
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("agent copy has no file name")?;
    let spec = SignatureSpec {
        kind: "reinsbench".into(),
        exe_names: vec![name.to_owned()],
        ..SignatureSpec::default()
    };
    let table = SignatureTable::with_user(&[spec]).map_err(|e| e.to_string())?;
    let agent = Tree::spawn(agent_exe, &["tree", &AGENT_TREE.to_string()])?;
    let fleet = Fleet::fill_to(idle_exe, opts.procs)?;
    let procs = count_processes()?;

    let mut scanner = Scanner::new(table).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let first = scanner.scan();
    let cold = t.elapsed().as_secs_f64() * 1000.0;
    if !first.agents.iter().any(|a| a.pid == agent.root()) {
        return Err("the scanner did not find the bench's own agent tree".into());
    }

    // Let the fillers age past the scanner's "young process" window, as on a
    // machine whose processes were not all started a moment ago: the warm
    // figure is the daemon's steady state, not the cost of 400 new processes.
    std::thread::sleep(Duration::from_secs(
        reins_detect::RECHECK_YOUNGER_THAN_SECS + 1,
    ));
    scanner.scan();

    let (mut scans, mut lists) = (Vec::new(), Vec::new());
    for _ in 0..opts.runs {
        check_interrupted()?;
        std::thread::sleep(SPACING);
        let t = Instant::now();
        let s = scanner.scan();
        scans.push(t.elapsed().as_secs_f64() * 1000.0);
        if s.agents.is_empty() {
            return Err("a warm scan lost the bench's agent".into());
        }
        let t = Instant::now();
        let table = Linux.list().map_err(|e| e.to_string())?;
        lists.push(t.elapsed().as_secs_f64() * 1000.0);
        if table.len() < procs / 2 {
            return Err(format!("Linux::list saw only {} processes", table.len()));
        }
    }
    let cond = format!(
        "{procs} processes on the machine ({} fillers, 1 agent of {AGENT_TREE})",
        fleet.len()
    );
    let candidates = [
        Row::new(
            "scan: Scanner::scan (warm)",
            &cond,
            "ms",
            &scans,
            Some(20.0),
        ),
        Row::new(
            "scan: first Scanner::scan (cold)",
            &cond,
            "ms",
            &[cold],
            None,
        ),
        Row::new(
            "Linux::list (halt's tree snapshot)",
            &cond,
            "ms",
            &lists,
            None,
        ),
    ];
    rows.extend(candidates.into_iter().flatten());
    drop(fleet);
    drop(agent);
    Ok(())
}
