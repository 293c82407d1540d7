//! The port to a service manager: ask it to stop a unit and read a unit's
//! state. The stop of a supervised agent (`halt/unit.rs`) goes through it
//! so that the manager does not restart what Reins killed.
//!
//! Only the trait and a "none configured" implementation live here; the
//! systemd implementation over D-Bus is in `reins-runtime` (it needs an
//! async runtime, which this crate deliberately does not hold), and tests
//! use fakes. The calls are blocking: the halt engine runs on a blocking
//! thread.

use reins_core::{UnitActiveState, UnitScope};

/// Why the manager could not do what was asked. The message is shown to
/// the user in the stop's report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// The manager's bus could not be reached.
    #[error(
        "the systemd {scope} manager cannot be reached ({reason}); the agent was killed but \
         systemd was not told, so its Restart= policy may start it again"
    )]
    Unreachable {
        /// Which manager.
        scope: ScopeName,
        /// The bus error.
        reason: String,
    },
    /// The manager answered with an error (no such unit, access denied, ...).
    #[error("systemd refused to stop {unit}: {reason}")]
    Refused {
        /// The unit.
        unit: String,
        /// The manager's error.
        reason: String,
    },
}

/// `user` or `system`, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScopeName(pub UnitScope);

impl std::fmt::Display for ScopeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            UnitScope::User => "user (session bus)",
            UnitScope::System => "system (system bus)",
        })
    }
}

/// A service manager that can stop units.
pub trait UnitManager: Send + Sync + std::fmt::Debug {
    /// Queue a stop job for `unit` in mode `replace` (it replaces a queued
    /// start or restart, so `Restart=` cannot bring the unit back).
    /// Returns once the manager has accepted the job, not once it is done.
    fn stop_unit(&self, scope: UnitScope, unit: &str) -> Result<(), UnitError>;

    /// The unit's `ActiveState` now.
    fn active_state(&self, scope: UnitScope, unit: &str) -> Result<UnitActiveState, UnitError>;
}

/// No manager: every call answers [`UnitError::Unreachable`]. For callers
/// that have no bus (and tests of that case).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoUnitManager;

impl UnitManager for NoUnitManager {
    fn stop_unit(&self, scope: UnitScope, _unit: &str) -> Result<(), UnitError> {
        Err(UnitError::Unreachable {
            scope: ScopeName(scope),
            reason: "no service-manager connection is configured".into(),
        })
    }

    fn active_state(&self, scope: UnitScope, unit: &str) -> Result<UnitActiveState, UnitError> {
        self.stop_unit(scope, unit)
            .map(|()| UnitActiveState::Inactive)
    }
}
