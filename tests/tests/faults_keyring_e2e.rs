//! Fault: the OS keyring is missing when the daemon starts, or goes away
//! while it runs. Real processes: a real daemon in private XDG directories,
//! real `reins pair` with the Rust test phone, fake-agent trees, and, for
//! the second case, a private D-Bus session bus (`dbus-daemon`) with a real
//! GNOME Keyring (`gnome-keyring-daemon --unlock --components=secrets`) on
//! it, killed mid-test.
//!
//! What a careful user expects: without a keyring the daemon starts, keeps
//! its keys in a 0600 file and says so (with the fix) in `reins status`,
//! its JSON and `reins doctor`; halts and approvals work. When the keyring
//! dies under a running daemon, keys already in memory keep the paired
//! phone working, halts and approvals work, status and doctor report the
//! problem, pairing a new phone fails with a clear message (never a silent
//! half-pairing) and a revocation still takes effect.

mod common;
#[path = "common/phone.rs"]
mod phone;
use common::*;
use phone::*;
use reins_proto::payload::{AckOutcome, CommandOp, Target};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

const GNOME_KEYRING: &str = "/usr/bin/gnome-keyring-daemon";

/// `reins daemon` in `env` with `vars` added, waited for by its ready line.
fn daemon_with(env: &Env, vars: &[(&str, &str)]) -> Proc {
    let mut cmd = env.reins();
    cmd.arg("daemon")
        .envs(vars.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = spawn_retrying(&mut cmd);
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening"), "daemon not ready: {line:?}");
    Proc(child)
}

fn status_json(env: &Env) -> serde_json::Value {
    let o = env.run(&["status", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn without_a_keyring_the_daemon_keeps_keys_in_a_private_file_and_says_how_to_fix_it() {
    let rt = rt();
    let agent = format!("e2enokr{}", std::process::id());
    let env = private_env(&agent, "");
    let nowhere = format!("unix:path={}", env.path("run/no-bus").display());
    let _daemon = daemon_with(&env, &[("DBUS_SESSION_BUS_ADDRESS", &nowhere)]);

    let secrets = &status_json(&env)["link"]["secrets"];
    let file = env.path("data/reins/secrets.json");
    assert_eq!(secrets["backend"], "file", "{secrets}");
    assert_eq!(secrets["file"], file.to_str().unwrap(), "{secrets}");
    assert!(secrets["keyring_error"].is_string(), "{secrets}");
    assert!(secrets["problem"].is_null(), "{secrets}");
    let warning = secrets["warning"].as_str().unwrap();
    assert!(warning.contains("0600") && warning.contains("gnome-keyring"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the identity key is in a private file");

    let text = stdout(&env.run(&["status"]));
    assert!(text.contains("Keys: WARNING: no OS keyring"), "{text}");
    assert!(text.contains(file.to_str().unwrap()), "{text}");
    let doctor = env.run(&["doctor"]);
    let out = stdout(&doctor);
    assert!(out.contains("secrets  WARNING: no OS keyring"), "{out}");
    assert!(
        out.contains("Install and unlock a Secret Service keyring"),
        "{out}"
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&env.run(&["doctor", "--json"]).stdout).unwrap();
    assert_eq!(doc["secrets"]["backend"], "file", "{doc}");

    // Pairing stores the phone's key in the file, and the phone works.
    let (mut phone, device) = pair(&env, &rt, "Phone");
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(stored.contains(&format!("device-{device}")));
    let (mut tree, pids) = spawn_tree(&env, &format!("bin/{agent}"), 1);
    let target = Target::Agent(agent_id(&env, pids[0]));
    rt.block_on(async { phone.send(&command(CommandOp::Stop, target)) })
        .unwrap();
    assert_eq!(ack(&rt, &mut phone).outcome, AckOutcome::Done);
    assert!(tree.reaped());
    assert_eq!(env.run(&["release", "all"]).status.code(), Some(0));
    halts_and_approvals_work(&env, &agent);
}

/// A private session bus with a real, unlocked GNOME Keyring on it. The
/// bus is the session's usual kind: it can start `org.freedesktop.secrets`
/// on demand, as a desktop's does, so a killed keyring comes back locked.
struct SessionKeyring {
    bus: Proc,
    keyring: Option<Proc>,
    address: String,
}

impl SessionKeyring {
    fn start(env: &Env) -> SessionKeyring {
        assert!(
            Path::new(GNOME_KEYRING).exists(),
            "GNOME Keyring is required: run `apt-get install -y gnome-keyring` (scripts/test.sh does)"
        );
        let mut cmd = Command::new("dbus-daemon");
        Self::private(env, &mut cmd)
            .args(["--session", "--nofork", "--print-address=1"])
            .arg(format!(
                "--address=unix:path={}",
                env.path("run/bus").display()
            ))
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut bus = spawn_retrying(&mut cmd);
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_owned();
        let mut cmd = Command::new(GNOME_KEYRING);
        Self::private(env, &mut cmd)
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut keyring = spawn_retrying(&mut cmd);
        // The login keyring's password, then end of input: it unlocks.
        let mut stdin = keyring.stdin.take().unwrap();
        stdin.write_all(b"e2e-password").unwrap();
        drop(stdin);
        let me = SessionKeyring {
            bus: Proc(bus),
            keyring: Some(Proc(keyring)),
            address,
        };
        // Ready once it owns its name (asked without starting anything).
        let owned = (0..5000).any(|_| me.secrets_owned());
        assert!(owned, "the keyring never took org.freedesktop.secrets");
        me
    }

    /// `cmd` with only PATH and this env's HOME/XDG directories.
    fn private<'c>(env: &Env, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", env.path("home"))
            .env("XDG_CONFIG_HOME", env.path("config"))
            .env("XDG_DATA_HOME", env.path("data"))
            .env("XDG_CACHE_HOME", env.path("home/.cache"))
            .env("XDG_RUNTIME_DIR", env.path("run"))
    }

    fn secrets_owned(&self) -> bool {
        let o = Command::new("dbus-send")
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .output()
            .unwrap();
        stdout(&o).contains("boolean true")
    }

    /// SIGKILL: the keyring goes away with no goodbye.
    fn kill(&mut self) {
        drop(self.keyring.take());
    }
}

impl Drop for SessionKeyring {
    fn drop(&mut self) {
        self.kill();
        // What the bus started on demand (a keyring, its prompter) is ours
        // too: end it before the bus.
        for pid in children_of(self.bus.pid()) {
            // SAFETY: kill(2) on a child of our own bus; no memory is touched.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    }
}

/// Direct children of `parent`, from /proc.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let after = stat.rfind(')').map(|i| &stat[i + 2..]).unwrap_or("");
            after.split_whitespace().nth(1) == Some(&parent.to_string())
        })
        .collect()
}

#[test]
fn a_keyring_that_dies_under_the_daemon_is_reported_and_loaded_keys_keep_working() {
    let rt = rt();
    let agent = format!("e2ekrdie{}", std::process::id());
    let env = private_env(&agent, "");
    let mut keyring = SessionKeyring::start(&env);
    let bus = keyring.address.clone();
    let _daemon = daemon_with(&env, &[("DBUS_SESSION_BUS_ADDRESS", &bus)]);
    let secrets = status_json(&env)["link"]["secrets"].clone();
    assert_eq!(secrets["backend"], "keyring", "{secrets}");
    assert!(secrets["problem"].is_null(), "{secrets}");
    assert!(stdout(&env.run(&["status"])).contains("Keys: in the OS keyring"));

    // A phone is paired: its key goes to the keyring, not to a file.
    let (mut phone, device) = pair(&env, &rt, "Phone");
    assert!(!env.path("data/reins/secrets.json").exists());

    keyring.kill();

    // Status and doctor say so, and what still works.
    let problem = (0..100_000)
        .find_map(|_| {
            status_json(&env)["link"]["secrets"]["problem"]
                .as_str()
                .map(str::to_owned)
        })
        .expect("the dead keyring is reported");
    assert!(
        problem.contains("paired phones stay connected"),
        "{problem}"
    );
    let text = stdout(&env.run(&["status"]));
    assert!(text.contains("Keys: PROBLEM: "), "{text}");
    let doctor = env.run(&["doctor"]);
    assert_eq!(doctor.status.code(), Some(1), "{}", stdout(&doctor));
    assert!(stdout(&doctor).contains("secrets  PROBLEM: "));

    // The paired phone still stops an agent: its key is in memory.
    let (mut tree, pids) = spawn_tree(&env, &format!("bin/{agent}"), 1);
    let target = Target::Agent(agent_id(&env, pids[0]));
    rt.block_on(async { phone.send(&command(CommandOp::Stop, target)) })
        .unwrap();
    assert_eq!(ack(&rt, &mut phone).outcome, AckOutcome::Done);
    assert!(tree.reaped());
    assert_eq!(env.run(&["release", "all"]).status.code(), Some(0));
    halts_and_approvals_work(&env, &agent);

    // A new phone cannot be paired: no key can be stored, so it is told
    // nothing was accepted and `reins pair` says why.
    let (_second, paired, child) = pair_with(&rt, start_pair(env.reins_pair()), "Second", "y\n");
    assert!(
        !paired,
        "a phone whose key could not be stored was accepted"
    );
    let o = child.wait_with_output().unwrap();
    assert_ne!(o.status.code(), Some(0));
    let said = format!("{}{}", stdout(&o), stderr(&o));
    assert!(said.contains("keyring"), "{said}");
    let devices: Vec<serde_json::Value> =
        serde_json::from_slice(&env.run(&["devices", "--json"]).stdout).unwrap();
    assert_eq!(devices.len(), 1, "{devices:?}");

    // Revoking the first phone still takes effect.
    let o = env.run(&["devices", "revoke", &device]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&env.run(&["devices", "--json"])).trim(), "[]");
    assert!(
        !env.path(&format!("data/reins/devices/{device}.json"))
            .exists()
    );
}
