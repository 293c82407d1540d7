//! Building and recognising the command line of a Reins hook.
//!
//! Agents store a hook either as exec form (`command` + `args`, Claude) or as
//! one shell string (`command` / `bash`, everyone else). This module quotes
//! our argv into a shell string and splits a string back into argv well
//! enough to recognise our own entries. It is deliberately not a full POSIX
//! shell parser: anything it cannot split (unbalanced quotes, `$(...)`, ...)
//! is simply "not ours".

use std::path::{Path, PathBuf};

use serde_json::Value;

/// File names under which the Reins binary is recognised as "ours".
const REINS_BINARY_NAMES: [&str; 2] = ["reins", "reins.exe"];

/// The argv of our hook: `[reins_exe, "hook", agent, event]`.
pub(crate) fn hook_argv(reins_exe: &Path, agent: &str, event: &str) -> Vec<String> {
    vec![
        reins_exe.to_string_lossy().into_owned(),
        "hook".to_owned(),
        agent.to_owned(),
        event.to_owned(),
    ]
}

/// Quote one word for a POSIX shell; words made only of safe characters are
/// left bare so the common case (`/usr/local/bin/reins hook claude stop`)
/// stays readable in the user's config.
pub(crate) fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if safe {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Join argv into one shell command string.
pub(crate) fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Split a simple shell command line (quotes and backslashes only).
/// Returns `None` when the string uses anything we do not model.
pub(crate) fn shell_split(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        x => cur.push(x),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => cur.push(chars.next()?),
                        '$' | '`' => return None,
                        x => cur.push(x),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next()?);
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '$' | '`' | ';' | '&' | '|' | '<' | '>' | '(' | ')' => return None,
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

/// If `argv` invokes Reins' hook subcommand, the Reins binary it calls.
pub(crate) fn reins_exe_of_argv(argv: &[String]) -> Option<PathBuf> {
    let exe = Path::new(argv.first()?);
    let name = exe.file_name()?.to_str()?;
    let is_reins = REINS_BINARY_NAMES.contains(&name);
    (is_reins && argv.get(1).map(String::as_str) == Some("hook")).then(|| exe.to_path_buf())
}

/// If a JSON hook handler is one of ours, the Reins binary it calls.
///
/// Looks at exec form (`command` + `args`), then shell form (`command`, or
/// Copilot's `bash`).
pub(crate) fn reins_exe_of_handler(handler: &Value) -> Option<PathBuf> {
    let obj = handler.as_object()?;
    let command = obj.get("command").and_then(Value::as_str);
    if let (Some(cmd), Some(Value::Array(args))) = (command, obj.get("args")) {
        let mut argv = vec![cmd.to_owned()];
        for a in args {
            argv.push(a.as_str()?.to_owned());
        }
        return reins_exe_of_argv(&argv);
    }
    let line = command.or_else(|| obj.get("bash").and_then(Value::as_str))?;
    reins_exe_of_argv(&shell_split(line)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_paths_are_not_quoted() {
        let argv = hook_argv(Path::new("/usr/bin/reins"), "codex", "notify");
        assert_eq!(shell_join(&argv), "/usr/bin/reins hook codex notify");
    }

    #[test]
    fn paths_with_spaces_and_quotes_round_trip_through_split() {
        let argv = hook_argv(Path::new("/Users/a b/it's/reins"), "gemini", "before-tool");
        let line = shell_join(&argv);
        assert_eq!(shell_split(&line).unwrap(), argv);
    }

    #[test]
    fn double_quotes_and_backslashes_split_like_a_shell() {
        assert_eq!(
            shell_split(r#""/opt/my dir/reins" hook\ x"#).unwrap(),
            vec!["/opt/my dir/reins", "hook x"]
        );
    }

    #[test]
    fn shell_features_we_do_not_model_are_not_recognised() {
        assert_eq!(shell_split("reins hook a b && rm -rf /"), None);
        assert_eq!(shell_split("\"$(which reins)\" hook"), None);
        assert_eq!(shell_split("'unterminated"), None);
    }

    #[test]
    fn exec_form_handlers_calling_reins_hook_are_ours() {
        let h = json!({"type":"command","command":"/x/reins","args":["hook","claude","stop"]});
        assert_eq!(reins_exe_of_handler(&h), Some(PathBuf::from("/x/reins")));
    }

    #[test]
    fn shell_form_and_copilot_bash_handlers_calling_reins_hook_are_ours() {
        let h = json!({"command":"'/a b/reins' hook cursor pre-tool-use"});
        assert_eq!(reins_exe_of_handler(&h), Some(PathBuf::from("/a b/reins")));
        let h = json!({"type":"command","bash":"/y/reins.exe hook copilot x"});
        assert_eq!(
            reins_exe_of_handler(&h),
            Some(PathBuf::from("/y/reins.exe"))
        );
    }

    #[test]
    fn other_programs_and_other_reins_subcommands_are_not_ours() {
        for h in [
            json!({"command":"/usr/bin/reinstall hook x"}),
            json!({"command":"/usr/bin/reins status"}),
            json!({"command":"/x/reins","args":["doctor"]}),
            json!({"command":"echo reins hook"}),
            json!("reins hook"),
        ] {
            assert_eq!(reins_exe_of_handler(&h), None, "{h}");
        }
    }
}
