//! Routing and replay attacks against a paired channel.

use super::*;
use crate::envelope::{self, MAX_ENVELOPE_BYTES};
use crate::payload::{
    ApprovalDecision, ApprovalRequest, Command, Decision, Heartbeat, PairingHello, action_hash,
};
use crate::replay::ReplayReject;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const NOW: u64 = 1_700_000_000_000;

fn pair(k: u8) -> (PairChannel, PairChannel) {
    let key = PairKey::from_bytes([k; 32]);
    (
        PairChannel::paired(Role::Desktop, &key, "reins/").unwrap(),
        PairChannel::paired(Role::Phone, &key, "reins/").unwrap(),
    )
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(77)
}

fn stop_from(phone: &PairChannel, seq: &mut OutgoingSeq, now: u64) -> Outgoing {
    // A distinct RNG stream per message, so msg_ids and nonces differ.
    let mut r = StdRng::seed_from_u64(seq.last() ^ now);
    phone
        .seal(seq, &Payload::Command(Command::stop_all()), now, &mut r)
        .unwrap()
}

#[test]
fn a_command_from_the_phone_is_accepted_by_the_desktop() {
    let (desktop, phone) = pair(1);
    let msg = stop_from(&phone, &mut OutgoingSeq::new(), NOW);
    assert_eq!(msg.topic, desktop.recv_topic());
    let inc = desktop
        .open(&msg.topic, &msg.bytes, &mut ReplayWindow::new(), NOW)
        .unwrap();
    assert_eq!(inc.payload, Payload::Command(Command::stop_all()));
    assert_eq!(inc.header.msg_id, msg.msg_id);
}

#[test]
fn a_heartbeat_from_the_desktop_is_accepted_by_the_phone() {
    let (desktop, phone) = pair(1);
    let hb = Payload::Heartbeat(Heartbeat { interval_s: 30 });
    let msg = desktop
        .seal(&mut OutgoingSeq::new(), &hb, NOW, &mut rng())
        .unwrap();
    let inc = phone
        .open(&msg.topic, &msg.bytes, &mut ReplayWindow::new(), NOW)
        .unwrap();
    assert_eq!(inc.payload, hb);
}

#[test]
fn a_forged_stop_without_the_key_is_refused() {
    let (desktop, _) = pair(1);
    // The attacker saw the topic, pairing id and sender on the wire; only K is missing.
    let k = desktop.keys();
    let header = Header {
        v: 1,
        suite: 1,
        pairing_id: k.pairing_id,
        sender: k.phone_sender,
        dir: Direction::PhoneToDesktop,
        kind: Kind::Command,
        seq: 1,
        ts_ms: NOW,
        msg_id: [9; 16],
        nonce: [9; 24],
    };
    let guess = DirectionKey::from_bytes([0; 32]);
    let body = Payload::Command(Command::stop_all()).to_json();
    let forged = envelope::seal(&guess, header, desktop.recv_topic(), &body).unwrap();
    let mut replay = ReplayWindow::new();
    let r = desktop.open(desktop.recv_topic(), &forged.to_wire(), &mut replay, NOW);
    assert_eq!(r, Err(OpenError::Forged));
    assert_eq!(
        replay,
        ReplayWindow::new(),
        "a forgery must not touch the replay window"
    );
}

#[test]
fn a_qos1_redelivery_is_a_silent_duplicate() {
    let (desktop, phone) = pair(1);
    let msg = stop_from(&phone, &mut OutgoingSeq::new(), NOW);
    let mut replay = ReplayWindow::new();
    desktop
        .open(&msg.topic, &msg.bytes, &mut replay, NOW)
        .unwrap();
    let again = desktop
        .open(&msg.topic, &msg.bytes, &mut replay, NOW + 5)
        .unwrap_err();
    assert!(again.is_duplicate());
}

#[test]
fn a_replay_after_a_desktop_restart_still_fails() {
    let (desktop, phone) = pair(1);
    let mut seq = OutgoingSeq::new();
    let old = stop_from(&phone, &mut seq, NOW);
    let mut replay = ReplayWindow::new();
    desktop
        .open(&old.topic, &old.bytes, &mut replay, NOW)
        .unwrap();
    let stored = serde_json::to_string(&replay).unwrap();
    // Restart: fresh channel from K, window from disk.
    let (desktop, _) = pair(1);
    let mut replay: ReplayWindow = serde_json::from_str(&stored).unwrap();
    let r = desktop.open(&old.topic, &old.bytes, &mut replay, NOW + 1_000);
    assert_eq!(r, Err(OpenError::Duplicate));
    let new = stop_from(&phone, &mut seq, NOW + 1_000);
    assert!(
        desktop
            .open(&new.topic, &new.bytes, &mut replay, NOW + 1_000)
            .is_ok()
    );
}

