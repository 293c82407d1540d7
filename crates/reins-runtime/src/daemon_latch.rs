//! The daemon's side of the stop latch: latching verified stops (and
//! scheduling their recheck), `release` and `stop_supervisor`.
//!
//! Every surface (IPC, phone, notifications, window) calls exactly
//! [`Dispatcher::release_for`] and [`Dispatcher::stop_supervisor_for`]. The
//! latches themselves live in the latch task (`latch_task.rs`); this module
//! only applies the same guards as `halt_for` and reports.

use crate::controller::{self, Resolved};
use crate::daemon::Dispatcher;
use crate::events::DaemonEvent;
use crate::ipc::TargetReport;
use crate::ipc::proto::{ErrorCode, HaltOutcome, IpcError, ReleaseOutcome};
use crate::latch::{LatchInfo, ReleaseError};
use reins_core::{Actor, AgentId, HaltOp, Supervisor};

fn refused(message: String) -> IpcError {
    IpcError {
        code: ErrorCode::Refused,
        message,
        agents: Vec::new(),
    }
}

impl Dispatcher {
    /// Latch the agents whose stop was verified, and schedule their recheck.
    pub(crate) async fn latch_stopped(&self, latches: Vec<LatchInfo>, reports: &[TargetReport]) {
        let verified: Vec<LatchInfo> = latches
            .into_iter()
            .filter(|l| {
                reports
                    .iter()
                    .any(|r| r.agent.as_ref() == Some(&l.stopped) && r.report.success)
            })
            .collect();
        if let Some(after) = self.recheck_after {
            for l in &verified {
                self.latch.recheck_later(l.clone(), after);
            }
        }
        self.latch.stopped(verified).await;
    }

    /// Refuse a request made from inside an agent's own tree.
    async fn guard_caller(
        &self,
        what: &str,
        target: &str,
        actor: &Actor,
        caller_pid: Option<u32>,
    ) -> Result<(), IpcError> {
        let Some(pid) = caller_pid else {
            return Ok(());
        };
        let agents = self.registry.scan_now().await;
        let Some(inside) = controller::agent_containing(pid, &agents, &*self.ops) else {
            return Ok(());
        };
        let why = format!("{what} requested from inside agent {inside}'s own process tree");
        let _ = self
            .audit
            .append_all(vec![controller::refused_entry(actor, target, &why)])
            .await;
        Err(refused(format!(
            "{why}; an agent may not let itself out. Do it from your own terminal, the tray or your phone"
        )))
    }

    /// End the latch on `target` (an agent id or `all`) and resume held
    /// respawns. `caller_pid` is the local requester: like a resume, a
    /// release asked for from inside an agent's tree is refused.
    pub(crate) async fn release_for(
        &self,
        target: &str,
        actor: Actor,
        caller_pid: Option<u32>,
    ) -> Result<ReleaseOutcome, IpcError> {
        self.guard_caller("release", target, &actor, caller_pid)
            .await?;
        let outcome = self
            .latch
            .release(target, actor)
            .await
            .map_err(|e| IpcError {
                code: match e {
                    ReleaseError::BadTarget(_) => ErrorCode::BadRequest,
                    ReleaseError::NoSuchLatch { .. } => ErrorCode::NoSuchAgent,
                },
                message: e.to_string(),
                agents: Vec::new(),
            })?;
        // The resumed respawns show as running at once.
        let _ = self.registry.scan_now().await;
        Ok(outcome)
    }

