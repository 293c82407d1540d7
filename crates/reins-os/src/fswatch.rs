//! Watching a directory tree for deletions (Linux inotify), for agents that
//! have no hooks: the tripwires count what disappears under their project.
//!
//! One inotify instance per watched tree, non-blocking, close-on-exec; a
//! watch on every directory below the root (new directories are added as
//! they appear), up to a bound, skipping build and dependency directories
//! whose churn is not the agent's doing. It reports paths that were deleted
//! or moved out of the tree; it cannot say *who* deleted them (inotify does
//! not know the process), which is the caller's caveat to document. It does
//! not poll or block: the caller waits on [`DirWatch::fd`] being readable
//! (the runtime uses tokio's `AsyncFd`) and then calls [`DirWatch::read`].

use std::collections::HashMap;
use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Directories never watched: build output, dependencies and VCS internals
/// change by the thousand during an ordinary build or checkout.
pub const SKIPPED_DIRS: [&str; 10] = [
    ".git",
    "target",
    "node_modules",
    "__pycache__",
    ".venv",
    "venv",
    ".cache",
    ".mypy_cache",
    ".pytest_cache",
    ".tox",
];

/// Something that left the watched tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsChange {
    /// A file or directory was deleted.
    Deleted(PathBuf),
    /// A file or directory was moved out of the tree (or to a place this
    /// read could not pair with its arrival, e.g. the trash).
    MovedOut(PathBuf),
}

/// A recursive watch for deletions under one directory.
#[derive(Debug)]
pub struct DirWatch {
    fd: OwnedFd,
    dirs: HashMap<i32, PathBuf>,
    max_watches: usize,
    /// True once the bound was hit: some directories are not watched.
    pub truncated: bool,
}

const MASK: u32 = libc::IN_DELETE
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO
    | libc::IN_CREATE
    | libc::IN_DELETE_SELF
    | libc::IN_ONLYDIR
    | libc::IN_DONT_FOLLOW
    | libc::IN_EXCL_UNLINK;

