//! The audit writer: one thread owns the audit log and appends entries sent
//! to it through a cloneable [`AuditHandle`].
//!
//! Appends fsync, so they happen off the async runtime. A caller that needs
//! to know whether its record landed awaits the reply; halts always complete
//! before their record is sent, so a slow or failing disk never delays or
//! blocks a stop. Failures are logged at error level and returned to the
//! caller, who shows them to the user. This module does not format records.

use crate::audit::{AuditEntry, AuditError, AuditLog};
use tokio::sync::{mpsc, oneshot};

type Job = (AuditEntry, oneshot::Sender<Result<(), String>>);

/// A cloneable handle on the audit writer thread.
#[derive(Clone, Debug)]
pub struct AuditHandle {
    tx: mpsc::UnboundedSender<Job>,
}

impl AuditHandle {
    /// Start the writer thread for `log`. It ends when every handle is dropped.
    pub fn spawn(log: AuditLog) -> AuditHandle {
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        std::thread::Builder::new()
            .name("reins-audit".into())
            .spawn(move || {
                while let Some((entry, reply)) = rx.blocking_recv() {
                    let r = log
                        .append(entry, now_ms())
                        .map(|_| ())
                        .map_err(|e: AuditError| {
                            tracing::error!("AUDIT LOG NOT WRITTEN: {e}");
                            e.to_string()
                        });
                    let _ = reply.send(r);
                }
            })
            .expect("cannot start the audit writer thread");
        AuditHandle { tx }
    }

    /// Queue one entry without waiting for it to be written (failures are
    /// still logged at error level by the writer).
    pub fn submit(&self, entry: AuditEntry) {
        let (tx, _rx) = oneshot::channel();
        if self.tx.send((entry, tx)).is_err() {
            tracing::error!("AUDIT LOG NOT WRITTEN: the audit writer has stopped");
        }
    }

    /// Append entries in order; returns the error messages of those that failed.
    pub async fn append_all(&self, entries: Vec<AuditEntry>) -> Vec<String> {
        let mut waits = Vec::with_capacity(entries.len());
        for e in entries {
            let (tx, rx) = oneshot::channel();
            if self.tx.send((e, tx)).is_err() {
                return vec![
                    "the audit writer has stopped; the action was carried out but not logged"
                        .into(),
                ];
            }
            waits.push(rx);
        }
        let mut errors = Vec::new();
        for w in waits {
            match w.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => errors.push(e),
                Err(_) => errors.push("the audit writer stopped before confirming a record".into()),
            }
        }
        errors
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
