//! Loading and validating the policy file. Every error names the file, the
//! line and column, and the key at fault.

use globset::{GlobBuilder, GlobMatcher};
use regex::Regex;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

use super::RiskLevel;
use super::{
    ApprovalSettings, BuiltinRule, CommandMatcher, MAX_TIMEOUT_SECS, Policy, PolicyDecision, Rule,
    TimeoutOutcome,
};
use crate::actions::ActionClass;
use crate::guardrails::{GuardrailSettings, GuardrailTimeout};
use crate::hooks::HookAgent;
use crate::tripwire::{Scope, TripwireRule, TripwireSettings};

/// Why a policy file could not be used. The hook falls back to the
/// built-in denylist (and otherwise abstains) while this is unresolved.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read policy file {path}: {source}; check that it exists and is readable")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid, at a known place.
    #[error("{path}:{line}:{column}: {key}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The key at fault, e.g. `rule[2].command_regex` (or `(file)`).
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    approvals: Option<RawApprovals>,
    #[serde(default)]
    guardrails: Option<RawGuardrails>,
    #[serde(default)]
    rule: Vec<RawRule>,
    #[serde(default)]
    tripwires: Option<RawTripwires>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTripwires {
    enabled: Option<bool>,
    #[serde(default)]
    rule: Vec<RawTripRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTripRule {
    name: Spanned<String>,
    counts: Option<Spanned<String>>,
    threshold: Option<Spanned<i64>>,
    window_s: Option<Spanned<i64>>,
    per: Option<Spanned<String>>,
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApprovals {
    timeout_secs: Option<Spanned<i64>>,
    on_timeout: Option<TimeoutOutcome>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuardrails {
    enabled: Option<bool>,
    risk: Option<RiskLevel>,
    timeout_secs: Option<Spanned<i64>>,
    on_timeout: Option<GuardrailTimeout>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Spanned<String>,
    agent: Option<Spanned<String>>,
    tool: Option<Spanned<String>>,
    command: Option<Spanned<String>>,
    command_regex: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    result: Spanned<PolicyDecision>,
    message: Option<String>,
    override_builtin: Option<Spanned<String>>,
}

impl Policy {
    /// Load the policy file. `~` in `path` globs expands to `$HOME`.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            path: path.to_owned(),
            source,
        })?;
        let home = std::env::var_os("HOME").map(PathBuf::from);
        Policy::from_toml_str(&text, path, home.as_deref())
    }

    /// Parse policy text. `origin` is only used in error messages; `home`
    /// expands `~` and identifies the home directory for built-in rules.
    pub fn from_toml_str(
        text: &str,
        origin: &Path,
        home: Option<&Path>,
    ) -> Result<Policy, PolicyError> {
        let at = |span: std::ops::Range<usize>, key: String, message: String| {
            let (line, column) = line_col(text, span.start);
            PolicyError::Invalid {
                path: origin.to_owned(),
                line,
                column,
                key,
                message,
            }
        };
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            at(span, key_hint(e.message()), e.message().trim().to_owned())
        })?;

        let mut approvals = ApprovalSettings::default();
        if let Some(a) = raw.approvals {
            if let Some(t) = a.timeout_secs {
                let v = *t.get_ref();
                if !(1..=MAX_TIMEOUT_SECS as i64).contains(&v) {
                    return Err(at(
                        t.span(),
                        "approvals.timeout_secs".into(),
                        format!("{v} is out of range: use 1 to {MAX_TIMEOUT_SECS} seconds"),
                    ));
                }
                approvals.timeout_secs = v as u64;
            }
            if let Some(o) = a.on_timeout {
                approvals.on_timeout = o;
            }
        }

        let mut guardrails = GuardrailSettings::default();
        if let Some(g) = raw.guardrails {
            if let Some(t) = g.timeout_secs {
                let v = *t.get_ref();
                if !(1..=MAX_TIMEOUT_SECS as i64).contains(&v) {
                    return Err(at(
                        t.span(),
                        "guardrails.timeout_secs".into(),
                        format!("{v} is out of range: use 1 to {MAX_TIMEOUT_SECS} seconds"),
                    ));
                }
                guardrails.timeout_secs = v as u64;
            }
            guardrails.enabled = g.enabled.unwrap_or(guardrails.enabled);
            guardrails.risk = g.risk.unwrap_or(guardrails.risk);
            guardrails.on_timeout = g.on_timeout.unwrap_or(guardrails.on_timeout);
        }

        let mut rules = Vec::with_capacity(raw.rule.len());
        for (i, r) in raw.rule.into_iter().enumerate() {
            let key = |k: &str| format!("rule[{}].{k}", i + 1);
            let agent = match r.agent {
                Some(a) => Some(
                    HookAgent::from_cli_word(a.get_ref())
                        .map_err(|e| at(a.span(), key("agent"), e.to_string()))?,
                ),
                None => None,
            };
            let glob = |s: &Spanned<String>,
                        k: &str,
                        literal_sep: bool|
             -> Result<GlobMatcher, PolicyError> {
                let pat = expand_home(s.get_ref(), home);
                GlobBuilder::new(&pat)
                    .literal_separator(literal_sep)
                    .build()
                    .map(|g| g.compile_matcher())
                    .map_err(|e| at(s.span(), key(k), format!("bad glob: {e}")))
            };
            let tool = r
                .tool
                .as_ref()
                .map(|t| glob(t, "tool", false))
                .transpose()?;
            let path = r.path.as_ref().map(|p| glob(p, "path", true)).transpose()?;
            let command = match (&r.command, &r.command_regex) {
                (Some(_), Some(re)) => {
                    return Err(at(
                        re.span(),
                        key("command_regex"),
                        "set either command (a glob) or command_regex, not both".into(),
                    ));
                }
                (Some(c), None) => Some(CommandMatcher::Glob(glob(c, "command", false)?)),
                (None, Some(re)) => Some(CommandMatcher::Regex(Regex::new(re.get_ref()).map_err(
                    |e| at(re.span(), key("command_regex"), format!("bad regex: {e}")),
                )?)),
                (None, None) => None,
            };
            let override_builtin = match &r.override_builtin {
                Some(o) => {
                    let b = BuiltinRule::from_name(o.get_ref()).ok_or_else(|| {
                        let names: Vec<_> = BuiltinRule::ALL.iter().map(|b| b.name()).collect();
                        at(
                            o.span(),
                            key("override_builtin"),
                            format!(
                                "no built-in rule named \"{}\"; known: {}",
                                o.get_ref(),
                                names.join(", ")
                            ),
                        )
                    })?;
                    if *r.result.get_ref() == PolicyDecision::Deny {
                        return Err(at(
                            r.result.span(),
                            key("result"),
                            "an override_builtin rule must say allow or ask (built-in rules already deny)".into(),
                        ));
                    }
                    Some(b)
                }
                None => None,
            };
            let name = r.name.into_inner();
            if name.trim().is_empty() {
                return Err(at(0..0, key("name"), "give the rule a name".into()));
            }
            rules.push(Rule {
                name,
                agent,
                tool,
                command,
                path,
                result: r.result.into_inner(),
                message: r.message,
                override_builtin,
            });
        }
        let tripwires = match raw.tripwires {
            Some(t) => tripwires(t, &at)?,
            None => TripwireSettings::default(),
        };
        Ok(Policy {
            approvals,
            guardrails,
            tripwires,
            rules,
            home: home.map(Path::to_path_buf),
            protected_dirs: vec![],
            source: Some(origin.to_owned()),
        })
    }
}

