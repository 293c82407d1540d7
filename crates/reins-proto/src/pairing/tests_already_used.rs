//! `already_used`: a phone whose hello can never be accepted is told so at
//! once, only an authentic hello is answered, the answers are bounded, and
//! the desktop stops listening when the offer expires.

use super::tests::{
    NOW, answered_already_used, deliver, publish_of, setup, shown_code, start_phone,
};
use super::*;
use crate::channel::{Outgoing, PairChannel, Role};
use crate::codec::b64;
use crate::keys::IdentityKeyPair;
use crate::payload::{PairingHello, Payload};
use crate::replay::OutgoingSeq;

fn phone_hears(phone: &mut PhonePairing, msg: &Outgoing, now: u64) -> Vec<PhoneAction> {
    let input = PhoneInput::Received {
        topic: &msg.topic,
        bytes: &msg.bytes,
    };
    phone.handle(input, now)
}

#[test]
fn a_second_phone_with_the_same_link_is_told_already_used_while_the_first_waits() {
    let mut s = setup(101);
    let (mut first, first_hello, _) = start_phone(&mut s, "Pixel", NOW);
    let (mut second, second_hello, _) = start_phone(&mut s, "Tablet", NOW);
    shown_code(&deliver(&mut s, &first_hello, NOW));
    let actions = deliver(&mut s, &second_hello, NOW + 1);
    assert!(answered_already_used(&actions));
    let reply = publish_of(&actions).clone();
    assert!(matches!(
        phone_hears(&mut second, &reply, NOW + 2).as_slice(),
        [PhoneAction::Failed(PairingFailure::AlreadyUsed)]
    ));
    // The waiting phone sees the same answer on the shared topic and keeps waiting.
    assert!(matches!(
        phone_hears(&mut first, &reply, NOW + 2).as_slice(),
        [PhoneAction::Refused(Refusal::NotForUs)]
    ));
    assert!(!first.is_finished());
    let confirmed = s.desktop.handle(DesktopInput::Confirm, NOW + 3, &mut s.rng);
    let accepted = publish_of(&confirmed).clone();
    assert!(matches!(
        phone_hears(&mut first, &accepted, NOW + 4).as_slice(),
        [PhoneAction::Paired(_)]
    ));
}

#[test]
fn a_second_phone_with_the_same_link_is_told_already_used_after_the_first_paired() {
    let mut s = setup(102);
    let (_, first_hello, _) = start_phone(&mut s, "Pixel", NOW);
    shown_code(&deliver(&mut s, &first_hello, NOW));
    s.desktop.handle(DesktopInput::Confirm, NOW + 1, &mut s.rng);
    assert!(s.desktop.is_finished());
    assert!(s.desktop.is_listening(NOW + 2));
    let (mut late, late_hello, _) = start_phone(&mut s, "Pixel", NOW + 2);
    let actions = deliver(&mut s, &late_hello, NOW + 2);
    assert!(answered_already_used(&actions));
    assert!(matches!(
        phone_hears(&mut late, publish_of(&actions), NOW + 3).as_slice(),
        [PhoneAction::Failed(PairingFailure::AlreadyUsed)]
    ));
}

#[test]
fn a_hello_that_does_not_authenticate_gets_no_answer() {
    let mut s = setup(103);
    let wrong = PairingToken::from_bytes([0xAB; 16]);
    let chan = PairChannel::pairing(Role::Phone, token_keys(&wrong), &s.offer.pairing_topic);
    let id = IdentityKeyPair::generate(&mut s.rng);
    let body = Payload::PairingHello(PairingHello {
        phone_public: b64(&id.public()),
        device_name: "Forger".into(),
    });
    let forged = chan
        .seal(&mut OutgoingSeq::new(), &body, NOW, &mut s.rng)
        .unwrap();
    let (_, hello, _) = start_phone(&mut s, "Pixel", NOW);
    shown_code(&deliver(&mut s, &hello, NOW));
    let refused_silently =
        |a: &[DesktopAction]| matches!(a, [DesktopAction::Refused(Refusal::Invalid(_))]);
    assert!(refused_silently(&deliver(&mut s, &forged, NOW + 1)));
    s.desktop.handle(DesktopInput::Confirm, NOW + 2, &mut s.rng);
    assert!(refused_silently(&deliver(&mut s, &forged, NOW + 3)));
}

#[test]
fn one_offer_sends_a_bounded_number_of_already_used_answers() {
    let mut s = setup(104);
    let (_, hello, _) = start_phone(&mut s, "Pixel", NOW);
    shown_code(&deliver(&mut s, &hello, NOW));
    s.desktop.handle(DesktopInput::Confirm, NOW + 1, &mut s.rng);
    let mut published = 0;
    for i in 0..3 * MAX_ALREADY_USED_REPLIES {
        let (_, other, _) = start_phone(&mut s, "Pixel", NOW + 2);
        let actions = deliver(&mut s, &other, NOW + 2);
        assert!(
            matches!(
                actions.last(),
                Some(DesktopAction::Refused(Refusal::TokenSpent))
            ),
            "hello {i}: {actions:?}"
        );
        published += actions
            .iter()
            .filter(|a| matches!(a, DesktopAction::Publish(_)))
            .count();
    }
    assert_eq!(published, MAX_ALREADY_USED_REPLIES as usize);
}

#[test]
fn after_the_offer_expires_the_desktop_stops_listening_and_answers_nothing() {
    let mut s = setup(105);
    let (_, hello, _) = start_phone(&mut s, "Pixel", NOW);
    shown_code(&deliver(&mut s, &hello, NOW));
    s.desktop.handle(DesktopInput::Confirm, NOW + 1, &mut s.rng);
    let exp = s.offer.expires_at_ms;
    assert!(s.desktop.is_listening(exp));
    assert!(!s.desktop.is_listening(exp + 1));
    assert!(
        s.desktop
            .handle(DesktopInput::Tick, exp + 1, &mut s.rng)
            .is_empty()
    );
    let (_, late, _) = start_phone(&mut s, "Pixel", NOW + 5);
    assert!(matches!(
        deliver(&mut s, &late, exp + 2).as_slice(),
        [DesktopAction::Refused(Refusal::TokenSpent)]
    ));
    assert!(
        !s.desktop.is_listening(NOW + 5),
        "the keys are gone for good"
    );
}

#[test]
fn an_already_used_answer_that_names_no_hello_is_not_taken() {
    let mut s = setup(106);
    let (mut phone, _, _) = start_phone(&mut s, "Pixel", NOW);
    let chan = PairChannel::pairing(
        Role::Desktop,
        token_keys(&s.offer.token),
        &s.offer.pairing_topic,
    );
    let body = Payload::PairingRejected(crate::payload::PairingRejected {
        reason: crate::payload::PairingRejectReason::AlreadyUsed,
        hello_msg_id: None,
    });
    let msg = chan
        .seal(&mut OutgoingSeq::new(), &body, NOW, &mut s.rng)
        .unwrap();
    assert!(matches!(
        phone_hears(&mut phone, &msg, NOW + 1).as_slice(),
        [PhoneAction::Refused(Refusal::NotForUs)]
    ));
    assert!(!phone.is_finished());
}
