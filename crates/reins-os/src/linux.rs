//! The Linux implementation of [`ProcessOps`]: `/proc` for the process
//! table, `pidfd_send_signal(2)` (or `kill(2)` on kernels older than 5.3) for
//! signals, `SO_PEERCRED` for socket peers.
//!
//! Reads are deliberately minimal (`stat`, the `/proc/<pid>` directory's
//! owner and, only where that owner is not us, `status`; never `cmdline`,
//! `environ` or `cwd`), because the halt engine re-reads the table while a
//! tree is racing to fork. `children()` (in `linux/children.rs`) lets it find
//! a tree without reading the table at all. This
//! module decides nothing about trees or agents; it only answers questions
//! about single processes and sends single signals, refusing the ones Reins
//! must never send.

use crate::{Delivery, OsError, PeerCred, ProcInfo, ProcState, ProcessOps, Signal};
use reins_core::ProcessKey;
use std::io::Read;
use std::os::fd::RawFd;
use std::os::unix::fs::MetadataExt;
use std::sync::OnceLock;

mod children;

/// The Linux implementation of [`crate::ProcessOps`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Linux;

/// The fields Reins uses from one `/proc/<pid>/stat` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Field 2, without the parentheses.
    pub comm: String,
    /// Field 3.
    pub state: ProcState,
    /// Field 4.
    pub ppid: u32,
    /// Field 5: the process group.
    pub pgid: u32,
    /// Field 9: the kernel's `PF_*` flags.
    pub flags: u64,
    /// Field 20: how many threads it has.
    pub threads: u32,
    /// Field 22: start time in clock ticks since boot.
    pub start_ticks: u64,
}

/// Parse one `/proc/<pid>/stat` line. `comm` may itself contain spaces and
/// `)`, so the line is split at the *last* `)`.
pub fn parse_stat(line: &str) -> Option<Stat> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    if close < open {
        return None;
    }
    let comm = line[open + 1..close].to_owned();
    let mut rest = line[close + 1..].split_ascii_whitespace();
    let state = rest.next()?.chars().next().map(state_from_char)?;
    let ppid = rest.next()?.parse().ok()?;
    let pgid = rest.next()?.parse().ok()?;
    // After pgrp come session, tty_nr and tpgid (6..=8), then flags (9).
    let flags = rest.nth(3)?.parse().ok()?;
    // Then fields 10..=19 (10 fields), num_threads (20), 21, starttime (22).
    let threads = rest.nth(10)?.parse().ok()?;
    let start_ticks = rest.nth(1)?.parse().ok()?;
    Some(Stat {
        comm,
        state,
        ppid,
        pgid,
        flags,
        threads,
        start_ticks,
    })
}

/// Map a `stat` state letter to a [`ProcState`].
pub fn state_from_char(c: char) -> ProcState {
    match c {
        'R' => ProcState::Running,
        'T' | 't' => ProcState::Stopped,
        'Z' | 'X' | 'x' => ProcState::Zombie,
        _ => ProcState::Sleeping,
    }
}

/// The real uid from a `/proc/<pid>/status` text (`Uid:` line, first column).
pub fn parse_status_uid(status: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line["Uid:".len()..]
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Reads a small `/proc` file whole into `buf`. Bytes, not `read_to_string`:
/// a process may name itself with invalid UTF-8 (`prctl(PR_SET_NAME)`, or an
/// executable's file name), and a strict read would make it unreadable, so
/// it would look gone and never be signalled. Invalid bytes become U+FFFD.
/// A plain read loop also skips the `statx` that `read_to_string` makes to
/// size its buffer (useless: `/proc` files report size 0).
fn read_small(path: &str, buf: &mut String) -> std::io::Result<()> {
    let mut f = std::fs::File::open(path)?;
    let mut bytes = [0u8; 4096];
    let mut raw: Vec<u8> = Vec::new();
    loop {
        let n = f.read(&mut bytes)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&bytes[..n]);
    }
    buf.clear();
    buf.push_str(&String::from_utf8_lossy(&raw));
    Ok(())
}

fn read_stat(pid: u32) -> Option<Stat> {
    let mut buf = String::with_capacity(512);
    read_small(&format!("/proc/{pid}/stat"), &mut buf).ok()?;
    parse_stat(&buf)
}

fn read_uid(pid: u32) -> Option<u32> {
    let mut buf = String::with_capacity(1536);
    read_small(&format!("/proc/{pid}/status"), &mut buf).ok()?;
    parse_status_uid(&buf)
}

