//! Pairing attacks: expiry, spent tokens, races, code mismatch, low-order keys.

use super::*;
use crate::channel::{Outgoing, PairChannel, Role};
use crate::codec::b64;
use crate::keys::{IdentityKeyPair, PairKey, VerificationCode};
use crate::payload::{PairingHello, Payload};
use crate::replay::{OutgoingSeq, ReplayWindow};
use rand::SeedableRng;
use rand::rngs::StdRng;

pub(super) const NOW: u64 = 1_700_000_000_000;

pub(super) struct Setup {
    pub(super) rng: StdRng,
    pub(super) desktop: DesktopPairing,
    pub(super) offer: PairingOffer,
}

pub(super) fn setup(seed: u64) -> Setup {
    let mut rng = StdRng::seed_from_u64(seed);
    let id = IdentityKeyPair::generate(&mut rng);
    let brokers = vec!["mqtts://broker.example:8883".to_owned()];
    let offer = PairingOffer::new(&id, brokers, "reins/", NOW, MAX_OFFER_TTL_MS, &mut rng).unwrap();
    // The phone gets the offer through the URL, like the real one.
    let offer = PairingOffer::from_url(&offer.to_url("https://reins.example/pair")).unwrap();
    let desktop = DesktopPairing::new(&id, &offer, "Workstation");
    Setup {
        rng,
        desktop,
        offer,
    }
}

pub(super) fn start_phone(
    s: &mut Setup,
    name: &str,
    now: u64,
) -> (PhonePairing, Outgoing, VerificationCode) {
    let id = IdentityKeyPair::generate(&mut s.rng);
    let (phone, actions) =
        PhonePairing::start(s.offer.clone(), &id, name, now, &mut s.rng).unwrap();
    let [PhoneAction::Publish(hello), PhoneAction::ShowCode(code)] =
        <[_; 2]>::try_from(actions).unwrap()
    else {
        panic!("unexpected start actions");
    };
    (phone, hello, code)
}

pub(super) fn deliver(s: &mut Setup, msg: &Outgoing, now: u64) -> Vec<DesktopAction> {
    s.desktop.handle(
        DesktopInput::Received {
            topic: &msg.topic,
            bytes: &msg.bytes,
        },
        now,
        &mut s.rng,
    )
}

pub(super) fn shown_code(actions: &[DesktopAction]) -> VerificationCode {
    match actions {
        [DesktopAction::ShowCode { code, .. }] => *code,
        other => panic!("expected ShowCode, got {other:?}"),
    }
}

pub(super) fn publish_of(actions: &[DesktopAction]) -> &Outgoing {
    actions
        .iter()
        .find_map(|a| {
            if let DesktopAction::Publish(m) = a {
                Some(m)
            } else {
                None
            }
        })
        .expect("a Publish action")
}

/// The desktop refused a hello as "token spent" and answered it with one
/// `already_used` publish.
pub(super) fn answered_already_used(actions: &[DesktopAction]) -> bool {
    matches!(
        actions,
        [
            DesktopAction::Publish(_),
            DesktopAction::Refused(Refusal::TokenSpent)
        ]
    )
}

