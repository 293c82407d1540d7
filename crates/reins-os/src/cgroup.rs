//! cgroup v2 operations on one group: find the cgroup2 mount, resolve a
//! group from its path, decide whether Reins may write it, freeze and thaw
//! it, kill everything in it, list its processes and wait for it to empty.
//!
//! A cgroup is the one boundary a process cannot leave by forking: a child
//! that double-forks and is reparented to init is still in its unit's
//! group, so `cgroup.freeze` and `cgroup.kill` reach it where a parent-PID
//! walk cannot. This module only performs the operations; which stop uses
//! them, and in what order with systemd, is `halt/unit.rs`. It never
//! creates or removes groups (tests do that themselves) and never touches
//! the root group.
//!
//! Waits are not blind sleeps: `cgroup.events` is a kernfs file that wakes
//! `poll(2)` with `POLLPRI` whenever `populated` or `frozen` changes, and
//! each wait also re-reads it at a short interval in case a wakeup is missed.

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The longest a wait sleeps in `poll(2)` before re-reading `cgroup.events`
/// anyway: short enough that a missed wakeup costs little, long enough that
/// a long wait does not spin.
const REREAD_EVERY: Duration = Duration::from_millis(10);

/// Errors from cgroup operations. Each says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// No cgroup2 file system is mounted.
    #[error(
        "no cgroup v2 file system is mounted (looked in /proc/self/mountinfo); \
         the stop falls back to the process-tree walk. Boot with cgroup v2 (the default \
         on current distributions) for atomic stops of systemd units"
    )]
    NotMounted,
    /// The path names no usable group.
    #[error("'{path}' is not a cgroup Reins can act on: {why}")]
    BadPath {
        /// The path as given.
        path: String,
        /// Why not.
        why: &'static str,
    },
    /// Reins may not write the group's control files.
    #[error(
        "cannot write {file}: {source}. Reins may freeze and kill a unit's cgroup only when it \
         runs as root or the unit is a delegated user unit of its own user; the stop uses the \
         process-tree walk instead"
    )]
    NotWritable {
        /// The control file.
        file: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Reading or writing a control file failed.
    #[error("cgroup file {file}: {source}. Is the group still there?")]
    Io {
        /// The control file.
        file: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The cgroup2 mount: where group paths are resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupFs {
    root: PathBuf,
}

impl CgroupFs {
    /// The cgroup2 mount of this process's mount namespace, from
    /// `/proc/self/mountinfo` (`/sys/fs/cgroup` on a unified system,
    /// `/sys/fs/cgroup/unified` on a hybrid one).
    pub fn find() -> Result<CgroupFs, CgroupError> {
        let text =
            fs::read_to_string("/proc/self/mountinfo").map_err(|_| CgroupError::NotMounted)?;
        cgroup2_mount(&text)
            .map(|root| CgroupFs { root })
            .ok_or(CgroupError::NotMounted)
    }

    /// A cgroup2 mount at `root` (tests, or a caller that knows).
    pub fn at(root: impl Into<PathBuf>) -> CgroupFs {
        CgroupFs { root: root.into() }
    }

    /// The mount point.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The group at `rel`, a path relative to the cgroup root as
    /// `/proc/<pid>/cgroup` shows it (`/user.slice/.../app.service`). The
    /// root group itself, relative components and missing groups are refused.
    pub fn group(&self, rel: &str) -> Result<Cgroup, CgroupError> {
        let bad = |why| CgroupError::BadPath {
            path: rel.to_owned(),
            why,
        };
        let trimmed = rel.trim_start_matches('/');
        if !rel.starts_with('/') {
            return Err(bad("it is not an absolute cgroup path"));
        }
        if trimmed.is_empty() {
            return Err(bad("it is the root group, which holds every process"));
        }
        if trimmed
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(bad("it has an empty, '.' or '..' component"));
        }
        let dir = self.root.join(trimmed);
        if !dir.join("cgroup.procs").is_file() {
            return Err(bad("no such group (the unit may have stopped)"));
        }
        Ok(Cgroup {
            dir,
            rel: rel.to_owned(),
        })
    }

    /// The group `pid` is in, from its `0::` line, relative to the root.
    pub fn group_of(pid: u32) -> Option<String> {
        let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("0::"))
            .map(|p| p.trim_end_matches(" (deleted)").to_owned())
    }
}

/// The mount point of the first `cgroup2` mount in a mountinfo text.
fn cgroup2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (pre, post) = line.split_once(" - ")?;
        let fstype = post.split_ascii_whitespace().next()?;
        let mount_point = pre.split_ascii_whitespace().nth(4)?;
        (fstype == "cgroup2").then(|| PathBuf::from(unescape_octal(mount_point)))
    })
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 4 <= b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// True for the errors a removed group's files give: ENOENT once the
/// directory is gone, ENODEV from a file opened before.
fn removed(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENODEV))
}

