//! The window: created hidden at start (the app lives in the tray), shown
//! at a view on request, hidden again when closed.

use crate::OPEN_EVENT;
use reins_desktop::view::OpenViewView;
use tauri::{AppHandle, Emitter, Manager, Runtime, WindowEvent};

/// The window's label (`tauri.conf.json`).
pub const MAIN: &str = "main";

/// Show, raise and focus the window, then send it to `view`.
pub fn show<R: Runtime>(app: &AppHandle<R>, view: Option<OpenViewView>) {
    let Some(w) = app.get_webview_window(MAIN) else {
        tracing::warn!("the window is gone; restart reins-tray to open it");
        return;
    };
    let shown = w
        .show()
        .and_then(|()| w.unminimize())
        .and_then(|()| w.set_focus());
    if let Err(e) = shown {
        tracing::warn!("could not show the window: {e}");
    }
    if let Some(view) = view
        && let Err(e) = w.emit_to(MAIN, OPEN_EVENT, view)
    {
        tracing::warn!("could not send the window to its view: {e}");
    }
}

/// Closing the window hides it; the tray's Quit exits.
pub fn hide_on_close<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let hide = w.clone();
        w.on_window_event(move |e| {
            if let WindowEvent::CloseRequested { api, .. } = e {
                api.prevent_close();
                if let Err(e) = hide.hide() {
                    tracing::warn!("could not hide the window: {e}");
                }
            }
        });
    }
}
