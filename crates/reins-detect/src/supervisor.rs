//! Finding an agent's supervisor: what would restart it if it died.
//!
//! In this order: pm2 (an ancestor that is pm2's God Daemon restarts its
//! apps itself, even when pm2 runs in a systemd unit), then the cgroup
//! (`/proc/<pid>/cgroup`: a systemd `.service`, user or system, or a
//! container), then the parent process. The parsers are pure functions of
//! the texts `/proc` gives; [`supervisor_of`] is the small reader the
//! scanner calls once per agent. A `.scope` (a terminal's shell, a login
//! session) restarts nothing and is not a supervisor, and nor is a
//! `.service` the agent was started inside by another of its processes (a
//! terminal multiplexer or an editor server run as a service: stopping
//! that unit would kill everything in it). Container detection
//! is conservative: only the path shapes the engines are known to create,
//! with ids of the shape they use. This module decides nothing about
//! stopping; that is `reins-os::halt_unit` and the runtime.

use reins_core::{Supervisor, UnitScope};
use std::fs;

/// The longest parent chain searched for pm2 (deeper means a loop or a fork
/// bomb, and pm2 runs its apps as direct children anyway).
const MAX_ANCESTORS: usize = 64;

/// The cgroup path of a process from its `/proc/<pid>/cgroup` text: the
/// cgroup v2 (`0::`) line, or on a hybrid system whose v2 line is just `/`,
/// systemd's own v1 hierarchy (`name=systemd`), which has the same layout.
pub fn cgroup_path(text: &str) -> Option<&str> {
    let mut v2 = None;
    let mut named = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if !path.starts_with('/') {
            continue;
        }
        if id == "0" && controllers.is_empty() {
            v2 = Some(path);
        } else if controllers == "name=systemd" {
            named = Some(path);
        }
    }
    match v2 {
        Some(p) if p != "/" => Some(p),
        _ => named.filter(|p| *p != "/").or(v2),
    }
}

/// The supervisor a cgroup path names, if any: a systemd service unit or
/// a container.
pub fn from_cgroup(path: &str) -> Option<Supervisor> {
    container(path).or_else(|| systemd_unit(path))
}

fn is_hex_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The cgroup path up to and including component `i`.
fn prefix(comps: &[&str], i: usize) -> String {
    format!("/{}", comps[..=i].join("/"))
}

fn container(path: &str) -> Option<Supervisor> {
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let found = |engine: &str, id: &str, i: usize| {
        Some(Supervisor::Container {
            engine: engine.to_owned(),
            id: id.to_owned(),
            cgroup: prefix(&comps, i),
        })
    };
    for (i, c) in comps.iter().enumerate() {
        // systemd cgroup driver: <engine>-<id>.scope.
        if let Some(stem) = c.strip_suffix(".scope") {
            for (pre, engine) in [
                ("docker-", "docker"),
                ("libpod-", "podman"),
                ("cri-containerd-", "containerd"),
                ("crio-", "cri-o"),
            ] {
                if let Some(id) = stem.strip_prefix(pre)
                    && is_hex_id(id)
                {
                    return found(engine, id, i);
                }
            }
        }
        // cgroupfs driver: /docker/<id>, /kubepods/.../<id>.
        if *c == "docker"
            && let Some(id) = comps.get(i + 1)
            && is_hex_id(id)
        {
            return found("docker", id, i + 1);
        }
        if c.starts_with("kubepods")
            && let Some(j) = (i + 1..comps.len()).find(|&j| is_hex_id(comps[j]))
        {
            return found("kubernetes", comps[j], j);
        }
        // LXC: /lxc/<name> (older) or /lxc.payload.<name> (4.0+).
        if let Some(name) = c.strip_prefix("lxc.payload.")
            && !name.is_empty()
        {
            return found("lxc", name, i);
        }
        if *c == "lxc"
            && let Some(name) = comps.get(i + 1)
        {
            return found("lxc", name, i + 1);
        }
    }
    None
}

