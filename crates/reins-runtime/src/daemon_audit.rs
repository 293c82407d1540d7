//! The audit log's problem on every surface: follows the writer's health
//! (`AuditHandle::watch_problem`) and sets it in the alerts store, which
//! publishes it on the daemon's bus (window, tray and `approvals --watch`
//! through the subscription stream, phones as an `alert`). `reins status`
//! reads the writer directly.
//!
//! Only forwarding; the writer and the pure `audit_health` decide what the
//! problem is.

use crate::alerts::Alerts;
use crate::audit_health::AuditProblem;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// At most one update per this long after a change: a burst of lost
/// entries (a hook storm while the disk is full) changes the count on every
/// entry, and each change would otherwise be one message to every phone.
/// The first change after a quiet second goes out at once; any change
/// within a second of the last.
const PACE: Duration = Duration::from_secs(1);

/// Forward the writer's problem until shutdown or the writer ends.
pub(crate) async fn forward(
    mut rx: watch::Receiver<Option<AuditProblem>>,
    alerts: Alerts,
    shutdown: CancellationToken,
) {
    alerts.set_audit(rx.borrow_and_update().clone());
    loop {
        tokio::select! {
            r = rx.changed() => if r.is_err() { return },
            () = shutdown.cancelled() => return,
        }
        alerts.set_audit(rx.borrow_and_update().clone());
        tokio::select! {
            () = tokio::time::sleep(PACE) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{DaemonEvent, DaemonEvents};

    fn problem(lost: u64) -> AuditProblem {
        AuditProblem {
            path: "/d/audit.jsonl".into(),
            error: "No space left on device (os error 28)".into(),
            since_ms: 1,
            lost,
            free_bytes: Some(0),
        }
    }

    async fn next_audit(
        rx: &mut tokio::sync::broadcast::Receiver<DaemonEvent>,
    ) -> Option<AuditProblem> {
        loop {
            if let DaemonEvent::Audit { problem, .. } = rx.recv().await.unwrap() {
                return problem;
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_writers_problem_reaches_the_bus_paced_and_clears() {
        let events = DaemonEvents::new();
        let mut bus = events.subscribe();
        let alerts = Alerts::new(events);
        let (tx, rx) = watch::channel(None);
        let stop = CancellationToken::new();
        let task = tokio::spawn(forward(rx, alerts.clone(), stop.clone()));
        tx.send_replace(Some(problem(1)));
        assert_eq!(next_audit(&mut bus).await.unwrap().lost, 1);
        // A burst within the pace is coalesced into its last value.
        for n in 2..=50 {
            tx.send_replace(Some(problem(n)));
        }
        assert_eq!(next_audit(&mut bus).await.unwrap().lost, 50);
        tx.send_replace(None);
        assert_eq!(next_audit(&mut bus).await, None);
        assert_eq!(alerts.audit(), None);
        stop.cancel();
        task.await.unwrap();
    }
}
