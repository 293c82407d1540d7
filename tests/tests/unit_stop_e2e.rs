//! `reins stop` through a real daemon, of an agent run by a (test) systemd
//! user unit: the daemon's scanner finds the unit from the agent's cgroup,
//! `reins status --json` shows it, and the stop goes through the unit's
//! cgroup v2 (`cgroup.freeze`, `cgroup.kill`) and tells systemd, so a
//! double-forked escapee dies too.
//!
//! A real systemd user manager cannot run here (PID 1 is not systemd), so
//! the daemon's session bus is a private `dbus-daemon` with the fake
//! `org.freedesktop.systemd1` of `reins_e2e::fake_systemd` on it. Needs
//! root for the cgroup; without it the test prints why and skips. The
//! daemon sees only agents named like this test's own copy.

mod common;

use common::{Env, Proc, is_dead, stderr, stdout, write};
use reins_e2e::fake_systemd::FakeSystemd;
use reins_e2e::test_cgroup::TestCgroup;
use reins_notify::fake::PrivateBus;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn reins_stop_through_the_daemon_freezes_and_kills_a_units_cgroup_and_tells_systemd() {
    let cg = match TestCgroup::create() {
        Ok(cg) => cg,
        Err(why) => {
            eprintln!("SKIPPED: cgroup v2 is not writable here: {why}");
            return;
        }
    };
    let name = format!("rcgu{}", std::process::id());
    let env = Env::new();
    write(
        &env.path("config/reins/config.toml"),
        &format!(
            "[scan]\nbuiltin_signatures = false\n[[signatures]]\nkind = \"e2e\"\nexe_names = [\"{name}\"]\n"
        ),
    );
    let bus = PrivateBus::start().expect("dbus-daemon starts");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = rt
        .block_on(FakeSystemd::start(bus.address(), &[cg.unit()]))
        .unwrap();

    let mut daemon = env.reins();
    daemon
        .arg("daemon")
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut daemon = daemon.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(daemon.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening"), "daemon not ready: {line:?}");
    let _daemon = Proc(daemon);

    // The agent: a copy of fake-agent under the test's name, in the unit.
    let exe = env.path(&format!("bin/{name}"));
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_fake-agent"), &exe).unwrap();
    let mut cmd = Command::new(&exe);
    cmd.arg("escapee")
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    cg.enter(&mut cmd);
    let mut child = common::spawn_retrying(&mut cmd);
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let pids: Vec<u32> = ready
        .trim()
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("not ready: {ready:?}"))
        .split(' ')
        .map(|p| p.parse().unwrap())
        .collect();
    let (root, leaf) = (pids[0], pids[2]);
    let _agent = Proc(child);

    // The daemon lists it with its unit (polled, with a deadline).
    let deadline = Instant::now() + Duration::from_secs(20);
    let agent = loop {
        let agents = common::status_agents(&env);
        if let Some(a) = agents.iter().find(|a| a["pid"] == root) {
            break a.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the daemon never listed the agent"
        );
        std::thread::yield_now();
    };
    assert_eq!(agent["supervisor"]["kind"], "systemd_unit", "{agent}");
    assert_eq!(agent["supervisor"]["unit"], cg.unit());
    assert_eq!(agent["supervisor"]["scope"], "user");
    let id = agent["id"].as_str().unwrap().to_owned();

    let o = env
        .reins()
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .args(["stop", &id, "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let report = &v["targets"][0]["report"];
    assert_eq!(report["success"], true, "{v:#}");
    assert_eq!(report["method"], "cgroup", "{v:#}");
    assert_eq!(report["unit"]["result"], "stopped", "{v:#}");
    assert_eq!(report["unit"]["active_state"], "inactive", "{v:#}");
    assert!(
        is_dead(root) && is_dead(leaf),
        "the escapee survived: {v:#}"
    );
    assert_eq!(cg.pids(), Vec::<u32>::new());
    assert_eq!(
        fake.stops(),
        vec![(cg.unit().to_owned(), "replace".to_owned())]
    );
    let log = std::fs::read_to_string(env.audit_log()).unwrap();
    assert!(log.contains("\"method\":\"cgroup\""), "{log}");
}
