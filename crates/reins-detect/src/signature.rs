//! The signature table: what a process must look like to count as an agent.
//!
//! A [`SignatureSpec`] is plain data, deserialised from the config's
//! `[[signatures]]` array or taken from [`crate::builtin`]. A
//! [`SignatureTable`] is the validated, compiled form the classifier uses.
//! This module deliberately does not look at processes; matching lives in
//! [`crate::classify`].

use crate::DetectError;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use reins_core::AgentKind;
use serde::Deserialize;

/// One agent signature, as written in the config:
///
/// ```toml
/// [[signatures]]
/// kind = "myagent"                      # slug: a-z, 0-9, '-', '_'
/// display_name = "My Agent"             # optional; defaults to the kind
/// exe_names = ["myagent", "myagentd"]   # exact file names (exe, argv[0], comm, or an interpreter's script)
/// exe_paths = ["**/myagent/versions/*"] # globs on the full executable path
/// script_patterns = ["@me/myagent/cli.js"]  # globs on the script an interpreter runs
/// python_modules = ["myagent"]          # `python -m myagent` (and `myagent.sub`)
/// required_args = ["serve"]             # if set, one of these must appear after the program/script
/// helper_exe_names = ["myagent-sandbox"]    # helper processes: part of an agent, never one on their own
/// helper_args = ["--pty-host"]          # a match carrying one of these args is a helper
/// process_titles = ["myagent-server"]   # titles it gives itself (Node's process.title)
/// unattended_args = ["--yolo", "--mode=auto"]  # flags that mean it runs without asking
/// env = ["MYAGENT_SERVICE=1", "MYAGENT_HOME"]  # environment markers: NAME=value or NAME (set)
/// env_programs = ["node"]               # ...looked for only in these programs' environments
/// ```
///
/// An `unattended_args` entry without `=` matches one argument exactly; a
/// `--flag=value` entry matches that one argument or `--flag` followed by
/// `value` (so `--approval-mode=yolo` also finds `--approval-mode yolo`, and
/// `-a=never` finds `-a never`). An agent whose command line carries one is
/// recorded as unattended, and Reins' guardrail asks a person for its
/// high-risk actions (`docs/approvals.md`).
///
/// Environment markers match a process running one of `env_programs` (its
/// exe's file name, argv[0] or comm) whose environment (`/proc/<pid>/environ`,
/// as it was at exec) carries *every* marker: `NAME=value` needs that exact
/// value, a bare `NAME` only that it is set. A service manager's unit sets
/// such markers, so they find an agent whatever its command line says. The
/// environment is read only for processes named in `env_programs`, once per
/// process, and another user's is unreadable (that process is skipped).
/// Children inherit the environment, but a matching child inside an agent's
/// tree is folded into that agent, never a second one.
///
/// A process that renames itself (Node's `process.title`, `setproctitle`)
/// loses its arguments: `/proc/<pid>/cmdline` holds only the title and
/// `comm` its first 15 bytes, while the exe stays the interpreter's. A
/// `process_titles` entry matches argv[0] or `comm` exactly and needs no
/// `required_args`, since there are none left to check.
///
/// A `kind` equal to a built-in slug (`claude`, `codex`, ...) adds patterns
/// to that built-in agent. A glob that does not start with `/` or `**`
/// matches at any depth, as if prefixed with `**/`; `*` never crosses `/`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureSpec {
    /// The agent's slug, used in ids and JSON.
    pub kind: String,
    /// The human name; defaults to the built-in name or the kind.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Exact executable file names.
    #[serde(default)]
    pub exe_names: Vec<String>,
    /// Globs on the full executable path.
    #[serde(default)]
    pub exe_paths: Vec<String>,
    /// Globs on the script path an interpreter (node, bun, deno, python) runs.
    #[serde(default)]
    pub script_patterns: Vec<String>,
    /// Python modules run with `python -m`.
    #[serde(default)]
    pub python_modules: Vec<String>,
    /// When non-empty, one of these must appear among the arguments.
    #[serde(default)]
    pub required_args: Vec<String>,
    /// File names of helper processes that belong to this agent.
    #[serde(default)]
    pub helper_exe_names: Vec<String>,
    /// Arguments that mark a matching process as a helper.
    #[serde(default)]
    pub helper_args: Vec<String>,
    /// Titles the agent gives its own process (argv[0] or comm, exactly).
    #[serde(default)]
    pub process_titles: Vec<String>,
    /// Command-line flags that mean the agent runs without asking first.
    #[serde(default)]
    pub unattended_args: Vec<String>,
    /// Environment markers (`NAME=value` or `NAME`), all required.
    #[serde(default)]
    pub env: Vec<String>,
    /// The programs whose environment is checked for `env`.
    #[serde(default)]
    pub env_programs: Vec<String>,
}

