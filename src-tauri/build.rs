//! Build script: tauri-build reads `tauri.conf.json` and `capabilities/`
//! and generates the app's context (the embedded `ui/dist`, icons, ACL).
//! The app manifest lists the window's commands, so each one needs a
//! permission in `capabilities/` and nothing else can be invoked.

/// The window's commands (`src/commands.rs`).
const COMMANDS: &[&str] = &[
    "get_state",
    "take_pending",
    "halt",
    "alert_action",
    "soft_stop",
    "decide",
    "pair_start",
    "pair_next",
    "pair_answer",
    "devices",
    "rename_device",
    "revoke_device",
    "audit",
    "audit_verify",
    "settings",
    "save_settings",
];

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        panic!("tauri-build failed: {e:#}");
    }
}
