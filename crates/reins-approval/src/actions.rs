//! What a tool call *does*, classified once: deletions, writes outside the
//! project, pushes to a protected branch, and the plain fact of a tool call.
//!
//! Both consumers read this one classification: the tripwires (which count
//! the classes over a rolling window, see [`crate::tripwire`]) and the
//! policy's risk rating (a bulk deletion or a forced push is high risk). It
//! reads the shell command with the policy's own conservative reader
//! (`policy/shell.rs`), the tool name and the tool input's paths. Pure and
//! lexical: it never touches the filesystem, so the caller passes the
//! project root (and the home directory) in.
//!
//! How deletions are counted: every operand of `rm`/`rmdir`/`unlink`/
//! `shred`/`trash`/`git rm` is one deletion (`rm a b c` is three, `rm -rf
//! build` is one: the number of files inside a directory is unknown and
//! reading it would be I/O); `find … -delete`, `git clean`, `cargo clean`,
//! an HTTP `DELETE`, a `delete`/`trash` subcommand of any CLI (mail CLIs,
//! `gh`, `kubectl`, …) and every `DELETE`/`DROP`/`TRUNCATE` statement in SQL
//! given to a database client are one each; a deleting tool (a tool name
//! with a word such as `delete`, `trash` or `remove`, e.g.
//! `mcp__gmail__delete_email`) is one per id when its input carries a list
//! of ids, else one. It is not a shell: a deletion hidden in a script file
//! or behind a variable is not seen.

use serde::Serialize;
use serde_json::Value;
use std::path::{Component, Path, PathBuf};

use crate::policy::ActionView;
use crate::policy::shell::{self, Cmd, Script};

/// A class of action that tripwires count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionClass {
    /// Any tool call (every pre-tool event is one).
    ToolCall,
    /// Files, mails, rows or remote objects deleted.
    Deletion,
    /// A file written, created or deleted outside the project directory
    /// (scratch space such as `/tmp` and `/dev/null` excepted).
    WriteOutsideProject,
    /// A push to `main`, `master` or `release*`, or any forced push.
    ProtectedPush,
}

impl ActionClass {
    /// Every class, in a stable order.
    pub const ALL: [ActionClass; 4] = [
        ActionClass::ToolCall,
        ActionClass::Deletion,
        ActionClass::WriteOutsideProject,
        ActionClass::ProtectedPush,
    ];

    /// The word used in the policy file (`counts = "deletion"`).
    pub fn word(self) -> &'static str {
        match self {
            ActionClass::ToolCall => "tool_call",
            ActionClass::Deletion => "deletion",
            ActionClass::WriteOutsideProject => "write_outside_project",
            ActionClass::ProtectedPush => "protected_push",
        }
    }

    /// Parse a policy-file word.
    pub fn from_word(w: &str) -> Option<ActionClass> {
        ActionClass::ALL.into_iter().find(|c| c.word() == w)
    }

    /// How a person reads a count of these: "5 deletions".
    pub fn plural(self, n: u32) -> String {
        let (one, many) = match self {
            ActionClass::ToolCall => ("tool call", "tool calls"),
            ActionClass::Deletion => ("deletion", "deletions"),
            ActionClass::WriteOutsideProject => {
                ("write outside the project", "writes outside the project")
            }
            ActionClass::ProtectedPush => {
                ("push to a protected branch", "pushes to protected branches")
            }
        };
        format!("{n} {}", if n == 1 { one } else { many })
    }
}

/// What the classifier knows about where the agent works.
#[derive(Clone, Copy, Debug, Default)]
pub struct ActionContext<'a> {
    /// The project directory (the agent's git root or cwd). Without it no
    /// write is judged to be outside.
    pub project_root: Option<&'a Path>,
    /// The home directory, for `~` in paths.
    pub home: Option<&'a Path>,
}

/// One tool call, classified.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Classified {
    /// How many deletions (see the module docs for how they are counted).
    pub deletions: u32,
    /// A deletion of unknown size: `rm -r`, `find -delete`, `git clean`,
    /// SQL `DROP`/`TRUNCATE`. The risk rating calls these high.
    pub bulk_deletion: bool,
    /// Paths written outside the project, absolute.
    pub writes_outside: Vec<String>,
    /// Pushes to a protected branch (or forced pushes).
    pub protected_pushes: u32,
    /// A forced push (`-f`, `--force*`, `+ref`, `--mirror`), to any branch.
    pub force_push: bool,
}