/// One environment marker: a variable that must be set, with this value if given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EnvMarker {
    pub name: String,
    pub value: Option<String>,
}

impl EnvMarker {
    fn parse(marker: &str) -> Result<Self, String> {
        let (name, value) = match marker.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (marker, None),
        };
        let valid = name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(format!(
                "env marker '{marker}' must be NAME or NAME=value, with NAME made of \
                 letters, digits and '_' (not starting with a digit)"
            ));
        }
        Ok(EnvMarker {
            name: name.to_owned(),
            value,
        })
    }

    /// Whether `environ` (NUL-separated `NAME=value` entries) carries this marker.
    pub(crate) fn found_in(&self, environ: &[u8]) -> bool {
        environ.split(|&b| b == 0).any(|entry| {
            let Some(rest) = entry.strip_prefix(self.name.as_bytes()) else {
                return false;
            };
            match (rest.split_first(), &self.value) {
                (Some((b'=', v)), Some(want)) => v == want.as_bytes(),
                (Some((b'=', _)), None) => true,
                _ => false,
            }
        })
    }
}

/// A validated, compiled signature.
#[derive(Debug)]
pub struct Signature {
    pub(crate) kind: AgentKind,
    pub(crate) display_name: String,
    pub(crate) exe_names: Vec<String>,
    pub(crate) exe_paths: Option<GlobSet>,
    pub(crate) script_patterns: Option<GlobSet>,
    pub(crate) python_modules: Vec<String>,
    pub(crate) required_args: Vec<String>,
    pub(crate) helper_exe_names: Vec<String>,
    pub(crate) helper_args: Vec<String>,
    pub(crate) process_titles: Vec<String>,
    pub(crate) unattended_args: Vec<String>,
    pub(crate) env: Vec<EnvMarker>,
    pub(crate) env_programs: Vec<String>,
}

impl Signature {
    /// The agent kind this signature recognises.
    pub fn kind(&self) -> &AgentKind {
        &self.kind
    }

    /// The name shown to the user.
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// The first of this signature's `unattended_args` found in `argv`
    /// (argv[0] is skipped), as the table spells it.
    pub fn unattended_flag<S: AsRef<str>>(&self, argv: &[S]) -> Option<String> {
        let args: Vec<&str> = argv.iter().skip(1).map(AsRef::as_ref).collect();
        self.unattended_args
            .iter()
            .find(|flag| {
                let split = flag
                    .split_once('=')
                    .filter(|(name, _)| name.starts_with('-'));
                args.iter().enumerate().any(|(i, a)| {
                    *a == flag.as_str()
                        || split.is_some_and(|(name, value)| {
                            *a == name && args.get(i + 1) == Some(&value)
                        })
                })
            })
            .cloned()
    }

