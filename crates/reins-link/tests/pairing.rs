//! Pairing end to end through a real broker (embedded rumqttd and Mosquitto).

mod common;

use common::*;
use reins_link::pair::{PairError, PairingNotice, PairingOptions, PairingSession};
use reins_link::phone::PhoneError;
use reins_link::{BrokerConfig, MemorySecretStore, PhoneClient};
use reins_proto::pairing::PairingFailure;
use std::time::Duration;

async fn pairing_works_on(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start(url, dir.path(), MemorySecretStore::new()).await;
    let (mut phone, info) = pair_phone(&mut desk, url, "Pixel 8").await;
    assert_eq!(desk.link.devices().await.unwrap(), vec![info.clone()]);
    // The pair works both ways right away.
    phone.send(&stop_all()).unwrap();
    let ev = desk.next_event(T).await.expect("command delivered");
    let reins_link::LinkEvent::FromPhone { device_id, .. } = ev else {
        panic!()
    };
    assert_eq!(device_id, device_id_of(&info));
    desk.link
        .send(
            reins_link::Recipient::All,
            reins_proto::Payload::Heartbeat(reins_proto::payload::Heartbeat { interval_s: 30 }),
        )
        .await
        .unwrap();
    // `pairing_accepted` was d2p seq 1; the phone opened it with the same
    // window it now uses for the paired channel, so seq 2 is simply next.
    let got = phone.recv(T).await.unwrap();
    assert_eq!(got.payload.kind(), reins_proto::Kind::Heartbeat);
    assert_eq!(got.header.seq, 2);
}

fn device_id_of(info: &reins_link::DeviceInfo) -> reins_link::DeviceId {
    device_id(info)
}

#[tokio::test]
async fn pairing_through_the_embedded_broker_shows_the_same_code_on_both_sides() {
    pairing_works_on(&embedded().local_mqtt_url()).await;
}

#[tokio::test]
async fn pairing_through_mosquitto_shows_the_same_code_on_both_sides() {
    let m = Mosquitto::start();
    pairing_works_on(&m.url()).await;
}

#[tokio::test]
async fn a_phone_on_websockets_pairs_with_a_desktop_on_tcp() {
    let m = Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start(&m.url(), dir.path(), MemorySecretStore::new()).await;
    let (_phone, info) = pair_phone(&mut desk, &m.ws_url(), "Browser").await;
    assert_eq!(info.name, "Browser");
    let e = embedded();
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start(&e.local_mqtt_url(), dir.path(), MemorySecretStore::new()).await;
    let (_phone, info) = pair_phone(&mut desk, &e.local_ws_url(), "Browser 2").await;
    assert_eq!(info.name, "Browser 2");
}

