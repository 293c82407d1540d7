//! What the untrusted broker sees, and surviving the broker going away.

mod common;

use common::*;
use reins_link::{ConnState, LinkEvent, MemorySecretStore, Recipient};
use reins_proto::Payload;
use reins_proto::payload::{
    AgentSnapshot, AgentStatus, AgentSummary, ApprovalDecision, ApprovalRequest, Command,
    CommandOp, Decision, Target, action_hash,
};
use std::time::Duration;

fn secret_snapshot() -> Payload {
    Payload::AgentSnapshot(AgentSnapshot {
        agents: vec![AgentSummary {
            id: "agent-7".into(),
            kind: "claude-code".into(),
            display_name: "Zanzibar Refactorer".into(),
            pid: 4242,
            project: Some("quokka-billing".into()),
            cwd: Some("/home/alice/quokka-billing".into()),
            started_at: 1,
            cpu_percent: 1.0,
            memory_bytes: 1,
            descendants: 0,
            state: AgentStatus::Running,
        }],
    })
}

fn secret_request() -> Payload {
    let action = "rm -rf /home/alice/quokka-billing/target";
    Payload::ApprovalRequest(ApprovalRequest {
        request_id: "req-1".into(),
        agent_id: "agent-7".into(),
        session_id: None,
        tool: "Bash".into(),
        action: action.into(),
        action_hash: action_hash(action),
        cwd: Some("/home/alice/quokka-billing".into()),
        expires_at_ms: reins_link::now_ms() + 60_000,
        risk: None,
        reason: None,
        allow_session: None,
    })
}

