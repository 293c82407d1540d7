//! Attack tests for the envelope layer: forgery, tampering, truncation,
//! versioning, plaintext, zero nonce, size limits and garbage.

use super::*;
use crate::codec::b64;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TOPIC: &str = "reins/0123456789abcdef0123456789abcdef";

fn key() -> DirectionKey {
    DirectionKey::from_bytes([0x42; 32])
}

fn header() -> Header {
    Header {
        v: 1,
        suite: 1,
        pairing_id: [1; 16],
        sender: [2; 16],
        dir: Direction::PhoneToDesktop,
        kind: Kind::Command,
        seq: 7,
        ts_ms: 1_700_000_000_000,
        msg_id: [3; 16],
        nonce: [4; 24],
    }
}

const PT: &[u8] = br#"{"op":"stop","target":"all"}"#;

fn wire() -> Vec<u8> {
    seal(&key(), header(), TOPIC, PT).unwrap().to_wire()
}

#[test]
fn a_sealed_envelope_opens_with_the_same_key_and_topic() {
    let (h, pt) = open(&key(), TOPIC, &wire()).unwrap();
    assert_eq!(h, header());
    assert_eq!(pt, PT);
}

#[test]
fn a_well_formed_message_forged_without_the_key_is_refused() {
    let forged = seal(&DirectionKey::from_bytes([0x43; 32]), header(), TOPIC, PT).unwrap();
    assert_eq!(
        open(&key(), TOPIC, &forged.to_wire()),
        Err(OpenError::Forged)
    );
}

#[test]
fn every_header_field_is_bound_into_the_aad() {
    let env = seal(&key(), header(), TOPIC, PT).unwrap();
    let mutations: Vec<fn(&mut Header)> = vec![
        |h| h.pairing_id[0] ^= 1,
        |h| h.sender[15] ^= 1,
        |h| h.dir = Direction::DesktopToPhone,
        |h| h.kind = Kind::ApprovalDecision,
        |h| h.seq += 1,
        |h| h.ts_ms += 1,
        |h| h.msg_id[5] ^= 0x80,
        |h| h.nonce[23] ^= 1,
    ];
    for (i, m) in mutations.into_iter().enumerate() {
        let mut tampered = env.clone();
        m(&mut tampered.header);
        assert_eq!(
            open(&key(), TOPIC, &tampered.to_wire()),
            Err(OpenError::Forged),
            "mutation {i}"
        );
    }
}

#[test]
fn the_topic_is_bound_into_the_aad() {
    let other = "reins/ffffffffffffffffffffffffffffffff";
    assert_eq!(open(&key(), other, &wire()), Err(OpenError::Forged));
}

#[test]
fn flipping_any_bit_of_the_wire_bytes_is_detected() {
    let w = wire();
    for pos in 0..w.len() {
        for bit in 0..8 {
            let mut t = w.clone();
            t[pos] ^= 1 << bit;
            assert!(open(&key(), TOPIC, &t).is_err(), "byte {pos} bit {bit}");
        }
    }
}

#[test]
fn flipping_any_bit_of_the_ciphertext_is_detected_as_forgery() {
    let env = seal(&key(), header(), TOPIC, PT).unwrap();
    for pos in 0..env.ct.len() {
        let mut t = env.clone();
        t.ct[pos] ^= 1;
        assert_eq!(
            t.decrypt(&key(), TOPIC),
            Err(OpenError::Forged),
            "ct byte {pos}"
        );
    }
}

#[test]
fn truncation_at_every_length_is_refused() {
    let w = wire();
    for len in 0..w.len() {
        assert!(open(&key(), TOPIC, &w[..len]).is_err(), "length {len}");
    }
    let env = seal(&key(), header(), TOPIC, PT).unwrap();
    for len in 0..env.ct.len() {
        let t = Envelope {
            header: env.header.clone(),
            ct: env.ct[..len].to_vec(),
        };
        assert!(
            open(&key(), TOPIC, &t.to_wire()).is_err(),
            "ct length {len}"
        );
    }
}

fn edit(f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&wire()).unwrap();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn unknown_versions_and_suites_are_refused() {
    for v in [0u64, 2, 255, 256] {
        let w = edit(|j| j["v"] = v.into());
        assert_eq!(
            open(&key(), TOPIC, &w),
            Err(OpenError::UnsupportedVersion(v))
        );
    }
    for s in [0u64, 2, 9] {
        let w = edit(|j| j["suite"] = s.into());
        assert_eq!(open(&key(), TOPIC, &w), Err(OpenError::UnsupportedSuite(s)));
    }
    // A future version may change everything else; it is still reported as a version.
    let future = br#"{"v":2,"suite":7,"whatever":true}"#;
    assert_eq!(
        open(&key(), TOPIC, future),
        Err(OpenError::UnsupportedVersion(2))
    );
}

#[test]
fn plaintext_json_is_never_accepted() {
    for pt in [
        PT,
        br#"{"request_id":"r","action_hash":"h","decision":"allow"}"#,
        b"STOP",
    ] {
        assert!(matches!(
            open(&key(), TOPIC, pt),
            Err(OpenError::Malformed(_))
        ));
    }
    // A correct header around an unencrypted body (padded to look like a tag).
    let mut body = PT.to_vec();
    body.extend_from_slice(&[0; 16]);
    let w = edit(|j| j["ct"] = b64(&body).into());
    assert_eq!(open(&key(), TOPIC, &w), Err(OpenError::Forged));
}

