//! Tripwires: what accounting costs the pre-tool hook, and how long a
//! tripping call takes to freeze its agent.
//!
//! A real daemon in private directories whose only signature is a bash
//! copied under a unique name: the "agent". It reads payload file names on
//! stdin and, for each, runs `reins hook claude pre-tool-use` as its own
//! child (so the hook's ancestry maps to the agent and the daemon accounts
//! the call against it), timing the whole process with bash's
//! `$EPOCHREALTIME` just before the fork and just after the wait (no extra
//! process in the timed part), then prints the two times and the hook's
//! output.
//!
//! - Overhead: Bash `ls` calls, every one accounted (the tool-burst rule is
//!   raised to 100000 calls in 1 s in the policy so the loop does not trip
//!   it; its window is still kept and summed per call). Then, after the
//!   freeze runs, the same calls again with a daemon restarted with
//!   `[tripwires] enabled = false`, for comparison (sequential, not
//!   interleaved: the daemon must restart to change its policy).
//! - Freeze: four `rm` calls, then the bench writes the fifth line and
//!   polls `/proc/<pid>/stat` of the agent and every child until all are
//!   in state `T`: from that write (bash's read, the fork and exec of the
//!   hook, its request, the daemon's accounting and the pause) to the tree
//!   seen frozen. Then it resumes the agent over IPC (which resets the
//!   window) and checks that the fifth call was denied.

use super::daemon::Env;
use super::procs::{Bins, StatFile, check_interrupted, spawn_retrying};
use super::stats::{Row, ms};
use super::{Opts, Res};
use reins_core::HaltOp;
use reins_runtime::ipc::{Client, Request, Response};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// Unrecorded calls first (page cache, the daemon's first connections).
const WARMUP: usize = 10;

/// How long the agent may take to be listed, and a tree to freeze.
const WITHIN: Duration = Duration::from_secs(10);

/// Deletions keep their default (5 in 60 s); the burst rule is raised.
const POLICY: &str = "[[tripwires.rule]]\nname = \"tool-burst\"\nthreshold = 10000\nwindow_s = 1\n";

struct Agent {
    child: Child,
    stdin: ChildStdin,
    out: BufReader<ChildStdout>,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Agent {
    fn send(&mut self, file: &Path) -> Res<()> {
        writeln!(self.stdin, "{}", file.display())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("writing to the agent: {e}"))
    }

    /// (µs the hook took, its output).
    fn answer(&mut self) -> Res<(u64, String)> {
        let mut times = String::new();
        self.out
            .read_line(&mut times)
            .map_err(|e| format!("reading the agent: {e}"))?;
        let mut output = String::new();
        loop {
            let mut l = String::new();
            if self.out.read_line(&mut l).map_err(|e| e.to_string())? == 0 {
                return Err("the agent exited".into());
            }
            if l == "@@\n" {
                break;
            }
            output.push_str(&l);
        }
        let secs: Vec<f64> = times
            .split_whitespace()
            .filter_map(|t| t.replace(',', ".").parse().ok())
            .collect();
        match secs[..] {
            [t0, t1] => Ok((((t1 - t0) * 1e6).round() as u64, output.trim().to_owned())),
            _ => Err(format!("unexpected timing line {times:?}")),
        }
    }
}

fn payload(dir: &Path, name: &str, project: &Path, command: &str) -> Res<std::path::PathBuf> {
    let v = serde_json::json!({
        "session_id": "bench-trip", "transcript_path": "/tmp/t.jsonl", "cwd": project,
        "permission_mode": "bypassPermissions", "hook_event_name": "PreToolUse",
        "tool_use_id": "toolu_bench", "tool_name": "Bash", "tool_input": { "command": command },
    });
    let p = dir.join(name);
    std::fs::write(&p, v.to_string()).map_err(|e| e.to_string())?;
    Ok(p)
}

/// Time `runs` Bash `ls` calls (after [`WARMUP`] unrecorded ones).
fn calls(agent: &mut Agent, ls: &Path, runs: usize) -> Res<Vec<f64>> {
    let mut out = Vec::with_capacity(runs);
    for i in 0..WARMUP + runs {
        check_interrupted()?;
        agent.send(ls)?;
        let (us, o) = agent.answer()?;
        if !o.is_empty() {
            return Err(format!("an `ls` call was answered {o:?}"));
        }
        if i >= WARMUP {
            out.push(ms(us));
        }
    }
    Ok(out)
}

