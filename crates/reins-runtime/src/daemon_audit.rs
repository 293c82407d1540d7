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
