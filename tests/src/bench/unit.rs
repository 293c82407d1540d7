//! `reins-bench unit`: the stop of a 50-process agent run by a systemd
//! unit, through its cgroup v2 (`cgroup.freeze`, then SIGTERM and, for
//! survivors, `cgroup.kill`) against today's tree walk (SIGSTOP per
//! process), in the same run: each run starts two identical
//! `fake-agent tree N` trees in two fresh test cgroups laid out like user
//! units (`reins_e2e::test_cgroup`) and stops one each way, alternating
//! which goes first. The figures are the engines' own `frozen_after_us`
//! and `gone_after_us` (from the request; for the cgroup, until
//! `cgroup.events` reads `frozen 1` and `populated 0`).
//!
//! systemd is not reachable here (no manager runs), so the cgroup stop's
//! `StopUnit` fails at once (`NoUnitManager`); with a real manager it adds
//! one bus round trip and the wait for `deactivating` between the freeze
//! and SIGTERM. Needs root (to create the cgroups).

use super::procs::check_interrupted;
use super::stats::{Row, ms};
use super::{Opts, Res};
use reins_core::{HaltMethod, HaltOp, HaltOptions, HaltReport, ProcessKey, UnitScope};
use reins_e2e::test_cgroup::TestCgroup;
use reins_os::cgroup::CgroupFs;
use reins_os::{Linux, NoUnitManager, ProcessOps, UnitTarget, halt, halt_unit};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Far above what a SIGTERM-honouring tree needs: both stops return as
/// soon as everything is gone.
const GRACE: Duration = Duration::from_secs(3);

/// Pause between the trees' ready lines and the stops, so their last
/// exec/page-fault work is done and every process sleeps (as in `halt.rs`).
const SETTLE: Duration = Duration::from_millis(30);

fn spawn_in(cg: &TestCgroup, exe: &Path, size: usize) -> Res<(Child, ProcessKey, usize)> {
    let mut cmd = Command::new(exe);
    cmd.args(["tree", &size.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    cg.enter(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start the tree: {e}"))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("no stdout")?)
        .read_line(&mut line)
        .map_err(|e| format!("reading the ready line: {e}"))?;
    let n = line
        .trim()
        .strip_prefix("ready ")
        .ok_or_else(|| format!("tree not ready: {line:?}"))?
        .split(' ')
        .count();
    let root = Linux
        .info(child.id())
        .ok_or("the tree's root vanished")?
        .key;
    Ok((child, root, n))
}

fn check(r: &HaltReport, n: usize, method: HaltMethod) -> Res<(u64, u64)> {
    if !r.success || r.processes.len() != n || r.method != method {
        return Err(format!(
            "a {method:?} stop of {n} processes was not verified: {r:?}"
        ));
    }
    Ok((
        r.frozen_after_us.ok_or("no frozen_after_us")?,
        r.gone_after_us.ok_or("no gone_after_us")?,
    ))
}

/// Run the comparison (see the module docs). Without root (no cgroup can
/// be created) it is an error if `required`, else skipped with a note.
pub fn run(agent_exe: &Path, opts: &Opts, required: bool, rows: &mut Vec<Row>) -> Res<()> {
    if let Err(why) = TestCgroup::create() {
        if required {
            return Err(format!("unit bench needs a cgroup: {why}"));
        }
        eprintln!("reins-bench: unit skipped: {why}");
        return Ok(());
    }
    let mount = CgroupFs::find().map_err(|e| e.to_string())?;
    let hopts = HaltOptions {
        grace: GRACE,
        force: false,
    };
    let (mut cg_frozen, mut cg_gone, mut walk_frozen, mut walk_gone) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..opts.runs {
        check_interrupted()?;
        let a = TestCgroup::create().map_err(|e| format!("unit bench needs a cgroup: {e}"))?;
        let b = TestCgroup::create().map_err(|e| format!("unit bench needs a cgroup: {e}"))?;
        let (mut ca, root_a, na) = spawn_in(&a, agent_exe, opts.tree)?;
        let (mut cb, root_b, nb) = spawn_in(&b, agent_exe, opts.tree)?;
        std::thread::sleep(SETTLE);
        let by_cgroup = || {
            let target = UnitTarget {
                unit: a.unit(),
                scope: UnitScope::User,
                cgroup: a.rel(),
            };
            let r = halt_unit(
                &Linux,
                Some(&mount),
                &NoUnitManager,
                root_a,
                target,
                HaltOp::Stop,
                &hopts,
            );
            check(&r, na, HaltMethod::Cgroup)
        };
        let by_walk = || {
            check(
                &halt(&Linux, root_b, HaltOp::Stop, &hopts),
                nb,
                HaltMethod::Walk,
            )
        };
        let (c, w) = if i % 2 == 0 {
            let c = by_cgroup()?;
            (c, by_walk()?)
        } else {
            let w = by_walk()?;
            (by_cgroup()?, w)
        };
        let _ = ca.wait();
        let _ = cb.wait();
        cg_frozen.push(ms(c.0));
        cg_gone.push(ms(c.1));
        walk_frozen.push(ms(w.0));
        walk_gone.push(ms(w.1));
    }
    let cond = format!(
        "{}-process tree, {} runs, alternating order",
        opts.tree, opts.runs
    );
    rows.extend(
        [
            Row::new(
                "unit via cgroup: request → frozen 1",
                &cond,
                "ms",
                &cg_frozen,
                None,
            ),
            Row::new(
                "same tree by walk: request → all in T",
                &cond,
                "ms",
                &walk_frozen,
                None,
            ),
            Row::new(
                "unit via cgroup: request → populated 0",
                &cond,
                "ms",
                &cg_gone,
                None,
            ),
            Row::new(
                "same tree by walk: request → all gone",
                &cond,
                "ms",
                &walk_gone,
                None,
            ),
        ]
        .into_iter()
        .flatten(),
    );
    Ok(())
}