/// The uid compared with ours before a signal. Where we are not root, the
/// owner of `/proc/<pid>` (one `statx`, ~1.5 µs) is enough when it is us:
/// it is then the process's effective uid, and its real uid can differ only
/// if another user ran a program setuid to us, which runs as us and which
/// the kernel lets us signal anyway (its saved uid is ours). Any other
/// owner, and every process when we are root (a non-dumpable process of any
/// user shows root as owner), is settled by the real uid in `status`
/// (~14 µs: the kernel walks the memory map to format it).
fn signal_uid(pid: u32, self_uid: u32) -> Option<u32> {
    if self_uid != 0 {
        let owner = std::fs::metadata(format!("/proc/{pid}")).ok()?.uid();
        if owner == self_uid {
            return Some(owner);
        }
    }
    read_uid(pid)
}

/// `PF_KTHREAD` in the `stat` flags: a kernel thread (always root's).
const PF_KTHREAD: u64 = 0x0020_0000;

fn read_info(pid: u32) -> Option<ProcInfo> {
    let stat = read_stat(pid)?;
    let uid = read_uid(pid)?;
    Some(info_from(pid, stat, uid))
}

/// Like [`read_info`], for listing the whole table cheaply: the uid comes
/// from the owner of `/proc/<pid>` (one `statx`, ~1 µs) instead of parsing
/// `status` (~10-30 µs, it walks the memory map). The directory belongs to
/// the process's *effective* uid while it is dumpable, and to root when it
/// is not (setuid programs, `PR_SET_DUMPABLE 0`), so an owner equal to
/// `self_uid` is taken as is and any other owner is confirmed from
/// `status` (kernel threads, always root, excepted). The one divergence
/// from the real uid, a dumpable process whose effective uid is ours but
/// real uid is not, cannot lead to a wrong signal: [`Linux::signal`]
/// re-reads the real uid from `status` before every signal.
fn read_info_listed(pid: u32, self_uid: u32) -> Option<ProcInfo> {
    let stat = read_stat(pid)?;
    let owner = std::fs::metadata(format!("/proc/{pid}")).ok()?.uid();
    let uid = if owner == self_uid {
        owner
    } else if stat.flags & PF_KTHREAD != 0 {
        0
    } else {
        read_uid(pid)?
    };
    Some(info_from(pid, stat, uid))
}

fn info_from(pid: u32, stat: Stat, uid: u32) -> ProcInfo {
    ProcInfo {
        key: ProcessKey {
            pid,
            start_ticks: stat.start_ticks,
        },
        ppid: stat.ppid,
        pgid: stat.pgid,
        uid,
        state: stat.state,
        comm: stat.comm,
    }
}

fn signo(sig: Signal) -> libc::c_int {
    match sig {
        Signal::Stop => libc::SIGSTOP,
        Signal::Cont => libc::SIGCONT,
        Signal::Term => libc::SIGTERM,
        Signal::Kill => libc::SIGKILL,
    }
}

/// Set once `pidfd_open` reports ENOSYS, so old kernels fall back to kill(2)
/// without paying for the failed syscall each time.
static NO_PIDFD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `pidfd_send_signal(2)` flag: signal the target's whole process group
/// (Linux 6.9, `include/uapi/linux/pidfd.h`; not in the libc crate yet).
const PIDFD_SIGNAL_PROCESS_GROUP: libc::c_uint = 1 << 2;

/// An open pidfd, closed on drop.
struct PidFd(RawFd);

impl PidFd {
    /// `pidfd_send_signal(2)` with `flags`; returns its result (0 or -1 with
    /// errno set).
    fn send(&self, sig: Signal, flags: libc::c_uint) -> libc::c_int {
        // SAFETY: a valid pidfd, a valid signal number, no siginfo, and flags
        // the kernel checks itself (EINVAL for unknown ones).
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.0,
                signo(sig),
                std::ptr::null::<libc::siginfo_t>(),
                flags,
            ) as libc::c_int
        }
    }
}

impl Drop for PidFd {
    fn drop(&mut self) {
        // SAFETY: we own this descriptor and close it exactly once.
        unsafe { libc::close(self.0) };
    }
}

fn pidfd_open(pid: u32) -> Result<Option<PidFd>, std::io::Error> {
    if NO_PIDFD.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(None);
    }
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd >= 0 {
        return Ok(Some(PidFd(fd as RawFd)));
    }
    let err = std::io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::ENOSYS) => {
            NO_PIDFD.store(true, std::sync::atomic::Ordering::Relaxed);
            Ok(None)
        }
        _ => Err(err),
    }
}