#[test]
fn a_phone_and_a_desktop_pair_show_the_same_code_and_can_talk() {
    let mut s = setup(1);
    let (mut phone, hello, phone_code) = start_phone(&mut s, "Pixel", NOW);
    let desktop_code = shown_code(&deliver(&mut s, &hello, NOW + 1));
    assert_eq!(desktop_code, phone_code);
    let actions = s.desktop.handle(DesktopInput::Confirm, NOW + 2, &mut s.rng);
    let accepted = publish_of(&actions).clone();
    let Some(DesktopAction::Paired(paired)) = actions.into_iter().last() else {
        panic!()
    };
    assert_eq!(paired.device_name, "Pixel");
    assert!(s.desktop.is_finished());
    let msg = PhoneInput::Received {
        topic: &accepted.topic,
        bytes: &accepted.bytes,
    };
    let [PhoneAction::Paired(desk)] = <[_; 1]>::try_from(phone.handle(msg, NOW + 3)).unwrap()
    else {
        panic!("phone did not pair");
    };
    assert_eq!(desk.key, paired.key);
    assert_eq!(desk.desktop_name, "Workstation");
    // The derived channels interoperate.
    let d = PairChannel::paired(Role::Desktop, &paired.key, &paired.topic_prefix).unwrap();
    let p = PairChannel::paired(Role::Phone, &desk.key, &desk.topic_prefix).unwrap();
    let stop = Payload::Command(crate::payload::Command::stop_all());
    let m = p
        .seal(&mut OutgoingSeq::new(), &stop, NOW, &mut s.rng)
        .unwrap();
    assert!(
        d.open(&m.topic, &m.bytes, &mut ReplayWindow::new(), NOW)
            .is_ok()
    );
}

#[test]
fn an_expired_offer_is_refused_by_the_phone() {
    let mut s = setup(2);
    let id = IdentityKeyPair::generate(&mut s.rng);
    let late = s.offer.expires_at_ms + crate::replay::MAX_SKEW_MS + 1;
    let r = PhonePairing::start(s.offer.clone(), &id, "Pixel", late, &mut s.rng);
    assert_eq!(r.unwrap_err(), StartError::Expired);
    // An offer claiming to live for an hour is refused too.
    let mut forever = s.offer.clone();
    forever.expires_at_ms = NOW + 3_600_000;
    let r = PhonePairing::start(forever, &id, "Pixel", NOW, &mut s.rng);
    assert_eq!(r.unwrap_err(), StartError::Expired);
}

#[test]
fn a_hello_after_expiry_burns_the_token() {
    let mut s = setup(3);
    let (_, hello, _) = start_phone(&mut s, "Pixel", NOW);
    let late = s.offer.expires_at_ms + 1;
    let actions = deliver(&mut s, &hello, late);
    assert!(matches!(
        actions.as_slice(),
        [DesktopAction::Failed(PairingFailure::Expired)]
    ));
    assert!(s.desktop.is_finished());
    assert!(matches!(
        deliver(&mut s, &hello, NOW).as_slice(),
        [DesktopAction::Refused(Refusal::TokenSpent)]
    ));
}

#[test]
fn a_confirm_after_expiry_fails_and_tells_the_phone() {
    let mut s = setup(4);
    let (mut phone, hello, _) = start_phone(&mut s, "Pixel", NOW);
    shown_code(&deliver(&mut s, &hello, NOW));
    let actions = s
        .desktop
        .handle(DesktopInput::Confirm, s.offer.expires_at_ms + 1, &mut s.rng);
    assert!(matches!(
        actions.last(),
        Some(DesktopAction::Failed(PairingFailure::Expired))
    ));
    let rej = publish_of(&actions).clone();
    let input = PhoneInput::Received {
        topic: &rej.topic,
        bytes: &rej.bytes,
    };
    let got = phone.handle(input, s.offer.expires_at_ms + 2);
    assert!(matches!(
        got.as_slice(),
        [PhoneAction::Failed(PairingFailure::Expired)]
    ));
}

#[test]
fn a_spent_token_is_refused_after_a_successful_pairing() {
    let mut s = setup(5);
    let (_, hello, _) = start_phone(&mut s, "Pixel", NOW);
    shown_code(&deliver(&mut s, &hello, NOW));
    s.desktop.handle(DesktopInput::Confirm, NOW, &mut s.rng);
    let (_, hello2, _) = start_phone(&mut s, "Intruder", NOW + 5);
    assert!(answered_already_used(&deliver(&mut s, &hello2, NOW + 5)));
    // A late redelivery of the hello that paired stays silent.
    assert!(deliver(&mut s, &hello, NOW + 5).is_empty());
}

