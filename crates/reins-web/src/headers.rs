//! The headers every response carries (security) and the caching rule per
//! file. Pure: no I/O.
//!
//! `connect-src` allows `ws:` and `wss:` to any host, not only `'self'`:
//! one phone app pairs with several machines, each with its own broker,
//! and the daemon serving the page cannot know the others. Everything on
//! those connections is sealed end to end, so the allowance grants reach,
//! not trust. Scripts, styles, workers and the manifest stay `'self'`.

use hyper::header::{self, HeaderMap, HeaderValue};

/// The Content-Security-Policy of every response.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/// Content-hashed build output never changes under one name.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Adds the security headers to `h`.
pub fn secure(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// The `Cache-Control` for the bundle file `rel`. The shell, the service
/// worker and the manifest must be re-fetched so an update is seen: never
/// stored on plain HTTP (anyone on the LAN could have altered them), and
/// revalidated on HTTPS. Hashed `assets/` are immutable; the rest is
/// revalidated.
pub fn cache_control(rel: &str, https: bool) -> &'static str {
    let shell = rel == crate::path::INDEX || rel == "sw.js" || rel.ends_with(".webmanifest");
    match (shell, https) {
        (true, false) => "no-store",
        (true, true) => "no-cache",
        _ if rel.starts_with("assets/") => IMMUTABLE,
        _ => "no-cache",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shell_is_never_stored_on_plain_http_and_revalidated_on_https() {
        for rel in ["index.html", "sw.js", "manifest.webmanifest"] {
            assert_eq!(cache_control(rel, false), "no-store", "{rel}");
            assert_eq!(cache_control(rel, true), "no-cache", "{rel}");
        }
    }

    #[test]
    fn hashed_assets_are_immutable_and_other_files_revalidated() {
        assert_eq!(cache_control("assets/app-1a2b.js", false), IMMUTABLE);
        assert_eq!(cache_control("assets/app-1a2b.js", true), IMMUTABLE);
        assert_eq!(cache_control("icon-192.png", false), "no-cache");
    }

    #[test]
    fn every_security_header_is_set() {
        let mut h = HeaderMap::new();
        secure(&mut h);
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CSP);
        assert!(CSP.contains("connect-src 'self' ws: wss:"));
        assert!(CSP.contains("frame-ancestors 'none'"));
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    }

    #[test]
    fn content_types_match_what_browsers_expect() {
        use crate::mime::content_type as ct;
        assert_eq!(ct("index.html"), "text/html; charset=utf-8");
        assert_eq!(ct("assets/a.js"), "text/javascript; charset=utf-8");
        assert_eq!(ct("assets/a.css"), "text/css; charset=utf-8");
        assert_eq!(ct("x.json"), "application/json");
        assert_eq!(ct("manifest.webmanifest"), "application/manifest+json");
        assert_eq!(ct("i.png"), "image/png");
        assert_eq!(ct("i.svg"), "image/svg+xml");
        assert_eq!(ct("favicon.ico"), "image/x-icon");
        assert_eq!(ct("f.woff2"), "font/woff2");
        assert_eq!(ct("noext"), "application/octet-stream");
    }
}
