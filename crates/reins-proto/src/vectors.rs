//! Byte-exact test vectors in `docs/test-vectors/*.json`, shared with the
//! JavaScript client.
//!
//! `cargo test -p reins-proto -- --ignored write_test_vectors` regenerates the
//! files from fixed inputs; the normal test suite rebuilds them in memory
//! and fails if a single byte differs, and independently re-opens every
//! envelope with only the key and topic from the file. There is no
//! randomness: every secret, nonce and msg_id is a fixed input.

use crate::channel::{PairChannel, Role};
use crate::codec::b64;
use crate::envelope::{Envelope, OpenError, open};
use crate::keys::{ChannelKeys, DirectionKey, IdentityKeyPair, PairKey, transcript_hash};
use crate::pairing::{PairingOffer, PairingToken};
use crate::payload::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

const TS: u64 = 1_700_000_000_000;

/// A fixed, random-looking input: SHA-256 of a label, truncated.
fn fixed<const N: usize>(label: &str) -> [u8; N] {
    Sha256::digest(label.as_bytes())[..N].try_into().unwrap()
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/test-vectors")
}

struct Fixture {
    desktop: IdentityKeyPair,
    phone: IdentityKeyPair,
    token: PairingToken,
    pairing_topic: String,
    device_name: &'static str,
    k: PairKey,
}

fn fixture() -> Fixture {
    let desktop = IdentityKeyPair::from_secret_bytes(fixed("reins vector desktop secret"));
    let phone = IdentityKeyPair::from_secret_bytes(fixed("reins vector phone secret"));
    let token = PairingToken::from_bytes(fixed("reins vector token"));
    let pairing_topic = format!(
        "reins/{}",
        hex::encode(fixed::<16>("reins vector pairing topic"))
    );
    let device_name = "Pixel 8 (Ana)";
    let shared = desktop.diffie_hellman(&phone.public()).unwrap();
    let th = transcript_hash(
        &desktop.public(),
        &phone.public(),
        &pairing_topic,
        device_name,
    );
    let k = PairKey::from_exchange(&shared, token.as_bytes(), &th);
    Fixture {
        desktop,
        phone,
        token,
        pairing_topic,
        device_name,
        k,
    }
}

fn channel_json(c: &ChannelKeys) -> Value {
    json!({
        "d2p_key": hex::encode(c.d2p_key.as_bytes()),
        "p2d_key": hex::encode(c.p2d_key.as_bytes()),
        "pairing_id": hex::encode(c.pairing_id),
        "desktop_sender": hex::encode(c.desktop_sender),
        "phone_sender": hex::encode(c.phone_sender),
        "d2p_topic_id": c.d2p_topic_id,
        "p2d_topic_id": c.p2d_topic_id,
        "d2p_presence_topic_id": c.d2p_presence_topic_id,
        "p2d_presence_topic_id": c.p2d_presence_topic_id,
    })
}

fn derivation(f: &Fixture) -> Value {
    let shared = f.desktop.diffie_hellman(&f.phone.public()).unwrap();
    let th = transcript_hash(
        &f.desktop.public(),
        &f.phone.public(),
        &f.pairing_topic,
        f.device_name,
    );
    json!({
        "description": "X25519 identities, pairing transcript, K, the 6-digit code and every value derived from K and from the token. All byte strings are lowercase hex.",
        "desktop_secret": hex::encode(*f.desktop.secret_bytes()),
        "desktop_public": hex::encode(f.desktop.public()),
        "phone_secret": hex::encode(*f.phone.secret_bytes()),
        "phone_public": hex::encode(f.phone.public()),
        "x25519_shared": hex::encode(*shared),
        "token": hex::encode(f.token.as_bytes()),
        "pairing_topic": f.pairing_topic,
        "device_name": f.device_name,
        "transcript_hash": hex::encode(th),
        "pair_key": hex::encode(f.k.as_bytes()),
        "verification_code": f.k.verification_code().to_string(),
        "pair_channel": channel_json(&f.k.channel_keys()),
        "pairing_channel_from_token": channel_json(&crate::pairing::token_keys_for_vectors(&f.token)),
    })
}

struct Case {
    name: &'static str,
    chan: PairChannel,
    payload: Payload,
}

