//! End-to-end scenarios live in `tests/`; this library holds only what both
//! the tests and `reins-bench` need: a fake systemd on a private bus and a
//! throw-away cgroup v2 group laid out like a systemd user unit.

pub mod fake_systemd;
pub mod test_cgroup;
