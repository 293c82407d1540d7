//! The built-in catastrophic denylist, evaluated before any user rule.
//!
//! Each rule has a stable name ([`BuiltinRule::name`]) that a user rule can
//! name in `override_builtin` to turn the deny into allow or ask. The
//! matchers work on the parsed shell command (see `shell.rs`) and on file
//! paths found in the tool input. They aim for no false negatives on the
//! listed shapes and few false positives; the near-miss tests pin both.
//!
//! What is deliberately *not* here: `.env` files (agents edit project `.env`
//! files all the time, so they raise the risk level instead of being denied),
//! `~/.aws/config`, `~/.npmrc`, public keys (`*.pub`), and `git push -f`
//! without an explicit branch (the target is unknown; it is high risk, not
//! denied).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use super::paths::{is_critical_target, is_protected, secret_kind};
use super::shell::{self, Cmd, SHELLS, Script};

/// A built-in catastrophic-action rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BuiltinRule {
    /// `rm -r` (any flag spelling, with or without force) of `/`, `/*`, `~`,
    /// `$HOME`, the home directory, `..`, or a top-level system directory;
    /// `rm --no-preserve-root`; `find <those> -delete`.
    RmRecursiveCritical,
    /// `mkfs`, `mkfs.*`, `mke2fs`: formatting a filesystem.
    Mkfs,
    /// `dd of=/dev/<disk>` or a shell redirection onto a raw disk device.
    DdToDisk,
    /// A forced push (`--force`, `-f`, `--force-with-lease`, `+ref`, `--mirror`)
    /// to `main`/`master`, or deleting `main`/`master` on a remote.
    GitForcePushMain,
    /// Downloading and executing in one go: `curl … | sh`, `wget … | bash`,
    /// `bash <(curl …)`, `sh -c "$(curl …)"`.
    PipeToShell,
    /// `chmod -R 777` (or `a+rwx`, `o+w`) on a critical directory.
    ChmodRecursiveRoot,
    /// Any access to `~/.ssh` (except `*.pub`) or a private key file
    /// (`id_rsa`, `id_ed25519`, …) from the shell or a file tool.
    SshKeys,
    /// Reading or deleting credential files: `~/.aws/credentials`, `.netrc`,
    /// `.git-credentials`, `.pgpass`, `.pypirc`, `~/.docker/config.json`,
    /// `~/.kube/config`, `~/.gnupg`, `~/.config/gcloud`, `~/.azure`,
    /// `~/.password-store`.
    CredentialFiles,
    /// Writing to Reins' own config or data directory (the agent editing the
    /// policy that gates it).
    ReinsSelfTamper,
}

impl BuiltinRule {
    /// Every built-in rule, in evaluation order.
    pub const ALL: [BuiltinRule; 9] = [
        BuiltinRule::RmRecursiveCritical,
        BuiltinRule::Mkfs,
        BuiltinRule::DdToDisk,
        BuiltinRule::GitForcePushMain,
        BuiltinRule::PipeToShell,
        BuiltinRule::ChmodRecursiveRoot,
        BuiltinRule::SshKeys,
        BuiltinRule::CredentialFiles,
        BuiltinRule::ReinsSelfTamper,
    ];

    /// The stable name used in `override_builtin` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            BuiltinRule::RmRecursiveCritical => "rm-recursive-critical",
            BuiltinRule::Mkfs => "mkfs",
            BuiltinRule::DdToDisk => "dd-to-disk",
            BuiltinRule::GitForcePushMain => "git-force-push-main",
            BuiltinRule::PipeToShell => "pipe-to-shell",
            BuiltinRule::ChmodRecursiveRoot => "chmod-recursive-root",
            BuiltinRule::SshKeys => "ssh-keys",
            BuiltinRule::CredentialFiles => "credential-files",
            BuiltinRule::ReinsSelfTamper => "reins-self-tamper",
        }
    }

    /// Look a rule up by its stable name.
    pub fn from_name(name: &str) -> Option<BuiltinRule> {
        BuiltinRule::ALL.into_iter().find(|r| r.name() == name)
    }

    /// One line for "why was this denied".
    pub fn description(self) -> &'static str {
        match self {
            BuiltinRule::RmRecursiveCritical => {
                "recursively deletes /, the home directory, .. or a system directory"
            }
            BuiltinRule::Mkfs => "formats a filesystem",
            BuiltinRule::DdToDisk => "writes directly onto a disk device",
            BuiltinRule::GitForcePushMain => "force-pushes to (or deletes) main/master",
            BuiltinRule::PipeToShell => "downloads a script and runs it unseen",
            BuiltinRule::ChmodRecursiveRoot => "makes a system directory world-writable",
            BuiltinRule::SshKeys => "reads or changes SSH keys",
            BuiltinRule::CredentialFiles => "reads or changes a credential file",
            BuiltinRule::ReinsSelfTamper => "changes Reins' own configuration or audit data",
        }
    }
}

