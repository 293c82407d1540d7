//! The connection task: the only code that polls a rumqttc `EventLoop`.
//!
//! It turns the event loop into a small stream of [`NetEvent`]s on a bounded
//! channel (so a flood applies backpressure to the socket instead of growing
//! memory), turns TCP_NODELAY on (without it every QoS1 round trip costs
//! ~44 ms of Nagle + delayed ACK), and sleeps with [`Backoff`] between failed
//! attempts because rumqttc itself would reconnect in a tight loop.
//!
//! It does not decrypt, subscribe or decide anything: the owner (the link
//! actor or the test phone) does that with the returned `AsyncClient`.

use crate::backoff::{Backoff, BackoffPolicy, STABLE_AFTER};
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Requests (publish/subscribe) that may wait in rumqttc's queue while the
/// connection is down. Beyond this, sends fail fast instead of blocking.
pub(crate) const REQUEST_QUEUE: usize = 1024;

/// Events buffered between the socket and the owner. Small on purpose: a
/// garbage flood then throttles reading from the broker rather than memory.
pub(crate) const EVENT_QUEUE: usize = 256;

/// Seconds rumqttc allows for the TCP/TLS/WebSocket handshakes *and* the
/// broker's CONNACK. A real broker answers in milliseconds, even far away;
/// a listener that accepts and never answers (a black hole, a wrong port
/// on a proxy) is given up on after this and retried with backoff.
pub(crate) const CONNECT_TIMEOUT_S: u64 = 10;

/// What the connection task reports.
#[derive(Debug)]
pub(crate) enum NetEvent {
    /// CONNACK received: (re)subscribe now.
    Connected,
    /// The connection failed; we wait `delay` before attempt number `attempt`.
    BackingOff {
        /// The error, for `reins status`.
        error: String,
        /// How long we wait.
        delay: Duration,
        /// Consecutive failures.
        attempt: u32,
    },
    /// A message from the broker.
    Publish(rumqttc::Publish),
    /// A SUBACK: one subscribe request is in effect.
    SubAck,
}

/// Spawns the connection task on `tracker`; it stops when `cancel` fires.
/// `will` is re-read before every reconnect.
pub(crate) fn spawn(
    options: MqttOptions,
    policy: BackoffPolicy,
    will: watch::Receiver<Option<LastWill>>,
    cancel: CancellationToken,
    tracker: &TaskTracker,
) -> (AsyncClient, mpsc::Receiver<NetEvent>) {
    let mut options = options;
    if let Some(w) = will.borrow().clone() {
        options.set_last_will(w);
    }
    let (client, mut eventloop) = AsyncClient::new(options, REQUEST_QUEUE);
    let mut net = eventloop.network_options();
    net.set_tcp_nodelay(true);
    net.set_connection_timeout(CONNECT_TIMEOUT_S);
    eventloop.set_network_options(net);
    let (tx, rx) = mpsc::channel(EVENT_QUEUE);
    tracker.spawn(async move {
        let mut backoff = Backoff::new(policy);
        let mut connected_at: Option<Instant> = None;
        loop {
            let polled = tokio::select! {
                _ = cancel.cancelled() => break,
                r = eventloop.poll() => r,
            };
            let event = match polled {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    connected_at = Some(Instant::now());
                    NetEvent::Connected
                }
                Ok(Event::Incoming(Packet::Publish(p))) => NetEvent::Publish(p),
                Ok(Event::Incoming(Packet::SubAck(_))) => NetEvent::SubAck,
                Ok(_) => continue,
                Err(e) => {
                    if connected_at
                        .take()
                        .is_some_and(|t| t.elapsed() >= STABLE_AFTER)
                    {
                        backoff.reset();
                    }
                    let attempt = backoff.attempt() + 1;
                    let delay = backoff.next_delay(&mut rand::thread_rng());
                    tracing::debug!(error = %e, ?delay, attempt, "mqtt connection failed");
                    let ev = NetEvent::BackingOff {
                        error: explain(&e),
                        delay,
                        attempt,
                    };
                    if tx.send(ev).await.is_err() {
                        break;
                    }
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = tokio::time::sleep(delay) => {}
                    }
                    if let Some(w) = will.borrow().clone() {
                        eventloop.mqtt_options.set_last_will(w);
                    }
                    continue;
                }
            };
            let sent = tokio::select! {
                _ = cancel.cancelled() => break,
                r = tx.send(event) => r,
            };
            if sent.is_err() {
                break;
            }
        }
    });
    (client, rx)
}

/// The connection error as the user should read it: rumqttc's text, plus
/// what to change where the cause is theirs to fix.
pub(crate) fn explain(e: &rumqttc::ConnectionError) -> String {
    use rumqttc::{ConnectReturnCode as Code, ConnectionError as E};
    let hint = match e {
        E::ConnectionRefused(Code::BadUserNamePassword | Code::NotAuthorized) => {
            Some("the broker refused these credentials; check link.username and link.password")
        }
        E::ConnectionRefused(Code::BadClientId) => {
            Some("the broker refused the client id; it may limit which ids may connect")
        }
        _ if e.to_string().contains("certificate") => Some(
            "the broker's TLS certificate is not trusted; set link.ca_file to the PEM file of the CA that signed it, and check that the host name in link.broker matches the certificate",
        ),
        E::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => Some(
            "nothing accepts connections at that address; is the broker running, and is the port right?",
        ),
        E::NetworkTimeout => Some(
            "the broker did not complete the connection (no CONNACK) in time; something at that address accepts connections but does not answer as an MQTT broker: check the URL, the port and any proxy or firewall in between",
        ),
        E::MqttState(rumqttc::StateError::AwaitPingResp) => Some(
            "the broker stopped answering (no reply to the keep-alive ping); nothing it should deliver arrives, so the connection is dropped and retried",
        ),
        _ => None,
    };
    match hint {
        Some(h) => format!("{e}: {h}"),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::explain;
    use rumqttc::{ConnectReturnCode, ConnectionError};

    #[test]
    fn a_refused_login_names_the_settings_to_check() {
        let m = explain(&ConnectionError::ConnectionRefused(
            ConnectReturnCode::NotAuthorized,
        ));
        assert!(
            m.contains("NotAuthorized") && m.contains("link.password"),
            "{m}"
        );
    }

    #[test]
    fn a_black_hole_is_told_apart_from_a_closed_port() {
        let m = explain(&ConnectionError::NetworkTimeout);
        assert!(m.contains("no CONNACK"), "{m}");
        let m = explain(&ConnectionError::MqttState(
            rumqttc::StateError::AwaitPingResp,
        ));
        assert!(m.contains("stopped answering"), "{m}");
    }

    #[test]
    fn a_closed_port_asks_whether_the_broker_runs() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let m = explain(&ConnectionError::Io(io));
        assert!(m.contains("is the broker running"), "{m}");
    }
}
