//! `reins-bench`: measures the headless core's speed (halt, scan, daemon
//! idle cost, `reins stop` end to end, `reins hook` and the approval round
//! trip, a hook's request to its desktop notification, the phone link, and the phone web app in Chromium) with real
//! processes, and prints a table (and optionally JSON). `reins-bench soak`
//! runs many agents, phones and approval requests at once, with faults, and
//! checks every promise afterwards (`bench::soak`); it exits non-zero when
//! one broke.
//! The figures and how they were taken are in `docs/performance.md`.
//!
//! ```text
//! cargo build --release -p reins -p reins-e2e --bins
//! cargo run --release -p reins-e2e --bin reins-bench -- [halt|unit|scan|idle|latch|cli|hook|tripwire|notify|phone|phone-app|all] \
//!     [--runs N] [--procs N] [--tree N] [--watch-every N] [--idle-secs N] [--json]
//! cargo run --release -p reins-e2e --bin reins-bench -- soak [--minutes N | --secs N] \
//!     [--agents N] [--phones N] [--rate N] [--timeout S] [--flood [N]] [--no-faults] [--json]
//! ```
//!
//! Everything it starts is a copy of `fake-agent` under a name unique to
//! this run, in its own process group, killed and reaped on exit, error or
//! Ctrl-C. Any daemon it starts lives in private XDG directories and watches
//! only those copies. It never signals another process. It is a measuring
//! tool, not a test: nothing here asserts a duration.

#[path = "../bench/mod.rs"]
mod bench;

use bench::procs::{Bins, become_subreaper, copy_fake_agent, install_interrupt_handler};
use bench::stats::{Row, machine, print_table};
use bench::{Opts, Res};

const USAGE: &str = "usage: reins-bench [halt|unit|scan|idle|latch|cli|hook|tripwire|notify|openclaw|phone|phone-app|all] [--runs N] [--procs N] \
                     [--tree N] [--watch-every N] [--idle-secs N] [--json]\n       \
                     reins-bench soak [--minutes N | --secs N] [--agents N] [--phones N] [--rate N] [--flood [N]] [--no-faults] [--json]";

fn main() {
    install_interrupt_handler();
    if std::env::args().nth(1).as_deref() == Some("soak") {
        if let Err(e) = soak(std::env::args().skip(2).collect()) {
            eprintln!("reins-bench: {e}");
            std::process::exit(1);
        }
        return;
    }
    match parse(std::env::args().skip(1).collect()).and_then(|(what, opts, json)| {
        let rows = run(&what, &opts)?;
        report(&what, &opts, &rows, json);
        Ok(())
    }) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("reins-bench: {e}");
            std::process::exit(1);
        }
    }
}

fn parse(args: Vec<String>) -> Res<(String, Opts, bool)> {
    let mut what = "all".to_owned();
    let mut json = false;
    let mut opts = Opts {
        runs: 100,
        procs: 500,
        tree: 50,
        watch_every: 4,
        idle_secs: 30,
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Res<usize> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number\n{USAGE}"))
        };
        match a.as_str() {
            "halt" | "unit" | "scan" | "idle" | "latch" | "cli" | "hook" | "tripwire"
            | "notify" | "openclaw" | "phone" | "phone-app" | "all" => what = a,
            "--runs" => opts.runs = num("--runs")?.max(1),
            "--procs" => opts.procs = num("--procs")?,
            "--tree" => opts.tree = num("--tree")?.max(1),
            "--watch-every" => opts.watch_every = num("--watch-every")?,
            "--idle-secs" => opts.idle_secs = num("--idle-secs")?.max(1) as u64,
            "--json" => json = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument '{other}'\n{USAGE}")),
        }
    }
    Ok((what, opts, json))
}