impl std::fmt::Display for BuiltinRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the built-in matchers need to know about the machine.
#[derive(Clone, Debug, Default)]
pub(crate) struct Env<'a> {
    pub home: Option<&'a Path>,
    pub cwd: Option<&'a str>,
    pub protected_dirs: &'a [PathBuf],
}

/// File tools that write (for the self-tamper rule).
const WRITE_TOOLS: [&str; 12] = [
    "Write",
    "Edit",
    "MultiEdit",
    "NotebookEdit",
    "write_file",
    "replace",
    "edit_file",
    "create_file",
    "str_replace_editor",
    "apply_patch",
    "delete_file",
    "edit",
];

/// Shell programs that only read (allowed to look at Reins' own files).
const READERS: [&str; 14] = [
    "cat", "less", "more", "head", "tail", "ls", "grep", "rg", "stat", "wc", "diff", "file", "jq",
    "reins",
];

/// Every built-in rule the action trips, in [`BuiltinRule::ALL`] order.
pub(crate) fn matches(
    command: Option<&str>,
    tool_name: Option<&str>,
    paths: &[String],
    env: &Env<'_>,
) -> Vec<BuiltinRule> {
    let mut hits = Vec::new();
    let mut add = |r| {
        if !hits.contains(&r) {
            hits.push(r);
        }
    };
    if let Some(cmd) = command {
        let script = shell::parse(cmd);
        for r in shell_hits(cmd, &script, env) {
            add(r);
        }
    }
    for p in paths {
        match secret_kind(p, env, true) {
            Some(r) => add(r),
            None => {
                if tool_name.is_some_and(|t| WRITE_TOOLS.contains(&t)) && is_protected(p, env) {
                    add(BuiltinRule::ReinsSelfTamper);
                }
            }
        }
    }
    hits.sort_by_key(|r| BuiltinRule::ALL.iter().position(|x| x == r));
    hits
}

fn shell_hits(raw: &str, script: &Script, env: &Env<'_>) -> Vec<BuiltinRule> {
    let mut hits = Vec::new();
    for c in script.commands() {
        if rm_critical(c, env) || find_delete_critical(c, env) {
            hits.push(BuiltinRule::RmRecursiveCritical);
        }
        if c.program.starts_with("mkfs") || c.program == "mke2fs" {
            hits.push(BuiltinRule::Mkfs);
        }
        let dd = c.program == "dd"
            && c.args
                .iter()
                .any(|a| a.strip_prefix("of=").is_some_and(is_disk_device));
        if dd || c.redirects_out.iter().any(|t| is_disk_device(t)) {
            hits.push(BuiltinRule::DdToDisk);
        }
        if git_force_push_main(c) {
            hits.push(BuiltinRule::GitForcePushMain);
        }
        if SHELLS.contains(&c.program.as_str()) && shell_runs_download(c) {
            hits.push(BuiltinRule::PipeToShell);
        }
        if chmod_critical(c, env) {
            hits.push(BuiltinRule::ChmodRecursiveRoot);
        }
        let exempt = matches!(
            c.program.as_str(),
            "ssh" | "ssh-add" | "ls" | "stat" | "test" | "["
        );
        let words = c.args.iter().chain(&c.redirects_out).chain(&c.redirects_in);
        for w in words {
            let candidates = std::iter::once(w.as_str()).chain(w.split_once('=').map(|(_, v)| v));
            for cand in candidates {
                if let Some(r) = secret_kind(cand, env, false) {
                    if !exempt {
                        hits.push(r);
                    }
                }
            }
        }
        let writes_protected = c.redirects_out.iter().any(|t| is_protected(t, env))
            || (!READERS.contains(&c.program.as_str())
                && c.args.iter().any(|a| is_protected(a, env)));
        if writes_protected {
            hits.push(BuiltinRule::ReinsSelfTamper);
        }
    }
    for p in &script.pipelines {
        let download = p
            .iter()
            .position(|c| matches!(c.program.as_str(), "curl" | "wget" | "fetch"));
        if let Some(i) = download {
            if p[i + 1..].iter().any(reads_script_from_stdin) {
                hits.push(BuiltinRule::PipeToShell);
            }
        }
    }
    if process_substitution_download(raw) {
        hits.push(BuiltinRule::PipeToShell);
    }
    hits
}

/// `bash`, `sh -s`, `python3`, `python3 -` with no script file: reads stdin.
fn reads_script_from_stdin(c: &Cmd) -> bool {
    let p = c.program.as_str();
    if SHELLS.contains(&p) {
        return shell::shell_c_script(&c.args).is_none()
            && c.args.iter().all(|a| a.starts_with('-'));
    }
    let interp = p.starts_with("python") || matches!(p, "perl" | "ruby" | "node");
    interp && c.args.iter().all(|a| a == "-")
}

