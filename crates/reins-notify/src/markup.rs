//! Escaping for servers that interpret markup in bodies.
//!
//! A server advertising `body-markup` renders `<b>`, `<i>`, `<u>`,
//! `<a href>` and `<img>`, and decodes `&` entities. An agent controls the
//! command text, so a hostile command could otherwise render as a link or
//! hide its own text. Not here: deciding when to escape (the caller knows
//! the server's capabilities).

/// Escape `&`, `<` and `>` (and quotes, harmless everywhere) so that the
/// text shows exactly as written.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_entities_come_out_as_plain_text() {
        assert_eq!(
            escape_markup(r#"<a href="x">ok</a> &amp; rm"#),
            "&lt;a href=&quot;x&quot;&gt;ok&lt;/a&gt; &amp;amp; rm"
        );
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        assert_eq!(escape_markup("cargo test -p reins"), "cargo test -p reins");
    }
}
