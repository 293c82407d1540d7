//! One `subscribe` stream: the merge of the registry's, the approvals
//! task's and the daemon's broadcasts and of the surfaces list, behind a
//! first [`StreamEvent::Snapshot`].
//!
//! Order of work when a client subscribes: its surface is attached, every
//! receiver is subscribed, and only then is the snapshot taken, so no change
//! falls between the snapshot and the first event. A change that lands in
//! that window may be both in the snapshot and sent as an event: clients
//! apply events idempotently (an `appeared` agent they already know is an
//! update, a `resolved` request they do not know is ignored).
//!
//! A subscriber that falls behind a broadcast (its socket is full, so the
//! server stops reading events) is not cut off: every receiver is moved to
//! the present and the next event is a fresh snapshot. Events older than
//! that snapshot are dropped, so the stream never goes back in time.
//!
//! The surface guard lives inside the stream, so the surface stays live
//! exactly as long as the connection that carries the stream.

use crate::events::DaemonEvent;
use crate::ipc::proto::StreamEvent;
use crate::ipc::server::EventStream;
use crate::surfaces::{SurfaceGuard, SurfacesSummary};
use reins_approval::BrokerEvent;
use reins_approval::broker::ApprovalRequest;
use reins_core::{AgentRecord, RegistryEvent};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

/// Where snapshots come from: the daemon's registry and approvals tasks (a
/// fake in tests).
pub(crate) trait SnapshotSource: Send + Sync + 'static {
    /// Every agent and every pending request, now.
    fn snapshot(
        &self,
    ) -> impl Future<Output = (Vec<AgentRecord>, Vec<ApprovalRequest>)> + Send + '_;

    /// The active alerts, now (none for sources that have no alerts).
    fn alerts(&self) -> Vec<reins_core::Alert> {
        Vec::new()
    }

    /// The audit log's problem, now (none for sources without a log).
    fn audit(&self) -> Option<crate::audit_health::AuditProblem> {
        None
    }
}

/// The receivers one stream merges.
#[derive(Debug)]
pub(crate) struct Feeds {
    pub(crate) registry: broadcast::Receiver<RegistryEvent>,
    pub(crate) approvals: broadcast::Receiver<BrokerEvent>,
    pub(crate) daemon: broadcast::Receiver<DaemonEvent>,
    pub(crate) surfaces: watch::Receiver<SurfacesSummary>,
}

/// One subscriber's stream.
#[derive(Debug)]
pub(crate) struct Merged<S> {
    source: S,
    feeds: Feeds,
    /// The next event must be a snapshot (the first one, or after a lag).
    resync: bool,
    /// Keeps the client's surface live while the stream exists.
    _guard: Option<SurfaceGuard>,
}

/// Why a feed did not give an event.
enum Missed {
    Lagged,
    Closed,
}

fn recv_result<T>(r: Result<T, RecvError>) -> Result<T, Missed> {
    r.map_err(|e| match e {
        RecvError::Lagged(_) => Missed::Lagged,
        RecvError::Closed => Missed::Closed,
    })
}

impl<S: SnapshotSource> Merged<S> {
    /// A stream over `feeds` (subscribed before this call, after the guard
    /// was attached). Its first event is a snapshot.
    pub(crate) fn new(source: S, feeds: Feeds, guard: Option<SurfaceGuard>) -> Self {
        Self {
            source,
            feeds,
            resync: true,
            _guard: guard,
        }
    }

    async fn snapshot(&mut self) -> StreamEvent {
        // Mark the surfaces seen first: a change after this point is sent
        // as its own event, one before it is in the snapshot.
        let surfaces = self.feeds.surfaces.borrow_and_update().clone();
        let (agents, pending) = self.source.snapshot().await;
        StreamEvent::Snapshot {
            agents,
            pending,
            surfaces,
            alerts: self.source.alerts(),
            audit: self.source.audit(),
        }
    }

    /// Move every receiver to the present; the next event is a snapshot.
    fn lagged(&mut self) {
        tracing::debug!("a subscriber fell behind; resyncing it with a snapshot");
        self.feeds.registry = self.feeds.registry.resubscribe();
        self.feeds.approvals = self.feeds.approvals.resubscribe();
        self.feeds.daemon = self.feeds.daemon.resubscribe();
        self.resync = true;
    }

    /// The next event, or `None` when the daemon's tasks are gone. Cancel
    /// safe: a snapshot interrupted half-way is taken again on the next call.
    pub(crate) async fn next_event(&mut self) -> Option<StreamEvent> {
        loop {
            if self.resync {
                let snap = self.snapshot().await;
                self.resync = false;
                return Some(snap);
            }
            let feeds = &mut self.feeds;
            let got = tokio::select! {
                r = feeds.registry.recv() => recv_result(r).map(|change| StreamEvent::Agent { change }),
                r = feeds.approvals.recv() => recv_result(r).map(|change| StreamEvent::Approval { change }),
                r = feeds.daemon.recv() => recv_result(r).map(|e| match e {
                    DaemonEvent::Halted { actor, outcome } => StreamEvent::Halted { actor, outcome },
                    DaemonEvent::Open(view) => StreamEvent::Open { view },
                    DaemonEvent::Alert(alert) => StreamEvent::Alert { alert },
                    DaemonEvent::AlertCleared { id } => StreamEvent::AlertCleared { id },
                    DaemonEvent::Rechecked(recheck) => StreamEvent::StopRechecked { recheck },
                    DaemonEvent::Audit { problem, .. } => StreamEvent::Audit { problem },
                }),
                r = feeds.surfaces.changed() => match r {
                    Ok(()) => Ok(StreamEvent::Surfaces {
                        surfaces: feeds.surfaces.borrow_and_update().clone(),
                    }),
                    Err(_) => Err(Missed::Closed),
                },
            };
            match got {
                Ok(ev) => return Some(ev),
                Err(Missed::Lagged) => self.lagged(),
                Err(Missed::Closed) => return None,
            }
        }
    }
}

impl<S: SnapshotSource> EventStream for Merged<S> {
    fn next(&mut self) -> Pin<Box<dyn Future<Output = Option<StreamEvent>> + Send + '_>> {
        Box::pin(self.next_event())
    }
}

#[cfg(test)]
#[path = "subscribe_tests.rs"]
mod tests;