impl Classified {
    /// How many of `class` this tool call is. A tool call is always one.
    pub fn count(&self, class: ActionClass) -> u32 {
        match class {
            ActionClass::ToolCall => 1,
            ActionClass::Deletion => self.deletions,
            ActionClass::WriteOutsideProject => self.writes_outside.len() as u32,
            ActionClass::ProtectedPush => self.protected_pushes,
        }
    }

    /// A short description for the audit log: "rm a b (2 deletions)".
    pub fn summary(&self) -> String {
        let mut parts = vec![];
        if self.deletions > 0 {
            parts.push(ActionClass::Deletion.plural(self.deletions));
        }
        if !self.writes_outside.is_empty() {
            parts.push(format!(
                "writes outside: {}",
                self.writes_outside.join(", ")
            ));
        }
        if self.protected_pushes > 0 {
            parts.push(ActionClass::ProtectedPush.plural(self.protected_pushes));
        }
        parts.join("; ")
    }
}

/// Classify one tool call.
pub fn classify(a: &ActionView<'_>, ctx: &ActionContext<'_>) -> Classified {
    let script = a.command.map(shell::parse);
    classify_parsed(a, script.as_ref(), ctx)
}

/// [`classify`] with the command already parsed (the risk rating parses once).
pub(crate) fn classify_parsed(
    a: &ActionView<'_>,
    script: Option<&Script>,
    ctx: &ActionContext<'_>,
) -> Classified {
    let mut out = Classified::default();
    let paths = Resolver {
        cwd: a.cwd,
        home: ctx.home,
        root: ctx.project_root,
    };
    if let Some(script) = script {
        for c in script.commands() {
            shell_command(c, &paths, &mut out);
        }
    }
    if let Some(tool) = a.tool_name {
        tool_call(tool, a, &paths, &mut out);
    }
    out.writes_outside.sort();
    out.writes_outside.dedup();
    out
}

/// Programs that take text or patterns, whose words are never subcommands.
const TEXT_PROGRAMS: [&str; 17] = [
    "echo", "printf", "grep", "egrep", "fgrep", "rg", "ag", "sed", "awk", "cat", "less", "head",
    "tail", "man", "jq", "git", "reins",
];

/// Subcommand words that delete (`gh repo delete`, `himalaya message delete`,
/// `kubectl delete`, `aws s3 rm`, `gog gmail trash`).
const DELETE_WORDS: [&str; 8] = [
    "delete", "del", "trash", "rm", "remove", "destroy", "purge", "expunge",
];

/// Database clients whose arguments may carry SQL.
const SQL_CLIENTS: [&str; 8] = [
    "psql",
    "mysql",
    "mariadb",
    "sqlite3",
    "duckdb",
    "sqlcmd",
    "clickhouse-client",
    "cockroach",
];

fn operands(c: &Cmd) -> impl Iterator<Item = &String> {
    let dashdash = c.args.iter().position(|a| a == "--");
    c.args.iter().enumerate().filter_map(move |(i, a)| {
        let after = dashdash.is_some_and(|d| i > d);
        (after || (!a.starts_with('-') && Some(i) != dashdash)).then_some(a)
    })
}

fn has_flag(c: &Cmd, short: char, long: &str) -> bool {
    c.args
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == long || (a.starts_with('-') && !a.starts_with("--") && a.contains(short)))
}

