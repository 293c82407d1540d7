//! An embedded MQTT broker (rumqttd) for LAN use: one TCP listener and one
//! WebSocket listener (for the browser phone client), on its own threads.
//!
//! rumqttd cannot report a port-0 bind and has no shutdown API, so we pick
//! free ports by binding port 0 with std and releasing them, start the
//! broker on a thread, then poll the kernel's socket table in a bounded
//! loop until both ports listen (a test connection would make rumqttd log
//! a failed MQTT connect and a failed WebSocket handshake as errors). The
//! broker lives until the process exits.
//!
//! rumqttd leaves Nagle on for the connections it accepts; a tuner thread
//! turns TCP_NODELAY on for them ([`crate::nodelay`]).
//!
//! The broker is untrusted by design (everything is sealed end to end), so
//! it runs without TLS on the LAN; use an external `mqtts://`/`wss://`
//! broker across the internet. Not here: any Reins protocol logic.

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Most simultaneous clients. A desktop, a few phones and a CLI test or two;
/// 64 leaves room while bounding what a LAN neighbour can make us allocate.
pub const MAX_CONNECTIONS: usize = 64;

/// Largest publish accepted: one 64 KiB envelope plus headroom. Bigger
/// payloads are refused by the broker before reaching anyone.
pub const MAX_PAYLOAD_BYTES: usize = 96 * 1024;

/// Per-topic log segment size and count in rumqttd's in-memory router:
/// 256 KiB × 4 = at most 1 MiB retained per topic, even under a flood.
pub const SEGMENT_BYTES: usize = 256 * 1024;
/// See [`SEGMENT_BYTES`].
pub const SEGMENT_COUNT: usize = 4;

/// Packets queued per client before rumqttd stops reading from it.
pub const MAX_OUTGOING_PACKETS: u64 = 200;

/// QoS1 messages in flight per connection.
pub const MAX_INFLIGHT: usize = 100;

/// How long [`EmbeddedBroker::start`] waits for the listeners to accept.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where to listen.
#[derive(Clone, Debug)]
pub struct EmbeddedBrokerConfig {
    /// Bind address. Default `0.0.0.0` so phones on the LAN can reach it;
    /// tests use 127.0.0.1.
    pub bind: IpAddr,
    /// TCP (MQTT) port; `None` picks a free one.
    pub tcp_port: Option<u16>,
    /// WebSocket port; `None` picks a free one.
    pub ws_port: Option<u16>,
}

impl Default for EmbeddedBrokerConfig {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            tcp_port: None,
            ws_port: None,
        }
    }
}

impl EmbeddedBrokerConfig {
    /// Loopback only, free ports (tests).
    pub fn localhost() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ..Self::default()
        }
    }
}

/// Why the broker did not start.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// No free port, or the address is not ours.
    #[error("cannot bind {addr}: {source}; choose another port or bind address")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The listeners never accepted connections.
    #[error(
        "the embedded broker did not accept connections on port {0} within {READY_TIMEOUT:?}; the port may be taken, choose another"
    )]
    NotReady(u16),
    /// The broker thread could not be spawned.
    #[error("cannot start the broker thread: {0}")]
    Thread(std::io::Error),
}

/// A running embedded broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedBroker {
    /// Bind address.
    pub bind: IpAddr,
    /// The MQTT/TCP port.
    pub tcp_port: u16,
    /// The WebSocket port.
    pub ws_port: u16,
}

fn free_port(ip: IpAddr) -> Result<u16, BrokerError> {
    let addr = SocketAddr::new(ip, 0);
    let l = TcpListener::bind(addr).map_err(|source| BrokerError::Bind { addr, source })?;
    let port = l
        .local_addr()
        .map_err(|source| BrokerError::Bind { addr, source })?
        .port();
    Ok(port)
}

/// Polls until `port` accepts a TCP connection, with a short growing pause
/// between tries, for at most `timeout`.
pub fn wait_until_accepting(ip: IpAddr, port: u16, timeout: Duration) -> bool {
    let ip = if ip.is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        ip
    };
    let addr = SocketAddr::new(ip, port);
    poll_until(timeout, || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
    })
}