/// The two flags of `cgroup.events`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Events {
    /// Some process lives in the group or a descendant.
    pub populated: bool,
    /// The group is frozen (every process in it stopped).
    pub frozen: bool,
}

fn parse_events(text: &str) -> Events {
    let mut e = Events::default();
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("populated", v)) => e.populated = v.trim() == "1",
            Some(("frozen", v)) => e.frozen = v.trim() == "1",
            _ => {}
        }
    }
    e
}

/// How [`Cgroup::kill`] killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillMethod {
    /// One write to `cgroup.kill` (Linux 5.14+).
    CgroupKill,
    /// SIGKILL to every PID in the frozen group (older kernels).
    EachPid,
}

/// One cgroup v2 group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cgroup {
    dir: PathBuf,
    rel: String,
}

impl Cgroup {
    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its path relative to the cgroup root.
    pub fn rel(&self) -> &str {
        &self.rel
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Write a control file. A group that no longer exists is not an
    /// error: the kernel removes only empty groups (systemd removes a
    /// unit's group as soon as its stop finishes), so there is nothing left
    /// to freeze, thaw or kill.
    fn write(&self, name: &str, value: &str) -> Result<(), CgroupError> {
        let file = self.file(name);
        match fs::write(&file, value) {
            Err(e) if removed(&e) => Ok(()),
            r => r.map_err(|source| CgroupError::Io { file, source }),
        }
    }

    /// Ok when Reins may write `cgroup.freeze` (and `cgroup.kill`, where the
    /// kernel has it): as root, or in a delegated unit owned by our uid.
    pub fn writable(&self) -> Result<(), CgroupError> {
        for name in ["cgroup.freeze", "cgroup.kill"] {
            let file = self.file(name);
            if name == "cgroup.kill" && !file.exists() {
                continue;
            }
            let c = std::ffi::CString::new(file.as_os_str().as_encoded_bytes()).map_err(|_| {
                CgroupError::BadPath {
                    path: self.rel.clone(),
                    why: "it contains a NUL byte",
                }
            })?;
            // SAFETY: a valid NUL-terminated path; access(2) only reads it.
            if unsafe { libc::access(c.as_ptr(), libc::W_OK) } != 0 {
                return Err(CgroupError::NotWritable {
                    file,
                    source: std::io::Error::last_os_error(),
                });
            }
        }
        Ok(())
    }

    /// The current `cgroup.events`.
    /// A group that has been removed reads as empty and not frozen.
    pub fn events(&self) -> Result<Events, CgroupError> {
        let file = self.file("cgroup.events");
        match fs::read_to_string(&file) {
            Ok(t) => Ok(parse_events(&t)),
            Err(e) if removed(&e) => Ok(Events::default()),
            Err(source) => Err(CgroupError::Io { file, source }),
        }
    }

    /// Wait until `want` holds for `cgroup.events`, for at most `timeout`.
    /// Returns whether it held.
    pub fn wait_events(
        &self,
        timeout: Duration,
        want: impl Fn(Events) -> bool,
    ) -> Result<bool, CgroupError> {
        let file = self.file("cgroup.events");
        let io = |source| CgroupError::Io {
            file: file.clone(),
            source,
        };
        let mut f = match fs::File::open(&file) {
            Ok(f) => f,
            Err(e) if removed(&e) => return Ok(want(Events::default())),
            Err(e) => return Err(io(e)),
        };
        let start = Instant::now();
        let mut text = String::new();
        loop {
            text.clear();
            let read = f
                .seek(SeekFrom::Start(0))
                .and_then(|_| f.read_to_string(&mut text));
            let events = match read {
                Ok(_) => parse_events(&text),
                // Removed while we waited (kernfs answers ENODEV): it was empty.
                Err(e) if removed(&e) => Events::default(),
                Err(e) => return Err(io(e)),
            };
            if want(events) {
                return Ok(true);
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Ok(false);
            }
            let left = (timeout - waited).min(REREAD_EVERY);
            let mut pfd = libc::pollfd {
                fd: f.as_raw_fd(),
                events: libc::POLLPRI,
                revents: 0,
            };
            let ms = left.as_millis().max(1) as libc::c_int;
            // SAFETY: one valid pollfd for the duration of the call.
            unsafe { libc::poll(&mut pfd, 1, ms) };
        }
    }

    /// Freeze every process in the group and its descendants, and wait (at
    /// most `timeout`) for the kernel to report `frozen 1`. Returns whether
    /// it did: a process in uninterruptible sleep can delay it.
    pub fn freeze(&self, timeout: Duration) -> Result<bool, CgroupError> {
        self.write("cgroup.freeze", "1")?;
        self.wait_events(timeout, |e| e.frozen || !e.populated)
    }

    /// Undo [`Cgroup::freeze`], and wait (at most `timeout`) for `frozen 0`.
    pub fn thaw(&self, timeout: Duration) -> Result<bool, CgroupError> {
        self.write("cgroup.freeze", "0")?;
        self.wait_events(timeout, |e| !e.frozen)
    }

    /// SIGKILL every process in the group and its descendants: one write to
    /// `cgroup.kill`, or, on kernels before 5.14, freeze and SIGKILL each
    /// PID listed until none is left (a frozen group cannot fork, and a PID
    /// still listed in it cannot have been reused).
    pub fn kill(&self) -> Result<KillMethod, CgroupError> {
        if self.file("cgroup.kill").exists() {
            self.write("cgroup.kill", "1")?;
            return Ok(KillMethod::CgroupKill);
        }
        // A frozen task wakes for SIGKILL, so the group stays frozen throughout.
        self.freeze(Duration::from_secs(1))?;
        for pid in self.procs()? {
            // SAFETY: kill(2) with a PID read from the frozen group.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
        Ok(KillMethod::EachPid)
    }

    /// Every process in the group and its descendant groups.
    pub fn procs(&self) -> Result<Vec<u32>, CgroupError> {
        let mut out = Vec::new();
        let mut dirs = vec![self.dir.clone()];
        while let Some(dir) = dirs.pop() {
            let file = dir.join("cgroup.procs");
            match fs::read_to_string(&file) {
                Ok(t) => out.extend(t.lines().filter_map(|l| l.trim().parse::<u32>().ok())),
                // A child group removed while we walked.
                Err(e) if removed(&e) => continue,
                Err(source) => return Err(CgroupError::Io { file, source }),
            }
            if let Ok(rd) = fs::read_dir(&dir) {
                dirs.extend(
                    rd.flatten()
                        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                        .map(|e| e.path()),
                );
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// True if `group` (a path relative to the root) is this group or inside it.
    pub fn contains_group(&self, group: &str) -> bool {
        group == self.rel
            || group
                .strip_prefix(self.rel.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }

    /// Wait (at most `timeout`) until no process is left in the group.
    pub fn wait_empty(&self, timeout: Duration) -> Result<bool, CgroupError> {
        self.wait_events(timeout, |e| !e.populated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cgroup2_mount_is_found_on_a_hybrid_system_and_on_a_unified_one() {
        let hybrid = "25 31 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
                      41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n\
                      42 25 0:39 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n";
        assert_eq!(
            cgroup2_mount(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        let unified = "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_eq!(
            cgroup2_mount(unified),
            Some(PathBuf::from("/sys/fs/cgroup"))
        );
        let escaped = "30 24 0:26 / /mnt/my\\040cg rw - cgroup2 cgroup2 rw\n";
        assert_eq!(cgroup2_mount(escaped), Some(PathBuf::from("/mnt/my cg")));
        assert_eq!(cgroup2_mount("garbage\n\n1 2 3\n"), None);
    }

    #[test]
    fn cgroup_events_read_both_flags_and_ignore_other_lines() {
        assert_eq!(
            parse_events("populated 1\nfrozen 0\n"),
            Events {
                populated: true,
                frozen: false
            }
        );
        assert_eq!(
            parse_events("populated 0\nfrozen 1\nsomething 3\n"),
            Events {
                populated: false,
                frozen: true
            }
        );
    }

    #[test]
    fn a_group_removed_under_a_stop_reads_as_empty_and_needs_no_thaw() {
        let dir = tempfile::tempdir().unwrap();
        let unit = dir.path().join("a.service");
        std::fs::create_dir_all(&unit).unwrap();
        std::fs::write(unit.join("cgroup.procs"), "").unwrap();
        let g = CgroupFs::at(dir.path()).group("/a.service").unwrap();
        std::fs::remove_dir_all(&unit).unwrap();
        assert_eq!(g.events().unwrap(), Events::default());
        assert!(g.wait_empty(Duration::from_secs(5)).unwrap());
        assert!(g.thaw(Duration::from_secs(5)).unwrap());
        assert_eq!(g.procs().unwrap(), Vec::<u32>::new());
    }

    #[test]
    fn the_root_group_and_relative_or_dotted_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a.slice/b.service")).unwrap();
        std::fs::write(dir.path().join("a.slice/b.service/cgroup.procs"), "").unwrap();
        let fs = CgroupFs::at(dir.path());
        for bad in [
            "/",
            "",
            "a.slice",
            "/a.slice/../a.slice/b.service",
            "/a.slice//b.service",
            "/nope",
        ] {
            assert!(fs.group(bad).is_err(), "{bad:?} was accepted");
        }
        let g = fs.group("/a.slice/b.service").unwrap();
        assert!(g.contains_group("/a.slice/b.service"));
        assert!(g.contains_group("/a.slice/b.service/sub"));
        assert!(!g.contains_group("/a.slice/b.service2"));
        assert!(!g.contains_group("/a.slice"));
    }
}
