//! Reading `openclaw.json`, which OpenClaw parses as JSON5: plain JSON
//! first (so a plain file keeps its layout through `jsonfile`), else JSON5,
//! counting the comments a rewrite as plain JSON would lose. Not a JSON5
//! writer: Reins writes plain JSON, which JSON5 readers accept.

use std::path::Path;

use serde_json::Value;

use crate::InstallError;
use crate::jsonfile::{self, JsonFile, read_text};

/// Parse `openclaw.json`: JSON, else JSON5. The second value is `Some(n)`
/// (n comments) when the file needed JSON5.
pub(crate) fn load_config(path: &Path) -> Result<(JsonFile, Option<usize>), InstallError> {
    match jsonfile::load(path) {
        Ok(f) => Ok((f, None)),
        Err(InstallError::Malformed { .. }) => {
            let text = read_text(path)?.unwrap_or_default();
            let doc: Value = json5::from_str(&text).map_err(|e| json5_error(path, e))?;
            if !doc.is_object() {
                return Err(InstallError::UnexpectedShape {
                    path: path.to_owned(),
                    what: "the top level is not an object".to_owned(),
                });
            }
            let file = JsonFile {
                path: path.to_owned(),
                before: Some(text.clone()),
                original: doc.clone(),
                doc,
            };
            Ok((file, Some(count_comments(&text))))
        }
        Err(e) => Err(e),
    }
}

fn json5_error(path: &Path, e: json5::Error) -> InstallError {
    let json5::Error::Message { msg, location } = e;
    let (line, column) = location.map_or((0, 0), |l| (l.line, l.column));
    InstallError::Malformed {
        path: path.to_owned(),
        format: "JSON5",
        line,
        column,
        message: msg,
    }
}

pub(crate) fn json5_notice(path: &Path, comments: usize) -> String {
    let lost = match comments {
        0 => String::new(),
        1 => " Its 1 comment is lost.".to_owned(),
        n => format!(" Its {n} comments are lost."),
    };
    format!(
        "{} uses JSON5 syntax; Reins rewrites it as plain JSON, which OpenClaw reads the same \
         way.{lost} The backup keeps the original.",
        path.display()
    )
}

/// Comments (`//` and `/* */`) outside strings, for the notice.
fn count_comments(text: &str) -> usize {
    let (mut n, mut quote, mut chars) = (0, None::<char>, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '/') if chars.peek() == Some(&'/') => {
                n += 1;
                chars.by_ref().take_while(|&c| c != '\n').for_each(drop);
            }
            (None, '/') if chars.peek() == Some(&'*') => {
                n += 1;
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            _ => {}
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::count_comments;

    #[test]
    fn comments_are_counted_outside_strings_only() {
        assert_eq!(count_comments("{a: 1}"), 0);
        assert_eq!(
            count_comments("// x\n{a: '//', b: \"/* no */\"} /* y */"),
            2
        );
        assert_eq!(count_comments(r#"{a: "it\"s // still a string"}"#), 0);
    }
}