#[test]
fn a_second_hello_racing_on_the_same_token_is_refused() {
    let mut s = setup(6);
    let (_, first, first_code) = start_phone(&mut s, "Pixel", NOW);
    let (_, second, _) = start_phone(&mut s, "Intruder", NOW);
    assert_eq!(shown_code(&deliver(&mut s, &first, NOW)), first_code);
    assert!(answered_already_used(&deliver(&mut s, &second, NOW)));
    let actions = s.desktop.handle(DesktopInput::Confirm, NOW, &mut s.rng);
    let Some(DesktopAction::Paired(p)) = actions.last() else {
        panic!()
    };
    assert_eq!(p.device_name, "Pixel");
}

#[test]
fn a_hijacker_who_wins_the_race_shows_a_different_code_and_rejection_burns_the_token() {
    let mut s = setup(7);
    let (_, attacker_hello, attacker_code) = start_phone(&mut s, "Pixel", NOW);
    let (mut victim, victim_hello, victim_code) = start_phone(&mut s, "Pixel", NOW);
    let desktop_code = shown_code(&deliver(&mut s, &attacker_hello, NOW));
    assert_eq!(desktop_code, attacker_code);
    assert_ne!(desktop_code, victim_code, "the user sees the mismatch");
    assert!(answered_already_used(&deliver(&mut s, &victim_hello, NOW)));
    let actions = s.desktop.handle(DesktopInput::Reject, NOW + 1, &mut s.rng);
    assert!(matches!(
        actions.last(),
        Some(DesktopAction::Failed(PairingFailure::Rejected))
    ));
    assert!(s.desktop.is_finished());
    let rej = publish_of(&actions).clone();
    let got = victim.handle(
        PhoneInput::Received {
            topic: &rej.topic,
            bytes: &rej.bytes,
        },
        NOW + 2,
    );
    assert!(matches!(
        got.as_slice(),
        [PhoneAction::Failed(PairingFailure::Rejected)]
    ));
    // Nothing more can happen on this token.
    let (_, retry, _) = start_phone(&mut s, "Pixel", NOW + 3);
    assert!(answered_already_used(&deliver(&mut s, &retry, NOW + 3)));
    assert!(matches!(
        s.desktop
            .handle(DesktopInput::Confirm, NOW + 3, &mut s.rng)
            .as_slice(),
        [DesktopAction::Refused(Refusal::NotNow)]
    ));
}

#[test]
fn a_hello_with_a_low_order_key_fails_and_burns_the_token() {
    for point in crate::keys::LOW_ORDER_POINTS {
        let mut s = setup(8);
        let chan = PairChannel::pairing(
            Role::Phone,
            token_keys(&s.offer.token),
            &s.offer.pairing_topic,
        );
        let pk: [u8; 32] = hex::decode(point).unwrap().try_into().unwrap();
        let hello = Payload::PairingHello(PairingHello {
            phone_public: b64(&pk),
            device_name: "Evil".into(),
        });
        let msg = chan
            .seal(&mut OutgoingSeq::new(), &hello, NOW, &mut s.rng)
            .unwrap();
        let actions = deliver(&mut s, &msg, NOW);
        assert!(
            matches!(
                actions.as_slice(),
                [DesktopAction::Failed(PairingFailure::InvalidPeer(_))]
            ),
            "{point}: {actions:?}"
        );
        assert!(s.desktop.is_finished());
    }
}

#[test]
fn an_offer_with_a_low_order_desktop_key_is_refused_by_the_phone() {
    let mut s = setup(9);
    s.offer.desktop_public = [0; 32];
    let id = IdentityKeyPair::generate(&mut s.rng);
    let r = PhonePairing::start(s.offer.clone(), &id, "Pixel", NOW, &mut s.rng);
    assert_eq!(r.unwrap_err(), StartError::BadDesktopKey);
}

