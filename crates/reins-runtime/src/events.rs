//! The daemon's own event bus for what no other task broadcasts: verified
//! halts (from any surface), requests to open the window (from a
//! notification) and alerts (see `crate::alerts`). Agent and approval changes come from the registry and
//! approvals tasks' own broadcasts; a subscription merges all three.
//!
//! Only a broadcast channel; nothing here decides anything.

use crate::ipc::proto::{HaltOutcome, OpenView};
use reins_core::Actor;
use tokio::sync::broadcast;

/// Events a slow subscriber may fall behind on before it is resynced with a
/// snapshot. Halts and open requests are rare; this is generous.
const BUFFER: usize = 256;

/// What happened.
#[derive(Clone, Debug, PartialEq)]
pub enum DaemonEvent {
    /// A halt finished and was verified (or failed verifiably).
    Halted {
        /// Who asked.
        actor: Actor,
        /// The outcome.
        outcome: HaltOutcome,
    },
    /// Ask the window to open at this view.
    Open(OpenView),
    /// Reins acted on its own (respawn held, tripwire, stop word); tell the person.
    Alert(reins_core::Alert),
    /// A stop's follow-up: whether the agent came back some seconds later.
    Rechecked(crate::latch::StopRecheck),
    /// An alert is over (acted on, or its agent is gone).
    AlertCleared {
        /// Which.
        id: reins_core::AlertId,
    },
    /// The audit log cannot be written (`Some`), or can again (`None`).
    Audit {
        /// The alert number phones know this problem by (one per episode).
        id: reins_core::AlertId,
        /// The problem now.
        problem: Option<crate::audit_health::AuditProblem>,
    },
}

/// Cloneable handle to the bus.
#[derive(Clone, Debug)]
pub struct DaemonEvents {
    tx: broadcast::Sender<DaemonEvent>,
}

impl Default for DaemonEvents {
    fn default() -> Self {
        Self::new()
    }
}

impl DaemonEvents {
    /// A bus with no subscribers.
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(BUFFER).0,
        }
    }

    /// Tell every subscriber (none listening is fine).
    pub fn publish(&self, event: DaemonEvent) {
        let _ = self.tx.send(event);
    }

    /// Receive events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<DaemonEvent> {
        self.tx.subscribe()
    }
}