#[tokio::test]
async fn a_second_phone_with_the_same_link_is_told_already_used_while_the_first_waits_and_after_it_paired()
 {
    let url = embedded().local_mqtt_url();
    let broker = BrokerConfig::parse(&url).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let desk = Desktop::start(&url, dir.path(), MemorySecretStore::new()).await;
    let opts = PairingOptions::new(vec![url.clone()], "Desk");
    let session = PairingSession::start(&desk.link, &desk.identity(), &opts)
        .await
        .unwrap();
    let link_url = session.url().to_owned();

    // Phone A says hello; while the desktop user is still comparing codes,
    // phone B (who also saw the QR) says hello too.
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let (shown_tx, shown_rx) = tokio::sync::oneshot::channel::<()>();
    let notices = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let n2 = notices.clone();
    let desktop = tokio::spawn(async move {
        session
            .run(
                |_| async move {
                    let _ = shown_tx.send(());
                    go_rx.await.is_ok()
                },
                move |n| n2.lock().unwrap().push(n),
            )
            .await
    });
    let mut a = PhoneClient::connect(&broker, T).await.unwrap();
    let pa = a.begin_pairing(&link_url, "A", T).await.unwrap();
    shown_rx.await.unwrap();
    let mut b = PhoneClient::connect(&broker, T).await.unwrap();
    let pb = b.begin_pairing(&link_url, "B", T).await.unwrap();
    // B is told at once; A, which sees the same answer, keeps waiting.
    let r = b.finish_pairing(pb, T).await;
    assert!(matches!(r, Err(PhoneError::AlreadyUsed)), "{r:?}");
    assert!(
        notices
            .lock()
            .unwrap()
            .contains(&PairingNotice::AnotherDeviceTried)
    );
    go_tx.send(()).unwrap();
    a.finish_pairing(pa, T).await.unwrap();
    let info = desktop.await.unwrap().unwrap();
    assert_eq!(info.name, "A");
    assert_eq!(desk.link.devices().await.unwrap().len(), 1);

    // A third try with the same link after the session ended is told too.
    let mut c = PhoneClient::connect(&broker, T).await.unwrap();
    let pc = c.begin_pairing(&link_url, "C", T).await.unwrap();
    let r = c.finish_pairing(pc, T).await;
    assert!(matches!(r, Err(PhoneError::AlreadyUsed)), "{r:?}");
    assert_eq!(desk.link.devices().await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_expired_offer_ends_the_session_and_a_late_phone_is_refused() {
    let url = embedded().local_mqtt_url();
    let dir = tempfile::tempdir().unwrap();
    let desk = Desktop::start(&url, dir.path(), MemorySecretStore::new()).await;
    let mut opts = PairingOptions::new(vec![url.clone()], "Desk");
    opts.ttl = Duration::from_millis(300);
    let session = PairingSession::start(&desk.link, &desk.identity(), &opts)
        .await
        .unwrap();
    let link_url = session.url().to_owned();
    let r = tokio::time::timeout(T, session.run(|_| async { true }, |_| {}))
        .await
        .unwrap();
    assert!(
        matches!(r, Err(PairError::Failed(PairingFailure::Expired))),
        "{r:?}"
    );
    let mut phone = PhoneClient::connect(&BrokerConfig::parse(&url).unwrap(), T)
        .await
        .unwrap();
    let p = phone.begin_pairing(&link_url, "Late", T).await.unwrap();
    let r = phone.finish_pairing(p, Duration::from_millis(500)).await;
    assert!(matches!(r, Err(PhoneError::Timeout(_))), "{r:?}");
    assert!(desk.link.devices().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_hello_arriving_while_the_user_hesitates_past_expiry_is_rejected_as_expired() {
    let url = embedded().local_mqtt_url();
    let dir = tempfile::tempdir().unwrap();
    let desk = Desktop::start(&url, dir.path(), MemorySecretStore::new()).await;
    let mut opts = PairingOptions::new(vec![url.clone()], "Desk");
    opts.ttl = Duration::from_millis(800);
    let session = PairingSession::start(&desk.link, &desk.identity(), &opts)
        .await
        .unwrap();
    let link_url = session.url().to_owned();
    // The user never answers: expiry must end it and tell the phone.
    let desktop = tokio::spawn(session.run(|_| std::future::pending::<bool>(), |_| {}));
    let mut phone = PhoneClient::connect(&BrokerConfig::parse(&url).unwrap(), T)
        .await
        .unwrap();
    let p = phone.begin_pairing(&link_url, "Slow", T).await.unwrap();
    let r = phone.finish_pairing(p, T).await;
    assert!(
        matches!(r, Err(PhoneError::Failed(PairingFailure::Expired))),
        "{r:?}"
    );
    let r = desktop.await.unwrap();
    assert!(
        matches!(r, Err(PairError::Failed(PairingFailure::Expired))),
        "{r:?}"
    );
    assert!(desk.link.devices().await.unwrap().is_empty());
}

#[tokio::test]
async fn rejecting_the_code_tells_the_phone_and_stores_nothing() {
    let url = embedded().local_mqtt_url();
    let dir = tempfile::tempdir().unwrap();
    let desk = Desktop::start(&url, dir.path(), MemorySecretStore::new()).await;
    let opts = PairingOptions::new(vec![url.clone()], "Desk");
    let session = PairingSession::start(&desk.link, &desk.identity(), &opts)
        .await
        .unwrap();
    let link_url = session.url().to_owned();
    let desktop = tokio::spawn(session.run(|_| async { false }, |_| {}));
    let mut phone = PhoneClient::connect(&BrokerConfig::parse(&url).unwrap(), T)
        .await
        .unwrap();
    let p = phone.begin_pairing(&link_url, "Mallory", T).await.unwrap();
    let r = phone.finish_pairing(p, T).await;
    assert!(
        matches!(r, Err(PhoneError::Failed(PairingFailure::Rejected))),
        "{r:?}"
    );
    assert!(matches!(
        desktop.await.unwrap(),
        Err(PairError::Failed(PairingFailure::Rejected))
    ));
    assert!(desk.link.devices().await.unwrap().is_empty());
    assert!(
        desk.secrets
            .names()
            .iter()
            .all(|n| !n.starts_with("device-"))
    );
}

#[test]
fn the_pairing_url_renders_as_a_terminal_qr_code() {
    let s = reins_link::qr::render_terminal("https://reins.example/pair#v=1").unwrap();
    assert!(s.contains('█') || s.contains('▀') || s.contains('▄'));
}
