//! Tests for the subscription merge: snapshot first, every feed forwarded,
//! a lag resynced with a snapshot, the surface guard tied to the stream.
use super::*;
use crate::ipc::proto::{HaltOutcome, OpenView};
use crate::surfaces::{SurfaceKind, Surfaces};
use reins_core::{Actor, AgentId, AgentKind, AgentState, HaltOp, ProcessKey};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn agent(pid: u32) -> AgentRecord {
    AgentRecord {
        id: AgentId {
            kind: AgentKind::Codex,
            root: ProcessKey {
                pid,
                start_ticks: 1,
            },
        },
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

/// A snapshot source that counts its calls and reports that many agents.
#[derive(Clone, Default)]
struct Counting(Arc<AtomicUsize>);

impl SnapshotSource for Counting {
    async fn snapshot(&self) -> (Vec<AgentRecord>, Vec<ApprovalRequest>) {
        // Not ready on the first poll, like the real tasks' round trips.
        tokio::task::yield_now().await;
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        ((0..n as u32).map(agent).collect(), Vec::new())
    }
}

struct Bus {
    registry: broadcast::Sender<RegistryEvent>,
    approvals: broadcast::Sender<BrokerEvent>,
    daemon: crate::events::DaemonEvents,
    surfaces: Surfaces,
}

fn bus() -> Bus {
    Bus {
        registry: broadcast::channel(4).0,
        approvals: broadcast::channel(4).0,
        daemon: crate::events::DaemonEvents::new(),
        surfaces: Surfaces::new(),
    }
}

fn open(b: &Bus, source: Counting, kind: Option<SurfaceKind>) -> Merged<Counting> {
    let guard = kind.map(|k| b.surfaces.attach(k, "pid 1".into()));
    let feeds = Feeds {
        registry: b.registry.subscribe(),
        approvals: b.approvals.subscribe(),
        daemon: b.daemon.subscribe(),
        surfaces: b.surfaces.watch(),
    };
    Merged::new(source, feeds, guard)
}

fn agents_of(ev: &StreamEvent) -> usize {
    match ev {
        StreamEvent::Snapshot { agents, .. } => agents.len(),
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

#[tokio::test]
async fn the_first_event_is_a_snapshot_that_shows_the_subscriber_itself() {
    let b = bus();
    let mut s = open(&b, Counting::default(), Some(SurfaceKind::Terminal));
    match s.next_event().await.unwrap() {
        StreamEvent::Snapshot {
            agents, surfaces, ..
        } => {
            assert_eq!(agents.len(), 1);
            assert_eq!(surfaces.live.len(), 1);
            assert_eq!(surfaces.live[0].kind, SurfaceKind::Terminal);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn every_feed_is_forwarded_in_its_own_event() {
    let b = bus();
    let mut s = open(&b, Counting::default(), None);
    s.next_event().await.unwrap();

    b.registry
        .send(RegistryEvent::Appeared { agent: agent(7) })
        .unwrap();
    assert!(matches!(
        s.next_event().await.unwrap(),
        StreamEvent::Agent { change: RegistryEvent::Appeared { agent } } if agent.pid == 7
    ));

    let outcome = HaltOutcome {
        op: HaltOp::Stop,
        target: "all".into(),
        targets: Vec::new(),
        warnings: Vec::new(),
    };
    b.daemon.publish(DaemonEvent::Halted {
        actor: Actor::Daemon,
        outcome: outcome.clone(),
    });
    assert_eq!(
        s.next_event().await.unwrap(),
        StreamEvent::Halted {
            actor: Actor::Daemon,
            outcome
        }
    );

    b.daemon.publish(DaemonEvent::Open(OpenView::Agents));
    assert_eq!(
        s.next_event().await.unwrap(),
        StreamEvent::Open {
            view: OpenView::Agents
        }
    );

    b.surfaces
        .set(SurfaceKind::Phone, "ab", Some("Pixel".into()));
    match s.next_event().await.unwrap() {
        StreamEvent::Surfaces { surfaces } => assert_eq!(surfaces.live[0].detail, "Pixel"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_gets_a_fresh_snapshot_and_no_stale_events() {
    let b = bus();
    let source = Counting::default();
    let mut s = open(&b, source.clone(), None);
    assert_eq!(agents_of(&s.next_event().await.unwrap()), 1);
    // The buffer holds 4: ten events overflow it.
    for pid in 0..10 {
        b.registry
            .send(RegistryEvent::Exited { id: agent(pid).id })
            .unwrap();
    }
    assert_eq!(
        agents_of(&s.next_event().await.unwrap()),
        2,
        "a lag is answered with a new snapshot"
    );
    // Nothing older than that snapshot follows it; a newer event does.
    b.registry
        .send(RegistryEvent::Appeared { agent: agent(99) })
        .unwrap();
    assert!(matches!(
        s.next_event().await.unwrap(),
        StreamEvent::Agent { change: RegistryEvent::Appeared { agent } } if agent.pid == 99
    ));
}

#[tokio::test]
async fn the_surface_counts_exactly_as_long_as_the_stream_lives() {
    let b = bus();
    let s = open(&b, Counting::default(), Some(SurfaceKind::Tray));
    let observer = open(&b, Counting::default(), None);
    assert!(b.surfaces.any());
    drop(s);
    assert!(!b.surfaces.any(), "dropping the stream detaches at once");
    drop(observer);
}

#[tokio::test]
async fn an_observer_is_not_a_surface() {
    let b = bus();
    let _s = open(&b, Counting::default(), None);
    assert!(!b.surfaces.any());
}

#[tokio::test]
async fn the_stream_ends_when_the_daemon_tasks_are_gone() {
    let b = bus();
    let mut s = open(&b, Counting::default(), None);
    s.next_event().await.unwrap();
    drop(b.registry);
    assert_eq!(s.next_event().await, None);
}

#[tokio::test]
async fn an_interrupted_snapshot_is_taken_again() {
    let b = bus();
    let source = Counting::default();
    let mut s = open(&b, source.clone(), None);
    {
        // Poll once and drop, as the server does when the client writes.
        let fut = s.next_event();
        tokio::pin!(fut);
        let _ = futures_poll_once(fut.as_mut()).await;
    }
    assert!(matches!(
        s.next_event().await.unwrap(),
        StreamEvent::Snapshot { .. }
    ));
}

async fn futures_poll_once<F: Future + Unpin>(f: F) -> Option<F::Output> {
    let mut f = f;
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match Pin::new(&mut f).poll(cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        })
    })
    .await
}
