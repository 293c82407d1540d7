//! The desktop surfaces' core: what the tray and the window show and do,
//! with no tauri and no GTK, so it builds and tests anywhere.
//!
//! The tray shell (`src-tauri/`) and the window (`ui/`) are adapters over
//! this crate: [`view`] holds the types the window receives (exported to
//! TypeScript with ts-rs, never written twice).

pub mod view;