/// `sh -c "$(curl …)"` or with backticks.
fn shell_runs_download(c: &Cmd) -> bool {
    let Some(script) = shell::shell_c_script(&c.args) else {
        return false;
    };
    ["$(curl", "$(wget", "`curl", "`wget", "$( curl", "$( wget"]
        .iter()
        .any(|p| script.contains(p))
}

/// `bash <(curl …)`, `source <(wget …)`.
fn process_substitution_download(raw: &str) -> bool {
    let compact: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let runners = SHELLS.iter().copied().chain(["source", "."]);
    for r in runners {
        for fetch in ["curl", "wget"] {
            for gap in ["", " "] {
                if compact.contains(&format!("{r} <({gap}{fetch}"))
                    || compact.contains(&format!("{r} <({gap}sudo {fetch}"))
                {
                    return true;
                }
            }
        }
    }
    false
}

fn is_disk_device(t: &str) -> bool {
    let Some(dev) = t.strip_prefix("/dev/") else {
        return false;
    };
    let prefixes = [
        "sd", "nvme", "vd", "hd", "xvd", "mmcblk", "disk", "rdisk", "md", "dm-",
    ];
    prefixes.iter().any(|p| dev.starts_with(p))
}

fn short_flags(args: &[String]) -> impl Iterator<Item = &str> {
    args.iter()
        .take_while(|a| *a != "--")
        .filter(|a| a.starts_with('-') && !a.starts_with("--") && a.len() > 1)
        .map(|a| &a[1..])
}

fn operands(args: &[String]) -> Vec<&str> {
    let mut out = vec![];
    let mut after_dd = false;
    for a in args {
        if after_dd {
            out.push(a.as_str());
        } else if a == "--" {
            after_dd = true;
        } else if !a.starts_with('-') || a == "-" {
            out.push(a.as_str());
        }
    }
    out
}

fn rm_critical(c: &Cmd, env: &Env<'_>) -> bool {
    if c.program != "rm" {
        return false;
    }
    if c.args.iter().any(|a| a == "--no-preserve-root") {
        return true;
    }
    let recursive = c.args.iter().any(|a| a == "--recursive")
        || short_flags(&c.args).any(|f| f.contains('r') || f.contains('R'));
    recursive && operands(&c.args).iter().any(|t| is_critical_target(t, env))
}

fn find_delete_critical(c: &Cmd, env: &Env<'_>) -> bool {
    c.program == "find"
        && c.args.iter().any(|a| a == "-delete")
        && c.args
            .iter()
            .take_while(|a| !a.starts_with('-'))
            .any(|t| is_critical_target(t, env))
}

fn chmod_critical(c: &Cmd, env: &Env<'_>) -> bool {
    if c.program != "chmod" {
        return false;
    }
    let recursive =
        c.args.iter().any(|a| a == "--recursive") || short_flags(&c.args).any(|f| f.contains('R'));
    let ops = operands(&c.args);
    let Some((mode, targets)) = ops.split_first() else {
        return false;
    };
    let wide = matches!(
        *mode,
        "777" | "0777" | "a+rwx" | "ugo+rwx" | "o+w" | "a+w" | "o+rwx"
    );
    recursive && wide && targets.iter().any(|t| is_critical_target(t, env))
}

fn git_force_push_main(c: &Cmd) -> bool {
    if c.program != "git" {
        return false;
    }
    let mut args = c.args.iter().map(String::as_str);
    // Global options before the subcommand.
    loop {
        match args.next() {
            Some("-C" | "-c" | "--git-dir" | "--work-tree" | "--namespace") => {
                args.next();
            }
            Some(a) if a.starts_with('-') => {}
            Some("push") => break,
            _ => return false,
        }
    }
    let (mut force, mut delete, mut positional) = (false, false, vec![]);
    let mut rest = args.peekable();
    while let Some(a) = rest.next() {
        match a {
            "--force" | "--mirror" => force = true,
            _ if a.starts_with("--force-with-lease") => force = true,
            "--delete" => delete = true,
            "-o" | "--push-option" | "--repo" | "--receive-pack" | "--exec" => {
                rest.next();
            }
            _ if a.starts_with("--") => {}
            _ if a.starts_with('-') && a.len() > 1 => {
                force |= a.contains('f');
                delete |= a.contains('d');
            }
            _ => positional.push(a),
        }
    }
    let is_main = |r: &str| {
        let r = r.strip_prefix("refs/heads/").unwrap_or(r);
        r == "main" || r == "master"
    };
    positional.iter().skip(1).any(|spec| {
        let plus = spec.starts_with('+');
        let spec = spec.trim_start_matches('+');
        let (src, dst) = spec.split_once(':').unwrap_or((spec, spec));
        let deleting = delete || (spec.contains(':') && src.is_empty());
        is_main(dst) && (force || plus || deleting)
    })
}
