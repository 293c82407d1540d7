//! Request path → the name of a file in the app bundle, or nothing.
//!
//! Pure and strict: `/` and `/pair` mean `index.html`; any other path must
//! name a file exactly. Each `/`-separated segment is percent-decoded on its
//! own and refused if it is empty (`//`, a trailing `/`), `.`/`..` or any
//! other dot-leading name, or contains `/` (`%2f`), `\`, NUL or another
//! control character. So no request can climb out of the bundle or name a
//! directory. This module does not touch the file system (see
//! [`crate::bundle`] for symlink containment in `app_dir`).

/// The app shell.
pub const INDEX: &str = "index.html";

/// The bundle-relative name `raw` (a request's path, still percent-encoded,
/// without the query) asks for, or `None` for anything not servable.
pub fn resolve(raw: &str) -> Option<String> {
    let rest = raw.strip_prefix('/')?;
    if rest.is_empty() || rest == "pair" {
        return Some(INDEX.to_owned());
    }
    let mut out = Vec::new();
    for seg in rest.split('/') {
        let seg = decode(seg)?;
        let bad = seg.is_empty()
            || seg.starts_with('.')
            || seg.chars().any(|c| c == '/' || c == '\\' || c.is_control());
        if bad {
            return None;
        }
        out.push(seg);
    }
    Some(out.join("/"))
}

/// Percent-decodes one segment; `None` for a malformed escape or non-UTF-8.
fn decode(seg: &str) -> Option<String> {
    let b = seg.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_and_the_pairing_page_are_the_app_shell() {
        assert_eq!(resolve("/").as_deref(), Some("index.html"));
        assert_eq!(resolve("/pair").as_deref(), Some("index.html"));
        assert_eq!(resolve("/index.html").as_deref(), Some("index.html"));
    }

    #[test]
    fn a_file_path_is_kept_and_plain_escapes_are_decoded() {
        assert_eq!(
            resolve("/assets/app-1a2b.js").as_deref(),
            Some("assets/app-1a2b.js")
        );
        assert_eq!(resolve("/a%20b.png").as_deref(), Some("a b.png"));
    }

    #[test]
    fn dot_segments_plain_or_encoded_are_refused() {
        for p in [
            "/../Cargo.toml",
            "/assets/../index.html",
            "/./index.html",
            "/%2e%2e/",
            "/%2E%2E/etc/passwd",
            "/assets/%2e%2e%2f..",
            "/.git/config",
            "/.%2e/x",
        ] {
            assert_eq!(resolve(p), None, "{p}");
        }
    }

    #[test]
    fn encoded_slashes_backslashes_and_nul_are_refused() {
        for p in [
            "/assets%2fapp.js",
            "/assets%2Fapp.js",
            "/..%5c..%5cwin.ini",
            "/a\\b",
            "/index.html%00.png",
            "/a%0ab",
        ] {
            assert_eq!(resolve(p), None, "{p}");
        }
    }

    #[test]
    fn empty_segments_and_directories_are_refused() {
        for p in [
            "//etc/passwd",
            "/assets/",
            "/assets//x.js",
            "",
            "index.html",
        ] {
            assert_eq!(resolve(p), None, "{p:?}");
        }
    }

    #[test]
    fn malformed_escapes_and_non_utf8_are_refused() {
        for p in ["/%", "/%2", "/%zz", "/%ff%fe"] {
            assert_eq!(resolve(p), None, "{p}");
        }
    }
}