#[test]
fn a_hello_sealed_without_the_token_is_ignored() {
    let mut s = setup(10);
    let wrong = PairingToken::from_bytes([0xAA; 16]);
    let chan = PairChannel::pairing(Role::Phone, token_keys(&wrong), &s.offer.pairing_topic);
    let id = IdentityKeyPair::generate(&mut s.rng);
    let hello = Payload::PairingHello(PairingHello {
        phone_public: b64(&id.public()),
        device_name: "X".into(),
    });
    let msg = chan
        .seal(&mut OutgoingSeq::new(), &hello, NOW, &mut s.rng)
        .unwrap();
    let actions = deliver(&mut s, &msg, NOW);
    assert!(matches!(
        actions.as_slice(),
        [DesktopAction::Refused(Refusal::Invalid(_))]
    ));
    assert!(!s.desktop.is_finished());
    // The real phone can still pair.
    let (_, hello, code) = start_phone(&mut s, "Pixel", NOW);
    assert_eq!(shown_code(&deliver(&mut s, &hello, NOW)), code);
}

#[test]
fn a_redelivered_hello_is_silent_and_does_not_count_as_a_race() {
    let mut s = setup(11);
    let (_, hello, _) = start_phone(&mut s, "Pixel", NOW);
    shown_code(&deliver(&mut s, &hello, NOW));
    assert!(deliver(&mut s, &hello, NOW + 1).is_empty());
}

#[test]
fn the_phone_ignores_its_own_echoed_hello_and_forged_acceptances() {
    let mut s = setup(12);
    let (mut phone, hello, _) = start_phone(&mut s, "Pixel", NOW);
    assert!(
        phone
            .handle(
                PhoneInput::Received {
                    topic: &hello.topic,
                    bytes: &hello.bytes
                },
                NOW
            )
            .is_empty()
    );
    // Someone with the token (but not K) claims the desktop accepted.
    let chan = PairChannel::pairing(
        Role::Desktop,
        token_keys(&s.offer.token),
        &s.offer.pairing_topic,
    );
    let fake = Payload::PairingAccepted(crate::payload::PairingAccepted {
        desktop_name: "Evil".into(),
    });
    let msg = chan
        .seal(&mut OutgoingSeq::new(), &fake, NOW, &mut s.rng)
        .unwrap();
    let got = phone.handle(
        PhoneInput::Received {
            topic: &msg.topic,
            bytes: &msg.bytes,
        },
        NOW,
    );
    assert!(
        matches!(got.as_slice(), [PhoneAction::Refused(_)]),
        "{got:?}"
    );
    assert!(!phone.is_finished());
}

#[test]
fn cancelling_before_any_hello_burns_the_token() {
    let mut s = setup(13);
    let a = s.desktop.handle(DesktopInput::Reject, NOW, &mut s.rng);
    assert!(matches!(
        a.as_slice(),
        [DesktopAction::Failed(PairingFailure::Cancelled)]
    ));
    let (_, hello, _) = start_phone(&mut s, "Pixel", NOW);
    assert!(answered_already_used(&deliver(&mut s, &hello, NOW)));
}

#[test]
fn confirm_without_a_pending_phone_does_nothing() {
    let mut s = setup(14);
    let a = s.desktop.handle(DesktopInput::Confirm, NOW, &mut s.rng);
    assert!(matches!(
        a.as_slice(),
        [DesktopAction::Refused(Refusal::NotNow)]
    ));
    assert!(!s.desktop.is_finished());
}

#[test]
fn device_names_with_control_characters_are_refused() {
    let mut s = setup(15);
    let id = IdentityKeyPair::generate(&mut s.rng);
    for bad in ["", "   ", "a\u{1b}[31m", &"x".repeat(65)] {
        let r = PhonePairing::start(s.offer.clone(), &id, bad, NOW, &mut s.rng);
        assert_eq!(r.unwrap_err(), StartError::BadName, "{bad:?}");
    }
}

