//! `[phone]`: the phone web app the daemon serves on the LAN (see
//! docs/brokers.md): where it listens, HTTPS files, a development
//! directory, and an outside app URL for pairing links.
//!
//! Checked on load like the rest of the config, including that the TLS
//! files and `app_dir` can be read, so a typo stops `reins daemon` at once
//! instead of surfacing as a page that never loads. Not here: the server
//! itself (`reins-web`) or its start-up (`crate::web`).

use serde::Deserialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Every interface, so a phone on the LAN can open the app.
pub const DEFAULT_PHONE_BIND: &str = "0.0.0.0";
/// An unassigned port in IANA's registered range, next to nothing common.
pub const DEFAULT_PHONE_PORT: u16 = 8470;

/// `[phone]`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhoneConfig {
    /// Serve the phone app (only when `link.enabled` too).
    pub enabled: bool,
    /// Where the web server listens.
    pub bind: String,
    /// Its port; 0 picks a free one at each start.
    pub port: u16,
    /// The name phones reach this machine by, in the page's URL and its
    /// `/mqtt` broker URL (e.g. `machine.tailnet.ts.net`, the name on the
    /// certificate); unset: the bind address, or the LAN IP.
    pub host: Option<String>,
    /// The base of pairing links when the app is hosted elsewhere
    /// (e.g. `https://user.github.io/reins/`); unset: this server's URL.
    pub app_url: Option<String>,
    /// PEM certificate chain: serve HTTPS (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Serve this directory instead of the app compiled in (development).
    pub app_dir: Option<PathBuf>,
}

impl Default for PhoneConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            bind: DEFAULT_PHONE_BIND.into(),
            port: DEFAULT_PHONE_PORT,
            host: None,
            app_url: None,
            tls_cert: None,
            tls_key: None,
            app_dir: None,
        }
    }
}

fn readable(key: &'static str, path: &Path) -> Result<(), (&'static str, String)> {
    std::fs::File::open(path).map(drop).map_err(|e| {
        (
            key,
            format!(
                "cannot read {}: {e}; fix the path or its permissions",
                path.display()
            ),
        )
    })
}

impl PhoneConfig {
    /// The bind address (validated on load).
    pub fn bind_addr(&self) -> IpAddr {
        self.bind
            .parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    /// The certificate and key, when HTTPS is configured.
    pub fn tls_files(&self) -> Option<(PathBuf, PathBuf)> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(c), Some(k)) => Some((c.clone(), k.clone())),
            _ => None,
        }
    }

    pub(crate) fn validate(
        &self,
        link: &crate::config::LinkConfig,
    ) -> Result<(), (&'static str, String)> {
        if self.bind.parse::<IpAddr>().is_err() {
            return Err((
                "phone.bind",
                format!("'{}' is not an IP address", self.bind),
            ));
        }
        if let Some(h) = &self.host {
            let ok = url::Host::parse(h).is_ok()
                && !h.is_empty()
                && !h.contains(['/', ':', '@', '#', '?'])
                || h.parse::<std::net::Ipv6Addr>().is_ok();
            if !ok {
                return Err((
                    "phone.host",
                    format!(
                        "'{h}' is not a host name or IP address; write only the name, e.g. \"machine.tailnet.ts.net\""
                    ),
                ));
            }
        }
        if let Some(url) = &self.app_url {
            let ok = url::Url::parse(url).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.fragment().is_none()
                    && u.username().is_empty()
                    && u.password().is_none()
            });
            if !ok {
                return Err((
                    "phone.app_url",
                    format!(
                        "'{url}' must be an http:// or https:// URL with a host and no '#' or credentials, e.g. \"https://you.github.io/reins/\""
                    ),
                ));
            }
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) | (None, Some(_)) => {
                let key = if self.tls_cert.is_some() {
                    "phone.tls_key"
                } else {
                    "phone.tls_cert"
                };
                return Err((
                    key,
                    "set both phone.tls_cert and phone.tls_key, or neither".into(),
                ));
            }
            (Some(c), Some(k)) if self.enabled => {
                readable("phone.tls_cert", c)?;
                readable("phone.tls_key", k)?;
            }
            _ => {}
        }
        if let Some(d) = self.app_dir.as_ref().filter(|_| self.enabled)
            && !d.is_dir()
        {
            return Err((
                "phone.app_dir",
                format!(
                    "{} is not a readable directory; point it at a built app (mobile-bridge/dist) or remove it",
                    d.display()
                ),
            ));
        }
        let p = self.port;
        if p != 0 && link.embedded() {
            for (other, key) in [
                (link.embedded_tcp_port, "link.embedded_tcp_port"),
                (link.embedded_ws_port, "link.embedded_ws_port"),
            ] {
                if other == p {
                    return Err((
                        "phone.port",
                        format!("{p} is also {key}; pick two different ports (or 0)"),
                    ));
                }
            }
        }
        Ok(())
    }
}
