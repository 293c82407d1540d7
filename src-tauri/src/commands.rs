//! The window's commands: each one maps to one `reins-desktop` call and
//! returns its view or its [`UiError`]. The only thing decided here is
//! start at login, which the shell owns (see [`crate::login`]).

use crate::Shell;
use crate::window::{Pending, PendingView};
use reins_desktop::settings::validate;
use reins_desktop::view::{
    AlertActionView, AuditFilter, AuditRow, DecisionView, DesktopState, DeviceView, HaltOpView,
    HaltResultView, PairOfferView, PairStepView, SettingsView, SoftStopView, UiError, VerifyView,
};
use tauri::State;

/// The whole live state (the window also gets it as `reins://state`).
#[tauri::command]
pub fn get_state(shell: State<'_, Shell>) -> DesktopState {
    shell.desktop.state()
}

/// What the window should show now that its page is up (the view it was
/// opened at, a tray halt's result); later requests come as events.
#[tauri::command]
pub fn take_pending(pending: State<'_, Pending>) -> PendingView {
    pending.take()
}

/// Stop, pause or resume `target`: `all` or an agent id.
#[tauri::command]
pub async fn halt(
    shell: State<'_, Shell>,
    op: HaltOpView,
    target: String,
) -> Result<HaltResultView, UiError> {
    shell.desktop.halt(op, &target).await
}

/// Act on an alert: `action` on the alert's agent `agent_id`.
#[tauri::command]
pub async fn alert_action(
    shell: State<'_, Shell>,
    action: AlertActionView,
    agent_id: String,
) -> Result<HaltResultView, UiError> {
    shell.desktop.alert_action(action, &agent_id).await
}

/// OpenClaw only: ask the gateway to abort the agent's active runs ("Stop
/// this run"); the gateway stays up. Not a halt.
#[tauri::command]
pub async fn soft_stop(shell: State<'_, Shell>, agent_id: String) -> Result<SoftStopView, UiError> {
    shell.desktop.soft_stop(&agent_id).await
}

/// Decide a pending request shown with `action_hash`.
#[tauri::command]
pub async fn decide(
    shell: State<'_, Shell>,
    request_id: String,
    action_hash: String,
    decision: DecisionView,
    confirmed_high_risk: bool,
) -> Result<(), UiError> {
    shell
        .desktop
        .decide(&request_id, &action_hash, decision, confirmed_high_risk)
        .await
}

/// Open a pairing offer.
#[tauri::command]
pub async fn pair_start(shell: State<'_, Shell>) -> Result<PairOfferView, UiError> {
    shell.desktop.pair_start().await
}

/// Wait for the pairing's next step.
#[tauri::command]
pub async fn pair_next(shell: State<'_, Shell>, session: String) -> Result<PairStepView, UiError> {
    shell.desktop.pair_next(&session).await
}

/// Accept or refuse the phone whose code the person compared.
#[tauri::command]
pub async fn pair_answer(
    shell: State<'_, Shell>,
    session: String,
    accept: bool,
) -> Result<(), UiError> {
    shell.desktop.pair_answer(&session, accept).await
}

/// The paired phones.
#[tauri::command]
pub async fn devices(shell: State<'_, Shell>) -> Result<Vec<DeviceView>, UiError> {
    shell.desktop.devices().await
}

/// Rename a paired phone.
#[tauri::command]
pub async fn rename_device(
    shell: State<'_, Shell>,
    id: String,
    name: String,
) -> Result<DeviceView, UiError> {
    shell.desktop.rename_device(&id, &name).await
}

/// Revoke a paired phone.
#[tauri::command]
pub async fn revoke_device(shell: State<'_, Shell>, id: String) -> Result<(), UiError> {
    shell.desktop.revoke_device(&id).await
}

/// Audit records matching `filter`, newest first.
#[tauri::command]
pub async fn audit(shell: State<'_, Shell>, filter: AuditFilter) -> Result<Vec<AuditRow>, UiError> {
    shell.desktop.audit(filter).await
}

/// Check the audit log's hash chain.
#[tauri::command]
pub async fn audit_verify(shell: State<'_, Shell>) -> Result<VerifyView, UiError> {
    shell.desktop.audit_verify().await
}

/// The settings now, start at login included.
#[tauri::command]
pub fn settings(shell: State<'_, Shell>) -> Result<SettingsView, UiError> {
    let mut v = shell.desktop.settings()?;
    v.start_at_login = shell.login.enabled()?;
    Ok(v)
}

/// Save every setting or none: the fields are validated first, start at
/// login is switched next (it is the easiest to put back), then the files
/// are written; if they fail, start at login is put back.
#[tauri::command]
pub fn save_settings(shell: State<'_, Shell>, settings: SettingsView) -> Result<(), UiError> {
    let errors = validate(&settings);
    if !errors.is_empty() {
        return Err(UiError {
            message: "Nothing was saved: fix the marked fields.".into(),
            fields: errors,
        });
    }
    let was = shell.login.enabled()?;
    if was != settings.start_at_login {
        shell.login.set(settings.start_at_login)?;
    }
    shell.desktop.save_settings(&settings).inspect_err(|_| {
        if was != settings.start_at_login
            && let Err(e) = shell.login.set(was)
        {
            tracing::warn!("could not put start at login back: {}", e.message);
        }
    })
}
