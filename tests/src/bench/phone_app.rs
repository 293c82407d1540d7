//! The phone web app measured in a real headless Chromium on loopback:
//! a tap on an agent's Stop → every process of its tree seen in state T
//! (the `/proc` [`Watcher`], target p99 ≤ 30 ms), the same tap → the
//! outcome shown on the phone, and opening the app → the agent list shown,
//! on a paired phone. Also the gzipped size of the app shell.
//!
//! The bench owns the daemon (private XDG dirs, embedded broker and the
//! app's HTTP server on loopback, free ports), `reins pair` and the trees;
//! `mobile-bridge/bench/driver.mjs` (Node, playwright-core, Debian's
//! `/usr/bin/chromium`) owns the page and is driven one line at a time.
//! Pairing is the person's way: the page opens the link, the bench checks
//! that `reins pair` shows the page's code and answers "y".
//!
//! Measured from: the watcher's clock starts just before the bench tells
//! the driver to tap, so a figure includes the pipe to Node, the touch sent
//! through CDP (`Input.dispatchTouchEvent` at the button's centre, no
//! Playwright actionability waits), the page's handler, sealing, the
//! WebSocket to the daemon's `/mqtt` proxy, the embedded broker, the daemon
//! and the freeze. The page's own share (pointerdown → the sealed command
//! handed to its WebSocket) is timed inside the page. Not measured: pairing, the scan that lists a new tree (waited
//! out), Chromium's start. It asserts only that each stop was verified.

use super::daemon::{Env, file_name};
use super::halt::Watcher;
use super::phone::{Reaped, ReinsPair, enable_link, wait_listed};
use super::procs::{Bins, Tree, check_interrupted, is_dead, spawn_retrying};
use super::stats::{Row, ms};
use super::{Opts, Res};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};

/// The app's HTTP server on loopback with a free port.
const PHONE_CONFIG: &str = "\n[phone]\nbind = \"127.0.0.1\"\nport = 0\n";

/// How many times the app is opened afresh for the open measure.
const OPENS: usize = 20;

/// The Node driver, one command and its replies at a time.
struct Driver {
    _child: Reaped,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Driver {
    fn start() -> Res<Driver> {
        let script = driver_script();
        if !script.exists() {
            return Err(format!("{} is missing", script.display()));
        }
        let mut cmd = Command::new("node");
        cmd.arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = spawn_retrying(&mut cmd)
            .map_err(|e| format!("cannot start node (run npm ci in mobile-bridge): {e}"))?;
        let stdin = child.stdin.take().ok_or("the driver has no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("the driver has no stdout")?);
        Ok(Driver {
            _child: Reaped(child),
            stdin,
            stdout,
        })
    }

    fn send(&mut self, line: &str) -> Res<()> {
        writeln!(self.stdin, "{line}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("the driver went away: {e}"))
    }

    /// The next reply line; the driver's own failure guards bound the wait.
    fn reply(&mut self, expect: &str) -> Res<String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err(format!("the driver ended while we waited for '{expect}'")),
            Ok(_) => {
                let line = line.trim_end().to_owned();
                match line.strip_prefix(expect) {
                    Some(rest) => Ok(rest.trim().to_owned()),
                    None => Err(format!("the driver said '{line}', not '{expect}'")),
                }
            }
            Err(e) => Err(format!("cannot read the driver: {e}")),
        }
    }
}

fn driver_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../mobile-bridge/bench/driver.mjs")
}

