//! Turning two successive agent lists into registry events.
//!
//! Pure: it compares the current records with the last *reported* version of
//! each agent, so a slow drift in usage is reported once it adds up. It
//! deliberately knows nothing about processes or the daemon's `Stopping`
//! overlay.

use reins_core::{AgentId, AgentRecord, RegistryEvent};
use std::collections::HashMap;

/// A tree's CPU use must move at least this many percentage points (of one
/// core) away from the last reported value to count as a change. Smaller
/// wobble is normal for an idle agent and would flood subscribers at 1 Hz.
pub const CPU_CHANGE_POINTS: f32 = 5.0;

/// Resident memory must move at least this fraction of the last reported
/// value to count as a change...
pub const MEMORY_CHANGE_FRACTION: f64 = 0.10;

/// ...and at least this many bytes, so small trees do not chatter.
pub const MEMORY_CHANGE_MIN_BYTES: u64 = 8 * 1024 * 1024;

/// Whether `new` differs enough from the last reported `old` to emit
/// [`RegistryEvent::Changed`]: any change of state, descendant count, cwd or
/// project, or a usage move beyond [`CPU_CHANGE_POINTS`] /
/// [`MEMORY_CHANGE_FRACTION`] and [`MEMORY_CHANGE_MIN_BYTES`].
pub fn noticeably_changed(old: &AgentRecord, new: &AgentRecord) -> bool {
    if old.state != new.state
        || old.descendants != new.descendants
        || old.cwd != new.cwd
        || old.project != new.project
    {
        return true;
    }
    if (new.cpu_percent - old.cpu_percent).abs() >= CPU_CHANGE_POINTS {
        return true;
    }
    let moved = new.memory_bytes.abs_diff(old.memory_bytes);
    let threshold = ((old.memory_bytes as f64) * MEMORY_CHANGE_FRACTION) as u64;
    moved >= threshold.max(MEMORY_CHANGE_MIN_BYTES)
}

/// Compare `current` with `reported` (updated in place) and return the
/// events: appearances and changes in `current`'s order, then exits by id.
pub(crate) fn diff(
    reported: &mut HashMap<AgentId, AgentRecord>,
    current: &[AgentRecord],
) -> Vec<RegistryEvent> {
    let mut events = Vec::new();
    for agent in current {
        match reported.get_mut(&agent.id) {
            None => {
                reported.insert(agent.id.clone(), agent.clone());
                events.push(RegistryEvent::Appeared {
                    agent: agent.clone(),
                });
            }
            Some(old) if noticeably_changed(old, agent) => {
                *old = agent.clone();
                events.push(RegistryEvent::Changed {
                    agent: agent.clone(),
                });
            }
            Some(_) => {}
        }
    }
    // Every current id is now in `reported`, so anything more has exited.
    if reported.len() > current.len() {
        let mut gone: Vec<AgentId> = reported
            .keys()
            .filter(|id| !current.iter().any(|a| &a.id == *id))
            .cloned()
            .collect();
        gone.sort();
        for id in gone {
            reported.remove(&id);
            events.push(RegistryEvent::Exited { id });
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use reins_core::{AgentKind, AgentState, ProcessKey};

    fn record(pid: u32) -> AgentRecord {
        AgentRecord {
            id: AgentId {
                kind: AgentKind::Goose,
                root: ProcessKey {
                    pid,
                    start_ticks: 7,
                },
            },
            kind: AgentKind::Goose,
            display_name: "goose".into(),
            pid,
            cwd: None,
            project: None,
            started_at: 1,
            cpu_percent: 1.0,
            memory_bytes: 100 << 20,
            descendants: 0,
            state: AgentState::Running,
            supervisor: None,
            unattended: None,
        }
    }

    #[test]
    fn new_agents_appear_and_vanished_ones_exit() {
        let mut reported = HashMap::new();
        let events = diff(&mut reported, &[record(1), record(2)]);
        assert!(matches!(
            events.as_slice(),
            [
                RegistryEvent::Appeared { .. },
                RegistryEvent::Appeared { .. }
            ]
        ));
        let events = diff(&mut reported, &[record(2)]);
        assert_eq!(events, vec![RegistryEvent::Exited { id: record(1).id }]);
        assert!(diff(&mut reported, &[record(2)]).is_empty());
    }

    #[test]
    fn small_usage_wobble_is_not_a_change_but_state_and_children_are() {
        let old = record(1);
        let mut new = record(1);
        new.cpu_percent = 4.0;
        new.memory_bytes += 5 << 20;
        assert!(!noticeably_changed(&old, &new));
        new.cpu_percent = 6.0;
        assert!(noticeably_changed(&old, &new));
        let mut new = record(1);
        new.memory_bytes += 11 << 20;
        assert!(noticeably_changed(&old, &new));
        let mut new = record(1);
        new.descendants = 1;
        assert!(noticeably_changed(&old, &new));
        let mut new = record(1);
        new.state = AgentState::Paused;
        assert!(noticeably_changed(&old, &new));
    }

    #[test]
    fn a_slow_drift_is_reported_once_it_adds_up() {
        let mut reported = HashMap::new();
        diff(&mut reported, &[record(1)]);
        let mut r = record(1);
        let mut changes = 0;
        for _ in 0..10 {
            r.cpu_percent += 1.0;
            changes += diff(&mut reported, std::slice::from_ref(&r)).len();
        }
        assert_eq!(changes, 2, "reported at +5 and +10 points");
    }
}
