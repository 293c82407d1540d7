//! The D-Bus notifier against a fake notification server on a private
//! dbus-daemon: what it sends, and which signals it believes.

use reins_notify::fake::{FakeServer, Forger, PrivateBus};
use reins_notify::{
    DbusNotifier, NoteEvent, NoteId, Notice, NoticeAction, Notifier, NotifyError, Urgency,
};
use tokio::sync::mpsc::UnboundedReceiver;

fn approval_notice() -> Notice {
    Notice {
        summary: "Claude Code wants to run a command".into(),
        body: "rm -rf build".into(),
        actions: vec![
            NoticeAction {
                key: "approve".into(),
                label: "Approve".into(),
            },
            NoticeAction {
                key: "deny".into(),
                label: "Deny".into(),
            },
        ],
        urgency: Urgency::Critical,
        resident: true,
        category: Some("x-reins.approval".into()),
        persistent: true,
    }
}

async fn next_event(rx: &mut UnboundedReceiver<NoteEvent>) -> NoteEvent {
    rx.recv().await.expect("notifier events ended")
}

#[tokio::test]
async fn a_raised_notice_reaches_the_server_and_its_click_comes_back() {
    let bus = PrivateBus::start().unwrap();
    let mut server = FakeServer::start(bus.address(), &["actions", "body"])
        .await
        .unwrap();
    let (mut notifier, mut events) = DbusNotifier::connect(bus.address()).await.unwrap();
    let info = notifier.probe().await.unwrap();
    assert_eq!(info.name, "fake-notify");
    assert!(info.has_actions());
    assert!(!info.has_body_markup());
    assert_eq!(
        info.pid,
        Some(std::process::id()),
        "the fake runs in this process"
    );

    let id = notifier.raise(&approval_notice()).await.unwrap();
    let got = server.next_notify().await;
    assert_eq!(NoteId(got.id), id);
    assert_eq!(got.app_name, "Reins");
    assert_eq!(got.keys(), vec!["approve", "deny"]);
    assert_eq!(got.urgency, Some(2));
    assert!(got.hints.contains(&"resident".to_string()));
    assert_eq!(got.expire_timeout, 0);
    assert_eq!(Some(got.sender.clone()), notifier.unique_name());

    server.invoke(got.id, "approve").await.unwrap();
    assert_eq!(
        next_event(&mut events).await,
        NoteEvent::Action {
            id,
            key: "approve".into()
        }
    );
    notifier.close(id).await.unwrap();
    assert_eq!(server.next_close().await, got.id);
}

#[tokio::test]
async fn a_signal_forged_by_another_connection_is_never_reported() {
    let bus = PrivateBus::start().unwrap();
    let mut server = FakeServer::start(bus.address(), &["actions"])
        .await
        .unwrap();
    let (mut notifier, mut events) = DbusNotifier::connect(bus.address()).await.unwrap();
    let id = notifier.raise(&approval_notice()).await.unwrap();
    let got = server.next_notify().await;

    let forger = Forger::connect(bus.address()).await.unwrap();
    forger
        .forge_action(&notifier.unique_name().unwrap(), id.0, "approve")
        .await
        .unwrap();
    forger.flush().await.unwrap();
    // The bus delivered the forgeries before this genuine click: the first
    // event must be the genuine one.
    server.invoke(got.id, "deny").await.unwrap();
    assert_eq!(
        next_event(&mut events).await,
        NoteEvent::Action {
            id,
            key: "deny".into()
        }
    );
    assert!(events.try_recv().is_err(), "nothing else was reported");
}

#[tokio::test]
async fn with_no_server_probe_says_so_and_a_server_arriving_later_is_reported() {
    let bus = PrivateBus::start().unwrap();
    let (mut notifier, mut events) = DbusNotifier::connect(bus.address()).await.unwrap();
    let err = notifier.probe().await.unwrap_err();
    assert!(matches!(err, NotifyError::NoServer), "{err:?}");
    assert!(
        err.to_string()
            .contains("start your desktop's notification daemon")
    );

    let server = FakeServer::start(bus.address(), &["actions"])
        .await
        .unwrap();
    assert_eq!(next_event(&mut events).await, NoteEvent::ServerUp);
    assert_eq!(notifier.probe().await.unwrap().name, "fake-notify");

    server.stop().await;
    assert_eq!(next_event(&mut events).await, NoteEvent::ServerDown);
}

#[tokio::test]
async fn no_bus_at_the_address_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("reins-nobus-{}", std::process::id()));
    let address = format!("unix:path={}/nothing-here", dir.display());
    let err = DbusNotifier::connect(&address).await.unwrap_err();
    assert!(matches!(err, NotifyError::NoSessionBus(_)), "{err:?}");
    assert!(err.to_string().contains("DBUS_SESSION_BUS_ADDRESS"));
}

#[tokio::test]
async fn a_forged_ownership_change_does_not_make_the_forger_the_server() {
    let bus = PrivateBus::start().unwrap();
    let mut server = FakeServer::start(bus.address(), &["actions"])
        .await
        .unwrap();
    let (mut notifier, mut events) = DbusNotifier::connect(bus.address()).await.unwrap();
    let id = notifier.raise(&approval_notice()).await.unwrap();
    let got = server.next_notify().await;
    let forger = Forger::connect(bus.address()).await.unwrap();
    let me = notifier.unique_name().unwrap();
    forger.forge_owner_change(&me).await.unwrap();
    forger.forge_action(&me, id.0, "approve").await.unwrap();
    forger.flush().await.unwrap();
    server.invoke(got.id, "deny").await.unwrap();
    assert_eq!(
        next_event(&mut events).await,
        NoteEvent::Action {
            id,
            key: "deny".into()
        },
        "neither the forged owner change nor the forged click counted"
    );
}
