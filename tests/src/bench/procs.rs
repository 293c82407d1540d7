//! The processes the bench starts, and how it looks at them.
//!
//! Every tree is a `fake-agent` copy started in its own process group, so
//! cleanup is one `kill(-pgid, SIGKILL)` (sent while the root is still an
//! unreaped child of ours, so the group id cannot have been reused) followed
//! by a reap. Cleanup runs on drop, so an error or a Ctrl-C (turned into an
//! error by [`check_interrupted`]) leaves nothing behind. Copies carry names
//! unique to this bench run; no other process on the machine is touched.

use super::Res;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by SIGINT/SIGTERM/SIGHUP; the bench stops at the next check and
/// cleans up through the normal drop path.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Turn SIGINT, SIGTERM and SIGHUP into a flag instead of an abrupt exit.
pub fn install_interrupt_handler() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic (async-signal-safe).
        unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
    }
}

/// Make this process the child subreaper, so the orphans of every tree it
/// stops or kills are reparented to it and reaped by [`Tree::kill_and_reap`]
/// instead of waiting on PID 1 (which, on some VMs' minimal inits, reaps
/// lazily: unreaped zombies would pile up in `/proc` and skew every count).
pub fn become_subreaper() -> Res<()> {
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER, 1) takes no pointers.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    if rc != 0 {
        return Err(format!(
            "cannot become a child subreaper: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// How long [`Tree::kill_and_reap`] waits for a killed tree's orphans.
const REAP_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// An error once the user asked the bench to stop.
pub fn check_interrupted() -> Res<()> {
    if INTERRUPTED.load(Ordering::SeqCst) {
        return Err("interrupted; cleaning up".into());
    }
    Ok(())
}

/// The binaries the bench drives, found beside its own executable.
#[derive(Debug)]
pub struct Bins {
    /// The `fake-agent` test binary.
    pub fake_agent: PathBuf,
    /// The `reins` CLI and daemon.
    pub reins: PathBuf,
}

impl Bins {
    /// Locate `fake-agent` and `reins` next to this binary.
    pub fn locate() -> Res<Bins> {
        let me = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
        let bins = Bins {
            fake_agent: me.with_file_name("fake-agent"),
            reins: me.with_file_name("reins"),
        };
        for p in [&bins.fake_agent, &bins.reins] {
            if !p.exists() {
                return Err(format!(
                    "{} is missing: run `cargo build --release -p reins -p reins-e2e --bins` first",
                    p.display()
                ));
            }
        }
        Ok(bins)
    }
}

/// Copy `fake-agent` to `dir/name` (executable) and return the path.
pub fn copy_fake_agent(bins: &Bins, dir: &Path, name: &str) -> Res<PathBuf> {
    let dst = dir.join(name);
    std::fs::copy(&bins.fake_agent, &dst)
        .map_err(|e| format!("cannot copy fake-agent to {}: {e}", dst.display()))?;
    Ok(dst)
}

/// Spawn, retrying while the freshly copied binary is briefly busy (ETXTBSY:
/// another thread forked while the copy's fd was open).
pub fn spawn_retrying(cmd: &mut Command) -> Res<Child> {
    for _ in 0..1000 {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => std::thread::yield_now(),
            Err(e) => return Err(format!("cannot start {cmd:?}: {e}")),
            Ok(c) => return Ok(c),
        }
    }
    Err(format!("{cmd:?} stayed busy (ETXTBSY)"))
}

/// A `fake-agent` tree in its own process group; killed and reaped on drop.
#[derive(Debug)]
pub struct Tree {
    child: Child,
    /// Every PID from the ready line, root first.
    pub pids: Vec<u32>,
    reaped: bool,
}

impl Tree {
    /// Start `exe args...` and wait for its `ready` line.
    pub fn spawn(exe: &Path, args: &[&str]) -> Res<Tree> {
        let mut cmd = Command::new(exe);
        cmd.args(args)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut tree = Tree {
            child: spawn_retrying(&mut cmd)?,
            pids: Vec::new(),
            reaped: false,
        };
        let out = tree.child.stdout.take().ok_or("the tree has no stdout")?;
        let mut line = String::new();
        BufReader::new(out)
            .read_line(&mut line)
            .map_err(|e| format!("reading the tree's ready line: {e}"))?;
        let list = line
            .trim()
            .strip_prefix("ready ")
            .ok_or_else(|| format!("{} {args:?} did not become ready: {line:?}", exe.display()))?;
        tree.pids = list.split(' ').filter_map(|p| p.parse().ok()).collect();
        if tree.pids.first() != Some(&tree.child.id()) {
            return Err(format!("unexpected ready line {line:?}"));
        }
        Ok(tree)
    }

    /// The root's PID.
    pub fn root(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL the whole group, reap the root, then reap every other
    /// process of the tree once it has been reparented to us (see
    /// [`become_subreaper`]). Idempotent.
    pub fn kill_and_reap(&mut self) {
        if self.reaped {
            return;
        }
        // SAFETY: kill(2) on our own process group; the leader is our
        // unreaped child, so the group id still names our group.
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.child.wait();
        self.reaped = true;
        let mut pending: Vec<u32> = self.pids.iter().skip(1).copied().collect();
        let start = std::time::Instant::now();
        while !pending.is_empty() && start.elapsed() < REAP_WITHIN {
            pending.retain(|&pid| {
                // SAFETY: waitpid on a specific pid with WNOHANG; the pid is a
                // member of our (killed) tree, never another std Child of ours.
                let r = unsafe {
                    libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), libc::WNOHANG)
                };
                // Not ours (yet) and still present: its parent is still exiting.
                !(r == pid as libc::pid_t || (r < 0 && state_of(pid).is_none()))
            });
            if !pending.is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

/// Idle filler trees that bring the machine to a given process count.
#[derive(Debug, Default)]
pub struct Fleet {
    trees: Vec<Tree>,
}

impl Fleet {
    /// Start `tree` copies of `exe` (at most 50 processes each) until the
    /// machine runs about `target` processes. Already above it: nothing.
    pub fn fill_to(exe: &Path, target: usize) -> Res<Fleet> {
        let mut fleet = Fleet::default();
        loop {
            check_interrupted()?;
            let now = count_processes()?;
            if now >= target {
                return Ok(fleet);
            }
            let n = (target - now).min(50).to_string();
            fleet.trees.push(Tree::spawn(exe, &["tree", &n])?);
        }
    }

    /// Processes started by this fleet.
    pub fn len(&self) -> usize {
        self.trees.iter().map(|t| t.pids.len()).sum()
    }
}

/// Processes (not threads) on the machine now.
pub fn count_processes() -> Res<usize> {
    let dir = std::fs::read_dir("/proc").map_err(|e| format!("cannot read /proc: {e}"))?;
    Ok(dir
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|s| s.parse::<u32>().is_ok())
        })
        .count())
}

/// `/proc/<pid>/stat`, kept open so a poll is one `pread` (the kernel
/// regenerates the text on every read from offset 0).
#[derive(Debug)]
pub struct StatFile(std::fs::File);

impl StatFile {
    /// Open the stat file of `pid`.
    pub fn open(pid: u32) -> Res<StatFile> {
        std::fs::File::open(format!("/proc/{pid}/stat"))
            .map(StatFile)
            .map_err(|e| format!("cannot open /proc/{pid}/stat: {e}"))
    }

    /// The state letter now, or `None` once the process is gone (reaped).
    pub fn state(&self, buf: &mut [u8]) -> Option<u8> {
        let n = self.0.read_at(buf, 0).ok()?;
        let text = &buf[..n];
        let close = text.iter().rposition(|&b| b == b')')?;
        text.get(close + 2).copied()
    }
}

/// The state letter of `pid` now, `None` if it is gone.
pub fn state_of(pid: u32) -> Option<u8> {
    let mut buf = [0u8; 512];
    StatFile::open(pid).ok()?.state(&mut buf)
}

/// True when `pid` is gone or a zombie.
pub fn is_dead(pid: u32) -> bool {
    matches!(state_of(pid), None | Some(b'Z') | Some(b'X'))
}
