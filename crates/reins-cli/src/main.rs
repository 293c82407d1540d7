//! The `reins` command (scaffold).
fn main() {}
