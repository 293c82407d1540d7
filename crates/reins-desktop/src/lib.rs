//! The desktop surfaces' core: what the tray and the window show and do,
//! with no tauri and no GTK, so it builds and tests anywhere.
//!
//! The tray shell (`src-tauri/`) and the window (`ui/`) are adapters over
//! this crate: [`view`] holds the types the window receives (exported to
//! TypeScript with ts-rs, never written twice); [`Desktop`] is the handle
//! they hold (daemon connection, live state, commands); [`tray`] turns the
//! state into the tray's icon, tooltip and menu; [`settings`] and [`audit`]
//! read and write Reins' files directly.

mod alert_action;
pub mod audit;
mod client;
mod conn;
pub mod convert;
mod core;
mod error;
pub mod launch;
mod menu;
pub mod qr;
pub mod settings;
pub mod soft_stop;
pub mod state;
pub mod tray;
pub mod view;

#[cfg(test)]
mod testkit;

pub use crate::core::{Desktop, DesktopOptions, MAX_DEVICE_NAME, validate_device_name};
pub use conn::{BACKOFF_MAX, BACKOFF_MIN, backoff, jitter};
pub use menu::MenuOutcome;
pub use reins_runtime::ipc::proto::ClientSurface;
pub use tokio_util::sync::CancellationToken;
pub use tray::{MenuEntry, MenuId, TrayIcon, TrayModel, tray_model};
