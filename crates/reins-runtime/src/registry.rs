//! The registry task: the one owner of the agent scanner and of the list of
//! detected agents.
//!
//! It scans on a fixed interval (and on demand), overlays the `stopping`
//! state of agents a halt is working on, and broadcasts every change as a
//! [`RegistryEvent`]. Callers hold a cloneable [`RegistryHandle`] (mpsc for
//! commands, oneshot for replies). Scans are blocking work and run on a
//! blocking thread, so a slow `/proc` never stalls the IPC server. The
//! current list is also published in a `watch` channel, so
//! [`RegistryHandle::snapshot`] (the first step of every stop) never waits
//! behind a scan in progress. This module does not halt anything.

use reins_core::{AgentId, AgentRecord, AgentState, RegistryEvent};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What one scan produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanOutput {
    /// Every agent now.
    pub agents: Vec<AgentRecord>,
    /// What changed since the previous scan.
    pub events: Vec<RegistryEvent>,
}

/// Something that can scan for agents. The real one wraps
/// `reins_detect::Scanner`; tests use a scripted fake.
pub trait AgentSource: Send + 'static {
    /// Run one scan.
    fn scan(&mut self) -> Result<ScanOutput, String>;
}

impl AgentSource for reins_detect::Scanner {
    fn scan(&mut self) -> Result<ScanOutput, String> {
        let s = reins_detect::Scanner::scan(self);
        Ok(ScanOutput {
            agents: s.agents,
            events: s.events,
        })
    }
}

enum Cmd {
    Snapshot(oneshot::Sender<Vec<AgentRecord>>),
    ScanNow(oneshot::Sender<Vec<AgentRecord>>),
    SetStopping(Vec<AgentId>, bool, oneshot::Sender<()>),
}

/// How many registry events a slow subscriber may fall behind by before it
/// misses some (it is then told it lagged and should re-read the snapshot).
const EVENT_BUFFER: usize = 256;

/// A cloneable handle on the registry task.
#[derive(Clone, Debug)]
pub struct RegistryHandle {
    tx: mpsc::Sender<Cmd>,
    events: broadcast::Sender<RegistryEvent>,
    /// The list as of the last scan or stopping change; `None` until the
    /// first scan is done.
    view: watch::Receiver<Option<Vec<AgentRecord>>>,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cmd::Snapshot(_) => "Snapshot",
            Cmd::ScanNow(_) => "ScanNow",
            Cmd::SetStopping(..) => "SetStopping",
        })
    }
}

impl RegistryHandle {
    /// Start the registry task. The first scan runs before any command is answered.
    pub fn spawn<S: AgentSource>(
        source: S,
        interval: Duration,
        shutdown: CancellationToken,
        tracker: &TaskTracker,
    ) -> RegistryHandle {
        let (tx, rx) = mpsc::channel(64);
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let (view_tx, view) = watch::channel(None);
        let task = Registry {
            source: Some(source),
            agents: Vec::new(),
            stopping: HashSet::new(),
            events: events.clone(),
            view: view_tx,
        };
        tracker.spawn(task.run(rx, interval, shutdown));
        RegistryHandle { tx, events, view }
    }

    /// The agents as of the last scan (with stopping marks applied). Waits
    /// only for the very first scan, never for one in progress.
    pub async fn snapshot(&self) -> Vec<AgentRecord> {
        let mut view = self.view.clone();
        let ready = match view.wait_for(Option::is_some).await {
            Ok(v) => v.clone(),
            Err(_) => None,
        };
        match ready {
            Some(agents) => agents,
            // The task ended (shutdown): ask, which answers empty.
            None => self.ask(Cmd::Snapshot).await,
        }
    }

    /// Scan now and return the fresh list.
    pub async fn scan_now(&self) -> Vec<AgentRecord> {
        self.ask(Cmd::ScanNow).await
    }

    /// Mark agents as being stopped (or clear the mark). Returns once the
    /// mark is in the snapshot.
    pub async fn set_stopping(&self, ids: Vec<AgentId>, on: bool) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::SetStopping(ids, on, tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Subscribe to registry events.
    pub fn subscribe(&self) -> broadcast::Receiver<RegistryEvent> {
        self.events.subscribe()
    }

    async fn ask(&self, make: fn(oneshot::Sender<Vec<AgentRecord>>) -> Cmd) -> Vec<AgentRecord> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(make(tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }
}

struct Registry<S> {
    /// `None` only while a scan runs on the blocking pool.
    source: Option<S>,
    agents: Vec<AgentRecord>,
    stopping: HashSet<AgentId>,
    events: broadcast::Sender<RegistryEvent>,
    view: watch::Sender<Option<Vec<AgentRecord>>>,
}

impl<S: AgentSource> Registry<S> {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Cmd>,
        interval: Duration,
        shutdown: CancellationToken,
    ) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick completes at once: scan before answering anything.
        tick.tick().await;
        self.scan().await;
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                _ = tick.tick() => self.scan().await,
                cmd = rx.recv() => match cmd {
                    None => break,
                    Some(Cmd::Snapshot(reply)) => { let _ = reply.send(self.view()); }
                    Some(Cmd::ScanNow(reply)) => {
                        self.scan().await;
                        let _ = reply.send(self.view());
                    }
                    Some(Cmd::SetStopping(ids, on, done)) => {
                        self.set_stopping(ids, on);
                        let _ = done.send(());
                    }
                },
            }
        }
    }

    async fn scan(&mut self) {
        let Some(mut source) = self.source.take() else {
            return;
        };
        let (source, result) = tokio::task::spawn_blocking(move || {
            let r = source.scan();
            (source, r)
        })
        .await
        .expect("scanner thread panicked");
        self.source = Some(source);
        match result {
            Ok(out) => {
                self.agents = out.agents;
                let live: HashSet<&AgentId> = self.agents.iter().map(|a| &a.id).collect();
                self.stopping.retain(|id| live.contains(id));
                for ev in out.events {
                    let _ = self.events.send(self.overlay_event(ev));
                }
            }
            Err(e) => tracing::error!("agent scan failed: {e}"),
        }
        self.publish();
    }

    /// Puts the current view in the watch channel.
    fn publish(&self) {
        self.view.send_replace(Some(self.view()));
    }

    fn set_stopping(&mut self, ids: Vec<AgentId>, on: bool) {
        for id in ids {
            let changed = if on {
                self.stopping.insert(id.clone())
            } else {
                self.stopping.remove(&id)
            };
            if changed && let Some(a) = self.agents.iter().find(|a| a.id == id) {
                let _ = self.events.send(RegistryEvent::Changed {
                    agent: self.overlay(a.clone()),
                });
            }
        }
        self.publish();
    }

    fn overlay(&self, mut a: AgentRecord) -> AgentRecord {
        if self.stopping.contains(&a.id) && a.state != AgentState::Exited {
            a.state = AgentState::Stopping;
        }
        a
    }

    fn overlay_event(&self, ev: RegistryEvent) -> RegistryEvent {
        match ev {
            RegistryEvent::Appeared { agent } => RegistryEvent::Appeared {
                agent: self.overlay(agent),
            },
            RegistryEvent::Changed { agent } => RegistryEvent::Changed {
                agent: self.overlay(agent),
            },
            e @ RegistryEvent::Exited { .. } => e,
        }
    }

    fn view(&self) -> Vec<AgentRecord> {
        self.agents
            .iter()
            .cloned()
            .map(|a| self.overlay(a))
            .collect()
    }
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