#[test]
fn a_replay_from_below_the_window_is_rejected() {
    let (desktop, phone) = pair(1);
    let mut seq = OutgoingSeq::new();
    let mut replay = ReplayWindow::new();
    let first = stop_from(&phone, &mut seq, NOW);
    desktop
        .open(&first.topic, &first.bytes, &mut replay, NOW)
        .unwrap();
    // Within the skew window its msg_id and seq bit are remembered.
    assert_eq!(
        desktop.open(&first.topic, &first.bytes, &mut replay, NOW),
        Err(OpenError::Duplicate)
    );
    // 200 messages later (and 200 s later) it is below the window and forgotten by the cache.
    let later = NOW + 200_000;
    for _ in 0..200 {
        let m = stop_from(&phone, &mut seq, later);
        desktop
            .open(&m.topic, &m.bytes, &mut replay, later)
            .unwrap();
    }
    let r = desktop.open(&first.topic, &first.bytes, &mut replay, later);
    assert!(matches!(r, Err(OpenError::Replay(_))), "{r:?}");
}

#[test]
fn a_message_older_than_two_minutes_is_rejected_as_stale() {
    let (desktop, phone) = pair(1);
    let queued = stop_from(&phone, &mut OutgoingSeq::new(), NOW);
    let r = desktop.open(
        &queued.topic,
        &queued.bytes,
        &mut ReplayWindow::new(),
        NOW + 121_000,
    );
    assert_eq!(r, Err(OpenError::Replay(ReplayReject::Stale)));
}

#[test]
fn the_desktop_rejects_its_own_message_reflected_back() {
    let (desktop, _) = pair(1);
    let hb = Payload::Heartbeat(Heartbeat { interval_s: 30 });
    let own = desktop
        .seal(&mut OutgoingSeq::new(), &hb, NOW, &mut rng())
        .unwrap();
    let mut replay = ReplayWindow::new();
    // Republished by the broker on the topic the desktop listens to.
    let r = desktop.open(desktop.recv_topic(), &own.bytes, &mut replay, NOW);
    assert_eq!(r, Err(OpenError::WrongDirection));
    // Even with dir and sender rewritten, the p2d key does not open it.
    let mut env = Envelope::parse(&own.bytes).unwrap();
    env.header.dir = Direction::PhoneToDesktop;
    let r = desktop.open(desktop.recv_topic(), &env.to_wire(), &mut replay, NOW);
    assert_eq!(r, Err(OpenError::WrongSender));
    env.header.sender = desktop.keys().phone_sender;
    let r = desktop.open(desktop.recv_topic(), &env.to_wire(), &mut replay, NOW);
    assert_eq!(r, Err(OpenError::Forged));
}

#[test]
fn phone_a_message_on_phone_b_topic_is_refused() {
    let (desktop_b, _) = pair(2);
    let (_, phone_a) = pair(1);
    let msg = stop_from(&phone_a, &mut OutgoingSeq::new(), NOW);
    let mut replay = ReplayWindow::new();
    let topic_b = desktop_b.recv_topic();
    assert_eq!(
        desktop_b.open(topic_b, &msg.bytes, &mut replay, NOW),
        Err(OpenError::WrongPairing)
    );
    let mut env = Envelope::parse(&msg.bytes).unwrap();
    env.header.pairing_id = desktop_b.pairing_id();
    env.header.sender = desktop_b.keys().phone_sender;
    assert_eq!(
        desktop_b.open(topic_b, &env.to_wire(), &mut replay, NOW),
        Err(OpenError::Forged)
    );
    // And on its own topic, but delivered to the wrong subscription.
    assert_eq!(
        desktop_b.open(&msg.topic, &msg.bytes, &mut replay, NOW),
        Err(OpenError::WrongTopic)
    );
}

#[test]
fn a_revoked_phone_is_refused_after_re_pairing() {
    let (_, old_phone) = pair(1);
    let (desktop_now, _) = pair(3);
    let msg = stop_from(&old_phone, &mut OutgoingSeq::new(), NOW);
    assert!(
        desktop_now
            .open(
                desktop_now.recv_topic(),
                &msg.bytes,
                &mut ReplayWindow::new(),
                NOW
            )
            .is_err()
    );
}

#[test]
fn a_rewritten_kind_is_detected() {
    let (desktop, phone) = pair(1);
    let d = ApprovalDecision {
        request_id: "r".into(),
        action_hash: action_hash("ls"),
        decision: Decision::Deny,
        scope: None,
    };
    let msg = phone
        .seal(
            &mut OutgoingSeq::new(),
            &Payload::ApprovalDecision(d),
            NOW,
            &mut rng(),
        )
        .unwrap();
    let mut env = Envelope::parse(&msg.bytes).unwrap();
    env.header.kind = Kind::Command;
    let r = desktop.open(&msg.topic, &env.to_wire(), &mut ReplayWindow::new(), NOW);
    assert_eq!(r, Err(OpenError::Forged));
}

