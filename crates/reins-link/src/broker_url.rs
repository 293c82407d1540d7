//! Broker addresses: parsing `mqtt://`, `mqtts://`, `ws://` and `wss://` URLs
//! plus optional credentials and a custom CA file into rumqttc options.
//!
//! This module only *describes* how to reach a broker. It does not connect
//! (see [`crate::conn`]) and it never puts anything human-readable into the
//! MQTT session: client ids are random hex, chosen by the caller.

use rumqttc::{MqttOptions, Transport};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

/// Largest MQTT packet we accept from the broker. An envelope is at most
/// 64 KiB ([`reins_proto::envelope::MAX_ENVELOPE_BYTES`]); the rest is room for
/// the topic and MQTT framing. A bigger packet makes rumqttc drop the
/// connection (it cannot skip one), so this must stay above the envelope
/// limit: oversized envelopes are then refused by the protocol layer, not by
/// a reconnect.
pub const MAX_PACKET_BYTES: usize = 128 * 1024;

/// MQTT keep-alive by default. A ping goes out every keep-alive and a
/// broker that has not answered the previous one by the next is dropped, so
/// 30 s notices a dead or black-holed broker within a minute while costing
/// one tiny ping per half minute on a phone's radio.
pub const KEEP_ALIVE: Duration = Duration::from_secs(30);

/// The shortest keep-alive rumqttc accepts (it counts in whole seconds).
pub const MIN_KEEP_ALIVE: Duration = Duration::from_secs(1);

/// The transport a broker URL asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `mqtt://host[:1883]`: plain TCP. LAN only.
    Mqtt,
    /// `mqtts://host[:8883]`: TLS over TCP.
    Mqtts,
    /// `ws://host[:80]/path`: WebSocket. LAN only.
    Ws,
    /// `wss://host[:443]/path`: WebSocket over TLS.
    Wss,
}

impl Scheme {
    /// Whether the transport is encrypted (by TLS, on top of our E2E layer).
    pub fn is_tls(self) -> bool {
        matches!(self, Scheme::Mqtts | Scheme::Wss)
    }
}

/// Why a broker URL or its settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum BrokerUrlError {
    /// Not a URL at all.
    #[error(
        "broker URL '{0}' is not a valid URL; write it like mqtt://host:1883 or wss://host/mqtt"
    )]
    Invalid(String),
    /// Unknown scheme.
    #[error("broker URL scheme '{0}' is not supported; use mqtt://, mqtts://, ws:// or wss://")]
    Scheme(String),
    /// No host.
    #[error("broker URL '{0}' has no host; write it like mqtt://host:1883")]
    NoHost(String),
    /// Credentials inside the URL would leak into pairing QR codes.
    #[error("put broker credentials in the username/password settings, not in the URL")]
    CredentialsInUrl,
    /// The CA file could not be read.
    #[error("cannot read the broker CA file {path}: {source}; check the path and its permissions")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// How to reach one broker.
#[derive(Clone, PartialEq, Eq)]
pub struct BrokerConfig {
    /// The URL as given (without credentials).
    pub url: String,
    /// Parsed scheme.
    pub scheme: Scheme,
    /// Host name or IP.
    pub host: String,
    /// Port (the scheme's default if the URL had none).
    pub port: u16,
    /// Optional username.
    pub username: Option<String>,
    /// Optional password. Never printed.
    pub password: Option<Zeroizing<String>>,
    /// PEM CA bundle for `mqtts://`/`wss://` brokers with a private CA.
    /// Without it the system roots are used.
    pub ca_file: Option<PathBuf>,
    /// MQTT keep-alive ([`KEEP_ALIVE`] unless set; at least
    /// [`MIN_KEEP_ALIVE`]).
    pub keep_alive: Duration,
}

impl fmt::Debug for BrokerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrokerConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("ca_file", &self.ca_file)
            .field("keep_alive", &self.keep_alive)
            .finish()
    }
}

impl BrokerConfig {
    /// Parses `mqtt://`, `mqtts://`, `ws://` or `wss://` URLs.
    pub fn parse(url: &str) -> Result<Self, BrokerUrlError> {
        let u = url::Url::parse(url).map_err(|_| BrokerUrlError::Invalid(url.to_owned()))?;
        if !u.username().is_empty() || u.password().is_some() {
            return Err(BrokerUrlError::CredentialsInUrl);
        }
        let (scheme, default_port) = match u.scheme() {
            "mqtt" | "tcp" => (Scheme::Mqtt, 1883),
            "mqtts" | "ssl" => (Scheme::Mqtts, 8883),
            "ws" => (Scheme::Ws, 80),
            "wss" => (Scheme::Wss, 443),
            other => return Err(BrokerUrlError::Scheme(other.to_owned())),
        };
        let host = match u.host() {
            Some(url::Host::Ipv6(a)) => a.to_string(),
            Some(h) => h.to_string(),
            None => return Err(BrokerUrlError::NoHost(url.to_owned())),
        };
        Ok(Self {
            url: url.to_owned(),
            scheme,
            host,
            port: u.port().unwrap_or(default_port),
            username: None,
            password: None,
            ca_file: None,
            keep_alive: KEEP_ALIVE,
        })
    }

