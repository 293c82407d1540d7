//! A throw-away cgroup v2 group for tests and benchmarks, laid out like a
//! systemd user unit: `<mount>/reins-test-<pid>-<n>/user.slice/user-0.slice/
//! user@0.service/app.slice/reins-test-<pid>-<n>.service`.
//!
//! Only root can create it (the cgroup2 mount is root's): [`TestCgroup::create`]
//! says why not otherwise, and callers skip with that reason. Processes are
//! put in it by the spawned program itself (`Command` via [`TestCgroup::enter`],
//! before exec), so nothing else is ever in the group. On drop, everything
//! left in it is killed with `cgroup.kill` and every directory is removed,
//! deepest first, even when the test failed.

use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One test's group tree.
#[derive(Debug)]
pub struct TestCgroup {
    top: PathBuf,
    unit_dir: PathBuf,
    unit: String,
    rel: String,
}

impl TestCgroup {
    /// Create it, or say why it cannot be (no cgroup2 mount, not root).
    pub fn create() -> Result<TestCgroup, String> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let mount = reins_os::cgroup::CgroupFs::find().map_err(|e| e.to_string())?;
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("creating a cgroup v2 group needs root".into());
        }
        let tag = format!(
            "reins-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let unit = format!("{tag}.service");
        let rel = format!("/{tag}/user.slice/user-0.slice/user@0.service/app.slice/{unit}");
        let top = mount.root().join(&tag);
        let unit_dir = mount.root().join(rel.trim_start_matches('/'));
        std::fs::create_dir_all(&unit_dir)
            .map_err(|e| format!("cannot create {}: {e}", unit_dir.display()))?;
        Ok(TestCgroup {
            top,
            unit_dir,
            unit,
            rel,
        })
    }

    /// The unit's name (`reins-test-<pid>-<n>.service`).
    pub fn unit(&self) -> &str {
        &self.unit
    }

    /// The unit's path relative to the cgroup root.
    pub fn rel(&self) -> &str {
        &self.rel
    }

    /// The unit's directory.
    pub fn dir(&self) -> &Path {
        &self.unit_dir
    }

    /// Make `cmd` move itself into the unit's group before it execs, so
    /// that it and everything it forks lives there from the start.
    pub fn enter(&self, cmd: &mut Command) {
        let procs = CString::new(
            self.unit_dir
                .join("cgroup.procs")
                .into_os_string()
                .into_encoded_bytes(),
        )
        .expect("no NUL in a cgroup path");
        // SAFETY: the closure only calls open/write/close (async-signal-safe)
        // on a path allocated before the fork.
        unsafe {
            cmd.pre_exec(move || {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                let ok = libc::write(fd, b"0".as_ptr().cast(), 1) == 1;
                let err = std::io::Error::last_os_error();
                libc::close(fd);
                if ok { Ok(()) } else { Err(err) }
            });
        }
    }

    /// The PIDs in the unit's group now.
    pub fn pids(&self) -> Vec<u32> {
        std::fs::read_to_string(self.unit_dir.join("cgroup.procs"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.parse().ok())
            .collect()
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        let _ = std::fs::write(self.unit_dir.join("cgroup.freeze"), "0");
        let _ = std::fs::write(self.unit_dir.join("cgroup.kill"), "1");
        // Wait (bounded) for the group to empty; rmdir fails while it is not.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let events =
                std::fs::read_to_string(self.unit_dir.join("cgroup.events")).unwrap_or_default();
            if !events.contains("populated 1") {
                break;
            }
            std::thread::yield_now();
        }
        let mut dir = self.unit_dir.clone();
        while dir.starts_with(&self.top) {
            let _ = std::fs::remove_dir(&dir);
            if !dir.pop() {
                break;
            }
        }
    }
}
