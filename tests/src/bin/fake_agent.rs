//! A stand-in agent process for tests: a real process that tests copy under
//! an agent's name (`claude`, `cursor-agent`, ...) so its exe matches a
//! signature. With no arguments (or arguments that are not a mode, such as
//! `claude.log`) it sleeps until killed and prints nothing.
//! Other modes build process trees for the halt tests; see `usage()`.
//!
//! Every mode except the bare one prints `ready <pid> <pid>...` on stdout
//! once its whole part of the tree exists (its own PID first, then every
//! descendant's), so tests wait for that line instead of sleeping. Children
//! re-exec this same binary (by its resolved path, so `comm` and `exe` keep
//! the copy's name) and report readiness to their parent through a pipe.
//!
//! It is deliberately tiny and dependency-free (only libc), so that copies
//! start fast and behave like ordinary programs. It is not a model of any
//! real agent's behaviour.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

fn usage() -> &'static str {
    "fake-agent [MODE ...]\n\
     \x20 (no args / not a mode)   sleep until killed, print nothing\n\
     \x20 sleep                    sleep until killed\n\
     \x20 ignore-term [MODE ...]   ignore SIGTERM, then run MODE (default: sleep)\n\
     \x20 exit-after MS            exit by itself after MS milliseconds\n\
     \x20 tree N                   a binary fan-out of N processes in total, all sleeping\n\
     \x20 setsid-grandchild        a child whose own child calls setsid() and ignores SIGTERM\n\
     \x20 forker MAX [DELAY_MS]    fork sleeping children one by one, MAX in total,\n\
     \x20                          DELAY_MS apart (default 2); ready after the first\n\
     \x20 children N MODE [ARGS]   start N children running MODE, then sleep\n\
     Every mode but the bare one prints `ready <pid> <descendant pids...>` when set up.\n"
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if args.is_empty() || !is_mode(args[0]) {
        // Tests also start copies with arbitrary arguments (`less
        // claude.log`) to look like other programs: those just sleep.
        sleep_forever();
    }
    if let Err(msg) = run(&args) {
        eprintln!("fake-agent: {msg}\n{}", usage());
        std::process::exit(2);
    }
}

/// The first arguments that select a mode; anything else means "sleep".
fn is_mode(arg: &str) -> bool {
    const MODES: [&str; 13] = [
        "--help",
        "sleep",
        "ignore-term",
        "exit-after",
        "tree",
        "setsid-grandchild",
        "setsid-middle",
        "setsid-leaf",
        "forker",
        "children",
        "escapee",
        "escape-middle",
        "escape-leaf",
    ];
    MODES.contains(&arg)
}

fn run(args: &[&str]) -> Result<(), String> {
    let me = std::process::id();
    match args {
        ["--help"] => print!("{}", usage()),
        ["sleep"] | [] => {
            ready(&[me]);
            sleep_forever();
        }
        ["ignore-term", rest @ ..] => {
            // SAFETY: installing SIG_IGN has no preconditions. It is
            // inherited by forks and kept across exec, on purpose.
            unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
            return run(rest);
        }
        ["exit-after", ms] => {
            ready(&[me]);
            std::thread::sleep(Duration::from_millis(num(ms)?));
            std::process::exit(0);
        }
        ["tree", n] => {
            let n = num(n)?.max(1);
            let rest = n - 1;
            let left = rest.div_ceil(2);
            let sizes: Vec<String> = [left, rest - left]
                .iter()
                .filter(|&&k| k > 0)
                .map(u64::to_string)
                .collect();
            let specs: Vec<Vec<&str>> = sizes.iter().map(|k| vec!["tree", k.as_str()]).collect();
            spawn_all_then_sleep(me, &specs);
        }
        ["setsid-grandchild"] => spawn_all_then_sleep(me, &[vec!["setsid-middle"]]),
        ["setsid-middle"] => spawn_all_then_sleep(me, &[vec!["setsid-leaf"]]),
        ["setsid-leaf"] => {
            // SAFETY: setsid and signal have no preconditions; we are not a
            // group leader (we were just spawned), so setsid succeeds.
            unsafe {
                libc::setsid();
                libc::signal(libc::SIGTERM, libc::SIG_IGN);
            }
            ready(&[me]);
            sleep_forever();
        }
        ["escapee"] => spawn_all_then_sleep(me, &[vec!["escape-middle"]]),
        ["escape-middle"] => {
            // Report the grandchild, then exit: it is reparented out of the tree.
            let mut pids = vec![me];
            pids.extend(spawn_ready(&["escape-leaf"]));
            ready(&pids);
            std::process::exit(0);
        }
        ["escape-leaf"] => run(&["setsid-leaf"])?,
        ["forker", max, rest @ ..] => {
            let delay = match rest {
                [] => 2,
                [d] => num(d)?,
                _ => return Err("forker takes MAX and an optional DELAY_MS".into()),
            };
            forker(me, num(max)?, Duration::from_millis(delay));
        }
        ["children", n, mode @ ..] if !mode.is_empty() => {
            let specs: Vec<Vec<&str>> = (0..num(n)?).map(|_| mode.to_vec()).collect();
            spawn_all_then_sleep(me, &specs);
        }
        _ => return Err(format!("unknown mode {args:?}")),
    }
    Ok(())
}