    fn compile(spec: &SignatureSpec) -> Result<Self, DetectError> {
        let bad = |reason: String| DetectError::BadSignature {
            kind: spec.kind.clone(),
            reason,
        };
        if spec.kind.is_empty()
            || spec.kind.len() > 32
            || !spec
                .kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(bad(
                "`kind` must be 1 to 32 characters of a-z, 0-9, '-' or '_'".into(),
            ));
        }
        if spec.kind == "reins" {
            return Err(bad(
                "Reins never treats itself as an agent; pick another kind".into(),
            ));
        }
        if spec.exe_names.is_empty()
            && spec.exe_paths.is_empty()
            && spec.script_patterns.is_empty()
            && spec.python_modules.is_empty()
            && spec.helper_exe_names.is_empty()
            && spec.process_titles.is_empty()
            && spec.env.is_empty()
        {
            return Err(bad(
                "it matches nothing: add at least one of exe_names, exe_paths, \
                            script_patterns, python_modules, process_titles or env"
                    .into(),
            ));
        }
        if spec.env.is_empty() != spec.env_programs.is_empty() {
            return Err(bad(
                "`env` and `env_programs` go together: env markers are looked for only \
                 in the environment of the programs env_programs names (e.g. [\"node\"])"
                    .into(),
            ));
        }
        let env = spec
            .env
            .iter()
            .map(|m| EnvMarker::parse(m))
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        for name in spec
            .exe_names
            .iter()
            .chain(&spec.helper_exe_names)
            .chain(&spec.process_titles)
            .chain(&spec.env_programs)
        {
            if name.is_empty() || name.contains('/') {
                return Err(bad(format!(
                    "exe name '{name}' must be a bare file name; put paths in exe_paths"
                )));
            }
            if name == "reins" {
                return Err(bad("Reins never treats itself as an agent".into()));
            }
        }
        let kind = AgentKind::from(spec.kind.clone());
        let display_name = spec
            .display_name
            .clone()
            .unwrap_or_else(|| kind.display_name().to_owned());
        Ok(Signature {
            exe_names: spec.exe_names.clone(),
            exe_paths: compile_globs(&spec.kind, &spec.exe_paths)?,
            script_patterns: compile_globs(&spec.kind, &spec.script_patterns)?,
            python_modules: spec.python_modules.clone(),
            required_args: spec.required_args.clone(),
            helper_exe_names: spec.helper_exe_names.clone(),
            helper_args: spec.helper_args.clone(),
            process_titles: spec.process_titles.clone(),
            unattended_args: spec.unattended_args.clone(),
            env,
            env_programs: spec.env_programs.clone(),
            kind,
            display_name,
        })
    }
}

fn compile_globs(kind: &str, patterns: &[String]) -> Result<Option<GlobSet>, DetectError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let full = if pattern.starts_with('/') || pattern.starts_with("**") {
            pattern.clone()
        } else {
            format!("**/{pattern}")
        };
        let glob = GlobBuilder::new(&full)
            .literal_separator(true)
            .build()
            .map_err(|source| DetectError::BadPattern {
                kind: kind.to_owned(),
                pattern: pattern.clone(),
                source,
            })?;
        set.add(glob);
    }
    let set = set.build().map_err(|source| DetectError::BadPattern {
        kind: kind.to_owned(),
        pattern: patterns.join(", "),
        source,
    })?;
    Ok(Some(set))
}

/// The compiled signatures, checked in order: user signatures first, then the
/// built-in ones.
#[derive(Debug)]
pub struct SignatureTable {
    pub(crate) signatures: Vec<Signature>,
}

impl SignatureTable {
    /// The built-in signatures only.
    pub fn builtin() -> Self {
        let signatures = crate::builtin::specs()
            .iter()
            .map(|spec| Signature::compile(spec).expect("built-in signatures are valid"))
            .collect();
        SignatureTable { signatures }
    }

    /// The user's signatures (checked first) followed by the built-in ones.
    pub fn with_user(user: &[SignatureSpec]) -> Result<Self, DetectError> {
        let mut signatures = user
            .iter()
            .map(Signature::compile)
            .collect::<Result<Vec<_>, _>>()?;
        signatures.extend(Self::builtin().signatures);
        Ok(SignatureTable { signatures })
    }