/// `user@<uid>.service`: a user's systemd manager.
fn is_user_manager(c: &str) -> bool {
    c.strip_prefix("user@")
        .and_then(|r| r.strip_suffix(".service"))
        .is_some_and(|uid| !uid.is_empty() && uid.bytes().all(|b| b.is_ascii_digit()))
}

fn systemd_unit(path: &str) -> Option<Supervisor> {
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    // The deepest unit: sub-groups a service made itself (delegation) are
    // below it, and a `.scope` below a service (a terminal in a user session)
    // means the process is not run by that service.
    let i = comps
        .iter()
        .rposition(|c| c.ends_with(".service") || c.ends_with(".scope"))?;
    let unit = comps[i];
    if unit.ends_with(".scope") || is_user_manager(unit) || unit.len() <= ".service".len() {
        return None;
    }
    let scope = if comps[..i].iter().any(|c| is_user_manager(c)) {
        UnitScope::User
    } else {
        UnitScope::System
    };
    Some(Supervisor::SystemdUnit {
        unit: unit.to_owned(),
        scope,
        cgroup: prefix(&comps, i),
    })
}

/// True if `group` is the cgroup `unit` or inside it.
pub fn within(group: &str, unit: &str) -> bool {
    group == unit
        || group
            .strip_prefix(unit)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// True if the agent is not what a systemd unit runs but was started by
/// another process inside the unit (its parent's cgroup is in the unit): a
/// shell in a terminal multiplexer or an editor's server run as a service.
/// The unit then restarts that service, not the agent, and stopping the
/// unit would kill everything else in it; the parent is the supervisor.
fn started_inside(s: &Supervisor, parent_cgroup: Option<&str>) -> bool {
    match (s, parent_cgroup) {
        (Supervisor::SystemdUnit { cgroup, .. }, Some(p)) => within(p, cgroup),
        _ => false,
    }
}

/// True if a process's cmdline (NULs as read, or spaces) is pm2's God
/// Daemon: pm2 sets its title to `PM2 v<version>: God Daemon (<home>)`.
pub fn is_pm2_god_daemon(cmdline: &str) -> bool {
    let Some(rest) = cmdline.trim_start().strip_prefix("PM2 v") else {
        return false;
    };
    rest.split_once(':').is_some_and(|(ver, tail)| {
        ver.bytes().next().is_some_and(|b| b.is_ascii_digit())
            && tail.trim_start().starts_with("God Daemon")
    })
}

/// `(ppid, comm)` from a `/proc/<pid>/stat` text (comm may hold spaces and
/// parentheses, so it ends at the last `)`).
pub fn parse_stat_parent(stat: &str) -> Option<(u32, String)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let ppid = stat
        .get(close + 1..)?
        .split_ascii_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((ppid, comm))
}

fn stat_parent(pid: u32) -> Option<(u32, String)> {
    parse_stat_parent(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn cmdline(pid: u32) -> String {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// The supervisor of process `pid`, read from `/proc` now, or `None` if
/// the process is gone (or is PID 1's child with no cgroup to go by is
/// still a `Parent`).
pub fn supervisor_of(pid: u32) -> Option<Supervisor> {
    let (ppid, _) = stat_parent(pid)?;
    let mut cur = ppid;
    for _ in 0..MAX_ANCESTORS {
        if cur <= 1 {
            break;
        }
        if is_pm2_god_daemon(&cmdline(cur)) {
            return Some(Supervisor::Pm2 { pid: cur });
        }
        match stat_parent(cur) {
            Some((p, _)) if p != cur => cur = p,
            _ => break,
        }
    }
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    if let Some(s) = cgroup_path(&text).and_then(from_cgroup) {
        let parent_cg = fs::read_to_string(format!("/proc/{ppid}/cgroup")).unwrap_or_default();
        if !started_inside(&s, cgroup_path(&parent_cg)) {
            return Some(s);
        }
    }
    let comm = stat_parent(ppid).map(|(_, c)| c).unwrap_or_default();
    (ppid != 0).then_some(Supervisor::Parent { pid: ppid, comm })
}

#[cfg(test)]
#[path = "supervisor_tests.rs"]
mod tests;
