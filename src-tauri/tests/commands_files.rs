//! The settings commands through Tauri's mock runtime (no display), on
//! temp files and no daemon: start at login is the shell's (a fake switch
//! here), everything else goes to the config and policy files, all or
//! nothing.

mod common;
use common::*;
use reins_desktop::view::{DaemonConn, DesktopState, SettingsField, SettingsView};
use serde_json::json;
use std::sync::atomic::Ordering;

fn app(env: &Env) -> TestApp {
    let (desktop, token) = env.desktop();
    TestApp::new(desktop, token)
}

#[test]
fn settings_reads_the_files_and_start_at_login_from_the_shell() {
    let env = Env::new();
    let app = app(&env);
    let v: SettingsView = app.call("settings", json!({}));
    assert!(!v.start_at_login);
    assert!(v.approval_timeout_secs >= 1);
    use reins_tray::login::StartAtLogin;
    app.login.set(true).unwrap();
    let v: SettingsView = app.call("settings", json!({}));
    assert!(v.start_at_login);
}

#[test]
fn save_settings_writes_the_files_and_switches_start_at_login() {
    let env = Env::new();
    let app = app(&env);
    let mut v: SettingsView = app.call("settings", json!({}));
    v.approval_timeout_secs = 42;
    v.start_at_login = true;
    let () = app.call("save_settings", json!({ "settings": v }));
    let back: SettingsView = app.call("settings", json!({}));
    assert_eq!(back.approval_timeout_secs, 42);
    assert!(back.start_at_login);
}

#[test]
fn an_invalid_field_saves_nothing_and_names_the_field() {
    let env = Env::new();
    let app = app(&env);
    let before: SettingsView = app.call("settings", json!({}));
    let mut v = before.clone();
    v.approval_timeout_secs = 0;
    v.start_at_login = true;
    let e = app.error("save_settings", json!({ "settings": v }));
    assert!(
        e.fields
            .iter()
            .any(|f| f.field == SettingsField::ApprovalTimeoutSecs),
        "{e:?}"
    );
    let after: SettingsView = app.call("settings", json!({}));
    assert_eq!(after, before);
}

#[test]
fn when_start_at_login_cannot_be_switched_no_file_is_written() {
    let env = Env::new();
    let app = app(&env);
    let before: SettingsView = app.call("settings", json!({}));
    app.login.fail.store(true, Ordering::SeqCst);
    let mut v = before.clone();
    v.approval_timeout_secs = 77;
    v.start_at_login = true;
    let e = app.error("save_settings", json!({ "settings": v }));
    assert!(
        e.fields
            .iter()
            .any(|f| f.field == SettingsField::StartAtLogin),
        "{e:?}"
    );
    app.login.fail.store(false, Ordering::SeqCst);
    let after: SettingsView = app.call("settings", json!({}));
    assert_eq!(after, before);
}

#[test]
fn with_no_daemon_the_state_says_so_and_the_audit_log_is_empty_and_valid() {
    let env = Env::new();
    let app = app(&env);
    let s: DesktopState = app.call("get_state", json!({}));
    assert_ne!(s.daemon, DaemonConn::Connected);
    let rows: Vec<serde_json::Value> = app.call("audit", json!({ "filter": {} }));
    assert!(rows.is_empty());
    let v: serde_json::Value = app.call("audit_verify", json!({}));
    assert_eq!(v["ok"], true, "{v}");
}

#[test]
fn take_pending_hands_over_what_the_window_was_opened_for_once() {
    use reins_desktop::view::{HaltOpView, HaltResultView, OpenViewView};
    let env = Env::new();
    let app = app(&env);
    // The page is not up yet: requests wait, the later view wins.
    reins_tray::window::show(app.app.handle(), Some(OpenViewView::Pair));
    let failed = HaltResultView {
        op: HaltOpView::Stop,
        success: false,
        summary: "not verified".into(),
        targets: Vec::new(),
    };
    reins_tray::window::show_halt(app.app.handle(), failed.clone());
    let p: serde_json::Value = app.call("take_pending", json!({}));
    assert_eq!(p["open"], json!({ "view": "agents" }));
    assert_eq!(p["halt"], serde_json::to_value(&failed).unwrap());
    // Taken once; from now on the page gets events instead.
    let p: serde_json::Value = app.call("take_pending", json!({}));
    assert_eq!(p, json!({ "open": null, "halt": null }));
    reins_tray::window::show(app.app.handle(), Some(OpenViewView::Pair));
    let p: serde_json::Value = app.call("take_pending", json!({}));
    assert_eq!(p, json!({ "open": null, "halt": null }));
}