    /// Sets the keep-alive, rounded down to whole seconds and raised to
    /// [`MIN_KEEP_ALIVE`] (zero, which turns pings off and so would let a
    /// black-holed broker go unnoticed, is never used).
    pub fn with_keep_alive(mut self, keep_alive: Duration) -> Self {
        self.keep_alive = Duration::from_secs(keep_alive.as_secs()).max(MIN_KEEP_ALIVE);
        self
    }

    /// Adds credentials.
    pub fn with_credentials(mut self, username: &str, password: &str) -> Self {
        self.username = Some(username.to_owned());
        self.password = Some(Zeroizing::new(password.to_owned()));
        self
    }

    /// Adds a PEM CA file for TLS.
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// rumqttc options for this broker with the given (opaque) client id.
    /// Clean session: nothing is queued for us while offline, which also
    /// means no stale backlog arrives after a reconnect.
    pub fn mqtt_options(&self, client_id: &str) -> Result<MqttOptions, BrokerUrlError> {
        let ws = matches!(self.scheme, Scheme::Ws | Scheme::Wss);
        // rumqttc takes the whole URL as the "host" for WebSockets.
        let addr = if ws {
            self.url.clone()
        } else {
            self.host.clone()
        };
        let mut o = MqttOptions::new(client_id, addr, self.port);
        o.set_keep_alive(self.keep_alive);
        o.set_clean_session(true);
        o.set_max_packet_size(MAX_PACKET_BYTES, MAX_PACKET_BYTES);
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            o.set_credentials(u.clone(), p.as_str());
        }
        let ca = match &self.ca_file {
            Some(path) => Some(
                std::fs::read(path).map_err(|source| BrokerUrlError::CaFile {
                    path: path.clone(),
                    source,
                })?,
            ),
            None => None,
        };
        let transport = match (self.scheme, ca) {
            (Scheme::Mqtt, _) => Transport::tcp(),
            (Scheme::Ws, _) => Transport::ws(),
            (Scheme::Mqtts, Some(ca)) => Transport::tls(ca, None, None),
            (Scheme::Mqtts, None) => Transport::tls_with_default_config(),
            (Scheme::Wss, Some(ca)) => Transport::wss(ca, None, None),
            (Scheme::Wss, None) => Transport::wss_with_default_config(),
        };
        o.set_transport(transport);
        Ok(o)
    }
}

/// A random, opaque MQTT client id (20 hex digits: fits MQTT 3.1.1's
/// 23-character limit and says nothing about the user or machine).
pub fn random_client_id() -> String {
    let b: [u8; 10] = rand::random();
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_all_four_schemes_parse_with_default_ports() {
        let c = BrokerConfig::parse("mqtt://10.0.0.2").unwrap();
        assert_eq!(
            (c.scheme, c.port, c.host.as_str()),
            (Scheme::Mqtt, 1883, "10.0.0.2")
        );
        assert_eq!(BrokerConfig::parse("mqtts://b.example").unwrap().port, 8883);
        assert_eq!(BrokerConfig::parse("ws://h:9001/mqtt").unwrap().port, 9001);
        let w = BrokerConfig::parse("wss://b.example/mqtt").unwrap();
        assert_eq!((w.scheme, w.port), (Scheme::Wss, 443));
        assert!(w.scheme.is_tls());
    }

    #[test]
    fn credentials_in_the_url_and_unknown_schemes_are_refused() {
        assert!(matches!(
            BrokerConfig::parse("mqtt://u:p@h:1883"),
            Err(BrokerUrlError::CredentialsInUrl)
        ));
        assert!(matches!(
            BrokerConfig::parse("http://h"),
            Err(BrokerUrlError::Scheme(_))
        ));
        assert!(BrokerConfig::parse("not a url").is_err());
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let c = BrokerConfig::parse("mqtt://h")
            .unwrap()
            .with_credentials("u", "hunter2");
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("redacted"));
    }

    #[test]
    fn the_keep_alive_defaults_to_30_s_and_is_never_turned_off() {
        let c = BrokerConfig::parse("mqtt://h").unwrap();
        assert_eq!(c.mqtt_options("x").unwrap().keep_alive(), KEEP_ALIVE);
        let short = c.clone().with_keep_alive(Duration::from_secs(2));
        assert_eq!(
            short.mqtt_options("x").unwrap().keep_alive(),
            Duration::from_secs(2)
        );
        let zero = c.with_keep_alive(Duration::ZERO);
        assert_eq!(zero.mqtt_options("x").unwrap().keep_alive(), MIN_KEEP_ALIVE);
    }

    #[test]
    fn client_ids_are_opaque_hex() {
        let id = random_client_id();
        assert_eq!(id.len(), 20);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, random_client_id());
    }
}
