//! `halt-once <pid> <stop|pause> <grace_ms>`: runs the halt engine once on
//! the tree rooted at `pid` and prints the report as JSON.
//!
//! Tests run it as an ordinary user when they themselves run as root, since
//! some of the engine's behaviour (the process-group freeze) is only used
//! for ordinary users. It is a test tool, not a way to stop agents: it
//! applies none of the CLI's or daemon's checks (agent or not, audit).

use reins_core::{HaltOp, HaltOptions};
use reins_os::{Linux, ProcessOps};
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [pid, op, grace_ms] = args.as_slice() else {
        eprintln!("usage: halt-once <pid> <stop|pause> <grace_ms>");
        std::process::exit(2);
    };
    let (Ok(pid), Ok(grace_ms)) = (pid.parse::<u32>(), grace_ms.parse::<u64>()) else {
        eprintln!("halt-once: <pid> and <grace_ms> must be numbers");
        std::process::exit(2);
    };
    let op = match op.as_str() {
        "stop" => HaltOp::Stop,
        "pause" => HaltOp::Pause,
        other => {
            eprintln!("halt-once: unknown operation {other:?}; use stop or pause");
            std::process::exit(2);
        }
    };
    let Some(root) = Linux.info(pid) else {
        eprintln!("halt-once: no process {pid}");
        std::process::exit(1);
    };
    let opts = HaltOptions {
        grace: Duration::from_millis(grace_ms),
        force: true,
    };
    let report = reins_os::halt(&Linux, root.key, op, &opts);
    println!(
        "{}",
        serde_json::to_string(&report).expect("a report serializes")
    );
}