impl DirWatch {
    /// Watch `root` and the directories below it, at most `max_watches`.
    pub fn new(root: &Path, max_watches: usize) -> io::Result<DirWatch> {
        // SAFETY: inotify_init1 has no preconditions; the result is checked.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut w = DirWatch {
            fd,
            dirs: HashMap::new(),
            max_watches,
            truncated: false,
        };
        w.add_tree(root)?;
        Ok(w)
    }

    /// The descriptor to wait on for readability.
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// How many directories are watched.
    pub fn watched(&self) -> usize {
        self.dirs.len()
    }

    fn add_tree(&mut self, root: &Path) -> io::Result<()> {
        let mut stack = vec![root.to_path_buf()];
        let mut first = true;
        while let Some(dir) = stack.pop() {
            if self.dirs.len() >= self.max_watches {
                self.truncated = true;
                return Ok(());
            }
            match self.add_one(&dir) {
                Ok(()) => {}
                // The root must be watchable; a subdirectory may vanish or be unreadable.
                Err(e) if first => return Err(e),
                Err(_) => continue,
            }
            first = false;
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                if is_dir && !skipped(&e.file_name()) {
                    stack.push(e.path());
                }
            }
        }
        Ok(())
    }

    fn add_one(&mut self, dir: &Path) -> io::Result<()> {
        let c = CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: the fd is ours and open; `c` is a valid C string.
        let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), MASK) };
        if wd < 0 {
            return Err(io::Error::last_os_error());
        }
        self.dirs.insert(wd, dir.to_path_buf());
        Ok(())
    }

    /// Everything that left the tree since the last read; empty when
    /// nothing is pending (it never blocks).
    pub fn read(&mut self) -> io::Result<Vec<FsChange>> {
        let mut out = vec![];
        // Moves seen leaving, by cookie, until their arrival pairs them.
        let mut moved: Vec<(u32, PathBuf)> = vec![];
        let mut buf = [0u8; 16 * 1024];
        loop {
            // SAFETY: `buf` is valid for its length; the fd is ours.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock {
                    break;
                }
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if n == 0 {
                break;
            }
            let mut off = 0usize;
            let header = std::mem::size_of::<libc::inotify_event>();
            while off + header <= n as usize {
                // SAFETY: the kernel wrote a whole event at `off`; read_unaligned
                // copes with the byte buffer's alignment.
                let ev: libc::inotify_event =
                    unsafe { std::ptr::read_unaligned(buf.as_ptr().add(off).cast()) };
                let name_bytes = &buf[off + header..off + header + ev.len as usize];
                let name_end = name_bytes
                    .iter()
                    .position(|b| *b == 0)
                    .unwrap_or(name_bytes.len());
                let name = OsStr::from_bytes(&name_bytes[..name_end]);
                off += header + ev.len as usize;
                if ev.mask & libc::IN_IGNORED != 0 {
                    self.dirs.remove(&ev.wd);
                    continue;
                }
                let Some(dir) = self.dirs.get(&ev.wd).cloned() else {
                    continue;
                };
                let path = dir.join(name);
                let is_dir = ev.mask & libc::IN_ISDIR != 0;
                if ev.mask & libc::IN_DELETE != 0 {
                    out.push(FsChange::Deleted(path));
                } else if ev.mask & libc::IN_MOVED_FROM != 0 {
                    moved.push((ev.cookie, path));
                } else if ev.mask & libc::IN_MOVED_TO != 0 {
                    moved.retain(|(c, _)| *c != ev.cookie);
                    if is_dir && !skipped(name) {
                        self.add_tree(&path)?;
                    }
                } else if ev.mask & libc::IN_CREATE != 0 && is_dir && !skipped(name) {
                    self.add_tree(&path)?;
                }
            }
        }
        out.extend(moved.into_iter().map(|(_, p)| FsChange::MovedOut(p)));
        Ok(out)
    }
}

impl AsRawFd for DirWatch {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

fn skipped(name: &OsStr) -> bool {
    SKIPPED_DIRS.iter().any(|s| OsStr::new(s) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletions_and_moves_out_are_reported_and_renames_inside_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = dir.path().join("proj");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(root.join("target/debug")).unwrap();
        let mut w = DirWatch::new(&root, 100).unwrap();
        assert_eq!(w.watched(), 2, "the root and sub; target is skipped");
        for f in ["a", "b", "sub/c", "target/debug/x", "keep"] {
            std::fs::write(root.join(f), "x").unwrap();
        }
        // A directory created after the watch started is watched too.
        std::fs::create_dir(root.join("new")).unwrap();
        assert!(w.read().unwrap().is_empty());
        std::fs::write(root.join("new/d"), "x").unwrap();
        std::fs::remove_file(root.join("a")).unwrap();
        std::fs::remove_file(root.join("sub/c")).unwrap();
        std::fs::remove_file(root.join("new/d")).unwrap();
        std::fs::remove_file(root.join("target/debug/x")).unwrap();
        std::fs::rename(root.join("b"), root.join("sub/b")).unwrap();
        std::fs::rename(root.join("keep"), outside.path().join("keep")).unwrap();
        let mut got = w.read().unwrap();
        got.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        assert_eq!(
            got,
            [
                FsChange::Deleted(root.join("a")),
                FsChange::Deleted(root.join("new/d")),
                FsChange::Deleted(root.join("sub/c")),
                FsChange::MovedOut(root.join("keep")),
            ]
        );
    }

    #[test]
    fn the_watch_count_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..10 {
            std::fs::create_dir(dir.path().join(format!("d{i}"))).unwrap();
        }
        let w = DirWatch::new(dir.path(), 4).unwrap();
        assert_eq!(w.watched(), 4);
        assert!(w.truncated);
    }
}
