//! `reins service install|uninstall [--print]`: run `reins daemon` at login
//! as a systemd user service, for machines without a desktop session (a
//! server reached over SSH) or for anyone who wants the daemon always on.
//!
//! It writes (or removes) one unit file, then drives `systemctl --user` when
//! a user manager answers; otherwise it prints the commands to run. Both
//! are idempotent. The unit's hardening is chosen so the daemon can still
//! see, freeze and kill every process of the user: no PID, user or mount
//! namespace, no `ProtectProc`, no `ProtectHome`. On macOS the same command
//! would write a launchd agent; that is not built yet.

use crate::Exit;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The unit's file name.
pub const UNIT: &str = "reins.service";

/// Quote one word for a systemd `ExecStart=` line.
fn quote(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%");
    if escaped
        .chars()
        .any(|c| c.is_whitespace() || c == '\'' || c == ';')
        || escaped != word
    {
        format!("\"{escaped}\"")
    } else {
        escaped
    }
}

/// The unit file for `exe` (absolute), with `--config` when one was given.
pub fn unit_text(exe: &Path, config: Option<&Path>) -> String {
    let mut exec = quote(&exe.to_string_lossy());
    if let Some(c) = config {
        exec.push_str(" --config ");
        exec.push_str(&quote(&c.to_string_lossy()));
    }
    format!(
        "\
# Written by `reins service install`; `reins service uninstall` removes it.
[Unit]
Description=Reins daemon: see, approve and stop the AI agents on this machine

[Service]
Type=simple
ExecStart={exec} daemon
Restart=on-failure
RestartSec=5
# Files it creates (audit log, device keys, socket) are private.
UMask=0077
# Hardening that leaves the daemon able to watch, freeze and kill the
# user's other processes: nothing here puts it in its own PID, user or
# mount namespace (no PrivatePIDs, PrivateUsers, PrivateTmp, ProtectProc
# or ProtectHome), which would hide the agents from it.
NoNewPrivileges=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictNamespaces=yes
SystemCallArchitectures=native

[Install]
WantedBy=default.target
"
    )
}

/// `$XDG_CONFIG_HOME/systemd/user/reins.service` (`~/.config/...` by default).
fn unit_path() -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".config"))
            .ok_or_else(|| anyhow::anyhow!("$HOME is not set"))?,
    };
    Ok(base.join("systemd/user").join(UNIT))
}

