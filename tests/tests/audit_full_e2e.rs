//! The audit log's disk fills up (a real, small tmpfs): stops and approvals
//! still work, the failure is reported (`reins status`, text and JSON, the
//! `approvals --watch` surface and a paired phone, with the Rust test phone),
//! nothing is approved because of it, and
//! once space returns logging resumes with a `gap` record in the chain that
//! says how many entries were lost.
//!
//! Mounting a tmpfs needs root. Without it the test runs itself again
//! inside a new user and mount namespace (`unshare -Urm`), where it is root
//! of its own mounts, with the daemon, the CLI and the agents all inside;
//! if that is not possible either it fails saying why, it never passes
//! silently. `REINS_E2E_UNSHARE=1` takes the namespace path even as root.

mod common;
#[path = "common/phone.rs"]
mod phone;
use common::*;
use reins_proto::Payload;
use reins_proto::payload as p;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The tmpfs: big enough for the daemon's first records, small enough to
/// fill in a moment.
const TMPFS_SIZE: &str = "64k";

/// A private tmpfs mounted on a temporary directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

/// Set in the copy of this test that runs inside the namespace.
const IN_NS: &str = "REINS_E2E_AUDIT_IN_NS";

/// Whether this process must hand the test to a copy of itself inside a
/// user and mount namespace (not root, or asked to), having done so.
fn ran_in_namespace(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let forced = std::env::var_os("REINS_E2E_UNSHARE").is_some();
    if std::env::var_os(IN_NS).is_some() || (root && !forced) {
        return false;
    }
    let exe = std::env::current_exe().unwrap();
    let o = Command::new("unshare")
        .args(["-Urm", "--"])
        .arg(&exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(IN_NS, "1")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "audit_full_e2e needs root or `unshare -Urm` (util-linux) to mount a small \
                 tmpfs; unshare could not be run: {e}"
            )
        });
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        o.status.success() && out.contains("1 passed"),
        "audit_full_e2e inside `unshare -Urm` (needed to mount a tmpfs without root) did not \
         pass; if unshare itself failed, unprivileged user namespaces are off here: run as \
         root.\n{out}"
    );
    true
}

