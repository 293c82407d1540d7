//! Small direct reads of `/proc/<pid>/...` that sysinfo does not give us: the
//! start time in clock ticks (for [`reins_core::ProcessKey`]), the cwd of
//! agent roots, and a fresh exe/argv/comm/cwd for young processes that may
//! have just called exec.
//!
//! Linux only, read-only, and deliberately not a process-table walker: the
//! scanner uses sysinfo for that.

use std::fs;
use std::path::PathBuf;

/// Field 22 of `/proc/<pid>/stat`: the start time in clock ticks since boot.
/// The comm field may contain spaces and parentheses, so split at the last ')'.
pub(crate) fn start_ticks(pid: u32) -> Option<u64> {
    let stat = fs::read(format!("/proc/{pid}/stat")).ok()?;
    parse_start_ticks(&stat)
}

fn parse_start_ticks(stat: &[u8]) -> Option<u64> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    // After ')' come field 3 (state) onwards; field 22 is the 20th of those.
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

/// Where a process runs now. `None` if it is gone or not ours to read.
pub(crate) fn cwd(pid: u32) -> Option<PathBuf> {
    fs::read_link(format!("/proc/{pid}/cwd")).ok()
}

/// The largest environment read: a service's environment is a few KiB; this
/// bounds what a process with a huge one costs a scan.
const ENVIRON_MAX: u64 = 256 * 1024;

/// The environment a process was started with (`/proc/<pid>/environ`,
/// NUL-separated). `None` if it is gone or not ours to read (another user's).
pub(crate) fn environ(pid: u32) -> Option<Vec<u8>> {
    use std::io::Read;
    let file = fs::File::open(format!("/proc/{pid}/environ")).ok()?;
    let mut buf = Vec::new();
    file.take(ENVIRON_MAX).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// An owned exe/argv/comm, read straight from `/proc`.
#[derive(Debug, Default)]
pub(crate) struct FreshView {
    pub exe: String,
    pub argv: Vec<String>,
    pub comm: String,
    pub cwd: Option<PathBuf>,
}

/// A process's command line now, from `/proc/<pid>/cmdline`. `None` if it is gone.
pub(crate) fn argv(pid: u32) -> Option<Vec<String>> {
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let mut argv: Vec<String> = cmdline
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    while argv.last().is_some_and(|a| a.is_empty()) {
        argv.pop();
    }
    Some(argv)
}

/// Re-read what a process runs now. `None` if it is gone.
pub(crate) fn read_view(pid: u32) -> Option<FreshView> {
    let argv = argv(pid)?;
    let exe = fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| {
            let s = p.to_string_lossy();
            s.strip_suffix(" (deleted)").unwrap_or(&s).to_owned()
        })
        .unwrap_or_default();
    // Lossy: a name that is not UTF-8 must not read as no name at all.
    let comm = fs::read(format!("/proc/{pid}/comm"))
        .map(|c| {
            String::from_utf8_lossy(&c)
                .trim_end_matches('\n')
                .to_owned()
        })
        .unwrap_or_default();
    let cwd = cwd(pid);
    Some(FreshView {
        exe,
        argv,
        comm,
        cwd,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_ticks_are_read_past_a_comm_with_spaces_and_parens() {
        let stat =
            b"42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 100 200";
        assert_eq!(parse_start_ticks(stat), Some(987_654));
    }

    #[test]
    fn our_own_start_ticks_and_view_are_readable() {
        let pid = std::process::id();
        assert!(start_ticks(pid).is_some());
        assert_eq!(cwd(pid), std::env::current_dir().ok());
        let view = read_view(pid).unwrap();
        assert!(!view.argv.is_empty() && !view.exe.is_empty() && !view.comm.is_empty());
    }
}
