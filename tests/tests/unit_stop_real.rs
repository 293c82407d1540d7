//! The stop of an agent run by a systemd unit, with real processes in a
//! real cgroup v2 group laid out like a systemd user unit
//! (`reins_e2e::test_cgroup`), through the controller that the daemon and
//! the CLI's direct mode share.
//!
//! A real systemd user manager cannot run here (PID 1 is not systemd, so
//! `systemd --user` does not start), so systemd is the fake
//! `org.freedesktop.systemd1` of `reins_e2e::fake_systemd` on a private
//! `dbus-daemon`, reached through the real `SystemdBus`. The processes are
//! real and only Reins kills them (the fake sends no signals).
//!
//! The tests need root to create a cgroup; without it they print why and
//! skip. Nothing else is ever in the test's group: the fake agent moves
//! itself in before exec, and the group is killed and removed on drop.

use reins_core::{
    AgentId, AgentKind, AgentRecord, AgentState, HaltMethod, HaltOp, HaltOptions, HaltReport,
    ProcessFate, ProcessKey, Supervisor, UnitActiveState, UnitScope, UnitStopResult,
};
use reins_e2e::fake_systemd::FakeSystemd;
use reins_e2e::test_cgroup::TestCgroup;
use reins_notify::fake::PrivateBus;
use reins_os::cgroup::CgroupFs;
use reins_os::{Linux, ProcState, ProcessOps};
use reins_runtime::controller::{self, Resolved, Units};
use reins_runtime::systemd::{BusAddresses, SystemdBus};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A fake agent in the test unit: root → middle (exits) → leaf (setsid,
/// ignores SIGTERM, reparented out of the tree).
struct Escapee {
    child: Child,
    root: ProcessKey,
    leaf: ProcessKey,
}

impl Escapee {
    fn start(cg: &TestCgroup) -> Escapee {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fake-agent"));
        cmd.arg("escapee")
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        cg.enter(&mut cmd);
        let mut child = cmd.spawn().expect("fake-agent starts in the test cgroup");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let pids: Vec<u32> = line
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("escapee not ready: {line:?}"))
            .split(' ')
            .map(|p| p.parse().unwrap())
            .collect();
        let [root, middle, leaf] = pids[..] else {
            panic!("expected root, middle and leaf: {pids:?}")
        };
        let root = Linux.info(root).unwrap().key;
        let leaf = Linux.info(leaf).unwrap().key;
        // The middle exits after reporting: wait until the leaf is reparented.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Linux.info(leaf.pid).is_some_and(|p| p.ppid == middle) {
            assert!(Instant::now() < deadline, "the leaf was never reparented");
            std::thread::yield_now();
        }
        Escapee { child, root, leaf }
    }
}