fn cases(f: &Fixture) -> Vec<Case> {
    let paired = |role| PairChannel::paired(role, &f.k, "reins/").unwrap();
    let token_keys = crate::pairing::token_keys_for_vectors(&f.token);
    let token_keys_d = crate::pairing::token_keys_for_vectors(&f.token);
    let action = "rm -rf ./build && cargo build --release";
    vec![
        Case {
            name: "command stop all, phone to desktop",
            chan: paired(Role::Phone),
            payload: Payload::Command(Command::stop_all()),
        },
        Case {
            name: "command pause one agent, phone to desktop",
            chan: paired(Role::Phone),
            payload: Payload::Command(Command {
                op: CommandOp::Pause,
                target: Target::Agent("claude-4242-981234".into()),
            }),
        },
        Case {
            name: "approval decision, phone to desktop",
            chan: paired(Role::Phone),
            payload: Payload::ApprovalDecision(ApprovalDecision {
                request_id: "5f0c9a2e7b1d4c33a1e2f3a4b5c6d7e8".into(),
                action_hash: action_hash(action),
                decision: Decision::Allow,
                scope: Some(Scope::Session),
            }),
        },
        Case {
            name: "approval request, desktop to phone",
            chan: paired(Role::Desktop),
            payload: Payload::ApprovalRequest(ApprovalRequest {
                request_id: "5f0c9a2e7b1d4c33a1e2f3a4b5c6d7e8".into(),
                agent_id: "claude-4242-981234".into(),
                session_id: Some("9b2d".into()),
                tool: "Bash".into(),
                action: action.into(),
                action_hash: action_hash(action),
                cwd: Some("/home/ana/src/reins".into()),
                expires_at_ms: TS + 60_000,
                risk: Some(Risk::High),
                reason: Some("rule 'ask-rm' matched".into()),
                allow_session: Some(true),
            }),
        },
        Case {
            name: "heartbeat, desktop to phone",
            chan: paired(Role::Desktop),
            payload: Payload::Heartbeat(Heartbeat { interval_s: 30 }),
        },
        Case {
            name: "pairing hello, phone to desktop, sealed under the token",
            chan: PairChannel::pairing(Role::Phone, token_keys, &f.pairing_topic),
            payload: Payload::PairingHello(PairingHello {
                phone_public: b64(&f.phone.public()),
                device_name: f.device_name.into(),
            }),
        },
        Case {
            name: "pairing accepted, desktop to phone, sealed under K on the pairing topic",
            chan: PairChannel::pairing(Role::Desktop, f.k.channel_keys(), &f.pairing_topic),
            payload: Payload::PairingAccepted(PairingAccepted {
                desktop_name: "ana-laptop".into(),
            }),
        },
        Case {
            name: "approval decision deny, null optional field, phone to desktop",
            chan: paired(Role::Phone),
            payload: Payload::ApprovalDecision(ApprovalDecision {
                request_id: "5f0c9a2e7b1d4c33a1e2f3a4b5c6d7e8".into(),
                action_hash: action_hash(action),
                decision: Decision::Deny,
                scope: None,
            }),
        },
        Case {
            name: "approval resolved by a phone, desktop to phone",
            chan: paired(Role::Desktop),
            payload: Payload::ApprovalResolved(ApprovalResolved {
                request_id: "5f0c9a2e7b1d4c33a1e2f3a4b5c6d7e8".into(),
                action_hash: action_hash(action),
                resolution: Resolution::Allowed,
                by: Some(hex::encode(f.k.channel_keys().pairing_id)),
                by_name: Some("Pixel 8 (Ana)".into()),
            }),
        },
        Case {
            name: "pairing rejected already_used, desktop to phone, sealed under the token",
            chan: PairChannel::pairing(Role::Desktop, token_keys_d, &f.pairing_topic),
            payload: Payload::PairingRejected(PairingRejected {
                reason: PairingRejectReason::AlreadyUsed,
                hello_msg_id: Some(b64(&fixed::<16>("reins vector msg_id 5"))),
            }),
        },
        Case {
            name: "alert stop word, desktop to phone",
            chan: paired(Role::Desktop),
            payload: Payload::Alert(Alert {
                alert_id: 7,
                reason: AlertReason::StopWord {
                    word: "STOP".into(),
                },
                agent_id: "claude-4242-981234".into(),
                display_name: "Claude Code".into(),
                project: Some("reins".into()),
                message: "Stop word: claude · reins paused; you typed “STOP”".into(),
                actions: vec![AlertActionWire::Resume, AlertActionWire::Stop],
                raised_at: TS / 1000,
            }),
        },
        Case {
            name: "command release one agent, phone to desktop",
            chan: paired(Role::Phone),
            payload: Payload::Command(Command {
                op: CommandOp::Release,
                target: Target::Agent("openclaw-77-1234".into()),
            }),
        },
        Case {
            name: "stop rechecked respawned and held, desktop to phone",
            chan: paired(Role::Desktop),
            payload: Payload::StopRechecked(StopRechecked {
                agent_id: "openclaw-77-1234".into(),
                display_name: "OpenClaw".into(),
                project: Some("reins".into()),
                after_s: 7,
                verdict: RecheckVerdictWire::RespawnedHeld,
                supervisor: Some("systemd user unit openclaw.service".into()),
            }),
        },
    ]
}

