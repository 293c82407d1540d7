//! The daemon's side of the phone web app: builds a `reins_web::WebConfig`
//! from `[phone]`, binds it *before* the link starts (so pairing links know
//! the page's URL and its same-origin `/mqtt` broker URL, port 0 included),
//! then serves it as one tracked task once the embedded broker's WebSocket
//! port is known.
//!
//! A server that cannot start (port taken, unreadable certificate) never
//! stops the daemon: it is reported loudly (stderr and log) and in `reins
//! status`, like the link. This module serves nothing itself (`reins-web`
//! does) and decides nothing about pairing (see [`crate::phone`]).

use crate::config::Config;
use crate::phone::{host, lan_ip};
use reins_web::{TlsFiles, WebConfig, WebServer};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Where this daemon serves the app, as a phone reaches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// `http(s)://<host>:<port>/`.
    pub url: String,
    /// Served over HTTPS.
    pub https: bool,
    /// `ws(s)://<host>:<port>/mqtt`: the broker on the page's own origin.
    pub mqtt_url: String,
}

impl Page {
    /// The page at `addr`, reached by `name` (`phone.host`) if set, else by
    /// the bind address, or this machine's LAN IP when bound to every
    /// interface.
    pub fn at(addr: SocketAddr, https: bool, name: Option<&str>) -> Self {
        let h = match name {
            Some(n) if n.parse::<std::net::Ipv6Addr>().is_ok() => format!("[{n}]"),
            Some(n) => n.to_owned(),
            None if addr.ip().is_unspecified() => host(lan_ip()),
            None => host(addr.ip()),
        };
        let hostport = format!("{h}:{}", addr.port());
        let (http, ws) = if https {
            ("https", "wss")
        } else {
            ("http", "ws")
        };
        Page {
            url: format!("{http}://{hostport}/"),
            https,
            mqtt_url: format!("{ws}://{hostport}/mqtt"),
        }
    }
}

/// What `reins status` shows about the phone app (`link.app` in `status
/// --json`, documented in docs/cli.md).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSummary {
    /// The app URL pairing links open: `phone.app_url`, else the URL this
    /// daemon serves it at; `null` when neither.
    pub url: Option<String>,
    /// `url` is HTTPS.
    pub https: bool,
    /// This daemon serves the app (and `/mqtt` with the embedded broker).
    pub served: bool,
    /// Where this daemon serves it, when it does.
    pub local_url: Option<String>,
    /// Why it is not served, when it should be.
    pub error: Option<String>,
}

/// The server, bound and not yet serving.
#[derive(Debug)]
pub(crate) struct Bound {
    server: WebServer,
    pub(crate) page: Page,
}

/// Binds the web server if the config serves the app. `Ok(None)`: not
/// served (`phone.enabled` or `link.enabled` is false). `Err`: it could not
/// start; the daemon goes on without it.
pub(crate) async fn bind(config: &Config) -> Result<Option<Bound>, String> {
    if !config.serves_phone_app() {
        return Ok(None);
    }
    let p = &config.phone;
    let cfg = WebConfig {
        addr: SocketAddr::new(p.bind_addr(), p.port),
        tls: p.tls_files().map(|(cert, key)| TlsFiles { cert, key }),
        app_dir: p.app_dir.clone(),
    };
    match WebServer::bind(&cfg).await {
        Ok(server) => {
            let page = Page::at(server.local_addr(), server.is_https(), p.host.as_deref());
            Ok(Some(Bound { server, page }))
        }
        Err(e) => {
            let msg = format!(
                "the phone app is not served: {e}. The phone link and local control work as usual"
            );
            tracing::error!("{msg}");
            eprintln!("reins: {msg}");
            Err(e.to_string())
        }
    }
}

/// The summary for a server that [`bind`] returned, given `app_url`.
pub(crate) fn summary(bound: &Result<Option<Bound>, String>, app_url: Option<&str>) -> AppSummary {
    let (local, error) = match bound {
        Ok(Some(b)) => (Some(&b.page), None),
        Ok(None) => (None, None),
        Err(e) => (None, Some(e.clone())),
    };
    let url = app_url
        .map(str::to_owned)
        .or_else(|| local.map(|p| p.url.clone()));
    AppSummary {
        https: url.as_deref().is_some_and(|u| u.starts_with("https:")),
        url,
        served: local.is_some(),
        local_url: local.map(|p| p.url.clone()),
        error,
    }
}

/// Serves `bound` until `shutdown`, proxying `/mqtt` to `broker_ws` (the
/// embedded broker's WebSocket listener) when there is one.
pub(crate) fn spawn(
    bound: Bound,
    broker_ws: Option<SocketAddr>,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) {
    let Bound { mut server, page } = bound;
    if let Some(ws) = broker_ws {
        server.proxy_mqtt_to(ws);
    }
    tracing::info!(url = %page.url, mqtt = broker_ws.is_some(), "serving the phone app");
    tracker.spawn(server.serve(shutdown));
}

/// Where a client on this machine reaches a listener bound to `bind`.
pub(crate) fn loopback(bind: IpAddr, port: u16) -> SocketAddr {
    let ip = if bind.is_unspecified() {
        IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
    } else {
        bind
    };
    SocketAddr::new(ip, port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_on_a_fixed_address_gives_matching_http_and_ws_urls() {
        let p = Page::at("192.168.1.20:8470".parse().unwrap(), false, None);
        assert_eq!(p.url, "http://192.168.1.20:8470/");
        assert_eq!(p.mqtt_url, "ws://192.168.1.20:8470/mqtt");
        let p = Page::at("[fd00::2]:443".parse().unwrap(), true, None);
        assert_eq!(p.url, "https://[fd00::2]:443/");
        assert_eq!(p.mqtt_url, "wss://[fd00::2]:443/mqtt");
    }

    #[test]
    fn a_page_on_every_interface_uses_a_concrete_address() {
        let p = Page::at("0.0.0.0:8470".parse().unwrap(), false, None);
        assert!(!p.url.contains("0.0.0.0"), "{}", p.url);
        assert!(p.url.ends_with(":8470/"), "{}", p.url);
    }

    #[test]
    fn a_configured_host_name_is_the_page_and_broker_host_so_it_matches_the_certificate() {
        let p = Page::at(
            "0.0.0.0:8470".parse().unwrap(),
            true,
            Some("box.tail1.ts.net"),
        );
        assert_eq!(p.url, "https://box.tail1.ts.net:8470/");
        assert_eq!(p.mqtt_url, "wss://box.tail1.ts.net:8470/mqtt");
        let p = Page::at("0.0.0.0:8470".parse().unwrap(), false, Some("fd00::2"));
        assert_eq!(p.url, "http://[fd00::2]:8470/");
    }

    #[test]
    fn an_outside_app_url_is_what_pairing_links_open() {
        let s = summary(&Ok(None), Some("https://you.github.io/reins/"));
        assert_eq!(s.url.as_deref(), Some("https://you.github.io/reins/"));
        assert!(s.https && !s.served);
        let s = summary(&Err("port taken".into()), None);
        assert_eq!((s.url, s.error.as_deref()), (None, Some("port taken")));
    }
}