fn num(s: &str) -> Result<u64, String> {
    s.parse().map_err(|_| format!("'{s}' is not a number"))
}

fn sleep_forever() -> ! {
    loop {
        std::thread::park();
    }
}

fn ready(pids: &[u32]) {
    let list: Vec<String> = pids.iter().map(u32::to_string).collect();
    let mut out = std::io::stdout().lock();
    // A parent that stopped reading is not our problem: keep running.
    let _ = writeln!(out, "ready {}", list.join(" "));
    let _ = out.flush();
}

/// This binary's own path, resolved, so children keep the copy's name in
/// `comm` (exec'ing `/proc/self/exe` literally would name them `exe`).
fn self_exe() -> PathBuf {
    match std::env::current_exe() {
        Ok(p) if p.exists() => p,
        _ => PathBuf::from("/proc/self/exe"),
    }
}

/// Start one child per spec, wait for each child's ready line, report the
/// whole subtree as ready, then sleep.
fn spawn_all_then_sleep(me: u32, specs: &[Vec<&str>]) -> ! {
    let exe = self_exe();
    let arg0 = std::env::args_os()
        .next()
        .unwrap_or_else(|| exe.clone().into_os_string());
    let mut children = Vec::new();
    for spec in specs {
        let child = Command::new(&exe)
            .arg0(&arg0)
            .args(spec)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| fail(&format!("cannot start a child: {e}")));
        children.push(child);
    }
    let mut pids = vec![me];
    for child in &mut children {
        let Some(out) = child.stdout.take() else {
            fail("child has no stdout")
        };
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let Some(list) = line.trim().strip_prefix("ready ") else {
            fail(&format!(
                "child {} did not become ready: {line:?}",
                child.id()
            ))
        };
        pids.extend(list.split(' ').filter_map(|p| p.parse::<u32>().ok()));
    }
    ready(&pids);
    sleep_forever();
}

/// Start one child running `spec` and return the PIDs of its ready line.
/// The child is not waited for: the caller exits right after, and the
/// child is reparented (that is the point of `escape-middle`).
#[allow(clippy::zombie_processes)]
fn spawn_ready(spec: &[&str]) -> Vec<u32> {
    let mut child = Command::new(self_exe())
        .args(spec)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("cannot start a child: {e}")));
    let Some(out) = child.stdout.take() else {
        fail("child has no stdout")
    };
    let mut line = String::new();
    let _ = BufReader::new(out).read_line(&mut line);
    let Some(list) = line.trim().strip_prefix("ready ") else {
        fail(&format!("child did not become ready: {line:?}"))
    };
    list.split(' ').filter_map(|p| p.parse().ok()).collect()
}

/// Fork `max` children that sleep, `delay` apart, printing ready after the
/// first. Plain fork (no exec) so the forks come as fast as the delay allows.
fn forker(me: u32, max: u64, delay: Duration) -> ! {
    for i in 0..max {
        // SAFETY: this process is single-threaded here, and the child only
        // calls the async-signal-safe pause(2).
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            loop {
                // SAFETY: pause has no preconditions.
                unsafe { libc::pause() };
            }
        }
        if i == 0 {
            ready(&[me]);
        }
        std::thread::sleep(delay);
    }
    if max == 0 {
        ready(&[me]);
    }
    sleep_forever();
}

fn fail(msg: &str) -> ! {
    eprintln!("fake-agent: {msg}");
    std::process::exit(1);
}