#[tokio::test]
async fn a_subscriber_on_hash_sees_no_plaintext_names_paths_or_commands() {
    let m = Mosquitto::start();
    let sniffer = Sniffer::start(m.port).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start(&m.url(), dir.path(), MemorySecretStore::new()).await;
    let (mut phone, _info) = pair_phone(&mut desk, &m.url(), "Alice's Pixel").await;

    desk.link
        .send(Recipient::All, secret_snapshot())
        .await
        .unwrap();
    let request = secret_request();
    desk.link
        .send(Recipient::All, request.clone())
        .await
        .unwrap();
    assert_eq!(phone.recv(T).await.unwrap().payload, secret_snapshot());
    assert_eq!(phone.recv(T).await.unwrap().payload, request);
    let cmds = [
        Payload::Command(Command {
            op: CommandOp::Pause,
            target: Target::Agent("agent-7".into()),
        }),
        Payload::Command(Command {
            op: CommandOp::Resume,
            target: Target::All,
        }),
        stop_all(),
        Payload::ApprovalDecision(ApprovalDecision {
            request_id: "req-1".into(),
            action_hash: action_hash("rm -rf /home/alice/quokka-billing/target"),
            decision: Decision::Allow,
            scope: None,
        }),
    ];
    for c in &cmds {
        phone.send(c).unwrap();
        assert!(matches!(
            desk.next_event(T).await,
            Some(LinkEvent::FromPhone { .. })
        ));
    }
    // The sniffer is a different subscriber: wait (bounded) until it has
    // seen at least the 2 pairing + 6 channel messages.
    let deadline = tokio::time::Instant::now() + T;
    while sniffer.count() < 8 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "sniffer saw {}",
            sniffer.count()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    desk.link.shutdown().await;
    let seen = sniffer.stop();
    let forbidden = [
        "stop",
        "pause",
        "resume",
        "allow",
        "agent-7",
        "claude",
        "Zanzibar",
        "quokka",
        "/home",
        "alice",
        "Alice",
        "Pixel",
        "rm -rf",
        "Bash",
        "Test desktop",
        "req-1",
    ];
    for s in &seen {
        let text = String::from_utf8_lossy(&s.payload);
        for w in forbidden {
            assert!(!s.topic.contains(w), "topic {} leaks {w}", s.topic);
            assert!(
                !text.contains(w),
                "payload on {} leaks {w}: {text}",
                s.topic
            );
        }
        assert!(!s.retain, "nothing may be retained");
        assert!(
            s.topic.bytes().all(|b| b.is_ascii_hexdigit()),
            "topics are opaque hex: {}",
            s.topic
        );
    }
    // Client ids, as the broker logged them, are opaque too.
    let log = std::fs::read_to_string(m.log_file()).unwrap();
    let ids: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split(" as ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter(|id| *id != "sniffer")
        .collect();
    assert!(ids.len() >= 2, "no client ids in the broker log:\n{log}");
    for id in ids {
        assert!(
            id.len() == 20 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "client id {id}"
        );
    }
}

#[tokio::test]
async fn the_last_will_is_an_empty_message_on_the_presence_topic() {
    let m = Mosquitto::start();
    let sniffer = Sniffer::start(m.port).await;
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start(&m.url(), dir.path(), MemorySecretStore::new()).await;
    let (phone, _) = pair_phone(&mut desk, &m.url(), "P").await;
    // The will is set at the next connection: restart the link.
    let desk = desk.restart().await;
    desk.link.shutdown().await;
    let presence = phone
        .channel()
        .unwrap()
        .keys()
        .d2p_presence_topic_id
        .clone();
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let hit = sniffer
            .seen
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.topic == presence && s.payload.is_empty() && !s.retain);
        if hit {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no will on the presence topic"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn after_a_broker_restart_the_link_backs_off_reconnects_and_delivers_again() {
    let mut m = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start(&m.url(), dir.path(), MemorySecretStore::new()).await;
    let (mut phone, _) = pair_phone(&mut desk, &m.url(), "P").await;
    let mut status = desk.link.status();
    m.stop();
    let s = tokio::time::timeout(
        T,
        status.wait_for(|s| matches!(s.state, ConnState::BackingOff { .. })),
    )
    .await
    .expect("link noticed the broker is gone")
    .unwrap()
    .clone();
    assert!(s.last_error.is_some());
    assert!(!s.is_ready());
    m.spawn();
    tokio::time::timeout(T, status.wait_for(|s| s.is_ready() && s.connects >= 2))
        .await
        .expect("link reconnected and resubscribed")
        .unwrap();
    phone.await_reconnect(T).await.unwrap();
    phone.send(&stop_all()).unwrap();
    assert!(matches!(
        desk.next_event(T).await,
        Some(LinkEvent::FromPhone { .. })
    ));
    desk.link
        .send(Recipient::All, secret_snapshot())
        .await
        .unwrap();
    assert_eq!(phone.recv(T).await.unwrap().payload, secret_snapshot());
}

#[tokio::test]
async fn a_link_to_a_dead_broker_reports_backing_off_with_growing_attempts() {
    let port = free_port(); // nothing listens here
    let dir = tempfile::tempdir().unwrap();
    let store =
        reins_link::DeviceStore::open(dir.path(), std::sync::Arc::new(MemorySecretStore::new()))
            .unwrap();
    let mut cfg = reins_link::LinkConfig::new(
        reins_link::BrokerConfig::parse(&format!("mqtt://127.0.0.1:{port}")).unwrap(),
    );
    cfg.backoff = reins_link::BackoffPolicy {
        base: Duration::from_millis(20),
        cap: Duration::from_millis(100),
    };
    let (link, _events) = reins_link::Link::start(cfg, store).unwrap();
    let mut status = link.status();
    tokio::time::timeout(
        T,
        status
            .wait_for(|s| matches!(s.state, ConnState::BackingOff { attempt, .. } if attempt >= 3)),
    )
    .await
    .expect("attempts grow")
    .unwrap();
    assert!(link.wait_ready(Duration::from_millis(50)).await.is_err());
    link.shutdown().await;
    assert_eq!(link.status().borrow().state, ConnState::Stopped);
}
