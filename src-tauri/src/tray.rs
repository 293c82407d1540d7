//! The tray icon: draws a [`TrayModel`] (icon, tooltip, menu) and maps a
//! clicked entry back through [`MenuId::decode`] and
//! [`Desktop::handle_menu`]. Labels, ids and what a click does all come
//! from `reins-desktop`; this module only converts and applies them.
//!
//! The model is recomputed on every state change and every
//! [`REFRESH`] (for the uptime labels), and the menu is rebuilt only when
//! the model differs from the one shown.

use crate::login::StartAtLogin;
use crate::window;
use reins_desktop::view::{AlertActionView, HaltOpView, HaltResultView};
use reins_desktop::{Desktop, MenuEntry, MenuId, MenuOutcome, TrayIcon, TrayModel, tray_model};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{TrayIcon as Tray, TrayIconBuilder};
use tauri::{AppHandle, Runtime};
use tokio::sync::mpsc;

/// The tray icon's id.
pub const TRAY_ID: &str = "reins";
/// How often the model is recomputed with no state change (uptimes).
pub const REFRESH: Duration = Duration::from_secs(30);

/// The PNG of each tray state (`icons/tray/`, drawn from `icons/src/`).
fn icon_png(icon: TrayIcon) -> &'static [u8] {
    match icon {
        TrayIcon::Idle => include_bytes!("../../icons/tray/idle@2x.png"),
        TrayIcon::Running => include_bytes!("../../icons/tray/running@2x.png"),
        TrayIcon::Waiting => include_bytes!("../../icons/tray/waiting@2x.png"),
        TrayIcon::Paused => include_bytes!("../../icons/tray/paused@2x.png"),
        TrayIcon::Disconnected => include_bytes!("../../icons/tray/disconnected@2x.png"),
    }
}

fn icon_image(icon: TrayIcon) -> tauri::Result<Image<'static>> {
    Image::from_bytes(icon_png(icon))
}

/// The menu of `entries`. Entries without an action get ids of their own
/// (`label:N`) that decode to nothing.
pub fn build_menu<R: Runtime>(app: &AppHandle<R>, entries: &[MenuEntry]) -> tauri::Result<Menu<R>> {
    let mut n = 0;
    let items = build_items(app, entries, &mut n)?;
    let refs: Vec<&dyn IsMenuItem<R>> = items.iter().map(|i| i.as_ref()).collect();
    Menu::with_items(app, &refs)
}

