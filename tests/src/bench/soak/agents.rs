//! The soak's agents: real process trees the daemon detects, each able to
//! raise approval requests with real `reins hook` processes inside its own
//! tree (so the daemon ties every request to the agent by its ancestry).
//!
//! An agent is a copy of `/bin/bash` under the run's agent name (the only
//! name the daemon's signature matches), in its own process group, running
//! [`SCRIPT`]: two sleeping children, then one line per request on stdin
//! (`tag<TAB>payload`), each answered in the background by `reins hook
//! claude permission-request` and reported on stdout as `done <tag> <exit>
//! <output>`. A reader thread per agent timestamps those lines and sends
//! them to one channel. It is not a model of a real agent; it only makes
//! requests from inside a tree and can be stopped, paused and resumed.

use crate::bench::Res;
use crate::bench::daemon::Env;
use crate::bench::procs::spawn_retrying;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::Instant;

/// The agent's program: `$1` is the `reins` binary. Each request runs in a
/// background subshell, so a hook waiting for a person never holds the next
/// one; the hook's output is folded onto one line (it is one JSON line, or
/// nothing when it abstains).
const SCRIPT: &str = r#"REINS="$1"
sleep 86400 & sleep 86400 &
while IFS=$'\t' read -r tag payload; do
  { out=$(printf '%s' "$payload" | "$REINS" hook claude permission-request 2>/dev/null); rc=$?
    printf 'done %s %s %s\n' "$tag" "$rc" "${out//$'\n'/ }"; } &
done
wait
"#;

/// A hook's answer as its agent reported it.
#[derive(Clone, Debug)]
pub struct Done {
    /// The request's tag (its index in the run).
    pub tag: u64,
    /// The hook's exit code.
    pub code: i32,
    /// What it printed (one line, possibly empty).
    pub out: String,
    /// When the bench read the line.
    pub at: Instant,
}

/// One agent tree; its whole process group is SIGKILLed and the root
/// reaped on drop.
#[derive(Debug)]
pub struct Agent {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Agent {
    /// Start an agent (`exe` is the bash copy) whose answers go to `done`.
    pub fn spawn(env: &Env, exe: &Path, done: mpsc::Sender<Done>) -> Res<Agent> {
        let reins = env.reins();
        let reins_path = reins.get_program().to_owned();
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("-c")
            .arg(SCRIPT)
            .arg("soak-agent")
            .arg(&reins_path)
            .env_clear()
            .envs(
                reins
                    .get_envs()
                    .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))),
            )
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = spawn_retrying(&mut cmd)?;
        let out = child.stdout.take().ok_or("an agent has no stdout")?;
        let stdin = child.stdin.take();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let at = Instant::now();
                if let Some(d) = parse_done(&line, at) {
                    let _ = done.send(d);
                }
            }
        });
        Ok(Agent { child, stdin })
    }

    /// The root's PID (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Hand the agent one request. An error means the agent is gone.
    pub fn request(&mut self, tag: u64, payload: &str) -> Res<()> {
        let stdin = self.stdin.as_mut().ok_or("the agent's stdin is closed")?;
        stdin
            .write_all(format!("{tag}\t{payload}\n").as_bytes())
            .map_err(|e| format!("cannot write to agent {}: {e}", self.child.id()))
    }

    /// Reap the root if it has exited (after a stop), so it is not left a
    /// zombie; true once reaped.
    pub fn reap_if_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if !self.reap_if_exited() {
            // SAFETY: kill(2) on our own process group; the leader is our
            // unreaped child, so the group id still names our group.
            unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
            let _ = self.child.wait();
        }
    }
}

fn parse_done(line: &str, at: Instant) -> Option<Done> {
    let rest = line.strip_prefix("done ")?;
    let mut it = rest.splitn(3, ' ');
    let tag = it.next()?.parse().ok()?;
    let code = it.next()?.parse().ok()?;
    let out = it.next().unwrap_or("").trim().to_owned();
    Some(Done { tag, code, out, at })
}

/// Live (not zombie) processes whose process group is `pgid`: what is left
/// of an agent's tree. Hooks and sleepers stay in the agent's group.
pub fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let Some(close) = s.rfind(')') else {
                return false;
            };
            let f: Vec<&str> = s[close + 1..].split_ascii_whitespace().collect();
            // After "comm)": state (0), ppid (1), pgrp (2).
            f.first().is_some_and(|st| !matches!(*st, "Z" | "X"))
                && f.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid)
        })
        .collect()
}

/// A Claude Code `PermissionRequest` for Bash `command` in `session`.
pub fn payload(session: &str, command: &str) -> String {
    serde_json::json!({
        "session_id": session, "transcript_path": "/home/dev/.claude/projects/app/t.jsonl",
        "cwd": "/home/dev/app", "permission_mode": "default",
        "hook_event_name": "PermissionRequest",
        "tool_name": "Bash", "tool_input": { "command": command, "description": "soak" }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_done_line_keeps_the_hooks_whole_output() {
        let at = Instant::now();
        let d = parse_done("done 17 0 {\"a\": 1}", at).expect("parsed");
        assert_eq!((d.tag, d.code, d.out.as_str()), (17, 0, "{\"a\": 1}"));
        let empty = parse_done("done 3 0 ", at).expect("parsed");
        assert_eq!(empty.out, "");
        assert!(parse_done("ready 1 2", at).is_none());
    }
}