/// True when `systemctl --user` reaches a running user manager.
fn user_manager() -> bool {
    Command::new("systemctl")
        .args(["--user", "show-environment"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn systemctl(args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("systemctl")
        .arg("--user")
        .args(args)
        .stdin(Stdio::null())
        .status()?;
    anyhow::ensure!(
        status.success(),
        "`systemctl --user {}` failed ({status}); see `journalctl --user -u reins` for why",
        args.join(" ")
    );
    Ok(())
}

fn user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "$USER".into())
}

/// Whether the user's services outlive their login sessions.
fn lingering() -> Option<bool> {
    let out = Command::new("loginctl")
        .args(["show-user", &user(), "--property=Linger", "--value"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    match String::from_utf8_lossy(&out.stdout).trim() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

fn linger_advice(known: Option<bool>) {
    if known == Some(true) {
        println!(
            "Lingering is on: the service starts at boot and keeps running after you log out."
        );
        return;
    }
    println!(
        "\nOn a server reached over SSH, the user manager (and with it this service) only runs while you are logged in.\n\
         To start it at boot and keep it running after you log out, enable lingering once:\n\
         \n    loginctl enable-linger {}\n\n\
         (it may ask for your password or need sudo).",
        user()
    );
}

fn not_linux() -> anyhow::Result<Exit> {
    anyhow::bail!(
        "`reins service` writes a systemd user unit and works on Linux only. On macOS it would write a launchd agent, which is not built yet: run `reins daemon` from a login item or a terminal for now"
    )
}

/// `reins service install [--print]`.
pub fn install(print: bool, config: Option<&Path>) -> anyhow::Result<Exit> {
    if !cfg!(target_os = "linux") {
        return not_linux();
    }
    let exe = std::env::current_exe()?.canonicalize()?;
    let config = config.map(std::path::absolute).transpose()?;
    let text = unit_text(&exe, config.as_deref());
    let path = unit_path()?;
    let commands = [
        "systemctl --user daemon-reload".to_owned(),
        format!("systemctl --user enable --now {UNIT}"),
    ];
    if print {
        println!("# {}", path.display());
        print!("{text}");
        println!("\n# then run:");
        for c in &commands {
            println!("{c}");
        }
        return Ok(Exit::Ok);
    }
    let changed = std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str());
    if changed {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("service.tmp");
        std::fs::write(&tmp, &text)?;
        std::fs::rename(&tmp, &path)?;
        println!("wrote {}", path.display());
    } else {
        println!("{} is up to date", path.display());
    }
    if user_manager() {
        systemctl(&["daemon-reload"])?;
        systemctl(&["enable", "--now", UNIT])?;
        if changed {
            // A running service keeps its old command line until restarted.
            systemctl(&["try-restart", UNIT])?;
        }
        println!("The Reins daemon runs as the systemd user service {UNIT}:");
        println!("  systemctl --user status {UNIT}      is it running?");
        println!("  journalctl --user -u reins -f         its log");
        linger_advice(lingering());
    } else {
        println!(
            "No systemd user manager answers here (no `systemctl`, or no user session bus). When one does, run:"
        );
        for c in &commands {
            println!("  {c}");
        }
        linger_advice(lingering());
    }
    Ok(Exit::Ok)
}

/// `reins service uninstall [--print]`.
pub fn uninstall(print: bool) -> anyhow::Result<Exit> {
    if !cfg!(target_os = "linux") {
        return not_linux();
    }
    let path = unit_path()?;
    if print {
        println!("systemctl --user disable --now {UNIT}");
        println!("rm {}", path.display());
        println!("systemctl --user daemon-reload");
        return Ok(Exit::Ok);
    }
    let manager = user_manager();
    if manager && path.exists() {
        // Stopping a unit that is not loaded is fine to fail.
        let _ = systemctl(&["disable", "--now", UNIT]);
    }
    match std::fs::remove_file(&path) {
        Ok(()) => println!("removed {}", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("Nothing to remove: {} does not exist.", path.display());
            return Ok(Exit::Ok);
        }
        Err(e) => return Err(e.into()),
    }
    if manager {
        systemctl(&["daemon-reload"])?;
        println!("The service is stopped and disabled.");
    } else {
        println!("No systemd user manager answers here; if the service was running, stop it with:");
        println!("  systemctl --user disable --now {UNIT}");
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_runs_the_absolute_binary_and_does_not_hide_other_processes() {
        let t = unit_text(Path::new("/opt/reins/bin/reins"), None);
        assert!(
            t.contains("\nExecStart=/opt/reins/bin/reins daemon\n"),
            "{t}"
        );
        assert!(t.contains("\nRestart=on-failure\n"));
        assert!(t.contains("\nWantedBy=default.target\n"));
        for setting in [
            "PrivatePIDs=",
            "PrivateUsers=",
            "ProtectProc=",
            "PrivateTmp=",
            "ProtectHome=",
        ] {
            assert!(
                !t.lines().any(|l| l.starts_with(setting)),
                "{setting} would keep the daemon from halting the user's processes"
            );
        }
    }

    #[test]
    fn odd_paths_are_quoted_for_systemd() {
        let t = unit_text(
            Path::new("/home/a b/100%/reins"),
            Some(Path::new("/home/a b/c.toml")),
        );
        assert!(
            t.contains("ExecStart=\"/home/a b/100%%/reins\" --config \"/home/a b/c.toml\" daemon"),
            "{t}"
        );
    }
}
