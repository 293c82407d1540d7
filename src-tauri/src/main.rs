//! The `reins-tray` binary: everything is in the library ([`reins_tray::run`]).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    reins_tray::run()
}