fn envelopes(f: &Fixture) -> Value {
    let list: Vec<Value> = cases(f)
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            // `pairing_accepted` is always d2p seq 1 of its pair (§9.2), and
            // the vector's rejection is the token channel's first d2p message.
            let seq = match c.payload.kind() {
                Kind::PairingAccepted | Kind::PairingRejected => 1,
                _ => i as u64 + 1,
            };
            let msg_id: [u8; 16] = fixed(&format!("reins vector msg_id {i}"));
            let nonce: [u8; 24] = fixed(&format!("reins vector nonce {i}"));
            let out = c.chan.seal_with(seq, TS + i as u64, msg_id, nonce, &c.payload).unwrap();
            let env = Envelope::parse(&out.bytes).unwrap();
            let key = match c.chan.role() {
                Role::Desktop => &c.chan.keys().d2p_key,
                Role::Phone => &c.chan.keys().p2d_key,
            };
            json!({
                "name": c.name,
                "key": hex::encode(key.as_bytes()),
                "topic": out.topic,
                "header": {
                    "v": env.header.v, "suite": env.header.suite,
                    "pairing_id": hex::encode(env.header.pairing_id),
                    "sender": hex::encode(env.header.sender),
                    "dir": env.header.dir.as_str(), "kind": env.header.kind.as_str(),
                    "seq": env.header.seq, "ts_ms": env.header.ts_ms,
                    "msg_id": hex::encode(env.header.msg_id), "nonce": hex::encode(env.header.nonce),
                },
                "plaintext": String::from_utf8(c.payload.to_json()).unwrap(),
                "aad": hex::encode(env.header.aad(&out.topic)),
                "ct": hex::encode(&env.ct),
                "wire": String::from_utf8(out.bytes).unwrap(),
            })
        })
        .collect();
    json!({ "description": "Sealed envelopes. key/nonce/msg_id/aad/ct are hex; wire is the exact bytes published.", "cases": list })
}

fn rejections(f: &Fixture) -> Value {
    let env = envelopes(f);
    let good = &env["cases"][0];
    let wire = good["wire"].as_str().unwrap();
    let topic = good["topic"].as_str().unwrap();
    let j: Value = serde_json::from_str(wire).unwrap();
    // serde_json::Value sorts keys; field order is not significant on the wire.
    let variant = |f: &dyn Fn(&mut Value)| {
        let mut v = j.clone();
        f(&mut v);
        String::from_utf8(serde_json::to_vec(&v).unwrap()).unwrap()
    };
    let ct = good["ct"].as_str().unwrap();
    let mut flipped = hex::decode(ct).unwrap();
    *flipped.last_mut().unwrap() ^= 1;
    let cases = vec![
        (
            "tag bit flipped",
            variant(&|v| v["ct"] = b64(&flipped).into()),
            topic.to_owned(),
            "forged",
        ),
        (
            "seq changed",
            variant(&|v| v["seq"] = 2.into()),
            topic.to_owned(),
            "forged",
        ),
        (
            "kind changed",
            variant(&|v| v["kind"] = "heartbeat".into()),
            topic.to_owned(),
            "forged",
        ),
        (
            "other topic",
            wire.to_owned(),
            "reins/00000000000000000000000000000000".to_owned(),
            "forged",
        ),
        (
            "unknown version",
            variant(&|v| v["v"] = 2.into()),
            topic.to_owned(),
            "unsupported_version",
        ),
        (
            "unknown suite",
            variant(&|v| v["suite"] = 2.into()),
            topic.to_owned(),
            "unsupported_suite",
        ),
        (
            "zero nonce",
            variant(&|v| v["nonce"] = b64(&[0; 24]).into()),
            topic.to_owned(),
            "zero_nonce",
        ),
        (
            "plaintext body",
            good["plaintext"].as_str().unwrap().to_owned(),
            topic.to_owned(),
            "malformed",
        ),
        (
            "padded base64",
            variant(&|v| v["msg_id"] = format!("{}==", v["msg_id"].as_str().unwrap()).into()),
            topic.to_owned(),
            "malformed",
        ),
    ];
    let list: Vec<Value> = cases
        .into_iter()
        .map(|(name, wire, topic, error)| json!({ "name": name, "key": good["key"], "topic": topic, "wire": wire, "error": error }))
        .collect();
    json!({ "description": "Each wire must be refused by open(key, topic, wire) with the given error class.", "cases": list })
}

