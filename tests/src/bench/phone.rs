//! The phone link measured, in three parts run one after the other:
//!
//! - [`crypto`]: sealing and opening envelopes (`reins_proto::PairChannel`)
//!   on one thread, no broker;
//! - [`transport`]: one sealed message at a time through a broker (the
//!   embedded rumqttd and a real Mosquitto) in each direction, between a
//!   desktop `Link` and a `PhoneClient`, no daemon;
//! - [`stop`]: a stop sent from a phone paired through a real `reins pair`
//!   ([`pair`]) to a real `reins daemon`, end to end.
//!
//! This module only runs them in order and holds what they share: the
//! failure guard [`T`], [`es`] and [`Reaped`].

mod crypto;
mod pair;
mod stop;
mod transport;

pub(crate) use pair::ReinsPair;
pub(crate) use stop::{enable_link, wait_listed};

use super::procs::Bins;
use super::stats::Row;
use super::{Opts, Res};
use reins_link::{EmbeddedBroker, EmbeddedBrokerConfig};
use std::path::Path;
use std::process::Child;
use std::time::Duration;

/// Failure guard for anything that should take milliseconds.
pub(crate) const T: Duration = Duration::from_secs(20);

/// An error's message (for `map_err`).
fn es(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A child killed and reaped on drop (Mosquitto, `reins pair`).
pub(crate) struct Reaped(pub(crate) Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Run every phone measure and append their rows.
pub fn run(bins: &Bins, agent_exe: &Path, opts: &Opts, rows: &mut Vec<Row>) -> Res<()> {
    transport::check_mosquitto()?;
    eprintln!("reins-bench: phone: seal/open throughput...");
    crypto::run(rows)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))?;
    eprintln!("reins-bench: phone: transport through the embedded broker...");
    let embedded = EmbeddedBroker::start(&EmbeddedBrokerConfig::localhost())
        .map_err(|e| format!("cannot start the embedded broker: {e}"))?;
    transport::run(&rt, &embedded.local_mqtt_url(), "embedded rumqttd", rows)?;
    eprintln!("reins-bench: phone: transport through Mosquitto...");
    for (nodelay, name) in [
        (false, "Mosquitto"),
        (true, "Mosquitto, set_tcp_nodelay true"),
    ] {
        let mosquitto = transport::Mosquitto::start(nodelay)?;
        transport::run(&rt, &mosquitto.url(), name, rows)?;
    }
    eprintln!(
        "reins-bench: phone: stop from the phone ({} runs)...",
        opts.runs
    );
    stop::run(&rt, bins, agent_exe, opts, rows)
}
