//! The Reins tray app: a thin Tauri v2 shell over `reins-desktop`.
//!
//! It owns no logic of its own. [`reins_desktop::Desktop`] connects to (or
//! starts) the daemon, subscribes as the tray surface and keeps the live
//! state; [`reins_desktop::tray_model`] says what the tray shows and
//! [`reins_desktop::Desktop::handle_menu`] what a click does. This crate
//! only draws the model ([`tray`]), opens the window on demand and lets it
//! be destroyed on close ([`window`]), forwards the state to the window as events, exposes the
//! window's commands ([`commands`]) and owns the two things only a shell
//! can: one instance per session and start at login ([`login`]).
//!
//! Quitting the tray leaves the daemon running: agents stay watched and
//! the CLI, notifications and a paired phone keep working.

pub mod args;
pub mod commands;
pub mod login;
pub mod tray;
pub mod window;

use login::{PluginLogin, StartAtLogin};
use reins_desktop::view::OpenViewView;
use reins_desktop::{CancellationToken, Desktop, DesktopOptions};
use std::sync::Arc;
use tauri::{Emitter, Manager, Runtime};

/// The event that carries the whole [`reins_desktop::view::DesktopState`]
/// to the window on every change.
pub const STATE_EVENT: &str = "reins://state";
/// The event that sends the window to a view ([`OpenViewView`]).
pub const OPEN_EVENT: &str = "reins://open";
/// The event that shows a tray halt's result on the agents view
/// ([`reins_desktop::view::HaltResultView`]).
pub const HALT_EVENT: &str = "reins://halt";

/// What the commands and the tray share: the desktop core and the
/// start-at-login switch.
#[derive(Clone)]
pub struct Shell {
    /// The desktop core (daemon connection, state, commands).
    pub desktop: Desktop,
    /// Start at login (the autostart plugin; a fake in tests).
    pub login: Arc<dyn StartAtLogin>,
}

impl std::fmt::Debug for Shell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shell")
            .field("desktop", &self.desktop)
            .finish_non_exhaustive()
    }
}

/// Register the window's commands on `builder` (they read the [`Shell`]
/// that the app manages, and the [`window::Pending`] managed here). The
/// real app and the mock-runtime tests both build through this.
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .manage(window::Pending::default())
        .invoke_handler(tauri::generate_handler![
            commands::get_state,
            commands::take_pending,
            commands::halt,
            commands::alert_action,
            commands::soft_stop,
            commands::decide,
            commands::pair_start,
            commands::pair_next,
            commands::pair_answer,
            commands::devices,
            commands::rename_device,
            commands::revoke_device,
            commands::audit,
            commands::audit_verify,
            commands::settings,
            commands::save_settings,
        ])
}

/// Start the desktop core on tauri's async runtime.
pub fn start_desktop(opts: DesktopOptions, shutdown: CancellationToken) -> Desktop {
    tauri::async_runtime::block_on(async move { Desktop::start(opts, shutdown) })
}

/// Forward every state change to the window as [`STATE_EVENT`] (when it
/// is open: a window opened later asks with `get_state`), and every
/// open-window request from the daemon (a notification was clicked) to
/// [`window::show`].
pub fn forward_events<R: Runtime>(app: &tauri::AppHandle<R>, desktop: &Desktop) {
    let mut states = desktop.watch();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        while states.changed().await.is_ok() {
            let state = states.borrow_and_update().clone();
            if handle.get_webview_window(window::MAIN).is_none() {
                continue;
            }
            if let Err(e) = handle.emit_to("main", STATE_EVENT, state) {
                tracing::warn!("could not send the state to the window: {e}");
            }
        }
    });
    let mut opens = desktop.opens();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match opens.recv().await {
                Ok(view) => window::show(&handle, Some(view)),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            }
        }
    });
}

/// Build and run the tray app until Quit.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("REINS_LOG")
                .unwrap_or_else(|_| "reins_tray=info,reins_desktop=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!(
            "reins-tray needs a graphical session (DISPLAY or WAYLAND_DISPLAY is not set). \
             Without one, run `reins daemon` and use the `reins` command."
        );
        std::process::exit(1);
    }
    let first_open = args::open_view(std::env::args().skip(1));
    let shutdown = CancellationToken::new();
    let desktop = start_desktop(DesktopOptions::tray(), shutdown.clone());

    let builder = tauri::Builder::default()
        // First: a second launch hands its arguments to this instance and exits.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            let view = args::open_view(argv.into_iter().skip(1)).unwrap_or(OpenViewView::Agents);
            window::show(app, Some(view));
        }))
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .app_name("reins-tray")
                .build(),
        );
    let shell_desktop = desktop.clone();
    let app = with_commands(builder)
        .setup(move |app| {
            let handle = app.handle().clone();
            let login: Arc<dyn StartAtLogin> = Arc::new(PluginLogin::new(handle.clone()));
            app.manage(Shell {
                desktop: shell_desktop.clone(),
                login: login.clone(),
            });
            forward_events(&handle, &shell_desktop);
            tray::install(&handle, shell_desktop.clone(), login)?;
            if let Some(view) = first_open.clone() {
                window::show(&handle, Some(view));
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("reins-tray could not start: {e}. Run it from your desktop session.");
            std::process::exit(1)
        });
    app.run(move |_app, event| match event {
        // The last window closed: the tray stays (only Quit exits, with a code).
        tauri::RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        tauri::RunEvent::Exit => shutdown.cancel(),
        _ => {}
    });
}