impl Drop for Escapee {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn gone(key: ProcessKey) -> bool {
    Linux.probe(key).is_none_or(|s| s == ProcState::Zombie)
}

fn record(root: ProcessKey, supervisor: Option<Supervisor>) -> AgentRecord {
    AgentRecord {
        id: AgentId {
            kind: AgentKind::ClaudeCode,
            root,
        },
        kind: AgentKind::ClaudeCode,
        display_name: "Claude Code".into(),
        pid: root.pid,
        cwd: None,
        project: None,
        started_at: 0,
        cpu_percent: 0.0,
        memory_bytes: 0,
        descendants: 1,
        state: AgentState::Running,
        supervisor,
        unattended: None,
    }
}

fn stop(units: &Units, agent: &AgentRecord) -> HaltReport {
    let target = Resolved {
        agent: Some(agent.id.clone()),
        root: agent.id.root,
    };
    let opts = HaltOptions {
        grace: Duration::from_millis(300),
        force: false,
    };
    let mut reports = controller::execute_with(
        &Linux,
        units,
        HaltOp::Stop,
        &[target],
        std::slice::from_ref(agent),
        &opts,
    );
    reports.pop().unwrap().report
}

fn fate(r: &HaltReport, key: ProcessKey) -> ProcessFate {
    r.processes
        .iter()
        .find(|p| p.process == key)
        .unwrap_or_else(|| panic!("{key:?} missing from {r:#?}"))
        .fate
        .clone()
}

macro_rules! cgroup_or_skip {
    () => {
        match TestCgroup::create() {
            Ok(cg) => cg,
            Err(why) => {
                eprintln!("SKIPPED: cgroup v2 is not writable here: {why}");
                return;
            }
        }
    };
}

#[test]
fn a_unit_with_a_writable_cgroup_is_frozen_and_killed_whole_and_its_double_forked_escapee_dies_too()
{
    let cg = cgroup_or_skip!();
    let bus = PrivateBus::start().expect("dbus-daemon starts");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = rt
        .block_on(FakeSystemd::start(bus.address(), &[cg.unit()]))
        .unwrap();
    let agent = Escapee::start(&cg);
    let mut in_group = cg.pids();
    in_group.sort_unstable();
    assert_eq!(
        in_group,
        vec![agent.root.pid, agent.leaf.pid],
        "only our processes are in the group"
    );
    assert_ne!(Linux.info(agent.leaf.pid).unwrap().ppid, agent.root.pid);

    // Detection reads the unit from the process's own cgroup.
    let supervisor = reins_detect::supervisor_of(agent.root.pid);
    assert_eq!(
        supervisor,
        Some(Supervisor::SystemdUnit {
            unit: cg.unit().to_owned(),
            scope: UnitScope::User,
            cgroup: cg.rel().to_owned(),
        })
    );

    let units = Units {
        cgroups: Some(CgroupFs::find().unwrap()),
        manager: Arc::new(SystemdBus::with_addresses(BusAddresses {
            user: Some(bus.address().to_owned()),
            system: None,
        })),
    };
    let r = stop(&units, &record(agent.root, supervisor));

    assert!(r.success, "{r:#?}");
    assert_eq!(r.method, HaltMethod::Cgroup);
    assert!(gone(agent.root) && gone(agent.leaf), "{r:#?}");
    assert_eq!(cg.pids(), Vec::<u32>::new());
    // The escapee ignores SIGTERM: only cgroup.kill could end it.
    assert_eq!(fate(&r, agent.leaf), ProcessFate::Killed);
    assert_eq!(fate(&r, agent.root), ProcessFate::Terminated);
    assert_eq!(
        fake.stops(),
        vec![(cg.unit().to_owned(), "replace".to_owned())]
    );
    let told = r.unit.expect("the report says what systemd was told");
    assert_eq!(told.unit, cg.unit());
    assert_eq!(
        told.result,
        UnitStopResult::Stopped {
            active_state: Some(UnitActiveState::Inactive)
        }
    );
    // Never left frozen: a restart would start frozen.
    let events = std::fs::read_to_string(cg.dir().join("cgroup.events")).unwrap();
    assert!(events.contains("frozen 0"), "{events}");
}

#[test]
fn when_systemd_cannot_be_reached_the_unit_is_still_killed_and_the_report_says_so() {
    let cg = cgroup_or_skip!();
    // A bus with no systemd on it.
    let bus = PrivateBus::start().expect("dbus-daemon starts");
    let agent = Escapee::start(&cg);
    let supervisor = reins_detect::supervisor_of(agent.root.pid);
    let units = Units {
        cgroups: Some(CgroupFs::find().unwrap()),
        manager: Arc::new(SystemdBus::with_addresses(BusAddresses {
            user: Some(bus.address().to_owned()),
            system: None,
        })),
    };
    let r = stop(&units, &record(agent.root, supervisor));
    assert!(r.success, "{r:#?}");
    assert_eq!(r.method, HaltMethod::Cgroup);
    assert!(gone(agent.root) && gone(agent.leaf));
    match r.unit.expect("reported, not hidden").result {
        UnitStopResult::NotTold { error } => {
            assert!(error.contains("cannot be reached"), "{error}");
            assert!(error.contains("Restart="), "{error}");
        }
        other => panic!("systemd was never told, yet: {other:?}"),
    }
}

#[test]
fn without_a_supervisor_the_same_agent_is_walked_and_its_escapee_is_out_of_reach() {
    // The gap the cgroup closes, shown with the walk: the escapee survives a
    // walk (it left the tree and ignores SIGTERM). The group's drop kills it.
    let cg = cgroup_or_skip!();
    let agent = Escapee::start(&cg);
    let r = stop(&Units::none(), &record(agent.root, None));
    assert_eq!(r.method, HaltMethod::Walk);
    assert_eq!(r.unit, None);
    assert!(gone(agent.root));
    assert!(
        !gone(agent.leaf),
        "the walk cannot see a reparented escapee"
    );
}