#[test]
fn a_phone_cannot_send_approval_requests_nor_the_desktop_decisions() {
    let (desktop, phone) = pair(1);
    let req = Payload::ApprovalRequest(ApprovalRequest {
        request_id: "r".into(),
        agent_id: "a".into(),
        session_id: None,
        tool: "Bash".into(),
        action: "ls".into(),
        action_hash: action_hash("ls"),
        cwd: None,
        expires_at_ms: NOW,
        risk: None,
        reason: None,
        allow_session: None,
    });
    let r = phone.seal(&mut OutgoingSeq::new(), &req, NOW, &mut rng());
    assert_eq!(r, Err(SealError::KindNotAllowed(Kind::ApprovalRequest)));
    let stop = Payload::Command(Command::stop_all());
    assert!(
        desktop
            .seal(&mut OutgoingSeq::new(), &stop, NOW, &mut rng())
            .is_err()
    );
    // Crafted with the right key anyway: refused on kind before decryption.
    let k = phone.keys();
    let header = Header {
        v: 1,
        suite: 1,
        pairing_id: k.pairing_id,
        sender: k.phone_sender,
        dir: Direction::PhoneToDesktop,
        kind: Kind::ApprovalRequest,
        seq: 1,
        ts_ms: NOW,
        msg_id: [1; 16],
        nonce: [1; 24],
    };
    let env = envelope::seal(&k.p2d_key, header, phone.send_topic(), &req.to_json()).unwrap();
    let r = desktop.open(
        desktop.recv_topic(),
        &env.to_wire(),
        &mut ReplayWindow::new(),
        NOW,
    );
    assert_eq!(r, Err(OpenError::KindNotAllowed(Kind::ApprovalRequest)));
}

#[test]
fn pairing_messages_are_refused_on_a_paired_channel() {
    let (_, phone) = pair(1);
    let hello = Payload::PairingHello(PairingHello {
        phone_public: String::new(),
        device_name: "x".into(),
    });
    let r = phone.seal(&mut OutgoingSeq::new(), &hello, NOW, &mut rng());
    assert_eq!(r, Err(SealError::KindNotAllowed(Kind::PairingHello)));
}

#[test]
fn an_authentic_but_invalid_body_is_reported_and_consumes_its_seq() {
    let (desktop, phone) = pair(1);
    let k = phone.keys();
    let header = Header {
        v: 1,
        suite: 1,
        pairing_id: k.pairing_id,
        sender: k.phone_sender,
        dir: Direction::PhoneToDesktop,
        kind: Kind::Command,
        seq: 1,
        ts_ms: NOW,
        msg_id: [1; 16],
        nonce: [1; 24],
    };
    let env = envelope::seal(
        &k.p2d_key,
        header,
        phone.send_topic(),
        br#"{"op":"explode"}"#,
    )
    .unwrap();
    let mut replay = ReplayWindow::new();
    let r = desktop.open(desktop.recv_topic(), &env.to_wire(), &mut replay, NOW);
    assert!(matches!(r, Err(OpenError::BadPayload(_))));
    assert_eq!(replay.highest(), 1);
}

#[test]
fn a_subscriber_on_everything_sees_nothing_human_readable() {
    let (desktop, _) = pair(1);
    let secret = "rm -rf ~/projects/secret-launch";
    let req = Payload::ApprovalRequest(ApprovalRequest {
        request_id: "req-1".into(),
        agent_id: "claude-4242-981234".into(),
        session_id: Some("session-xyz".into()),
        tool: "Bash".into(),
        action: secret.into(),
        action_hash: action_hash(secret),
        cwd: Some("/home/alice/projects".into()),
        expires_at_ms: NOW,
        risk: None,
        reason: None,
        allow_session: None,
    });
    let msg = desktop
        .seal(&mut OutgoingSeq::new(), &req, NOW, &mut rng())
        .unwrap();
    let wire = String::from_utf8(msg.bytes.clone()).unwrap();
    for needle in [
        "rm -rf",
        "secret",
        "claude",
        "alice",
        "Bash",
        "req-1",
        "session",
        &action_hash(secret),
    ] {
        assert!(!wire.contains(needle), "{needle} leaked");
    }
    let topic_id = msg.topic.strip_prefix("reins/").unwrap();
    assert!(topic_id.len() == 32 && topic_id.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[test]
fn a_flood_of_garbage_is_refused_without_touching_state() {
    let (desktop, _) = pair(1);
    let mut replay = ReplayWindow::new();
    let mut r = StdRng::seed_from_u64(1);
    for _ in 0..10_000 {
        let len = r.gen_range(0..1024);
        let blob: Vec<u8> = (0..len).map(|_| r.r#gen()).collect();
        assert!(
            desktop
                .open(desktop.recv_topic(), &blob, &mut replay, NOW)
                .is_err()
        );
    }
    let huge = vec![b'{'; MAX_ENVELOPE_BYTES * 2];
    assert!(matches!(
        desktop.open(desktop.recv_topic(), &huge, &mut replay, NOW),
        Err(OpenError::TooLarge(_))
    ));
    assert_eq!(replay, ReplayWindow::new());
}

#[test]
fn topic_prefixes_with_wildcards_or_no_trailing_slash_are_refused() {
    let k = PairKey::from_bytes([1; 32]);
    for bad in ["reins", "a/+/", "#/", "a b/", &"x/".repeat(40)] {
        assert!(
            PairChannel::paired(Role::Desktop, &k, bad).is_err(),
            "{bad}"
        );
    }
    assert!(PairChannel::paired(Role::Desktop, &k, "").is_ok());
}