fn tree_frozen(pid: u32, buf: &mut [u8]) -> bool {
    let kids =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    let kids: Vec<u32> = kids
        .split_whitespace()
        .filter_map(|k| k.parse().ok())
        .collect();
    !kids.is_empty()
        && [pid]
            .iter()
            .chain(&kids)
            .all(|p| StatFile::open(*p).ok().and_then(|f| f.state(buf)) == Some(b'T'))
}

/// Run the tripwire measures and append their rows.
pub fn run(bins: &Bins, opts: &Opts, rows: &mut Vec<Row>) -> Res<()> {
    let name = format!("rbtrip{}", std::process::id());
    let env = Env::new(bins, &name)?;
    let policy = env.config_file()?.with_file_name("policy.toml");
    std::fs::write(&policy, POLICY).map_err(|e| e.to_string())?;
    let mut daemon = env.daemon()?;
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let project = tmp.path().join("project");
    std::fs::create_dir(&project).map_err(|e| e.to_string())?;
    let bash = tmp.path().join(&name);
    std::fs::copy("/bin/bash", &bash).map_err(|e| format!("copying bash: {e}"))?;
    let out = tmp.path().join("out");
    let script = format!(
        "while read -r f; do t0=$EPOCHREALTIME; {} hook claude pre-tool-use < \"$f\" > {out}; \
         t1=$EPOCHREALTIME; echo \"$t0 $t1\"; cat {out}; echo; echo @@; done",
        bins.reins.display(),
        out = out.display()
    );
    let mut cmd = Command::new(&bash);
    let base = env.reins();
    cmd.env_clear()
        .envs(base.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .args(["-c", &script])
        .current_dir(&project)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = spawn_retrying(&mut cmd)?;
    let pid = child.id();
    let mut agent = Agent {
        stdin: child.stdin.take().ok_or("no stdin")?,
        out: BufReader::new(child.stdout.take().ok_or("no stdout")?),
        child,
    };
    let t0 = Instant::now();
    while !env.agent_pids()?.contains(&pid) {
        if t0.elapsed() > WITHIN {
            return Err("the bench agent was never listed".into());
        }
    }
    let ls = payload(tmp.path(), "ls.json", &project, "ls")?;
    let overhead = calls(&mut agent, &ls, opts.runs)?;
    let rms: Vec<_> = (1..=5)
        .map(|i| {
            payload(
                tmp.path(),
                &format!("rm{i}.json"),
                &project,
                &format!("rm mail-{i}.eml"),
            )
        })
        .collect::<Res<_>>()?;
    let mut client = Client::connect(&super::hook::socket(&env)?).map_err(|e| e.to_string())?;
    let mut freeze = Vec::new();
    let mut buf = [0u8; 512];
    for _ in 0..opts.runs.min(100) {
        check_interrupted()?;
        for f in &rms[..4] {
            agent.send(f)?;
            let (_, o) = agent.answer()?;
            if o.contains("deny") {
                return Err(format!("a deletion below the threshold was denied: {o}"));
            }
        }
        let t = Instant::now();
        agent.send(&rms[4])?;
        while !tree_frozen(pid, &mut buf) {
            if t.elapsed() > WITHIN {
                return Err("the fifth deletion did not freeze the agent".into());
            }
        }
        freeze.push(ms(t.elapsed().as_micros() as u64));
        let resumed = client
            .call(&Request::Halt {
                halt: HaltOp::Resume,
                target: pid.to_string(),
                force: false,
            })
            .map_err(|e| e.to_string())?;
        if !matches!(resumed, Response::Halted(_)) {
            return Err(format!("resume answered {resumed:?}"));
        }
        let (_, o) = agent.answer()?;
        if !o.contains("deny") {
            return Err(format!("the tripping call was not denied: {o:?}"));
        }
    }
    rows.extend(Row::new(
        "hook: `reins hook claude pre-tool-use` inside a detected agent, tripwires accounting (whole process, from bash)",
        format!("daemon running, {} calls", opts.runs),
        "ms",
        &overhead,
        Some(5.0),
    ));
    // The same calls with every tripwire switched off, for comparison.
    daemon.shutdown();
    std::fs::write(&policy, "[tripwires]\nenabled = false\n").map_err(|e| e.to_string())?;
    let _daemon = env.daemon()?;
    let off = calls(&mut agent, &ls, opts.runs)?;
    rows.extend(Row::new(
        "hook: same, `[tripwires] enabled = false` (no accounting), after the runs above",
        format!("daemon restarted, {} calls", opts.runs),
        "ms",
        &off,
        Some(5.0),
    ));
    rows.extend(Row::new(
        "tripwire: 5th deletion written to the agent → its tree seen frozen (T)",
        format!("{} trips, agent + hook process", freeze.len()),
        "ms",
        &freeze,
        None,
    ));
    Ok(())
}