fn build_items<R: Runtime>(
    app: &AppHandle<R>,
    entries: &[MenuEntry],
    n: &mut usize,
) -> tauri::Result<Vec<Box<dyn IsMenuItem<R>>>> {
    let mut out: Vec<Box<dyn IsMenuItem<R>>> = Vec::with_capacity(entries.len());
    for e in entries {
        *n += 1;
        out.push(match e {
            MenuEntry::Item { id, label, enabled } => {
                let id = id
                    .as_ref()
                    .map_or_else(|| format!("label:{n}"), MenuId::encode);
                let on = *enabled && MenuId::decode(&id).is_some();
                Box::new(MenuItem::with_id(app, id, label, on, None::<&str>)?)
            }
            MenuEntry::Check { id, label, checked } => Box::new(CheckMenuItem::with_id(
                app,
                id.encode(),
                label,
                true,
                *checked,
                None::<&str>,
            )?),
            MenuEntry::Submenu { label, items } => {
                let children = build_items(app, items, n)?;
                let refs: Vec<&dyn IsMenuItem<R>> = children.iter().map(|i| i.as_ref()).collect();
                Box::new(Submenu::with_id_and_items(
                    app,
                    format!("submenu:{n}"),
                    label,
                    true,
                    &refs,
                )?)
            }
            MenuEntry::Separator => Box::new(PredefinedMenuItem::separator(app)?),
        });
    }
    Ok(out)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The model for the state now.
fn model(desktop: &Desktop, login: &dyn StartAtLogin) -> TrayModel {
    let start_at_login = login.enabled().unwrap_or(false);
    tray_model(&desktop.state(), now_ms(), start_at_login)
}

/// Create the tray icon and keep it in step with the state.
pub fn install<R: Runtime>(
    app: &AppHandle<R>,
    desktop: Desktop,
    login: Arc<dyn StartAtLogin>,
) -> tauri::Result<()> {
    let first = model(&desktop, login.as_ref());
    let (clicks, mut clicked) = mpsc::unbounded_channel::<MenuId>();
    let tray = TrayIconBuilder::with_id(TRAY_ID)
        .icon(icon_image(first.icon)?)
        .tooltip(&first.tooltip)
        .menu(&build_menu(app, &first.menu)?)
        .show_menu_on_left_click(true)
        .on_menu_event(move |_app, event| {
            if let Some(id) = MenuId::decode(event.id().as_ref()) {
                let _ = clicks.send(id);
            }
        })
        .build(app)?;

    // Clicks: the core performs them; the shell does what is left.
    let (d, l, handle) = (desktop.clone(), login.clone(), app.clone());
    let (redraw, mut redraws) = mpsc::unbounded_channel::<()>();
    tauri::async_runtime::spawn(async move {
        while let Some(id) = clicked.recv().await {
            let halt = halt_op(&id);
            let outcome = d.handle_menu(id).await;
            apply(&handle, l.as_ref(), halt, outcome);
            let _ = redraw.send(());
        }
    });

    // Redraws: on state changes, after clicks, and every REFRESH.
    let handle = app.clone();
    let mut states = desktop.watch();
    tauri::async_runtime::spawn(async move {
        let mut shown = first;
        let mut tick = tokio::time::interval(REFRESH);
        loop {
            tokio::select! {
                r = states.changed() => if r.is_err() { break },
                Some(()) = redraws.recv() => {}
                _ = tick.tick() => {}
            }
            let next = model(&desktop, login.as_ref());
            if next != shown {
                if let Err(e) = draw(&handle, &tray, &shown, &next) {
                    tracing::warn!("could not update the tray: {e}");
                }
                shown = next;
            }
        }
    });
    Ok(())
}

/// Apply the parts of `next` that differ from `shown`.
fn draw<R: Runtime>(
    app: &AppHandle<R>,
    tray: &Tray<R>,
    shown: &TrayModel,
    next: &TrayModel,
) -> tauri::Result<()> {
    if next.icon != shown.icon {
        tray.set_icon(Some(icon_image(next.icon)?))?;
    }
    if next.tooltip != shown.tooltip {
        tray.set_tooltip(Some(&next.tooltip))?;
    }
    if next.menu != shown.menu {
        tray.set_menu(Some(build_menu(app, &next.menu)?))?;
    }
    Ok(())
}

/// The halt a menu entry performs, if it is one.
fn halt_op(id: &MenuId) -> Option<HaltOpView> {
    match id {
        MenuId::Agent { op, .. } => Some(*op),
        MenuId::StopAll => Some(HaltOpView::Stop),
        // Not a halt, but its failure is shown the same way.
        MenuId::SoftStop(_) => Some(HaltOpView::Stop),
        MenuId::Alert { action, .. } => match action {
            AlertActionView::Resume | AlertActionView::Release => Some(HaltOpView::Resume),
            AlertActionView::Stop | AlertActionView::StopSupervisor => Some(HaltOpView::Stop),
        },
        _ => None,
    }
}

/// What the shell does after the core handled a click. A halt that failed
/// (refused, or not verified) opens the window on the agents view with
/// its result, so the person sees it: the menu has closed by then, and a
/// notification is raised by the daemon only when a notification server
/// is up and only for a halt that reached agents.
fn apply<R: Runtime>(
    app: &AppHandle<R>,
    login: &dyn StartAtLogin,
    halt: Option<HaltOpView>,
    outcome: MenuOutcome,
) {
    match outcome {
        MenuOutcome::Done(result) if !result.success => {
            tracing::warn!("{}", result.summary);
            window::show_halt(app, result);
        }
        MenuOutcome::Done(result) => tracing::info!("{}", result.summary),
        MenuOutcome::Decided => {}
        MenuOutcome::OpenWindow(view) => window::show(app, Some(view)),
        MenuOutcome::ToggleStartAtLogin => {
            let flipped = login.enabled().and_then(|on| login.set(!on));
            if let Err(e) = flipped {
                tracing::warn!("{}", e.message);
            }
        }
        MenuOutcome::Quit => {
            tracing::info!("quitting the tray; the daemon keeps running (`reins status`)");
            app.exit(0);
        }
        MenuOutcome::Failed(e) => {
            tracing::warn!("{}", e.message);
            if let Some(op) = halt {
                window::show_halt(
                    app,
                    HaltResultView {
                        op,
                        success: false,
                        summary: e.message,
                        targets: Vec::new(),
                    },
                );
            }
        }
    }
}