    /// The user's signatures alone, with the built-in table left out
    /// (`[scan] builtin_signatures = false`).
    pub fn user_only(user: &[SignatureSpec]) -> Result<Self, DetectError> {
        let signatures = user
            .iter()
            .map(Signature::compile)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SignatureTable { signatures })
    }

    /// The compiled signatures in matching order.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }
}

impl Default for SignatureTable {
    fn default() -> Self {
        Self::builtin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::ProcView;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Config {
        signatures: Vec<SignatureSpec>,
    }

    #[test]
    fn a_toml_signatures_array_parses_into_specs() {
        let cfg: Config = toml::from_str(
            r#"
            [[signatures]]
            kind = "myagent"
            display_name = "My Agent"
            exe_names = ["myagent"]
            script_patterns = ["@me/myagent/cli.js"]

            [[signatures]]
            kind = "other"
            python_modules = ["other"]
            "#,
        )
        .unwrap();
        assert_eq!(cfg.signatures.len(), 2);
        assert_eq!(cfg.signatures[0].display_name.as_deref(), Some("My Agent"));
        assert_eq!(cfg.signatures[1].python_modules, ["other"]);
        let table = SignatureTable::with_user(&cfg.signatures).unwrap();
        assert_eq!(
            table.signatures()[0].kind(),
            &AgentKind::Custom("myagent".into())
        );
        assert_eq!(table.signatures()[1].display_name(), "other");
    }

    #[test]
    fn an_unknown_field_in_a_signature_is_rejected() {
        let err = toml::from_str::<Config>("[[signatures]]\nkind = \"x\"\nexe_name = [\"x\"]\n")
            .unwrap_err();
        assert!(err.to_string().contains("exe_name"), "{err}");
    }

    #[test]
    fn a_signature_that_matches_nothing_is_rejected_with_advice() {
        let spec = SignatureSpec {
            kind: "empty".into(),
            ..Default::default()
        };
        let err = SignatureTable::with_user(&[spec]).unwrap_err().to_string();
        assert!(
            err.contains("'empty'") && err.contains("exe_names"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_kind_slug_is_rejected() {
        for kind in ["", "My Agent", "a/b", "reins"] {
            let spec = SignatureSpec {
                kind: kind.into(),
                exe_names: vec!["x".into()],
                ..Default::default()
            };
            assert!(SignatureTable::with_user(&[spec]).is_err(), "{kind:?}");
        }
    }

    #[test]
    fn an_exe_name_with_a_slash_or_naming_reins_is_rejected() {
        for name in ["bin/x", "", "reins"] {
            let spec = SignatureSpec {
                kind: "x".into(),
                exe_names: vec![name.into()],
                ..Default::default()
            };
            assert!(SignatureTable::with_user(&[spec]).is_err(), "{name:?}");
        }
    }

    #[test]
    fn an_invalid_glob_is_reported_with_its_pattern() {
        let spec = SignatureSpec {
            kind: "x".into(),
            script_patterns: vec!["a/[b".into()],
            ..Default::default()
        };
        let err = SignatureTable::with_user(&[spec]).unwrap_err().to_string();
        assert!(err.contains("a/[b"), "{err}");
    }

    #[test]
    fn a_builtin_slug_in_the_config_extends_the_builtin_kind() {
        let spec = SignatureSpec {
            kind: "claude".into(),
            exe_names: vec!["cc".into()],
            ..Default::default()
        };
        let table = SignatureTable::with_user(&[spec]).unwrap();
        assert_eq!(table.signatures()[0].kind(), &AgentKind::ClaudeCode);
        assert_eq!(table.signatures()[0].display_name(), "Claude Code");
    }

    #[test]
    fn an_unattended_flag_is_found_alone_joined_or_followed_by_its_value() {
        let table = SignatureTable::builtin();
        let sig = |k: AgentKind| table.signatures().iter().find(|s| s.kind() == &k).unwrap();
        let claude = sig(AgentKind::ClaudeCode);
        let codex = sig(AgentKind::Codex);
        let gemini = sig(AgentKind::GeminiCli);
        assert_eq!(
            claude.unattended_flag(&["claude", "-p", "x", "--dangerously-skip-permissions"]),
            Some("--dangerously-skip-permissions".into())
        );
        assert_eq!(
            claude.unattended_flag(&["claude", "--permission-mode", "bypassPermissions"]),
            Some("--permission-mode=bypassPermissions".into())
        );
        assert_eq!(
            codex.unattended_flag(&["codex", "-a", "never"]),
            Some("-a=never".into())
        );
        assert_eq!(
            codex.unattended_flag(&["codex", "--ask-for-approval=never"]),
            Some("--ask-for-approval=never".into())
        );
        assert_eq!(
            gemini.unattended_flag(&["node", "gemini.js", "--approval-mode", "yolo"]),
            Some("--approval-mode=yolo".into())
        );
        // An interactive start, a flag's value elsewhere, or argv[0] itself: no.
        for argv in [
            &["claude", "--permission-mode", "default"][..],
            &["claude", "bypassPermissions"],
        ] {
            assert_eq!(claude.unattended_flag(argv), None, "{argv:?}");
        }
        assert_eq!(codex.unattended_flag(&["codex", "-a", "on-request"]), None);
        assert_eq!(
            codex.unattended_flag(&["--yolo"]),
            None,
            "argv[0] is the program"
        );
        assert_eq!(codex.unattended_flag(&["codex", "never", "-a"]), None);
    }

    #[test]
    fn unattended_args_parse_from_a_user_signature() {
        let spec: SignatureSpec =
            toml::from_str("kind = \"x\"\nexe_names = [\"x\"]\nunattended_args = [\"--auto\"]\n")
                .unwrap();
        let table = SignatureTable::with_user(&[spec]).unwrap();
        assert_eq!(
            table.signatures()[0].unattended_flag(&["x", "--auto"]),
            Some("--auto".into())
        );
    }

    #[test]
    fn every_builtin_kind_has_a_signature() {
        let table = SignatureTable::builtin();
        for kind in AgentKind::BUILTIN {
            assert!(
                table.signatures().iter().any(|s| s.kind() == &kind),
                "{kind}"
            );
        }
    }

    #[test]
    fn user_signatures_match_by_name_script_and_module() {
        let spec = SignatureSpec {
            kind: "myagent".into(),
            exe_names: vec!["myagent".into()],
            script_patterns: vec!["@me/myagent/cli.js".into(), "/opt/my/*.py".into()],
            python_modules: vec!["myagent".into()],
            ..Default::default()
        };
        let table = SignatureTable::with_user(&[spec]).unwrap();
        let mine = AgentKind::Custom("myagent".into());
        for (exe, argv) in [
            ("/usr/bin/myagent", &["myagent"][..]),
            (
                "/usr/bin/node",
                &["node", "/x/node_modules/@me/myagent/cli.js"],
            ),
            ("/usr/bin/python3", &["python3", "/opt/my/run.py"]),
            ("/usr/bin/python3", &["python3", "-m", "myagent"]),
        ] {
            let view = ProcView {
                exe,
                argv,
                comm: "",
            };
            assert_eq!(table.agent_kind(&view), Some(mine.clone()), "{argv:?}");
        }
        let nested = ProcView {
            exe: "/usr/bin/python3",
            argv: &["python3", "/opt/my/sub/run.py"],
            comm: "",
        };
        assert_eq!(table.agent_kind(&nested), None, "`*` must not cross '/'");
        let builtin = ProcView {
            exe: "/usr/bin/goose",
            argv: &["goose"],
            comm: "goose",
        };
        assert_eq!(table.agent_kind(&builtin), Some(AgentKind::Goose));
    }
}