impl Tmpfs {
    fn mount() -> Tmpfs {
        // SAFETY: geteuid has no preconditions.
        let euid = unsafe { libc::geteuid() };
        assert_eq!(euid, 0, "mounting a tmpfs needs root (or its namespace)");
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={TMPFS_SIZE},mode=0700"))
            .arg("tmpfs")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "mount failed: {}", stderr(&o));
        Tmpfs { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Write zeros to `filler` until the file system refuses (ENOSPC).
    fn fill(&self) -> PathBuf {
        let p = self.path("filler");
        let mut f = std::fs::File::create(&p).unwrap();
        let chunk = [0u8; 512];
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(e) => panic!("filling the tmpfs failed oddly: {e}"),
            }
        }
        p
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

/// The hook's decision: `allow`, `deny`, or `abstain` (no output).
fn behavior(out: &str) -> String {
    if out.trim().is_empty() {
        return "abstain".into();
    }
    let v: serde_json::Value = serde_json::from_str(out).unwrap();
    v["hookSpecificOutput"]["decision"]["behavior"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `reins status --json`'s `audit` (null when the log can be written).
fn audit_status(env: &Env) -> serde_json::Value {
    let o = env.run(&["status", "--json"]);
    assert!(o.status.success(), "status failed: {}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["audit"].clone()
}

/// Poll `reins status --json` until `f` holds for its `audit`.
fn audit_until(env: &Env, what: &str, f: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = std::time::Instant::now() + T;
    loop {
        let a = audit_status(env);
        if f(&a) {
            return a;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never saw {what}; last: {a}"
        );
    }
}

/// A `claude` tree of `n` processes; its pids once it is all up.
fn agent_tree(env: &Env, n: u32) -> (Proc, Vec<u32>) {
    let exe = env.path("bin/claude");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    std::fs::copy(fake_agent(), &exe).unwrap();
    let mut cmd = Command::new(&exe);
    cmd.args(["tree", &n.to_string()])
        .current_dir(env.path("home"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut child = spawn_retrying(&mut cmd);
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pids: Vec<u32> = line
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("no ready line: {line:?}"))
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), n as usize, "{line}");
    (Proc(child), pids)
}

/// Wait until the daemon lists `pid` as an agent.
fn detected(env: &Env, pid: u32) {
    let deadline = std::time::Instant::now() + T;
    while !status_agents(env)
        .iter()
        .any(|a| a["pid"].as_u64() == Some(u64::from(pid)))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "agent {pid} never detected"
        );
    }
}

/// One audited action that changes nothing lasting: pause then resume a
/// sleeping agent (two entries).
fn pause_resume(env: &Env, pid: u32) {
    for op in ["pause", "resume"] {
        let o = env.run(&[op, &pid.to_string()]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{op}: {}{}",
            stdout(&o),
            stderr(&o)
        );
    }
}

fn records(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn a_full_audit_disk_never_blocks_a_stop_or_approves_anything_and_the_gap_is_chained() {
    if ran_in_namespace(
        "a_full_audit_disk_never_blocks_a_stop_or_approves_anything_and_the_gap_is_chained",
    ) {
        return;
    }
    let fs = Tmpfs::mount();
    let log = fs.path("reins/audit.jsonl");
    let env = Env::new();
    write(
        &env.path("config/reins/config.toml"),
        &format!("[audit]\npath = {:?}\n", log.display().to_string()),
    );
    policy(&env, "[approvals]\ntimeout_secs = 4\n");
    let _d = env.daemon();
    let rt = phone::rt();
    let (mut ph, _) = phone::pair(&env, &rt, "Phone");
    let mut w = Watcher::start(&env);
    let mut pinger = env.spawn_agent("bin/cursor-agent", &[]);
    detected(&env, pinger.pid());
    assert_eq!(audit_status(&env), serde_json::Value::Null);
    assert!(!records(&log).is_empty(), "the daemon's start is logged");

    // The disk fills. Appends may still land in the log's last page; audited
    // actions go on until the writer reports the failure.
    let filler = fs.fill();
    let deadline = std::time::Instant::now() + T;
    while audit_status(&env).is_null() {
        assert!(
            std::time::Instant::now() < deadline,
            "the full disk was never reported; log: {:?} bytes, df: {}, status: {}",
            std::fs::metadata(&log).map(|m| m.len()),
            stdout(&Command::new("df").arg(fs.path("")).output().unwrap()),
            stdout(&env.run(&["status", "--json"])),
        );
        pause_resume(&env, pinger.pid());
    }
    let before = records(&log).len();

    // A stop still kills a real tree.
    let (mut tree, pids) = agent_tree(&env, 4);
    detected(&env, pids[0]);
    let o = env.run(&["stop", &pids[0].to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("could not be written") || stdout(&o).contains("could not be written"),
        "the stop says its record was not written: {}{}",
        stdout(&o),
        stderr(&o)
    );
    for p in &pids {
        assert!(is_dead(*p), "pid {p} survived the stop");
    }
    assert!(tree.reaped());

    // Approvals: an allow is an allow, a deny a deny, and no answer is never an allow.
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &phone::claude_permission("s1", "/work/app", "make a"),
    );
    let p = pending(&env, 1);
    assert_eq!(env.run(&["approve", &id(&p[0])]).status.code(), Some(0));
    let (_, out, _) = finish(h);
    assert_eq!(behavior(&out), "allow");
    let h = start_hook(
        &env,
        "claude",
        "permission-request",
        &phone::claude_permission("s2", "/work/app", "make b"),
    );
    let p = pending(&env, 1);
    assert_eq!(env.run(&["deny", &id(&p[0])]).status.code(), Some(0));
    let (_, out, _) = finish(h);
    assert_eq!(behavior(&out), "deny");
    let (_, out, _) = finish(start_hook(
        &env,
        "claude",
        "permission-request",
        &phone::claude_permission("s3", "/work/app", "make c"),
    ));
    assert_eq!(behavior(&out), "abstain");

    // Reported: status (JSON and text) and the watching terminal.
    // Each approval is two entries (requested, resolved) and the stop one.
    let a = audit_until(&env, "every lost entry counted", |a| {
        a["lost"].as_u64().unwrap_or(0) >= 7
    });
    let msg = a["message"].as_str().unwrap();
    assert!(msg.contains("No space left on device"), "{msg}");
    assert!(msg.contains("not logged since"), "{msg}");
    assert!(
        msg.contains(&format!("free on {}", fs.path("reins").display())),
        "{msg}"
    );
    let text = stdout(&env.run(&["status"]));
    assert!(
        text.contains("AUDIT LOG NOT WRITTEN: the audit log cannot be written"),
        "{text}"
    );
    w.out.until("AUDIT LOG NOT WRITTEN");
    let alert = phone::recv(&rt, &mut ph, |m| match m {
        Payload::Alert(a) if matches!(a.reason, p::AlertReason::AuditFailing { .. }) => Some(a),
        _ => None,
    });
    assert_eq!((alert.agent_id.as_str(), alert.actions.len()), ("", 0));
    assert!(
        alert.message.contains("No space left on device"),
        "{}",
        alert.message
    );
    let lost = a["lost"].as_u64().unwrap();
    assert_eq!(
        records(&log).len(),
        before,
        "nothing was appended while full"
    );

    // Space returns: the problem clears by itself, the next action logs
    // after the gap record, and the chain verifies.
    std::fs::remove_file(filler).unwrap();
    audit_until(&env, "the problem clear", |a| a.is_null());
    w.out.until("The audit log is written again");
    phone::recv(&rt, &mut ph, |m| match m {
        Payload::AlertCleared(c) if c.alert_id == alert.alert_id => Some(()),
        _ => None,
    });
    pause_resume(&env, pinger.pid());
    let recs = audit_log_when_at(&log, |r| r.len() >= before + 3);
    let gap = &recs[before];
    assert_eq!(gap["action"], "gap", "{gap}");
    assert_eq!(gap["detail"]["lost"].as_u64(), Some(lost), "{gap}");
    assert_eq!(
        gap["detail"]["error"],
        "No space left on device (os error 28)"
    );
    let first = gap["detail"]["first"].as_array().unwrap();
    assert!(first.iter().any(|e| e["action"] == "stop"), "{gap}");
    assert!(
        first.iter().any(|e| e["action"] == "approval_resolved"),
        "{gap}"
    );
    assert_eq!(recs[before + 1]["action"], "pause");
    let o = env.run(&["log", "--verify"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains(&format!("1 gap(s): {lost} entries")),
        "{}",
        stdout(&o)
    );
    drop(w);
    let _ = pinger.terminate();
}

/// The log's records once `done` holds, or as they are after the deadline.
fn audit_log_when_at(
    log: &Path,
    done: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + T;
    loop {
        let r = records(log);
        if done(&r) || std::time::Instant::now() > deadline {
            return r;
        }
        std::thread::yield_now();
    }
}
