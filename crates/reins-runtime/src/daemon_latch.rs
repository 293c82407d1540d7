//! The daemon's side of the stop latch: `release` and `stop_supervisor`.
//!
//! CONTRACT STUB: the stop-latch work replaces these bodies. Every surface
//! (IPC, phone, notifications, window) calls exactly these two methods.

use crate::daemon::Dispatcher;
use crate::ipc::proto::{ErrorCode, HaltOutcome, IpcError, ReleaseOutcome};
use reins_core::Actor;

impl Dispatcher {
    /// End the latch on `target` (an agent id or `all`) and resume held
    /// respawns. `caller_pid` is the local requester: like a resume, a
    /// release asked for from inside an agent's tree is refused.
    pub(crate) async fn release_for(
        &self,
        target: &str,
        actor: Actor,
        caller_pid: Option<u32>,
    ) -> Result<ReleaseOutcome, IpcError> {
        let _ = (target, actor, caller_pid, &self.alerts);
        Err(IpcError {
            code: ErrorCode::Internal,
            message: "release is not built yet".into(),
            agents: Vec::new(),
        })
    }

    /// Stop what restarts `target`, then the agent.
    pub(crate) async fn stop_supervisor_for(
        &self,
        target: &str,
        actor: Actor,
    ) -> Result<HaltOutcome, IpcError> {
        let _ = (target, actor);
        Err(IpcError {
            code: ErrorCode::Internal,
            message: "stop_supervisor is not built yet".into(),
            agents: Vec::new(),
        })
    }
}