fn pairing_url(f: &Fixture) -> Value {
    let offer = PairingOffer {
        desktop_public: f.desktop.public(),
        brokers: vec![
            "mqtts://broker.example:8883".into(),
            "ws://192.168.1.20:9001/mqtt".into(),
        ],
        pairing_topic: f.pairing_topic.clone(),
        topic_prefix: "reins/".into(),
        token: f.token.clone(),
        expires_at_ms: TS + 180_000,
    };
    json!({
        "description": "A pairing offer and its URL. Parsing url must yield exactly these fields.",
        "base": "https://reins.example/pair",
        "desktop_public": hex::encode(offer.desktop_public),
        "token": hex::encode(offer.token.as_bytes()),
        "pairing_topic": offer.pairing_topic,
        "topic_prefix": offer.topic_prefix,
        "brokers": offer.brokers,
        "expires_at_ms": offer.expires_at_ms,
        "url": offer.to_url("https://reins.example/pair"),
    })
}

fn all() -> Vec<(&'static str, Value)> {
    let f = fixture();
    vec![
        ("derivation.json", derivation(&f)),
        ("envelopes.json", envelopes(&f)),
        ("rejections.json", rejections(&f)),
        ("pairing-url.json", pairing_url(&f)),
    ]
}

fn render(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap() + "\n"
}

#[test]
#[ignore = "writes docs/test-vectors; run explicitly after a deliberate format change"]
fn write_test_vectors() {
    std::fs::create_dir_all(dir()).unwrap();
    for (name, v) in all() {
        std::fs::write(dir().join(name), render(&v)).unwrap();
    }
}

/// Parse JSON text embedded in strings (the `wire` envelopes), so key order
/// inside them does not matter either.
fn normalize(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) if s.starts_with('{') => match serde_json::from_str::<Value>(&s) {
            Ok(inner) => normalize(inner),
            Err(_) => Value::String(s),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, normalize(v))).collect()),
        other => other,
    }
}

/// Compared as JSON values, not bytes: the key order of `json!` objects
/// depends on whether some other crate in the build turned on serde_json's
/// `preserve_order`, which changes nothing a reader of the files relies on.
#[test]
fn the_committed_test_vectors_are_reproduced_value_for_value() {
    for (name, v) in all() {
        let on_disk =
            std::fs::read_to_string(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let on_disk = normalize(serde_json::from_str(&on_disk).unwrap());
        let fresh = normalize(serde_json::from_str(&render(&v)).unwrap());
        assert_eq!(
            on_disk, fresh,
            "{name} differs; regenerate only if the format changed on purpose"
        );
    }
}

#[test]
fn every_vector_envelope_opens_with_only_the_key_and_topic_from_the_file() {
    let text = std::fs::read_to_string(dir().join("envelopes.json")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    for c in file["cases"].as_array().unwrap() {
        let key = DirectionKey::from_bytes(
            hex::decode(c["key"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
        );
        let topic = c["topic"].as_str().unwrap();
        let (h, pt) = open(&key, topic, c["wire"].as_str().unwrap().as_bytes()).unwrap();
        assert_eq!(
            String::from_utf8(pt).unwrap(),
            c["plaintext"].as_str().unwrap()
        );
        assert_eq!(hex::encode(h.aad(topic)), c["aad"].as_str().unwrap());
    }
}

#[test]
fn every_vector_rejection_is_refused_with_its_documented_error() {
    let text = std::fs::read_to_string(dir().join("rejections.json")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    for c in file["cases"].as_array().unwrap() {
        let key = DirectionKey::from_bytes(
            hex::decode(c["key"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
        );
        let err = open(
            &key,
            c["topic"].as_str().unwrap(),
            c["wire"].as_str().unwrap().as_bytes(),
        )
        .unwrap_err();
        let class = match err {
            OpenError::Forged => "forged",
            OpenError::UnsupportedVersion(_) => "unsupported_version",
            OpenError::UnsupportedSuite(_) => "unsupported_suite",
            OpenError::ZeroNonce => "zero_nonce",
            OpenError::Malformed(_) => "malformed",
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(class, c["error"].as_str().unwrap(), "{}", c["name"]);
    }
}

#[test]
fn the_vector_pairing_url_parses_back_to_its_fields() {
    let text = std::fs::read_to_string(dir().join("pairing-url.json")).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let offer = PairingOffer::from_url(file["url"].as_str().unwrap()).unwrap();
    assert_eq!(
        hex::encode(offer.token.as_bytes()),
        file["token"].as_str().unwrap()
    );
    assert_eq!(
        hex::encode(offer.desktop_public),
        file["desktop_public"].as_str().unwrap()
    );
    assert_eq!(offer.expires_at_ms, file["expires_at_ms"].as_u64().unwrap());
}
