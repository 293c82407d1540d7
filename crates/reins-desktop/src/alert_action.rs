//! Acting on an alert from the tray menu or the window: one IPC request per
//! action, the same the CLI sends (`halt` resume/stop, `release`,
//! `stop_supervisor`), so the daemon applies the same checks and audits it
//! as the tray's own actor. The result comes back as a [`HaltResultView`]
//! the shell already knows how to show.

use crate::core::Desktop;
use crate::error::unexpected;
use crate::view::{AlertActionView, HaltOpView, HaltResultView, UiError};
use reins_core::AgentId;
use reins_runtime::ipc::{Request, Response};

impl Desktop {
    /// Run `action` on the agent of an alert.
    pub async fn alert_action(
        &self,
        action: AlertActionView,
        agent_id: &str,
    ) -> Result<HaltResultView, UiError> {
        if agent_id.parse::<AgentId>().is_err() {
            return Err(UiError::new(format!(
                "'{}' is not an agent; act on an alert from the alert itself.",
                crate::tray::clean(agent_id, 80)
            )));
        }
        let target = agent_id.to_owned();
        match action {
            AlertActionView::Resume => self.halt(HaltOpView::Resume, agent_id).await,
            AlertActionView::Stop => self.halt(HaltOpView::Stop, agent_id).await,
            AlertActionView::Release => match self.call(&Request::Release { target }).await? {
                Response::Released(r) => Ok(HaltResultView {
                    op: HaltOpView::Resume,
                    success: true,
                    summary: format!(
                        "Released: {} latch(es) ended, {} held respawn(s) resumed",
                        r.released.len(),
                        r.resumed.len()
                    ),
                    targets: Vec::new(),
                }),
                other => Err(unexpected(other, "a release")),
            },
            AlertActionView::StopSupervisor => {
                match self.call(&Request::StopSupervisor { target }).await? {
                    Response::Halted(o) => Ok(crate::convert::halt_result_view(&o)),
                    other => Err(unexpected(other, "a stop of the supervisor")),
                }
            }
        }
    }
}