/// Calls `ready` until it says yes, with a short growing pause between
/// tries (100 µs doubling to 20 ms), for at most `timeout`.
fn poll_until(timeout: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_micros(100);
    loop {
        if ready() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// True if a TCP socket on this machine listens on `port`, read from
/// `/proc/net/tcp` and `/proc/net/tcp6` (state `0A`). Unlike a test
/// connection, this leaves no half-open MQTT or WebSocket session behind
/// for the broker to log as an error.
pub fn is_listening(port: u16) -> bool {
    let want = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|table| {
        std::fs::read_to_string(table).is_ok_and(|text| {
            text.lines().skip(1).any(|line| {
                let mut cols = line.split_ascii_whitespace();
                let local = cols.nth(1).unwrap_or("");
                let state = cols.nth(1).unwrap_or("");
                state == "0A" && local.ends_with(&want)
            })
        })
    })
}

/// Polls [`is_listening`] with a short growing pause, for at most `timeout`.
pub fn wait_until_listening(port: u16, timeout: Duration) -> bool {
    poll_until(timeout, || is_listening(port))
}

fn settings(name: &str, listen: SocketAddr) -> ServerSettings {
    ServerSettings {
        name: name.to_owned(),
        listen,
        tls: None,
        next_connection_delay_ms: 1,
        connections: ConnectionSettings {
            connection_timeout_ms: 10_000,
            max_payload_size: MAX_PAYLOAD_BYTES,
            max_inflight_count: MAX_INFLIGHT,
            auth: None,
            external_auth: None,
            dynamic_filters: true,
        },
    }
}

impl EmbeddedBroker {
    /// Starts the broker and returns once both listeners accept.
    pub fn start(cfg: &EmbeddedBrokerConfig) -> Result<Self, BrokerError> {
        let tcp_port = match cfg.tcp_port {
            Some(p) => p,
            None => free_port(cfg.bind)?,
        };
        let ws_port = match cfg.ws_port {
            Some(p) => p,
            None => free_port(cfg.bind)?,
        };
        let config = Config {
            id: 0,
            router: RouterConfig {
                max_connections: MAX_CONNECTIONS,
                max_outgoing_packet_count: MAX_OUTGOING_PACKETS,
                max_segment_size: SEGMENT_BYTES,
                max_segment_count: SEGMENT_COUNT,
                ..RouterConfig::default()
            },
            v4: Some(HashMap::from([(
                "v4".to_owned(),
                settings("reins-v4", SocketAddr::new(cfg.bind, tcp_port)),
            )])),
            ws: Some(HashMap::from([(
                "ws".to_owned(),
                settings("reins-ws", SocketAddr::new(cfg.bind, ws_port)),
            )])),
            ..Config::default()
        };
        std::thread::Builder::new()
            .name("reins-broker".into())
            .spawn(move || {
                let mut broker = Broker::new(config);
                if let Err(e) = broker.start() {
                    tracing::error!(error = %e, "embedded broker stopped");
                }
            })
            .map_err(BrokerError::Thread)?;
        for port in [tcp_port, ws_port] {
            if !wait_until_listening(port, READY_TIMEOUT) {
                return Err(BrokerError::NotReady(port));
            }
        }
        crate::nodelay::spawn_tuner(vec![tcp_port, ws_port]).map_err(BrokerError::Thread)?;
        Ok(Self {
            bind: cfg.bind,
            tcp_port,
            ws_port,
        })
    }

    /// Sets TCP_NODELAY now on every connection this broker has accepted
    /// (a tuner thread also does it every [`crate::nodelay::TUNE_EVERY`]).
    /// Call it once an in-process client has connected, so its very first
    /// messages are not held by Nagle. Returns how many sockets changed.
    pub fn tune_sockets(&self) -> usize {
        crate::nodelay::tune_accepted(&[self.tcp_port, self.ws_port])
    }

    /// `mqtt://host:port` for a client on this machine.
    pub fn local_mqtt_url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.tcp_port)
    }

    /// `ws://host:port/mqtt` for a client on this machine.
    pub fn local_ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}/mqtt", self.ws_port)
    }

    /// The URLs to put in a pairing offer, given this machine's LAN address.
    pub fn urls_for(&self, host: &str) -> Vec<String> {
        vec![
            format!("mqtt://{host}:{}", self.tcp_port),
            format!("ws://{host}:{}/mqtt", self.ws_port),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listening_port_is_seen_and_a_closed_one_is_not() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(is_listening(port));
        drop(l);
        assert!(!is_listening(port));
    }
}