fn run(what: &str, opts: &Opts) -> Res<Vec<Row>> {
    if cfg!(debug_assertions) {
        eprintln!("reins-bench: warning: debug build; figures are meaningful only with --release");
    }
    let bins = Bins::locate()?;
    become_subreaper()?;
    let dir = tempfile::tempdir().map_err(|e| format!("cannot create a tempdir: {e}"))?;
    // Names unique to this run (and within comm's 15 bytes): the daemon's
    // signature matches the agent copy exactly; the idle copy matches nothing.
    let me = std::process::id();
    let agent = copy_fake_agent(&bins, dir.path(), &format!("rbench{me}"))?;
    let idle = copy_fake_agent(&bins, dir.path(), &format!("rbidle{me}"))?;
    let mut rows = Vec::new();
    let all = what == "all";
    if all || what == "halt" {
        eprintln!(
            "reins-bench: halt ({} runs per pass, 2 passes)...",
            opts.runs
        );
        bench::halt::run(&agent, &idle, opts, &mut rows)?;
    }
    if all || what == "unit" {
        eprintln!(
            "reins-bench: unit: cgroup stop vs walk ({} runs)...",
            opts.runs
        );
        bench::unit::run(&agent, opts, !all, &mut rows)?;
    }
    if all || what == "scan" {
        eprintln!("reins-bench: scan ({} runs)...", opts.runs);
        bench::scan::run(&agent, &idle, opts, &mut rows)?;
    }
    if all || what == "cli" {
        eprintln!("reins-bench: cli ({} runs)...", opts.runs);
        bench::cli::run(&bins, &agent, &idle, opts, &mut rows)?;
    }
    if all || what == "idle" {
        eprintln!("reins-bench: idle ({} s)...", opts.idle_secs);
        bench::idle::run(&bins, &agent, &idle, opts, &mut rows)?;
    }
    if all || what == "latch" {
        eprintln!("reins-bench: latch ({} respawns)...", opts.runs);
        bench::latch::run(&bins, &agent, opts, &mut rows)?;
    }
    if all || what == "hook" {
        eprintln!("reins-bench: hook ({} runs per case)...", opts.runs);
        bench::hook::run(&bins, opts, &mut rows)?;
    }
    if all || what == "tripwire" {
        eprintln!("reins-bench: tripwire ({} runs)...", opts.runs);
        bench::tripwire::run(&bins, opts, &mut rows)?;
    }
    if all || what == "notify" {
        eprintln!("reins-bench: notify ({} runs)...", opts.runs);
        bench::notify::run(&bins, opts, &mut rows)?;
    }
    if all || what == "openclaw" {
        eprintln!("reins-bench: openclaw ({} runs)...", opts.runs);
        bench::openclaw::run(&bins, opts, &mut rows)?;
    }
    if all || what == "phone" {
        bench::phone::run(&bins, &agent, opts, &mut rows)?;
    }
    if all || what == "phone-app" {
        eprintln!(
            "reins-bench: phone app in Chromium ({} stops)...",
            opts.runs
        );
        bench::phone_app::run(&bins, &agent, opts, &mut rows)?;
    }
    Ok(rows)
}

fn report(what: &str, opts: &Opts, rows: &[Row], json: bool) {
    let m = machine();
    if json {
        let doc = serde_json::json!({
            "measure": what,
            "runs": opts.runs,
            "procs_target": opts.procs,
            "tree": opts.tree,
            "watch_every": opts.watch_every,
            "idle_secs": opts.idle_secs,
            "machine": m,
            "rows": rows.iter().map(Row::json).collect::<Vec<_>>(),
        });
        println!("{doc:#}");
        return;
    }
    println!(
        "machine: {} cores, {}, kernel {}, {} build; load average at the end: {}\n",
        m["nproc"],
        m["cpu"].as_str().unwrap_or("?"),
        m["kernel"].as_str().unwrap_or("?"),
        m["profile"].as_str().unwrap_or("?"),
        m["loadavg"].as_str().unwrap_or("?"),
    );
    print_table(rows);
}

/// `reins-bench soak`: parse its options, run it, check it, report it.
/// Exits non-zero when the checker finds a broken promise.
fn soak(args: Vec<String>) -> Res<()> {
    use bench::soak::SoakOpts;
    use std::time::Duration;
    let mut o = SoakOpts::bench();
    let mut json = false;
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Res<u64> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number\n{USAGE}"))
        };
        match a.as_str() {
            "--minutes" => o.duration = Duration::from_secs(num("--minutes")?.max(1) * 60),
            "--secs" => o.duration = Duration::from_secs(num("--secs")?.max(10)),
            "--agents" => o.agents = num("--agents")?.max(1) as usize,
            "--phones" => o.phones = num("--phones")?.max(2) as usize,
            "--rate" => o.rate_per_min = num("--rate")?.max(1),
            "--timeout" => o.approval_timeout = Duration::from_secs(num("--timeout")?.max(1)),
            "--flood" => {
                // Forged messages a second; 1,000 unless a number follows.
                let rate = it.peek().and_then(|v| v.parse().ok());
                if rate.is_some() {
                    it.next();
                }
                o.flood_per_s = Some(rate.unwrap_or(1000));
            }
            "--no-faults" => o.faults = false,
            "--json" => json = true,
            other => return Err(format!("unknown soak argument '{other}'\n{USAGE}")),
        }
    }
    if cfg!(debug_assertions) {
        eprintln!("reins-bench: warning: debug build; figures are meaningful only with --release");
    }
    let bins = Bins::locate()?;
    let g = bench::soak::run::soak(&bins, &o)?;
    let f = bench::soak::check::check(&g);
    let rows = bench::soak::report::rows(&g, &f, &o, "");
    if json {
        let doc = serde_json::json!({
            "measure": "soak",
            "machine": machine(),
            "rows": rows.iter().map(Row::json).collect::<Vec<_>>(),
            "violations": f.violations,
            "lost": f.lost,
            "duplicated": f.duplicated,
        });
        println!("{doc:#}");
    } else {
        report(
            "soak",
            &Opts {
                runs: 0,
                procs: 0,
                tree: 0,
                watch_every: 0,
                idle_secs: 0,
            },
            &rows,
            false,
        );
        println!();
        bench::soak::report::print(&g, &f);
    }
    if !f.clean() {
        return Err("the soak found broken promises (above)".into());
    }
    Ok(())
}