#[test]
fn pairing_results_never_print_the_key() {
    let mut s = setup(16);
    let (_, hello, _) = start_phone(&mut s, "Pixel", NOW);
    shown_code(&deliver(&mut s, &hello, NOW));
    let actions = s.desktop.handle(DesktopInput::Confirm, NOW, &mut s.rng);
    let Some(DesktopAction::Paired(p)) = actions.last() else {
        panic!()
    };
    let dbg = format!("{actions:?}");
    assert!(!dbg.contains(&hex::encode(p.key.as_bytes())));
    assert!(!dbg.contains(&format!("{:?}", p.key.as_bytes())));
    let _: &PairKey = &p.key;
}

/// Pairs one phone; returns what each side keeps, and the acceptance.
fn pair(seed: u64) -> (Setup, PairedPhone, PairedDesktop, Outgoing) {
    let mut s = setup(seed);
    let (mut phone, hello, _) = start_phone(&mut s, "Pixel", NOW);
    shown_code(&deliver(&mut s, &hello, NOW));
    let actions = s.desktop.handle(DesktopInput::Confirm, NOW, &mut s.rng);
    let accepted = publish_of(&actions).clone();
    let Some(DesktopAction::Paired(paired)) = actions.into_iter().last() else {
        panic!("desktop did not pair")
    };
    let msg = PhoneInput::Received {
        topic: &accepted.topic,
        bytes: &accepted.bytes,
    };
    let Some(PhoneAction::Paired(desk)) = phone.handle(msg, NOW).into_iter().next() else {
        panic!("phone did not pair")
    };
    (s, paired, desk, accepted)
}

#[test]
fn pairing_accepted_is_seq_one_and_the_desktop_counter_continues_from_it() {
    let (mut s, mut paired, desk, accepted) = pair(17);
    assert_eq!(accepted.seq, 1);
    assert_eq!(paired.out_seq.last(), 1);
    assert_eq!(desk.d2p_replay.highest(), 1);
    let d = PairChannel::paired(Role::Desktop, &paired.key, &paired.topic_prefix).unwrap();
    let beat = Payload::Heartbeat(crate::payload::Heartbeat { interval_s: 30 });
    let first = d.seal(&mut paired.out_seq, &beat, NOW, &mut s.rng).unwrap();
    assert_eq!(first.seq, 2);
}

#[test]
fn a_phone_keeping_one_d2p_window_accepts_the_first_paired_message() {
    let (mut s, mut paired, desk, _) = pair(18);
    let d = PairChannel::paired(Role::Desktop, &paired.key, &paired.topic_prefix).unwrap();
    let p = PairChannel::paired(Role::Phone, &desk.key, &desk.topic_prefix).unwrap();
    let snapshot = Payload::AgentSnapshot(crate::payload::AgentSnapshot { agents: vec![] });
    let first = d
        .seal(&mut paired.out_seq, &snapshot, NOW, &mut s.rng)
        .unwrap();
    let mut window = desk.d2p_replay;
    let got = p
        .open(&first.topic, &first.bytes, &mut window, NOW)
        .unwrap();
    assert_eq!(got.payload, snapshot);
    assert_eq!(window.highest(), 2);
}

#[test]
fn a_replay_of_pairing_accepted_onto_the_paired_channel_is_refused() {
    let (_, _, desk, accepted) = pair(19);
    let p = PairChannel::paired(Role::Phone, &desk.key, &desk.topic_prefix).unwrap();
    let mut window = desk.d2p_replay;
    // Moved to the paired d2p topic: a pairing kind is refused there, and
    // its topic is bound in the AAD and its seq is in the window anyway.
    let err = p
        .open(p.recv_topic(), &accepted.bytes, &mut window, NOW)
        .unwrap_err();
    assert_eq!(
        err,
        OpenError::KindNotAllowed(crate::payload::Kind::PairingAccepted)
    );
    assert_eq!(window.highest(), 1);
}