/// A process pinned for signalling: a pidfd where the kernel has them (so
/// the PID cannot be reused between our checks and the signal), else just
/// the PID for `kill(2)`.
struct Pinned {
    pid: u32,
    fd: Option<PidFd>,
}

impl Pinned {
    /// `Ok(None)` if no process has this PID.
    fn open(pid: u32) -> Result<Option<Pinned>, OsError> {
        match pidfd_open(pid) {
            Ok(fd) => Ok(Some(Pinned { pid, fd })),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(None),
            Err(source) => Err(OsError::Signal { pid, source }),
        }
    }
}

impl Linux {
    /// The last step of every signal: the uid check (`uid` as read after
    /// pinning; `None` means the process vanished), then the syscall.
    fn send_pinned(
        &self,
        pin: &Pinned,
        uid: Option<u32>,
        sig: Signal,
    ) -> Result<Delivery, OsError> {
        let pid = pin.pid;
        match uid {
            None => return Ok(Delivery::Gone),
            Some(uid) if uid != self.self_uid() => {
                return Err(OsError::Refused {
                    pid,
                    reason: "it belongs to another user",
                });
            }
            Some(_) => {}
        }
        let rc = match &pin.fd {
            Some(fd) => fd.send(sig, 0),
            // SAFETY: kill(2) with a positive pid and a valid signal number.
            None => unsafe { libc::kill(pid as libc::pid_t, signo(sig)) },
        };
        if rc == 0 {
            return Ok(Delivery::Sent);
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::ESRCH) => Ok(Delivery::Gone),
            _ => Err(OsError::Signal { pid, source: err }),
        }
    }

    fn refuse(&self, pid: u32) -> Option<&'static str> {
        match pid {
            0 => Some("PID 0 is the kernel's scheduler, not a process Reins may signal"),
            1 => Some("PID 1 is init; signalling it could take the whole system down"),
            p if p == self.self_pid() => Some("this is Reins itself"),
            p if p > i32::MAX as u32 => Some("not a valid PID"),
            _ => None,
        }
    }
}

