//! Start at login: the one setting the shell owns (the autostart plugin
//! writes `~/.config/autostart/reins-tray.desktop` on Linux). Behind a small
//! trait so the commands' tests can use a fake.

use reins_desktop::view::{SettingsError, SettingsField, UiError};
use std::sync::atomic::{AtomicBool, Ordering};
use tauri::{AppHandle, Runtime};
use tauri_plugin_autostart::ManagerExt;

/// Read and set start at login.
pub trait StartAtLogin: Send + Sync {
    /// Is the tray started at login?
    fn enabled(&self) -> Result<bool, UiError>;
    /// Start the tray at login, or stop doing so.
    fn set(&self, on: bool) -> Result<(), UiError>;
}

/// A start-at-login error, as the Settings screen shows it (on the field).
pub fn login_error(what: &str, e: impl std::fmt::Display) -> UiError {
    let message = format!(
        "Could not {what} start at login ({e}). Check that ~/.config/autostart is writable."
    );
    UiError {
        message: message.clone(),
        fields: vec![SettingsError {
            field: SettingsField::StartAtLogin,
            message,
        }],
    }
}

/// The real switch: tauri's autostart plugin.
#[derive(Debug)]
pub struct PluginLogin<R: Runtime> {
    app: AppHandle<R>,
}

impl<R: Runtime> PluginLogin<R> {
    /// Over the app's autostart plugin (registered on the builder).
    pub fn new(app: AppHandle<R>) -> Self {
        PluginLogin { app }
    }
}

impl<R: Runtime> StartAtLogin for PluginLogin<R> {
    fn enabled(&self) -> Result<bool, UiError> {
        self.app
            .autolaunch()
            .is_enabled()
            .map_err(|e| login_error("read", e))
    }

    fn set(&self, on: bool) -> Result<(), UiError> {
        let a = self.app.autolaunch();
        let r = if on { a.enable() } else { a.disable() };
        r.map_err(|e| login_error(if on { "turn on" } else { "turn off" }, e))
    }
}

/// An in-memory switch, for tests and for a session without a home.
#[derive(Debug, Default)]
pub struct Memory {
    on: AtomicBool,
    /// When set, `set` fails (tests of the all-or-nothing save).
    pub fail: AtomicBool,
}

impl StartAtLogin for Memory {
    fn enabled(&self) -> Result<bool, UiError> {
        Ok(self.on.load(Ordering::SeqCst))
    }

    fn set(&self, on: bool) -> Result<(), UiError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(login_error("change", "the test made it fail"));
        }
        self.on.store(on, Ordering::SeqCst);
        Ok(())
    }
}