#[test]
fn a_zero_nonce_is_refused_on_both_sides() {
    let h = Header {
        nonce: [0; 24],
        ..header()
    };
    assert_eq!(seal(&key(), h, TOPIC, PT), Err(SealError::ZeroNonce));
    let w = edit(|j| j["nonce"] = b64(&[0; 24]).into());
    assert_eq!(open(&key(), TOPIC, &w), Err(OpenError::ZeroNonce));
}

#[test]
fn oversize_messages_are_refused_before_parsing() {
    let big = vec![b' '; MAX_ENVELOPE_BYTES + 1];
    assert_eq!(
        open(&key(), TOPIC, &big),
        Err(OpenError::TooLarge(MAX_ENVELOPE_BYTES + 1))
    );
    let huge_pt = vec![b'x'; MAX_ENVELOPE_BYTES];
    assert!(matches!(
        seal(&key(), header(), TOPIC, &huge_pt),
        Err(SealError::TooLarge(_))
    ));
    let fits = vec![b'x'; 40 * 1024];
    assert!(seal(&key(), header(), TOPIC, &fits).is_ok());
}

#[test]
fn non_canonical_encodings_and_extra_fields_are_refused() {
    let padded = edit(|j| {
        let s = j["msg_id"].as_str().unwrap().to_owned();
        j["msg_id"] = format!("{s}==").into();
    });
    // The header fixture encodes msg_id [3; 16] as "AwMD...Aw"; swap in a
    // standard-alphabet character.
    let std_alphabet =
        edit(|j| j["msg_id"] = format!("+{}", &j["msg_id"].as_str().unwrap()[1..]).into());
    let extra = edit(|j| j["retain"] = true.into());
    let missing = edit(|j| {
        j.as_object_mut().unwrap().remove("sender");
    });
    let short_id = edit(|j| j["pairing_id"] = b64(&[1; 15]).into());
    let bad_dir = edit(|j| j["dir"] = "both".into());
    let bad_kind = edit(|j| j["kind"] = "shell".into());
    let float_seq = edit(|j| j["seq"] = serde_json::json!(7.0));
    let neg_ts = edit(|j| j["ts_ms"] = serde_json::json!(-1));
    for (i, w) in [padded, extra, missing, short_id, bad_dir, float_seq, neg_ts]
        .iter()
        .enumerate()
    {
        assert!(
            matches!(open(&key(), TOPIC, w), Err(OpenError::Malformed(_))),
            "case {i}"
        );
    }
    assert_eq!(open(&key(), TOPIC, &bad_kind), Err(OpenError::UnknownKind));
    assert!(open(&key(), TOPIC, &std_alphabet).is_err());
    let dup = String::from_utf8(wire())
        .unwrap()
        .replacen("{\"v\":1,", "{\"v\":1,\"v\":1,", 1);
    assert!(open(&key(), TOPIC, dup.as_bytes()).is_err());
}

#[test]
fn seq_zero_and_numbers_beyond_javascript_precision_are_refused() {
    for seq in [0, MAX_SAFE_INTEGER + 1, u64::MAX] {
        let h = Header { seq, ..header() };
        assert_eq!(seal(&key(), h, TOPIC, PT), Err(SealError::OutOfRange));
        let w = edit(|j| j["seq"] = seq.into());
        assert!(matches!(
            open(&key(), TOPIC, &w),
            Err(OpenError::Malformed(_))
        ));
    }
}

#[test]
fn json_layout_is_not_significant_but_field_values_are() {
    let v: serde_json::Value = serde_json::from_slice(&wire()).unwrap();
    let pretty = serde_json::to_vec_pretty(&v).unwrap();
    assert!(open(&key(), TOPIC, &pretty).is_ok());
}

#[test]
fn the_aad_layout_matches_the_documented_bytes() {
    let h = header();
    let mut expect = b"reins/v1/aad".to_vec();
    expect.extend([1, 1]);
    expect.extend([1; 16]);
    expect.extend([2; 16]);
    expect.push(2);
    expect.push(7);
    expect.extend(b"command");
    expect.extend(7u64.to_be_bytes());
    expect.extend(1_700_000_000_000u64.to_be_bytes());
    expect.extend([3; 16]);
    expect.extend([4; 24]);
    expect.extend((TOPIC.len() as u16).to_be_bytes());
    expect.extend(TOPIC.as_bytes());
    assert_eq!(h.aad(TOPIC), expect);
}

#[test]
fn ten_thousand_random_blobs_are_all_refused_without_panicking() {
    let mut rng = StdRng::seed_from_u64(0xbad);
    let w = wire();
    for i in 0..10_000 {
        let blob: Vec<u8> = match i % 3 {
            0 => (0..rng.gen_range(0..512)).map(|_| rng.r#gen()).collect(),
            // Mutated real envelopes exercise the deeper paths.
            1 => {
                let mut t = w.clone();
                for _ in 0..rng.gen_range(1..8) {
                    let p = rng.gen_range(0..t.len());
                    t[p] ^= rng.gen_range(1..=255u8);
                }
                t
            }
            _ => {
                let mut t = w.clone();
                t.truncate(rng.gen_range(0..w.len()));
                t.extend((0..rng.gen_range(0..64)).map(|_| rng.r#gen::<u8>()));
                t
            }
        };
        assert!(open(&key(), TOPIC, &blob).is_err(), "blob {i}");
    }
}