impl ProcessOps for Linux {
    fn list(&self) -> Result<Vec<ProcInfo>, OsError> {
        let dir = std::fs::read_dir("/proc").map_err(|source| OsError::ProcTable {
            path: "/proc".into(),
            source,
        })?;
        let mut out = Vec::with_capacity(512);
        let self_uid = self.self_uid();
        for entry in dir.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            // A process that exits between readdir and the read is simply
            // not listed: it is gone either way.
            if let Some(info) = read_info_listed(pid, self_uid) {
                out.push(info);
            }
        }
        Ok(out)
    }

    fn info(&self, pid: u32) -> Option<ProcInfo> {
        read_info(pid)
    }

    fn probe(&self, key: ProcessKey) -> Option<ProcState> {
        let stat = read_stat(key.pid)?;
        (stat.start_ticks == key.start_ticks).then_some(stat.state)
    }

    fn children(&self, key: ProcessKey) -> Option<Vec<ProcInfo>> {
        children::supported().then(|| children::children_of(key, self.self_uid()))
    }

    fn signal(&self, key: ProcessKey, sig: Signal) -> Result<Delivery, OsError> {
        if let Some(reason) = self.refuse(key.pid) {
            return Err(OsError::Refused {
                pid: key.pid,
                reason,
            });
        }
        let Some(pin) = Pinned::open(key.pid)? else {
            return Ok(Delivery::Gone);
        };
        let Some(stat) = read_stat(key.pid) else {
            return Ok(Delivery::Gone);
        };
        if stat.start_ticks != key.start_ticks {
            return Ok(Delivery::Gone);
        }
        self.send_pinned(&pin, signal_uid(key.pid, self.self_uid()), sig)
    }

    fn signal_group(&self, leader: ProcessKey, sig: Signal) -> Result<Option<Delivery>, OsError> {
        let pid = leader.pid;
        if self.self_uid() == 0 || self.refuse(pid).is_some() {
            return Ok(None);
        }
        // SAFETY: getpgrp(2) takes nothing and cannot fail.
        let own_group = unsafe { libc::getpgrp() } as u32;
        if own_group == pid {
            return Ok(None);
        }
        // Only with a pidfd: the group is then the pinned process's own, read
        // by the kernel when it sends, so no reused PID can redirect it.
        let Some(pin) = Pinned::open(pid)? else {
            return Ok(Some(Delivery::Gone));
        };
        let Some(fd) = &pin.fd else {
            return Ok(None);
        };
        let Some(stat) = read_stat(pid) else {
            return Ok(Some(Delivery::Gone));
        };
        if stat.start_ticks != leader.start_ticks {
            return Ok(Some(Delivery::Gone));
        }
        if stat.pgid != pid || signal_uid(pid, self.self_uid()) != Some(self.self_uid()) {
            return Ok(None);
        }
        // Older kernels (before 6.9) answer EINVAL to the flag.
        let rc = fd.send(sig, PIDFD_SIGNAL_PROCESS_GROUP);
        if rc == 0 {
            return Ok(Some(Delivery::Sent));
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::ESRCH) => Ok(Some(Delivery::Gone)),
            // Older kernel, or nothing in the group we may signal: the
            // per-process walk does it all.
            Some(libc::EINVAL | libc::EPERM) => Ok(None),
            _ => Err(OsError::Signal { pid, source: err }),
        }
    }

    fn signal_children(
        &self,
        parent: ProcessKey,
        sig: Signal,
        pick: &mut dyn FnMut(&ProcInfo) -> bool,
    ) -> Option<Vec<crate::ChildSignal>> {
        if !children::supported() {
            return None;
        }
        let self_uid = self.self_uid();
        let mut out = Vec::new();
        for pid in children::child_pids(parent) {
            // Pin first, then read: the stat read is of the pinned process,
            // so the parent and start-time checks hold for what we signal.
            let pin = match Pinned::open(pid) {
                Ok(Some(pin)) => pin,
                Ok(None) => continue,
                Err(e) => {
                    tracing::debug!("halt: cannot pin child {pid}: {e}");
                    continue;
                }
            };
            let Some(stat) = read_stat(pid) else { continue };
            if stat.ppid != parent.pid || stat.start_ticks < parent.start_ticks {
                continue;
            }
            let Some(uid) = signal_uid(pid, self_uid) else {
                continue;
            };
            let info = info_from(pid, stat, uid);
            let result = pick(&info).then(|| match self.refuse(pid) {
                Some(reason) => Err(OsError::Refused { pid, reason }),
                None => self.send_pinned(&pin, Some(uid), sig),
            });
            out.push(crate::ChildSignal { info, result });
        }
        Some(out)
    }

    fn peer_cred(&self, fd: RawFd) -> Result<PeerCred, OsError> {
        let mut cred = libc::ucred {
            pid: 0,
            uid: 0,
            gid: 0,
        };
        let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
        // SAFETY: `cred` and `len` are valid for writes of the sizes given.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_PEERCRED,
                (&mut cred as *mut libc::ucred).cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(OsError::PeerCred(std::io::Error::last_os_error()));
        }
        if cred.pid <= 0 {
            return Err(OsError::PeerCred(std::io::Error::other(
                "the peer has no process id (not a connected Unix socket?)",
            )));
        }
        Ok(PeerCred {
            pid: cred.pid as u32,
            uid: cred.uid,
        })
    }

    fn self_uid(&self) -> u32 {
        // SAFETY: getuid cannot fail.
        unsafe { libc::getuid() }
    }

    fn ticks_to_unix(&self, start_ticks: u64) -> u64 {
        let (btime, hz) = boot_clock();
        btime + start_ticks / hz.max(1)
    }
}