fn shell_command(c: &Cmd, paths: &Resolver<'_>, out: &mut Classified) {
    for r in &c.redirects_out {
        paths.note_write(r, out);
    }
    let p = c.program.as_str();
    match p {
        "rm" | "rmdir" | "unlink" | "shred" | "srm" | "trash" | "trash-put" => {
            let targets: Vec<&String> = operands(c).collect();
            out.deletions += targets.len().max(1) as u32;
            if p == "rm" && (has_flag(c, 'r', "--recursive") || has_flag(c, 'R', "--recursive")) {
                out.bulk_deletion = true;
            }
            for t in targets {
                paths.note_write(t, out);
            }
        }
        "find"
            if c.args.iter().any(|a| a == "-delete")
                || c.args.windows(2).any(|w| {
                    w[0].starts_with("-exec") && matches!(w[1].as_str(), "rm" | "/bin/rm")
                }) =>
        {
            out.deletions += 1;
            out.bulk_deletion = true;
        }
        "git" => git(c, paths, out),
        "cargo" if c.args.first().is_some_and(|a| a == "clean") => out.deletions += 1,
        "curl" | "http" | "https" | "xh" | "wget" => {
            let del = c.args.windows(2).any(|w| {
                matches!(w[0].as_str(), "-X" | "--request" | "--method")
                    && w[1].eq_ignore_ascii_case("DELETE")
            }) || c.args.iter().any(|a| {
                a.eq_ignore_ascii_case("-XDELETE")
                    || a.eq_ignore_ascii_case("--method=DELETE")
                    || a.eq_ignore_ascii_case("--request=DELETE")
                    || (matches!(p, "http" | "https" | "xh") && a == "DELETE")
            });
            if del {
                out.deletions += 1;
            }
        }
        "tee" | "touch" | "mkdir" | "truncate" => {
            for t in operands(c) {
                paths.note_write(t, out);
            }
        }
        "cp" | "mv" | "install" | "ln" | "rsync" => {
            if let Some(dest) = operands(c).last().filter(|d| !d.contains(':')) {
                paths.note_write(dest, out);
            }
        }
        "dd" => {
            for a in &c.args {
                if let Some(of) = a.strip_prefix("of=") {
                    paths.note_write(of, out);
                }
            }
        }
        _ if SQL_CLIENTS.contains(&p) => {
            let (n, bulk) = sql_deletions(&c.args.join(" "));
            out.deletions += n;
            out.bulk_deletion |= bulk;
        }
        _ if !TEXT_PROGRAMS.contains(&p)
            && operands(c)
                .take(3)
                .any(|w| DELETE_WORDS.contains(&w.as_str())) =>
        {
            out.deletions += 1;
        }
        _ => {}
    }
}

/// `git rm`, `git clean`, `git push`.
fn git(c: &Cmd, paths: &Resolver<'_>, out: &mut Classified) {
    // Skip global options, including those that take a value.
    let mut i = 0;
    while let Some(a) = c.args.get(i) {
        if matches!(
            a.as_str(),
            "-C" | "-c" | "--git-dir" | "--work-tree" | "--namespace"
        ) {
            i += 2;
        } else if a.starts_with('-') {
            i += 1;
        } else {
            break;
        }
    }
    let Some(sub) = c.args.get(i) else { return };
    let rest = Cmd {
        program: format!("git {sub}"),
        args: c.args[i + 1..].to_vec(),
        ..Cmd::default()
    };
    match sub.as_str() {
        "rm" => {
            let targets: Vec<&String> = operands(&rest).collect();
            out.deletions += targets.len().max(1) as u32;
            for t in targets {
                paths.note_write(t, out);
            }
        }
        "clean" if !has_flag(&rest, 'n', "--dry-run") => {
            out.deletions += 1;
            out.bulk_deletion = true;
        }
        "push" => push(&rest, out),
        _ => {}
    }
}

/// Options of `git push` that take a separate value.
const PUSH_VALUE_OPTS: [&str; 5] = ["-o", "--push-option", "--repo", "--receive-pack", "--exec"];

fn push(c: &Cmd, out: &mut Classified) {
    let mut force = false;
    let mut all = false;
    let mut words = vec![];
    let mut it = c.args.iter();
    while let Some(a) = it.next() {
        if PUSH_VALUE_OPTS.contains(&a.as_str()) {
            it.next();
        } else if a == "-f" || a.starts_with("--force") || a == "--mirror" {
            force = true;
            all |= a == "--mirror";
        } else if a == "--all" || a == "--branches" {
            all = true;
        } else if a.starts_with("--") {
        } else if a.starts_with('-') && a.len() > 1 {
            force |= a[1..].contains('f');
        } else {
            words.push(a.as_str());
        }
    }
    let refspecs = words.get(1..).unwrap_or_default();
    force |= refspecs.iter().any(|r| r.starts_with('+'));
    let protected = all
        || refspecs.iter().any(|r| {
            let r = r.trim_start_matches('+');
            let dst = r.rsplit_once(':').map_or(r, |(_, d)| d);
            let dst = dst.strip_prefix("refs/heads/").unwrap_or(dst);
            is_protected_branch(dst)
        });
    out.force_push |= force;
    if protected || force {
        out.protected_pushes += 1;
    }
}