/// Upper bounds that catch typos (a threshold of 50000, a window of a week).
const MAX_THRESHOLD: i64 = 10_000;
const MAX_WINDOW_S: i64 = 86_400;

/// `[tripwires]` merged over the defaults: a rule named like a default
/// tunes it, any other name adds a rule (which must then say what it counts,
/// its threshold and its window).
fn tripwires(
    raw: RawTripwires,
    at: &impl Fn(std::ops::Range<usize>, String, String) -> PolicyError,
) -> Result<TripwireSettings, PolicyError> {
    let mut out = TripwireSettings::default();
    if let Some(e) = raw.enabled {
        out.enabled = e;
    }
    let defaults = out.rules.len();
    for (i, r) in raw.rule.into_iter().enumerate() {
        let key = |k: &str| format!("tripwires.rule[{}].{k}", i + 1);
        let name = r.name.get_ref().trim().to_owned();
        if name.is_empty() {
            return Err(at(
                r.name.span(),
                key("name"),
                "give the tripwire a name".into(),
            ));
        }
        let counts = match &r.counts {
            Some(c) => Some(ActionClass::from_word(c.get_ref()).ok_or_else(|| {
                let known: Vec<_> = ActionClass::ALL.iter().map(|c| c.word()).collect();
                at(
                    c.span(),
                    key("counts"),
                    format!(
                        "unknown action class \"{}\"; use one of: {}",
                        c.get_ref(),
                        known.join(", ")
                    ),
                )
            })?),
            None => None,
        };
        let bounded =
            |v: &Option<Spanned<i64>>, k: &str, max: i64| -> Result<Option<u32>, PolicyError> {
                match v {
                    Some(n) if (1..=max).contains(n.get_ref()) => Ok(Some(*n.get_ref() as u32)),
                    Some(n) => Err(at(
                        n.span(),
                        key(k),
                        format!("{} is out of range: use 1 to {max}", n.get_ref()),
                    )),
                    None => Ok(None),
                }
            };
        let threshold = bounded(&r.threshold, "threshold", MAX_THRESHOLD)?;
        let window_s = bounded(&r.window_s, "window_s", MAX_WINDOW_S)?;
        let per = match &r.per {
            Some(p) => Some(match p.get_ref().as_str() {
                "agent" => Scope::Agent,
                "session" => Scope::Session,
                other => {
                    return Err(at(
                        p.span(),
                        key("per"),
                        format!("unknown scope \"{other}\"; use \"agent\" or \"session\""),
                    ));
                }
            }),
            None => None,
        };
        if let Some(pos) = out.rules.iter().position(|x| x.name == name) {
            if pos >= defaults {
                return Err(at(
                    r.name.span(),
                    key("name"),
                    format!("a tripwire named \"{name}\" is already defined; names must be unique"),
                ));
            }
            let d = &mut out.rules[pos];
            d.counts = counts.unwrap_or(d.counts);
            d.threshold = threshold.unwrap_or(d.threshold);
            d.window_s = window_s.unwrap_or(d.window_s);
            d.per = per.unwrap_or(d.per);
            d.enabled = r.enabled.unwrap_or(d.enabled);
            continue;
        }
        let missing = |k: &str| {
            at(
                r.name.span(),
                key(k),
                format!("a new tripwire (not one of the built-in names) needs {k}"),
            )
        };
        out.rules.push(TripwireRule {
            name,
            counts: counts.ok_or_else(|| missing("counts"))?,
            threshold: threshold.ok_or_else(|| missing("threshold"))?,
            window_s: window_s.ok_or_else(|| missing("window_s"))?,
            per: per.unwrap_or(Scope::Agent),
            enabled: r.enabled.unwrap_or(true),
        });
    }
    Ok(out)
}

fn expand_home(pat: &str, home: Option<&Path>) -> String {
    match (pat.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => format!("{}/{rest}", h.display()),
        _ => pat.to_owned(),
    }
}

/// Pull a key name out of a serde message such as "unknown field `resutl`".
fn key_hint(msg: &str) -> String {
    let mut parts = msg.split('`');
    match (parts.next(), parts.next()) {
        (Some(_), Some(k)) if !k.is_empty() => k.to_owned(),
        _ => "(file)".to_owned(),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