/// Boot time (Unix seconds, from `/proc/stat` `btime`) and clock ticks per
/// second, read once.
fn boot_clock() -> (u64, u64) {
    static CLOCK: OnceLock<(u64, u64)> = OnceLock::new();
    *CLOCK.get_or_init(|| {
        let btime = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse().ok()))
            })
            .unwrap_or(0);
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (btime, if hz > 0 { hz as u64 } else { 100 })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_stat_line_with_spaces_and_parens_in_comm_parses() {
        let line = "4242 (a) b (c)) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 98765 1000 200 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.comm, "a) b (c)");
        assert_eq!(s.state, ProcState::Sleeping);
        assert_eq!(s.ppid, 17);
        assert_eq!(s.pgid, 4242);
        assert_eq!(s.flags, 4194560);
        assert_eq!(s.threads, 3);
        assert_eq!(s.start_ticks, 98765);
    }

    #[test]
    fn a_truncated_stat_line_is_rejected() {
        assert_eq!(parse_stat("12 (x) S 1 2 3"), None);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn stopped_and_zombie_letters_map_to_their_states() {
        assert_eq!(state_from_char('T'), ProcState::Stopped);
        assert_eq!(state_from_char('t'), ProcState::Stopped);
        assert_eq!(state_from_char('Z'), ProcState::Zombie);
        assert_eq!(state_from_char('R'), ProcState::Running);
        assert_eq!(state_from_char('D'), ProcState::Sleeping);
    }

    #[test]
    fn the_real_uid_is_read_from_status() {
        let status = "Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t1\t1\t1\t1\n";
        assert_eq!(parse_status_uid(status), Some(1000));
    }

    #[test]
    fn our_own_process_is_listed_with_our_uid() {
        let me = Linux.info(std::process::id()).unwrap();
        assert_eq!(me.uid, Linux.self_uid());
        assert!(Linux.list().unwrap().iter().any(|p| p.key == me.key));
        // The main thread is waiting for the test threads: any live state.
        assert!(Linux.probe(me.key).is_some_and(|s| s != ProcState::Zombie));
    }

    #[test]
    fn listed_uids_agree_with_the_real_uid_in_status() {
        let mut compared = 0;
        for p in Linux.list().unwrap() {
            // Skip processes that exited or were replaced since the listing.
            let still = read_stat(p.key.pid).is_some_and(|s| s.start_ticks == p.key.start_ticks);
            if let (true, Some(real)) = (still, read_uid(p.key.pid)) {
                assert_eq!(p.uid, real, "uid of pid {} ({})", p.key.pid, p.comm);
                compared += 1;
            }
        }
        assert!(compared > 0);
    }

    #[test]
    fn init_and_ourselves_are_refused() {
        let me = Linux.info(std::process::id()).unwrap();
        for key in [
            ProcessKey {
                pid: 1,
                start_ticks: 1,
            },
            ProcessKey {
                pid: 0,
                start_ticks: 0,
            },
            me.key,
        ] {
            assert!(matches!(
                Linux.signal(key, Signal::Cont),
                Err(OsError::Refused { .. })
            ));
        }
    }

    #[test]
    fn a_wrong_start_time_means_gone_and_nothing_is_sent() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let real = Linux.info(child.id()).unwrap().key;
        let stale = ProcessKey {
            pid: real.pid,
            start_ticks: real.start_ticks + 1,
        };
        assert_eq!(Linux.signal(stale, Signal::Kill).unwrap(), Delivery::Gone);
        assert_eq!(Linux.probe(stale), None);
        assert!(Linux.probe(real).is_some_and(|s| s != ProcState::Zombie));
        assert_eq!(Linux.signal(real, Signal::Kill).unwrap(), Delivery::Sent);
        child.wait().unwrap();
        assert_eq!(Linux.signal(real, Signal::Kill).unwrap(), Delivery::Gone);
    }

    #[test]
    fn a_process_named_in_invalid_utf8_is_still_read_and_signalled() {
        // The kernel names a process after the file it exec'd: a symlink
        // whose name is not UTF-8 gives a `comm` that is not UTF-8 either.
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let link = dir
            .path()
            .join(std::ffi::OsStr::from_bytes(b"ag\xff\xfent"));
        let sleep = ["/usr/bin/sleep", "/bin/sleep"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap();
        std::os::unix::fs::symlink(sleep, &link).unwrap();
        let mut child = std::process::Command::new(&link).arg("30").spawn().unwrap();
        let info = Linux.info(child.id());
        let sent = info.as_ref().map(|i| Linux.signal(i.key, Signal::Kill));
        if !matches!(sent, Some(Ok(Delivery::Sent))) {
            child.kill().unwrap();
        }
        child.wait().unwrap();
        let info = info.expect("a non-UTF-8 name does not hide a process");
        assert!(info.comm.starts_with("ag"), "{:?}", info.comm);
        assert!(matches!(sent, Some(Ok(Delivery::Sent))), "{sent:?}");
    }

    #[test]
    fn a_socket_peer_is_identified_by_pid_and_uid() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let cred = Linux.peer_cred(a.as_raw_fd()).unwrap();
        assert_eq!(
            cred,
            PeerCred {
                pid: std::process::id(),
                uid: Linux.self_uid()
            }
        );
    }

    #[test]
    fn our_start_time_converts_to_a_unix_time_after_boot() {
        let me = Linux.info(std::process::id()).unwrap();
        let started = Linux.ticks_to_unix(me.key.start_ticks);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(
            started >= boot_clock().0 && started <= now + 1,
            "{started} vs {now}"
        );
    }
}