    /// Stop what restarts `target`, then the agent. `target` is an agent id:
    /// a running agent, a held respawn or a latched (stopped) agent.
    pub(crate) async fn stop_supervisor_for(
        &self,
        target: &str,
        actor: Actor,
    ) -> Result<HaltOutcome, IpcError> {
        let bad = |m: String| IpcError {
            code: ErrorCode::BadRequest,
            message: m,
            agents: Vec::new(),
        };
        let id: AgentId = target.parse().map_err(|_| {
            bad(format!(
                "'{target}' is not an agent id; give the id `reins status` lists"
            ))
        })?;
        let latches = self.latch.list();
        let latched = latches
            .iter()
            .find(|l| l.stopped == id || l.held.contains(&id));
        let agents = self.registry.scan_now().await;
        let running = agents.iter().find(|a| a.id == id);
        let supervisor = match (latched, running) {
            (Some(l), _) => l.supervisor.clone(),
            (None, Some(a)) => crate::latch_task::supervisor_of(a, &*self.ops),
            (None, None) => {
                return Err(IpcError {
                    code: ErrorCode::NoSuchAgent,
                    message: format!(
                        "no running agent or stop latch matches '{target}'; see `reins status`"
                    ),
                    agents,
                });
            }
        };
        let root = match &supervisor {
            Supervisor::Parent { pid, .. } | Supervisor::Pm2 { pid } => {
                self.supervisor_root(*pid, &supervisor)?
            }
            Supervisor::SystemdUnit { .. } if running.is_some() => {
                // The stop of an agent run by a unit goes through the unit
                // (StopUnit, then cgroup.freeze/cgroup.kill where allowed):
                // that is stopping the supervisor.
                let run = self
                    .halt_for(reins_core::HaltOp::Stop, target, false, actor, None)
                    .await?;
                return Ok(run.outcome);
            }
            Supervisor::SystemdUnit { unit, scope, .. } => {
                let user = matches!(scope, reins_core::UnitScope::User);
                return Err(refused(format!(
                    "{supervisor} restarts this agent; stop it through systemd: `systemctl {}stop {unit}` \
                     (a plain `reins stop {target}` also goes through the unit when Reins knows it)",
                    if user { "--user " } else { "" }
                )));
            }
            Supervisor::Container {
                engine, id: cid, ..
            } => {
                return Err(refused(format!(
                    "{supervisor} restarts this agent; stop the container with `{engine} stop {cid}` \
                     (or change its restart policy)"
                )));
            }
        };
        let mut targets = vec![Resolved { agent: None, root }];
        if let Some(a) = running {
            targets.push(Resolved {
                agent: Some(a.id.clone()),
                root: a.id.root,
            });
        }
        let ops = self.ops.clone();
        let opts = self.opts;
        // The supervisor goes first, so it cannot start another; the agent's
        // own stop then finds it already gone if it was in that tree.
        let reports = tokio::task::spawn_blocking(move || {
            let mut out = controller::execute(&*ops, HaltOp::Stop, &targets[..1], &opts);
            out.extend(controller::execute(
                &*ops,
                HaltOp::Stop,
                &targets[1..],
                &opts,
            ));
            out
        })
        .await
        .expect("halt thread panicked");
        let warnings = self
            .audit
            .append_all(controller::audit_entries(&actor, HaltOp::Stop, &reports))
            .await;
        if reports[0].report.success {
            // Nothing is left to restart it: the latch has no more to hold.
            let _ = self.latch.release(&id.to_string(), actor.clone()).await;
        }
        let _ = self.registry.scan_now().await;
        let outcome = HaltOutcome {
            op: HaltOp::Stop,
            target: target.to_owned(),
            targets: reports,
            warnings,
        };
        self.events.publish(DaemonEvent::Halted {
            actor,
            outcome: outcome.clone(),
        });
        Ok(outcome)
    }

    /// The supervisor process to stop, refused where stopping it would take
    /// Reins (or the whole session) down with it.
    fn supervisor_root(
        &self,
        pid: u32,
        supervisor: &Supervisor,
    ) -> Result<reins_core::ProcessKey, IpcError> {
        let Some(info) = self.ops.info(pid) else {
            return Err(IpcError {
                code: ErrorCode::NoSuchAgent,
                message: format!("{supervisor} is no longer running; nothing restarts the agent"),
                agents: Vec::new(),
            });
        };
        if pid <= 1 || info.comm == "systemd" {
            return Err(refused(format!(
                "{supervisor} is the service manager itself; stop the agent's unit with systemctl instead"
            )));
        }
        let me = self.ops.self_pid();
        if controller::is_ancestor(pid, me, &*self.ops) {
            return Err(refused(format!(
                "{supervisor} also runs Reins itself; stopping it would stop Reins. Stop it from a terminal"
            )));
        }
        Ok(info.key)
    }
}
