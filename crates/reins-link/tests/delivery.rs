//! Phone→desktop delivery and every way it must refuse: duplicates, forgery,
//! replay (also across a restart), routing, revocation, floods, retained.

mod common;

use common::*;
use reins_link::{LinkEvent, MemorySecretStore, PhoneClient, Recipient};
use reins_proto::{PairKey, Payload};
use std::time::Duration;

/// How long "nothing arrives" is watched. A guard, not a readiness wait:
/// a second message sent afterwards proves the pipeline was drained.
const QUIET: Duration = Duration::from_millis(300);

/// Sends a fresh heartbeat and asserts it is the next event: proves that
/// everything published before it was processed (and dropped).
async fn assert_drained_then_alive(desk: &mut Desktop, phone: &mut PhoneClient) {
    let probe = phone
        .send(&Payload::Heartbeat(reins_proto::payload::Heartbeat {
            interval_s: 7,
        }))
        .unwrap();
    match desk.next_event(T).await {
        Some(LinkEvent::FromPhone {
            msg_id, payload, ..
        }) => {
            assert_eq!(
                msg_id, probe.msg_id,
                "an earlier message got through: {payload:?}"
            );
        }
        other => panic!("link stopped delivering: {other:?}"),
    }
}

/// Bounded wait until the link's counters satisfy `ok` (messages from a
/// *different* client than the probe's are not ordered with it).
async fn wait_metrics(desk: &Desktop, ok: impl Fn(&reins_link::LinkMetrics) -> bool) {
    let deadline = tokio::time::Instant::now() + T;
    while !ok(&desk.link.metrics()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            desk.link.metrics()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn setup(
    url: &str,
) -> (
    tempfile::TempDir,
    Desktop,
    PhoneClient,
    reins_link::DeviceInfo,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start(url, dir.path(), MemorySecretStore::new()).await;
    let (phone, info) = pair_phone(&mut desk, url, "Phone").await;
    (dir, desk, phone, info)
}

async fn exactly_once(url: &str) {
    let (_d, mut desk, mut phone, info) = setup(url).await;
    let out = phone.send(&stop_all()).unwrap();
    // QoS1 redeliveries: the same bytes twice more.
    phone
        .publish_raw(&out.topic, out.bytes.clone(), false)
        .unwrap();
    phone
        .publish_raw(&out.topic, out.bytes.clone(), false)
        .unwrap();
    let Some(LinkEvent::FromPhone {
        device_id,
        payload,
        msg_id,
    }) = desk.next_event(T).await
    else {
        panic!("not delivered")
    };
    assert_eq!(
        (device_id, msg_id, payload),
        (device_id_of(&info), out.msg_id, stop_all())
    );
    assert_drained_then_alive(&mut desk, &mut phone).await;
    assert_eq!(desk.link.metrics().duplicates, 2);
}

fn device_id_of(i: &reins_link::DeviceInfo) -> reins_link::DeviceId {
    device_id(i)
}

#[tokio::test]
async fn a_command_is_delivered_exactly_once_despite_duplicates_on_the_embedded_broker() {
    exactly_once(&embedded().local_mqtt_url()).await;
}

#[tokio::test]
async fn a_command_is_delivered_exactly_once_despite_duplicates_on_mosquitto() {
    let m = Mosquitto::start();
    exactly_once(&m.url()).await;
}

#[tokio::test]
async fn a_message_sealed_with_a_random_key_is_dropped() {
    let m = Mosquitto::start();
    let (_d, mut desk, mut phone, _info) = setup(&m.url()).await;
    let topic = phone.channel().unwrap().send_topic().to_owned();
    // An attacker who knows the topic but not K.
    let mut forger =
        PhoneClient::with_key(&desk.broker, &PairKey::from_bytes(rand::random()), "", T)
            .await
            .unwrap();
    let forged = forger.seal_at(&stop_all(), reins_link::now_ms()).unwrap();
    forger.publish_raw(&topic, forged.bytes, false).unwrap();
    // Plaintext JSON is no better.
    forger
        .publish_raw(&topic, br#"{"op":"stop","target":"all"}"#.to_vec(), false)
        .unwrap();
    wait_metrics(&desk, |m| m.unauthentic >= 2).await;
    assert_drained_then_alive(&mut desk, &mut phone).await;
    assert_eq!(desk.link.metrics().unauthentic, 2);
}

#[tokio::test]
async fn a_replayed_message_is_dropped_even_after_the_link_restarts() {
    let m = Mosquitto::start();
    let (_d, mut desk, mut phone, _info) = setup(&m.url()).await;
    let out = phone.send(&stop_all()).unwrap();
    assert!(desk.next_event(T).await.is_some());
    phone
        .publish_raw(&out.topic, out.bytes.clone(), false)
        .unwrap();
    assert_drained_then_alive(&mut desk, &mut phone).await;

    let mut desk = desk.restart().await;
    phone
        .publish_raw(&out.topic, out.bytes.clone(), false)
        .unwrap();
    assert_drained_then_alive(&mut desk, &mut phone).await;
    assert_eq!(
        desk.link.metrics().delivered,
        1,
        "only the probe after restart"
    );
}

#[tokio::test]
async fn a_message_moved_to_another_devices_topic_is_dropped() {
    let url = embedded().local_mqtt_url();
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start(&url, dir.path(), MemorySecretStore::new()).await;
    let (mut a, _) = pair_phone(&mut desk, &url, "A").await;
    let (mut b, b_info) = pair_phone(&mut desk, &url, "B").await;
    let from_a = a.seal_at(&stop_all(), reins_link::now_ms()).unwrap();
    let b_topic = b.channel().unwrap().send_topic().to_owned();
    a.publish_raw(&b_topic, from_a.bytes, false).unwrap();
    wait_metrics(&desk, |m| m.unauthentic >= 1).await;
    assert_drained_then_alive(&mut desk, &mut b).await;
    assert_eq!(desk.link.metrics().unauthentic, 1);
    // And B's genuine traffic is attributed to B.
    b.send(&stop_all()).unwrap();
    let Some(LinkEvent::FromPhone { device_id, .. }) = desk.next_event(T).await else {
        panic!()
    };
    assert_eq!(device_id, device_id_of(&b_info));
    let _ = &mut a;
}

#[tokio::test]
async fn a_revoked_devices_messages_are_dropped() {
    let url = embedded().local_mqtt_url();
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start(&url, dir.path(), MemorySecretStore::new()).await;
    let (mut a, a_info) = pair_phone(&mut desk, &url, "Lost phone").await;
    let (mut b, _) = pair_phone(&mut desk, &url, "Kept phone").await;
    assert!(desk.link.revoke(device_id_of(&a_info)).await.unwrap());
    assert!(
        !desk
            .secrets
            .names()
            .contains(&format!("device-{}", a_info.id))
    );
    assert_eq!(desk.link.devices().await.unwrap().len(), 1);
    a.send(&stop_all()).unwrap();
    assert_drained_then_alive(&mut desk, &mut b).await;
    assert!(desk.next_event(QUIET).await.is_none());
    // Still refused after a restart (the key is gone for good).
    let mut desk = desk.restart().await;
    a.send(&stop_all()).unwrap();
    assert_drained_then_alive(&mut desk, &mut b).await;
    assert!(desk.next_event(QUIET).await.is_none());
}

#[tokio::test]
async fn a_garbage_flood_is_dropped_without_growth_and_the_link_still_works() {
    let m = Mosquitto::start();
    let (_d, mut desk, mut phone, _info) = setup(&m.url()).await;
    let topic = phone.channel().unwrap().send_topic().to_owned();
    let attacker = PhoneClient::connect(&desk.broker, T).await.unwrap();
    let before = desk.link.metrics();
    const N: u64 = 5_000;
    let started = std::time::Instant::now();
    for i in 0..N {
        let len = 16 + (i as usize % 600);
        let mut junk: Vec<u8> = (0..len).map(|_| rand::random()).collect();
        if i % 3 == 0 {
            // Well-formed-looking envelopes with random fields.
            junk = format!(
                r#"{{"v":1,"suite":1,"pairing_id":"{}","sender":"AAAAAAAAAAAAAAAAAAAAAA","dir":"p2d","kind":"command","seq":{i},"ts_ms":{},"msg_id":"AAAAAAAAAAAAAAAAAAAAAA","nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ct":"AAAAAAAAAAAAAAAAAAAAAA"}}"#,
                "B".repeat(22),
                reins_link::now_ms()
            )
            .into_bytes();
        }
        // The request queue is bounded; yield until there is room.
        while attacker.publish_raw(&topic, junk.clone(), false).is_err() {
            tokio::task::yield_now().await;
        }
    }
    // Bounded wait for the link to have seen the whole flood.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while desk.link.metrics().received < before.received + N {
        assert!(
            tokio::time::Instant::now() < deadline,
            "flood not consumed: {:?}",
            desk.link.metrics()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let m = desk.link.metrics();
    assert_eq!(m.unauthentic, before.unauthentic + N, "{m:?}");
    assert_eq!(m.delivered, before.delivered);
    assert!(started.elapsed() < Duration::from_secs(60));
    // Nothing was persisted for garbage: the device file did not grow.
    let devices = desk.dir.join("devices");
    for f in std::fs::read_dir(devices).unwrap() {
        assert!(f.unwrap().metadata().unwrap().len() < 4096);
    }
    assert_drained_then_alive(&mut desk, &mut phone).await;
}

#[tokio::test]
async fn a_stale_retained_message_is_rejected_after_reconnect() {
    let m = Mosquitto::start();
    let (_d, mut desk, mut phone, _info) = setup(&m.url()).await;
    // Planted while the desktop is away: a retained copy of a genuine,
    // already-delivered command and a retained stale one.
    let old = phone.send(&stop_all()).unwrap();
    assert!(desk.next_event(T).await.is_some());
    let stale = phone
        .seal_at(&stop_all(), reins_link::now_ms() - 10 * 60 * 1000)
        .unwrap();
    let mut desk = {
        desk.link.shutdown().await;
        phone
            .publish_raw(&old.topic, old.bytes.clone(), true)
            .unwrap();
        phone
            .publish_raw(&stale.topic, stale.bytes.clone(), true)
            .unwrap();
        Desktop::start(&desk.broker.url, &desk.dir, desk.secrets.clone()).await
    };
    // The retained message (the broker keeps the last one) comes with the
    // SUBACK; by the time the probe arrives it has been seen.
    assert_drained_then_alive(&mut desk, &mut phone).await;
    assert_eq!(desk.link.metrics().retained, 1);
    // Even un-retained, the stale one is refused by the timestamp window.
    phone.publish_raw(&stale.topic, stale.bytes, false).unwrap();
    assert_drained_then_alive(&mut desk, &mut phone).await;
    assert_eq!(desk.link.metrics().unauthentic, 1);
}

#[tokio::test]
async fn the_desktop_reaches_one_phone_or_all_and_persists_its_seq() {
    let url = embedded().local_mqtt_url();
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start(&url, dir.path(), MemorySecretStore::new()).await;
    let (mut a, a_info) = pair_phone(&mut desk, &url, "A").await;
    let (mut b, _) = pair_phone(&mut desk, &url, "B").await;
    let hb = Payload::Heartbeat(reins_proto::payload::Heartbeat { interval_s: 30 });
    let sent = desk.link.send(Recipient::All, hb.clone()).await.unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(a.recv(T).await.unwrap().payload, hb);
    assert_eq!(b.recv(T).await.unwrap().payload, hb);
    let one = desk
        .link
        .send(Recipient::Device(device_id_of(&a_info)), hb.clone())
        .await
        .unwrap();
    // Seq 1 was `pairing_accepted`; the broadcast above was 2.
    assert_eq!(one[0].seq, 3);
    // After a restart the seq continues above every seq used, skipping at
    // most the rest of a block written ahead, so the phone sees no replay
    // and accepts it.
    let desk = desk.restart().await;
    let again = desk
        .link
        .send(Recipient::Device(device_id_of(&a_info)), hb.clone())
        .await
        .unwrap();
    assert!(
        again[0].seq > 3 && again[0].seq <= 3 + 64,
        "{}",
        again[0].seq
    );
    assert_eq!(a.recv(T).await.unwrap().header.seq, 3);
    assert_eq!(a.recv(T).await.unwrap().header.seq, again[0].seq);
    let r = desk
        .link
        .send(Recipient::Device(reins_link::DeviceId([7; 16])), hb)
        .await;
    assert!(r.is_err());
}

#[tokio::test]
async fn renaming_a_device_is_visible_in_the_device_list() {
    let url = embedded().local_mqtt_url();
    let (_d, desk, _phone, info) = setup(&url).await;
    desk.link
        .rename(device_id_of(&info), "Work phone")
        .await
        .unwrap();
    assert_eq!(desk.link.devices().await.unwrap()[0].name, "Work phone");
    assert!(desk.link.rename(device_id_of(&info), "").await.is_err());
}