fn append_config(env: &Env, text: &str) -> Res<()> {
    let path = env.config_file()?;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Pair the page with the daemon through `reins pair`, as a person does.
fn pair(env: &Env, driver: &mut Driver) -> Res<()> {
    let mut rp = ReinsPair::start(env)?;
    driver.send(&format!("open {}", rp.url))?;
    let code = driver.reply("code")?;
    rp.confirm(&code)?;
    driver.send("paired")?;
    driver.reply("paired")?;
    rp.finish()
}

/// Run the phone app measures and append their rows.
pub fn run(bins: &Bins, agent: &Path, opts: &Opts, rows: &mut Vec<Row>) -> Res<()> {
    let env = Env::new(bins, file_name(agent)?)?;
    enable_link(&env)?;
    append_config(&env, PHONE_CONFIG)?;
    let _daemon = env.daemon()?;
    let mut driver = Driver::start()?;
    pair(&env, &mut driver)?;

    driver.send("size")?;
    let size = driver.reply("size")?;
    let (raw, gz) = size
        .split_once(' ')
        .and_then(|(a, b)| Some((a.parse::<f64>().ok()?, b.parse::<f64>().ok()?)))
        .ok_or_else(|| format!("bad size reply '{size}'"))?;
    let cond = "html + js + css + manifest in mobile-bridge/dist, gzip -9";
    rows.extend(Row::new(
        "phone app shell, gzipped",
        cond,
        "KB",
        &[gz / 1024.0],
        Some(150.0),
    ));
    rows.extend(Row::new(
        "phone app shell, raw",
        cond,
        "KB",
        &[raw / 1024.0],
        None,
    ));

    // Opening the app, with one agent running, until its card is shown.
    let mut tree = Tree::spawn(agent, &["tree", &opts.tree.to_string()])?;
    let id = wait_listed(&env, std::slice::from_ref(&tree))?.remove(0);
    driver.send(&format!("measure-open {id} {OPENS}"))?;
    let mut opens = Vec::with_capacity(OPENS);
    for _ in 0..OPENS {
        opens.push(ms(driver
            .reply("open")?
            .parse()
            .map_err(|_| "bad open reply")?));
    }
    driver.reply("opened")?;
    rows.extend(Row::new(
        "phone app: open → agent list shown",
        "paired page opened afresh (new tab, HTTP cache warm), one agent running",
        "ms",
        &opens,
        None,
    ));
    tree.kill_and_reap();

    let (mut frozen, mut gone, mut shown, mut in_page) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::<f64>::new());
    for _ in 0..opts.runs {
        check_interrupted()?;
        let mut tree = Tree::spawn(agent, &["tree", &opts.tree.to_string()])?;
        let id = wait_listed(&env, std::slice::from_ref(&tree))?.remove(0);
        driver.send(&format!("arm {id}"))?;
        driver.reply("armed")?;
        let watcher = Watcher::arm(&tree.pids)?;
        watcher.start();
        driver.send("tap")?;
        driver.reply("tapped")?;
        let w = watcher.finish()?;
        let reply = driver.reply("shown")?;
        let mut f = reply.split(' ').map(str::parse::<i64>);
        let (Some(Ok(s)), Some(Ok(p))) = (f.next(), f.next()) else {
            return Err(format!("bad shown reply '{reply}'"));
        };
        shown.push(ms(s.max(0) as u64));
        if p >= 0 {
            in_page.push(ms(p as u64));
        }
        if let Some(p) = tree.pids.iter().find(|&&p| !is_dead(p)) {
            return Err(format!("pid {p} survived a stop from the phone app"));
        }
        tree.kill_and_reap();
        frozen.push(ms(w.frozen_us));
        gone.push(ms(w.gone_us));
    }
    driver.send("quit")?;
    let cond = format!(
        "{}-process tree; Chromium 390×844 touch, daemon + embedded broker via /mqtt on loopback; \
         a /proc poller spins on one core",
        opts.tree
    );
    rows.extend(Row::new(
        "phone app: tap Stop → all seen T (watcher)",
        &cond,
        "ms",
        &frozen,
        Some(30.0),
    ));
    rows.extend(Row::new(
        "phone app: tap Stop → all seen gone (watcher)",
        &cond,
        "ms",
        &gone,
        None,
    ));
    rows.extend(Row::new(
        "phone app: tap Stop → outcome shown",
        &cond,
        "ms",
        &shown,
        None,
    ));
    rows.extend(Row::new(
        "phone app: pointerdown → sealed command handed to the WebSocket (in page)",
        &cond,
        "ms",
        &in_page,
        None,
    ));
    Ok(())
}
