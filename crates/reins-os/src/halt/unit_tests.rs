//! The unit stop's walk path against [`FakeOps`] and a recording
//! [`UnitManager`]: systemd is told after the tree is frozen and before any
//! SIGTERM, the report says so, and an unreachable manager is reported. The
//! cgroup path needs a real cgroup v2 and is tested with real processes in
//! `tests/tests/unit_stop.rs`.

use super::tests::{fate, small_tree};
use super::{UnitTarget, halt_unit};
use crate::Signal;
use crate::fake::FakeOps;
use crate::units::{NoUnitManager, UnitError, UnitManager};
use reins_core::{
    HaltMethod, HaltOp, HaltOptions, ProcessFate, UnitActiveState, UnitScope, UnitStopResult,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records `stop_unit` calls together with how many signals had been sent
/// by then, and answers `deactivating`, then `inactive`.
#[derive(Debug, Default)]
struct Recorder {
    ops: Option<Arc<FakeOps>>,
    calls: Mutex<Vec<(UnitScope, String, Vec<Signal>)>>,
}

impl UnitManager for Recorder {
    fn stop_unit(&self, scope: UnitScope, unit: &str) -> Result<(), UnitError> {
        let sent = self.ops.as_ref().unwrap().sent();
        let sigs = sent.into_iter().map(|(_, s)| s).collect();
        self.calls.lock().unwrap().push((scope, unit.into(), sigs));
        Ok(())
    }
    fn active_state(&self, _: UnitScope, _: &str) -> Result<UnitActiveState, UnitError> {
        Ok(if self.calls.lock().unwrap().is_empty() {
            UnitActiveState::Active
        } else {
            UnitActiveState::Inactive
        })
    }
}

fn target() -> UnitTarget<'static> {
    UnitTarget {
        unit: "openclaw-gateway.service",
        scope: UnitScope::User,
        cgroup: "/user.slice/user-1000.slice/user@1000.service/app.slice/openclaw-gateway.service",
    }
}

fn opts() -> HaltOptions {
    HaltOptions {
        grace: Duration::from_millis(30),
        force: false,
    }
}

#[test]
fn systemd_is_told_after_the_tree_is_frozen_and_before_any_sigterm() {
    let ops = Arc::new(FakeOps::new());
    let [root, ..] = small_tree(&ops);
    let units = Recorder {
        ops: Some(ops.clone()),
        ..Default::default()
    };
    let r = halt_unit(&*ops, None, &units, root, target(), HaltOp::Stop, &opts());
    let calls = units.calls.lock().unwrap();
    assert_eq!(calls.len(), 1, "StopUnit exactly once");
    let (scope, unit, before) = &calls[0];
    assert_eq!(
        (*scope, unit.as_str()),
        (UnitScope::User, "openclaw-gateway.service")
    );
    assert!(
        before.contains(&Signal::Stop),
        "the tree was frozen first: {before:?}"
    );
    assert!(
        !before.contains(&Signal::Term),
        "no SIGTERM before systemd knew: {before:?}"
    );
    assert!(r.success, "{r:#?}");
    assert_eq!(r.method, HaltMethod::Walk);
    let told = r.unit.expect("the report says what systemd was told");
    assert_eq!(
        told.result,
        UnitStopResult::Stopped {
            active_state: Some(UnitActiveState::Inactive)
        }
    );
}

#[test]
fn an_unreachable_manager_is_reported_and_the_agent_is_stopped_anyway() {
    let ops = FakeOps::new();
    let [root, a, ..] = small_tree(&ops);
    let r = halt_unit(
        &ops,
        None,
        &NoUnitManager,
        root,
        target(),
        HaltOp::Stop,
        &opts(),
    );
    assert!(r.success, "{r:#?}");
    assert!(!ops.alive(root) && !ops.alive(a));
    assert_ne!(fate(&r, a.pid), ProcessFate::Survived);
    match r.unit.expect("reported").result {
        UnitStopResult::NotTold { error } => {
            assert!(error.contains("cannot be reached"), "{error}")
        }
        other => panic!("hidden: {other:?}"),
    }
}

#[test]
fn a_pause_of_a_unit_is_the_walks_sigstop_and_tells_systemd_nothing() {
    let ops = Arc::new(FakeOps::new());
    let [root, ..] = small_tree(&ops);
    let units = Recorder {
        ops: Some(ops.clone()),
        ..Default::default()
    };
    let r = halt_unit(&*ops, None, &units, root, target(), HaltOp::Pause, &opts());
    assert!(r.success, "{r:#?}");
    assert!(units.calls.lock().unwrap().is_empty());
    assert_eq!(r.unit, None);
    assert_eq!(r.method, HaltMethod::Walk);
}
