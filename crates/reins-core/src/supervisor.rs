//! What would restart an agent if it died: its supervisor.
//!
//! A stop that kills a supervised agent is not a stop: systemd, pm2, a
//! container's restart policy or a shell loop starts it again. The registry
//! records the supervisor of every agent so `reins status` can show it and a
//! stop can go through it (or latch against a respawn). This module is data
//! only; finding the supervisor (from `/proc/<pid>/cgroup` and the parent
//! chain) lives in `reins-detect`, acting on it in `reins-os` and the runtime.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which systemd manager owns a unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitScope {
    /// The per-user manager (`systemctl --user`), reached on the session bus.
    User,
    /// The system manager (PID 1), reached on the system bus.
    System,
}

/// What restarts an agent.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Supervisor {
    /// A systemd service unit (a `.service`; a `.scope` restarts nothing and
    /// is not a supervisor).
    SystemdUnit {
        /// The unit name, e.g. `openclaw-gateway.service`.
        unit: String,
        /// User or system manager.
        scope: UnitScope,
        /// The unit's cgroup v2 path relative to the cgroup root, e.g.
        /// `/user.slice/user-1000.slice/user@1000.service/app.slice/openclaw-gateway.service`.
        cgroup: String,
    },
    /// A container (its restart policy restarts the agent).
    Container {
        /// The engine as named by the cgroup path (`docker`, `podman`, `containerd`, `lxc`, ...).
        engine: String,
        /// The container id as it appears in the cgroup path.
        id: String,
        /// The container's cgroup path relative to the cgroup root.
        cgroup: String,
    },
    /// The pm2 God Daemon.
    Pm2 {
        /// PID of the God Daemon.
        pid: u32,
    },
    /// Nothing known restarts it; its parent process is what started it
    /// (a shell, a terminal, a shell loop, nodemon, ...).
    Parent {
        /// The parent's PID.
        pid: u32,
        /// The parent's `comm`.
        comm: String,
    },
}

impl Supervisor {
    /// True for supervisors that restart what they run by design (systemd
    /// services, containers, pm2). A plain parent may or may not (a shell
    /// loop does, an interactive shell does not); the stop latch covers both.
    pub fn restarts_by_design(&self) -> bool {
        !matches!(self, Supervisor::Parent { .. })
    }
}

impl fmt::Display for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Supervisor::SystemdUnit { unit, scope, .. } => match scope {
                UnitScope::User => write!(f, "systemd user unit {unit}"),
                UnitScope::System => write!(f, "systemd unit {unit}"),
            },
            Supervisor::Container { engine, id, .. } => {
                let short: String = id.chars().take(12).collect();
                write!(f, "{engine} container {short}")
            }
            Supervisor::Pm2 { pid } => write!(f, "pm2 (pid {pid})"),
            Supervisor::Parent { pid, comm } => write!(f, "{comm} (pid {pid})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_unit_reads_as_a_person_would_say_it() {
        let s = Supervisor::SystemdUnit {
            unit: "openclaw-gateway.service".into(),
            scope: UnitScope::User,
            cgroup: "/user.slice/x".into(),
        };
        assert_eq!(s.to_string(), "systemd user unit openclaw-gateway.service");
        assert!(s.restarts_by_design());
    }

    #[test]
    fn a_supervisor_round_trips_through_json_with_a_kind_tag() {
        let s = Supervisor::Parent {
            pid: 7,
            comm: "bash".into(),
        };
        let j = serde_json::to_value(&s).unwrap();
        assert_eq!(j["kind"], "parent");
        assert_eq!(serde_json::from_value::<Supervisor>(j).unwrap(), s);
        assert!(!s.restarts_by_design());
    }
}
