//! Path helpers for the built-in rules: expanding `~`/`$HOME`, resolving
//! against the cwd, and classifying a path as critical, secret or Reins' own.
//!
//! Purely lexical: nothing here touches the filesystem, so symlinks are not
//! followed (a symlink to `~/.ssh` under another name is not recognised).

use std::path::{Component, Path, PathBuf};

use super::builtin::{BuiltinRule, Env};

/// Top-level directories whose recursive deletion or chmod is catastrophic.
const SYSTEM_DIRS: [&str; 22] = [
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib32",
    "/lib64",
    "/opt",
    "/proc",
    "/root",
    "/sbin",
    "/srv",
    "/sys",
    "/usr",
    "/var",
    "/Users",
    "/System",
    "/Applications",
    "/Library",
    "/private",
    "/Volumes",
];

/// Expand `~`, `$HOME`, `${HOME}` and make relative paths absolute against
/// the cwd; `None` when that cannot be done (no home, no cwd).
fn resolve(p: &str, env: &Env<'_>) -> Option<PathBuf> {
    let home_rest = ["~", "$HOME", "${HOME}"].iter().find_map(|pre| {
        p.strip_prefix(pre)
            .filter(|r| r.is_empty() || r.starts_with('/'))
    });
    let joined = if let Some(rest) = home_rest {
        let mut h = env.home?.to_path_buf();
        h.push(rest.trim_start_matches('/'));
        h
    } else if p.starts_with('/') {
        PathBuf::from(p)
    } else {
        Path::new(env.cwd?).join(p)
    };
    Some(normalize(&joined))
}

/// Lexical normalisation: drop `.`, apply `..`, collapse `//`.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

pub(crate) fn is_critical_target(t: &str, env: &Env<'_>) -> bool {
    // Strip trailing `/`, `/*`, `/.*` so `/*` counts as `/` and `~/` as `~`.
    let mut t = t;
    loop {
        let before = t.len();
        for suf in ["/*", "/.*", "/"] {
            if t.len() > suf.len() || (suf == "/" && t.len() > 1) {
                t = t.strip_suffix(suf).unwrap_or(t);
            }
        }
        if t.len() == before {
            break;
        }
    }
    if matches!(t, "/" | "/*" | "~" | "$HOME" | "${HOME}") {
        return true;
    }
    if !t.is_empty() && t.split('/').all(|c| c == "..") {
        return true;
    }
    let Some(abs) = resolve(t, env) else {
        return false;
    };
    if abs == Path::new("/") || SYSTEM_DIRS.iter().any(|d| abs == Path::new(d)) {
        return true;
    }
    // The home directory or any of its ancestors.
    env.home.is_some_and(|h| h.starts_with(&abs))
}

/// Which secret rule a path trips. `from_tool` paths are real paths; shell
/// words are only treated as a private key by name when they contain a `/`
/// (so `grep id_rsa` is fine, `cat ./id_rsa` is not).
pub(crate) fn secret_kind(word: &str, env: &Env<'_>, from_tool: bool) -> Option<BuiltinRule> {
    if word.is_empty() || word.starts_with('-') {
        return None;
    }
    let home_like =
        word.starts_with('~') || word.starts_with("$HOME") || word.starts_with("${HOME}");
    let resolved = resolve(word, env).or_else(|| {
        // No home or cwd known: fall back to the words themselves.
        Some(PathBuf::from(
            word.trim_start_matches("${HOME}")
                .trim_start_matches("$HOME")
                .trim_start_matches('~'),
        ))
    })?;
    let comps: Vec<&str> = resolved.iter().filter_map(|c| c.to_str()).collect();
    let last = *comps.last()?;
    let has = |name: &str| comps.contains(&name);
    let pair = |a: &str, b: &str| comps.windows(2).any(|w| w[0] == a && w[1] == b);
    let is_key_name = {
        let stem = last.strip_suffix("_sk").unwrap_or(last);
        matches!(stem, "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519")
    };
    if !last.ends_with(".pub") {
        if has(".ssh") {
            return Some(BuiltinRule::SshKeys);
        }
        if is_key_name && (from_tool || word.contains('/') || home_like) {
            return Some(BuiltinRule::SshKeys);
        }
    }
    let cred = pair(".aws", "credentials")
        || last == ".aws"
        || matches!(
            last,
            ".netrc" | "_netrc" | ".git-credentials" | ".pgpass" | ".pypirc"
        )
        || pair(".docker", "config.json")
        || pair(".kube", "config")
        || has(".gnupg")
        || pair(".config", "gcloud")
        || has(".azure")
        || has(".password-store");
    cred.then_some(BuiltinRule::CredentialFiles)
}

pub(crate) fn is_protected(word: &str, env: &Env<'_>) -> bool {
    let s = match resolve(word, env) {
        Some(abs) => {
            if env.protected_dirs.iter().any(|d| abs.starts_with(d)) {
                return true;
            }
            abs.to_string_lossy().into_owned()
        }
        None => word.to_owned(),
    };
    ["/.config/reins", "/.local/share/reins"]
        .iter()
        .any(|d| s.ends_with(d) || s.contains(&format!("{d}/")))
}
