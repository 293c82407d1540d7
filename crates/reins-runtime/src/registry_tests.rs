//! Tests for the registry task, with a scripted scanner and paused time.
use super::*;
use reins_core::{AgentKind, ProcessKey};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Scripted scans: each call pops the next agent list (the last one repeats).
#[derive(Clone, Default)]
struct Script(Arc<Mutex<(VecDeque<Vec<AgentRecord>>, usize)>>);

impl Script {
    fn new(steps: Vec<Vec<AgentRecord>>) -> Self {
        Script(Arc::new(Mutex::new((steps.into(), 0))))
    }
    fn calls(&self) -> usize {
        self.0.lock().unwrap().1
    }
}

impl AgentSource for Script {
    fn scan(&mut self) -> Result<ScanOutput, String> {
        let mut g = self.0.lock().unwrap();
        g.1 += 1;
        let agents = if g.0.len() > 1 {
            g.0.pop_front().unwrap()
        } else {
            g.0.front().cloned().unwrap_or_default()
        };
        let events = agents
            .iter()
            .map(|a| RegistryEvent::Appeared { agent: a.clone() })
            .collect();
        Ok(ScanOutput { agents, events })
    }
}

fn agent(pid: u32) -> AgentRecord {
    let id = AgentId {
        kind: AgentKind::Codex,
        root: ProcessKey {
            pid,
            start_ticks: 1,
        },
    };
    AgentRecord {
        id,
        kind: AgentKind::Codex,
        display_name: "Codex".into(),
        pid,
        cwd: None,
        project: None,
        started_at: 0,
        cpu_percent: 0.0,
        memory_bytes: 0,
        descendants: 0,
        state: AgentState::Running,
        supervisor: None,
        unattended: None,
    }
}

#[tokio::test(start_paused = true)]
async fn the_registry_scans_on_its_interval() {
    let script = Script::new(vec![vec![agent(1)]]);
    let stop = CancellationToken::new();
    let reg = RegistryHandle::spawn(
        script.clone(),
        Duration::from_secs(1),
        stop.clone(),
        &TaskTracker::new(),
    );
    assert_eq!(reg.snapshot().await.len(), 1);
    let before = script.calls();
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    let _ = reg.snapshot().await;
    assert_eq!(script.calls() - before, 3);
    stop.cancel();
}

#[tokio::test(start_paused = true)]
async fn scan_now_returns_the_fresh_list() {
    let script = Script::new(vec![vec![], vec![agent(7)]]);
    let reg = RegistryHandle::spawn(
        script,
        Duration::from_secs(60),
        CancellationToken::new(),
        &TaskTracker::new(),
    );
    assert!(reg.snapshot().await.is_empty());
    assert_eq!(reg.scan_now().await[0].pid, 7);
}

#[tokio::test(start_paused = true)]
async fn a_stopping_agent_shows_as_stopping_and_subscribers_are_told() {
    let a = agent(3);
    let script = Script::new(vec![vec![a.clone()]]);
    let reg = RegistryHandle::spawn(
        script,
        Duration::from_secs(60),
        CancellationToken::new(),
        &TaskTracker::new(),
    );
    let _ = reg.snapshot().await;
    let mut rx = reg.subscribe();
    reg.set_stopping(vec![a.id.clone()], true).await;
    assert_eq!(reg.snapshot().await[0].state, AgentState::Stopping);
    match rx.recv().await.unwrap() {
        RegistryEvent::Changed { agent } => assert_eq!(agent.state, AgentState::Stopping),
        e => panic!("unexpected {e:?}"),
    }
    reg.set_stopping(vec![a.id.clone()], false).await;
    assert_eq!(reg.snapshot().await[0].state, AgentState::Running);
}

/// A scanner whose second and later scans block until the test lets them go.
struct Gated {
    scans: usize,
    started: std::sync::mpsc::SyncSender<()>,
    release: std::sync::mpsc::Receiver<()>,
}

impl AgentSource for Gated {
    fn scan(&mut self) -> Result<ScanOutput, String> {
        self.scans += 1;
        if self.scans > 1 {
            let _ = self.started.send(());
            let _ = self.release.recv();
        }
        Ok(ScanOutput {
            agents: vec![agent(7)],
            events: Vec::new(),
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_is_answered_while_a_scan_is_still_running() {
    let (started_tx, started_rx) = std::sync::mpsc::sync_channel(1);
    let (release_tx, release_rx) = std::sync::mpsc::channel();
    let source = Gated {
        scans: 0,
        started: started_tx,
        release: release_rx,
    };
    let stop = CancellationToken::new();
    let reg = RegistryHandle::spawn(
        source,
        Duration::from_secs(3600),
        stop.clone(),
        &TaskTracker::new(),
    );
    assert_eq!(
        reg.snapshot().await.len(),
        1,
        "the first scan is waited for"
    );
    let busy = reg.clone();
    let scanning = tokio::spawn(async move { busy.scan_now().await });
    tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
        .await
        .unwrap();
    // The scan is blocked inside the scanner; the snapshot must not wait for it.
    // (The timeout is only a failure guard: before the fix this hung.)
    let snap = tokio::time::timeout(Duration::from_secs(20), reg.snapshot()).await;
    release_tx.send(()).unwrap();
    let snap = snap.expect("the snapshot waited for the scan in progress");
    assert_eq!(snap.len(), 1);
    assert_eq!(scanning.await.unwrap().len(), 1);
    stop.cancel();
}
