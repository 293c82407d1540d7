//! The window, created only when it is opened and destroyed when the
//! person closes it: the idle tray holds no web view, so none of WebKit's
//! processes run while the window is closed.
//!
//! A window that is being created has no listeners yet, so what it should
//! show waits in [`Pending`] until the page asks for it
//! ([`crate::commands::take_pending`], called once its listeners are up);
//! from then on it is sent as events ([`OPEN_EVENT`], [`HALT_EVENT`]).

use crate::{HALT_EVENT, OPEN_EVENT};
use reins_desktop::view::{HaltResultView, OpenViewView};
use serde::Serialize;
use std::sync::{Arc, Mutex, PoisonError};
use tauri::webview::PageLoadEvent;
use tauri::{
    AppHandle, Emitter, Manager, Runtime, WebviewWindow, WebviewWindowBuilder, WindowEvent,
};

/// The window's label (`tauri.conf.json`, where it has `"create": false`).
pub const MAIN: &str = "main";

/// What the page should show once it is up: the view to open and a tray
/// halt's result (a failed Stop/Pause from the menu).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PendingView {
    /// Go to this view.
    pub open: Option<OpenViewView>,
    /// Show this halt result on the agents view.
    pub halt: Option<HaltResultView>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The page has asked for what is pending: its listeners are up.
    ready: bool,
    waiting: PendingView,
}

/// What waits for the page (shared by the shell and the window's hooks).
#[derive(Clone, Debug, Default)]
pub struct Pending(Arc<Mutex<Inner>>);

impl Pending {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The page is up: hand it what waits and send it events from now on.
    pub fn take(&self) -> PendingView {
        self.with(|i| {
            i.ready = true;
            std::mem::take(&mut i.waiting)
        })
    }

    /// The page is gone (closed or reloading): keep requests until it asks.
    pub fn not_ready(&self) {
        self.with(|i| i.ready = false);
    }

    /// Queue `next` unless the page is up; `Some(next)` when it should be
    /// sent now. A later view replaces an earlier one.
    fn queue(&self, next: PendingView) -> Option<PendingView> {
        self.with(|i| {
            if i.ready {
                return Some(next);
            }
            if next.open.is_some() {
                i.waiting.open = next.open;
            }
            if next.halt.is_some() {
                i.waiting.halt = next.halt;
            }
            None
        })
    }
}

/// Open the window at `view` (creating it if it is closed), raise and focus it.
pub fn show<R: Runtime>(app: &AppHandle<R>, view: Option<OpenViewView>) {
    open(
        app,
        PendingView {
            open: view,
            halt: None,
        },
    );
}

/// Open the window on the agents view with a tray halt's result.
pub fn show_halt<R: Runtime>(app: &AppHandle<R>, result: HaltResultView) {
    open(
        app,
        PendingView {
            open: Some(OpenViewView::Agents),
            halt: Some(result),
        },
    );
}

fn open<R: Runtime>(app: &AppHandle<R>, what: PendingView) {
    let pending = app.state::<Pending>().inner().clone();
    // The page is marked not ready by its window's destruction and by each
    // page load, so a request here is queued until the new page asks.
    let w = match app.get_webview_window(MAIN) {
        Some(w) => w,
        None => match create(app, pending.clone()) {
            Ok(w) => w,
            Err(e) => match app.get_webview_window(MAIN) {
                // Another request created it meanwhile.
                Some(w) => w,
                None => {
                    tracing::warn!("could not open the window: {e}");
                    return;
                }
            },
        },
    };
    let shown = w
        .show()
        .and_then(|()| w.unminimize())
        .and_then(|()| w.set_focus());
    if let Err(e) = shown {
        tracing::warn!("could not show the window: {e}");
    }
    if let Some(now) = pending.queue(what) {
        send(&w, &now);
    }
}

fn send<R: Runtime>(w: &WebviewWindow<R>, what: &PendingView) {
    let sent = what
        .open
        .as_ref()
        .map_or(Ok(()), |v| w.emit_to(MAIN, OPEN_EVENT, v))
        .and_then(|()| {
            what.halt
                .as_ref()
                .map_or(Ok(()), |r| w.emit_to(MAIN, HALT_EVENT, r))
        });
    if let Err(e) = sent {
        tracing::warn!("could not send the window to its view: {e}");
    }
}

/// Create the window from its configuration (size, title; the CSP is the
/// app's). It is destroyed when closed, and its page is not ready until it
/// asks for what is pending.
pub fn create<R: Runtime>(app: &AppHandle<R>, pending: Pending) -> tauri::Result<WebviewWindow<R>> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|c| c.label == MAIN)
        .cloned()
        .unwrap_or_default();
    let on_load = pending.clone();
    let w = WebviewWindowBuilder::from_config(app, &config)?
        .on_page_load(move |_, load| {
            if load.event() == PageLoadEvent::Started {
                on_load.not_ready();
            }
        })
        .build()?;
    w.on_window_event(move |e| {
        if let WindowEvent::Destroyed = e {
            pending.not_ready();
            tracing::info!("window closed; its web view is gone");
        }
    });
    Ok(w)
}
