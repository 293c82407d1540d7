//! Reading a JSON config file and rendering it back in the user's style.
//!
//! Key order is kept by serde_json's `preserve_order` feature; indentation
//! (spaces or tabs, any width), the trailing newline and CRLF line endings
//! are copied from the original, so a file in the common pretty style
//! round-trips byte for byte. What is not preserved: comments (the agents'
//! JSON files do not allow them anyway), unusual spacing such as
//! `{"a" : 1}` or one-line objects, and `\u00e9`-style escapes — those files
//! come back semantically equal but reformatted. If nothing semantically
//! changed, the original text is kept untouched.

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::InstallError;
use crate::plan::FileChange;

/// The two spaces Claude Code, Gemini and most editors write.
const DEFAULT_INDENT: &str = "  ";

/// A parsed JSON object file (or an absent one, as `{}`).
#[derive(Debug)]
pub(crate) struct JsonFile {
    pub path: PathBuf,
    pub before: Option<String>,
    pub original: Value,
    pub doc: Value,
}

impl JsonFile {
    /// The top-level object (always an object: `load` rejects anything else).
    pub fn root(&mut self) -> &mut Map<String, Value> {
        self.doc
            .as_object_mut()
            .expect("JsonFile::load guarantees an object")
    }

    /// The change to write, or `None` when the document is semantically unchanged.
    pub fn into_change(self) -> Option<FileChange> {
        if self.doc == self.original {
            return None;
        }
        let after = render(self.before.as_deref(), &self.doc);
        Some(FileChange {
            path: self.path,
            before: self.before,
            after: Some(after),
        })
    }

    /// Like `into_change`, but delete the file instead when `delete` holds.
    pub fn into_change_or_delete(self, delete: bool) -> Option<FileChange> {
        if delete && self.before.is_some() {
            return Some(FileChange {
                path: self.path,
                before: self.before,
                after: None,
            });
        }
        self.into_change()
    }
}

/// Read a file, mapping "does not exist" to `None`.
pub(crate) fn read_text(path: &Path) -> Result<Option<String>, InstallError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(InstallError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Load a JSON object file. Absent or whitespace-only files read as `{}`.
pub(crate) fn load(path: &Path) -> Result<JsonFile, InstallError> {
    let before = read_text(path)?;
    let original = match before.as_deref() {
        None => Value::Object(Map::new()),
        Some(t) if t.trim().is_empty() => Value::Object(Map::new()),
        Some(t) => serde_json::from_str(t).map_err(|e| InstallError::Malformed {
            path: path.to_owned(),
            format: "JSON",
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?,
    };
    if !original.is_object() {
        return Err(InstallError::UnexpectedShape {
            path: path.to_owned(),
            what: "the top level is not a JSON object".to_owned(),
        });
    }
    Ok(JsonFile {
        path: path.to_owned(),
        before,
        doc: original.clone(),
        original,
    })
}

/// The indentation unit used by `text`: the leading whitespace of the first
/// indented line (the first nesting level of a pretty-printed file).
fn detect_indent(text: &str) -> Option<&str> {
    text.lines().skip(1).find_map(|line| {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let ws = &line[..line.len() - trimmed.len()];
        (!ws.is_empty() && !trimmed.is_empty()).then_some(ws)
    })
}

/// Render `doc` in the style of `before` (or the default style for new files).
pub(crate) fn render(before: Option<&str>, doc: &Value) -> String {
    let indent = before.and_then(detect_indent).unwrap_or(DEFAULT_INDENT);
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    doc.serialize(&mut ser)
        .expect("serialising a serde_json::Value to memory cannot fail");
    let mut out = String::from_utf8(buf).expect("serde_json writes UTF-8");
    let trailing_newline = before.is_none_or(|b| b.ends_with('\n') || b.trim().is_empty());
    if trailing_newline {
        out.push('\n');
    }
    if before.is_some_and(|b| b.contains("\r\n")) {
        out = out.replace('\n', "\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn two_space_files_render_byte_for_byte() {
        let text = "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"z\": {}\n}\n";
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(render(Some(text), &v), text);
    }

    #[test]
    fn four_space_and_tab_indentation_is_kept() {
        for text in [
            "{\n    \"a\": {\n        \"b\": 1\n    }\n}",
            "{\n\t\"a\": {\n\t\t\"b\": 1\n\t}\n}\n",
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(render(Some(text), &v), text);
        }
    }

    #[test]
    fn crlf_line_endings_are_kept() {
        let text = "{\r\n  \"a\": 1\r\n}\r\n";
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(render(Some(text), &v), text);
    }

    #[test]
    fn new_files_get_two_spaces_and_a_trailing_newline() {
        assert_eq!(render(None, &json!({"a": 1})), "{\n  \"a\": 1\n}\n");
    }

    #[test]
    fn invalid_json_reports_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("settings.json");
        std::fs::write(&p, "{\n  \"a\": 1,\n  oops\n}\n").unwrap();
        let err = load(&p).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("settings.json:3:"), "{msg}");
        assert!(msg.contains("Nothing was changed"), "{msg}");
    }

    #[test]
    fn a_top_level_array_is_rejected_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hooks.json");
        std::fs::write(&p, "[]").unwrap();
        assert!(
            load(&p)
                .unwrap_err()
                .to_string()
                .contains("not a JSON object")
        );
    }
}