/// `main`, `master`, `release` and `release*` (`release/1.2`, `release-3`).
pub fn is_protected_branch(b: &str) -> bool {
    matches!(b, "main" | "master") || b.starts_with("release")
}

/// Count `DELETE`/`DROP`/`TRUNCATE` statements; `bulk` for DROP/TRUNCATE.
fn sql_deletions(sql: &str) -> (u32, bool) {
    let upper = sql.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut n = 0;
    let mut bulk = false;
    for w in words.windows(2) {
        match (w[0], w[1]) {
            ("DELETE", "FROM") => n += 1,
            ("DROP", "TABLE" | "DATABASE" | "SCHEMA" | "INDEX" | "VIEW" | "COLLECTION")
            | ("TRUNCATE", _) => {
                n += 1;
                bulk = true;
            }
            _ => {}
        }
    }
    (n, bulk)
}

/// Words in a tool name that mean it deletes.
const DELETING_TOOL_WORDS: [&str; 9] = [
    "delete", "trash", "remove", "destroy", "purge", "erase", "unlink", "rmdir", "expunge",
];

/// Keys of SQL text in database tools' input.
const SQL_KEYS: [&str; 4] = ["sql", "query", "statement", "command"];

fn tool_call(tool: &str, a: &ActionView<'_>, paths: &Resolver<'_>, out: &mut Classified) {
    let obj = crate::hooks::parse_tool_object(a.tool_input);
    let lower = tool.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|ch: char| !ch.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().any(|w| DELETING_TOOL_WORDS.contains(w)) {
        // One per id when the input carries a list of them (a batch delete).
        let batch = obj
            .as_ref()
            .and_then(|o| o.as_object())
            .and_then(|m| m.values().find_map(Value::as_array))
            .map_or(0, Vec::len);
        out.deletions += batch.max(1) as u32;
    } else if a.command.is_none() && (lower.contains("sql") || words.contains(&"query")) {
        if let Some(o) = &obj {
            for k in SQL_KEYS {
                if let Some(s) = o.get(k).and_then(Value::as_str) {
                    let (n, bulk) = sql_deletions(s);
                    out.deletions += n;
                    out.bulk_deletion |= bulk;
                }
            }
        }
    }
    if !crate::policy::is_read_only_tool(tool) && a.command.is_none() {
        for p in a.tool_paths() {
            paths.note_write(&p, out);
        }
    }
}

/// Scratch space anyone may write to without it counting as outside the
/// project: agents put temporary files there all the time.
const SCRATCH_DIRS: [&str; 2] = ["/tmp", "/var/tmp"];

fn is_scratch(s: &str) -> bool {
    s == "/dev/null"
        || s.starts_with("/dev/std")
        || s.starts_with("/dev/fd/")
        || SCRATCH_DIRS
            .iter()
            .any(|d| s == *d || s.strip_prefix(d).is_some_and(|r| r.starts_with('/')))
}

struct Resolver<'a> {
    cwd: Option<&'a str>,
    home: Option<&'a Path>,
    root: Option<&'a Path>,
}

impl Resolver<'_> {
    /// Record `word` if it names a path outside the project.
    fn note_write(&self, word: &str, out: &mut Classified) {
        let Some(root) = self.root else { return };
        let Some(abs) = self.resolve(word) else {
            return;
        };
        if abs.starts_with(root) {
            return;
        }
        let s = abs.to_string_lossy();
        if is_scratch(&s) {
            return;
        }
        out.writes_outside.push(s.into_owned());
    }

    /// Absolute, lexically normalised; `None` for words with variables or
    /// relative paths without a cwd.
    fn resolve(&self, w: &str) -> Option<PathBuf> {
        let home_rest = ["~", "$HOME", "${HOME}"].iter().find_map(|pre| {
            w.strip_prefix(pre)
                .filter(|r| r.is_empty() || r.starts_with('/'))
        });
        let joined = if let Some(rest) = home_rest {
            self.home?.join(rest.trim_start_matches('/'))
        } else if w.contains('$') || w.starts_with('~') || w.is_empty() {
            return None;
        } else if w.starts_with('/') {
            PathBuf::from(w)
        } else {
            Path::new(self.cwd?).join(w)
        };
        let mut out = PathBuf::from("/");
        for c in joined.components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(n) => out.push(n),
                _ => {}
            }
        }
        Some(out)
    }
}

#[cfg(test)]
#[path = "actions_tests.rs"]
mod tests;
