//! The pure classifier: from one process's exe, argv and comm to "which agent,
//! if any".
//!
//! Matching looks only at program names (the exe's file name, argv[0]'s
//! basename, `comm`) and, for interpreters (node, bun, deno, python), at the
//! script or `-m` module they run. It deliberately never searches arbitrary
//! arguments for agent names, so `grep claude`, `vim CLAUDE.md` or
//! `node other.js claude` are never agents. It does no I/O and knows nothing
//! about process trees; grouping lives in [`crate::group`].

use crate::signature::{Signature, SignatureTable};
use reins_core::AgentKind;
use std::path::Path;

/// The few facts about one process that classification needs. Empty strings
/// mean "unknown" (e.g. another user's exe link is unreadable).
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcView<'a> {
    /// Full path of the executable (`/proc/<pid>/exe`), or "".
    pub exe: &'a str,
    /// The command line (`/proc/<pid>/cmdline`), possibly empty.
    pub argv: &'a [&'a str],
    /// The kernel's short name (`/proc/<pid>/comm`, at most 15 bytes), or "".
    pub comm: &'a str,
}

/// What the classifier decided about one process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// An agent process; the index is into [`SignatureTable::signatures`].
    Agent(usize),
    /// A helper of an agent (e.g. `claude --bg-pty-host`): part of an agent's
    /// tree when under one, never an agent on its own.
    Helper(usize),
}

impl Class {
    /// The signature index.
    pub fn signature(self) -> usize {
        match self {
            Class::Agent(i) | Class::Helper(i) => i,
        }
    }
}

/// The file names the kernel keeps in `comm` are cut to this many bytes.
const COMM_MAX: usize = 15;

/// Our own binary's name: a process running it is never an agent, even
/// `reins hook claude ...`.
const SELF_NAME: &str = "reins";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Interp {
    Node,
    BunOrDeno,
    Python,
}

/// What an interpreter was asked to run.
#[derive(Debug, PartialEq, Eq)]
enum Target<'a> {
    Script(&'a str),
    Module(&'a str),
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn interp_of(name: &str) -> Option<Interp> {
    match name {
        "node" | "nodejs" => return Some(Interp::Node),
        "bun" | "deno" => return Some(Interp::BunOrDeno),
        _ => {}
    }
    let rest = name
        .strip_prefix("python")
        .or_else(|| name.strip_prefix("pypy"))?;
    rest.bytes()
        .all(|b| b.is_ascii_digit() || b == b'.')
        .then_some(Interp::Python)
}

/// Node options that take their value as the next argument.
const NODE_VALUE_OPTS: &[&str] = &[
    "-r",
    "--require",
    "--import",
    "--loader",
    "--experimental-loader",
    "-C",
    "--conditions",
    "--env-file",
    "--title",
    "--input-type",
];

/// Node options after which there is no script file (eval, REPL, stdin).
const NODE_NO_SCRIPT_OPTS: &[&str] = &["-e", "--eval", "-p", "--print", "-i", "--interactive", "-"];

/// The script or module an interpreter runs, and the index of the first
/// argument after it.
fn target<'a>(interp: Interp, argv: &[&'a str]) -> Option<(Target<'a>, usize)> {
    let mut i = 1;
    let mut saw_run = false;
    while i < argv.len() {
        let arg = argv[i];
        match interp {
            Interp::Node => {
                if arg == "--" {
                    return argv.get(i + 1).map(|s| (Target::Script(s), i + 2));
                }
                if NODE_NO_SCRIPT_OPTS.contains(&arg) {
                    return None;
                }
                if NODE_VALUE_OPTS.contains(&arg) {
                    i += 2;
                    continue;
                }
                if !arg.starts_with('-') {
                    return Some((Target::Script(arg), i + 1));
                }
            }
            Interp::BunOrDeno => {
                if arg == "run" && !saw_run {
                    saw_run = true;
                } else if !arg.starts_with('-') {
                    return Some((Target::Script(arg), i + 1));
                }
            }
            Interp::Python => {
                if arg == "-" || arg == "--" {
                    return None;
                }
                if let Some(flags) = arg.strip_prefix('-').filter(|f| !f.starts_with('-')) {
                    // Short flags may be clustered: `-um aider`, `-maider`.
                    for (at, flag) in flags.char_indices() {
                        let attached = &flags[at + flag.len_utf8()..];
                        match flag {
                            'c' => return None,
                            'm' if !attached.is_empty() => {
                                return Some((Target::Module(attached), i + 1));
                            }
                            'm' => return argv.get(i + 1).map(|m| (Target::Module(m), i + 2)),
                            'W' | 'X' if attached.is_empty() => {
                                i += 1;
                                break;
                            }
                            'W' | 'X' => break,
                            _ => {}
                        }
                    }
                } else if arg == "--check-hash-based-pycs" {
                    i += 1;
                } else if !arg.starts_with('-') {
                    return Some((Target::Script(arg), i + 1));
                }
            }
        }
        i += 1;
    }
    None
}

/// The exe's file name and argv[0]'s basename ("" when unknown).
fn names<'a>(view: &ProcView<'a>) -> (&'a str, &'a str) {
    let exe_name = if view.exe.is_empty() {
        ""
    } else {
        basename(view.exe)
    };
    (exe_name, view.argv.first().map_or("", |a| basename(a)))
}

/// A process running Reins itself is never an agent.
fn is_self(view: &ProcView<'_>) -> bool {
    let (exe_name, argv0) = names(view);
    exe_name == SELF_NAME || argv0 == SELF_NAME || view.comm == SELF_NAME
}

fn name_matches(names: &[String], exe_name: &str, argv0: &str, comm: &str) -> bool {
    names.iter().any(|n| {
        n == exe_name
            || n == argv0
            || (!comm.is_empty()
                && n.as_bytes().get(..COMM_MAX).unwrap_or(n.as_bytes()) == comm.as_bytes())
    })
}

/// Whether `sig` matches, and which arguments follow the program or script.
fn match_args<'v>(
    sig: &Signature,
    view: &ProcView<'v>,
    names: (&str, &str),
    target: Option<&(Target<'v>, usize)>,
) -> Option<usize> {
    let (exe_name, argv0) = names;
    let by_name = name_matches(&sig.exe_names, exe_name, argv0, view.comm);
    let by_path = sig.exe_paths.as_ref().is_some_and(|set| {
        (!view.exe.is_empty() && set.is_match(Path::new(view.exe)))
            || view
                .argv
                .first()
                .is_some_and(|a| a.contains('/') && set.is_match(Path::new(a)))
    });
    if by_name || by_path {
        return Some(1);
    }
    match target? {
        (Target::Script(script), after) => {
            let hit = sig.exe_names.iter().any(|n| n == basename(script))
                || sig
                    .script_patterns
                    .as_ref()
                    .is_some_and(|set| set.is_match(Path::new(script)));
            hit.then_some(*after)
        }
        (Target::Module(module), after) => {
            let hit = sig.python_modules.iter().any(|m| {
                module
                    .strip_prefix(m.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            });
            hit.then_some(*after)
        }
    }
}

impl SignatureTable {
    /// Classify one process: an agent, an agent's helper, or nothing.
    pub fn classify(&self, view: &ProcView<'_>) -> Option<Class> {
        let (exe_name, argv0) = names(view);
        if is_self(view) {
            return None;
        }
        if exe_name.is_empty() && argv0.is_empty() && view.comm.is_empty() {
            return None;
        }
        let interp = interp_of(exe_name).or_else(|| interp_of(argv0));
        let target = interp.and_then(|i| target(i, view.argv));
        for (idx, sig) in self.signatures.iter().enumerate() {
            if name_matches(&sig.helper_exe_names, exe_name, argv0, view.comm) {
                return Some(Class::Helper(idx));
            }
            // A process that renamed itself: its title is all that is left
            // of its command line (the exe is still the interpreter).
            if name_matches(&sig.process_titles, "", argv0, view.comm) {
                return Some(Class::Agent(idx));
            }
            let Some(after) = match_args(sig, view, (exe_name, argv0), target.as_ref()) else {
                continue;
            };
            let args = view.argv.get(after..).unwrap_or(&[]);
            if !sig.required_args.is_empty()
                && !args
                    .iter()
                    .any(|a| sig.required_args.iter().any(|r| r == a))
            {
                continue;
            }
            if args.iter().any(|a| sig.helper_args.iter().any(|h| h == a)) {
                return Some(Class::Helper(idx));
            }
            return Some(Class::Agent(idx));
        }
        None
    }

    /// Whether a process's environment could decide its class: it is not
    /// classified by [`SignatureTable::classify`] alone and runs a program some
    /// signature's `env_programs` names. Only then is `/proc/<pid>/environ` read.
    pub fn wants_env(&self, view: &ProcView<'_>) -> bool {
        let (exe_name, argv0) = names(view);
        self.signatures
            .iter()
            .any(|sig| name_matches(&sig.env_programs, exe_name, argv0, view.comm))
    }

    /// Classify one process, reading its environment (through `read_env`,
    /// at most once) only when the rest of its view matches nothing and a
    /// signature with environment markers could match it.
    pub fn classify_with_env(
        &self,
        view: &ProcView<'_>,
        read_env: impl FnOnce() -> Option<Vec<u8>>,
    ) -> Option<Class> {
        if let Some(class) = self.classify(view) {
            return Some(class);
        }
        if is_self(view) || !self.wants_env(view) {
            return None;
        }
        let environ = read_env()?;
        self.classify_env(view, &environ)
    }

    /// The environment-marker match alone: a process running one of a
    /// signature's `env_programs` whose `environ` carries all its markers.
    pub fn classify_env(&self, view: &ProcView<'_>, environ: &[u8]) -> Option<Class> {
        let (exe_name, argv0) = names(view);
        self.signatures
            .iter()
            .position(|sig| {
                !sig.env.is_empty()
                    && name_matches(&sig.env_programs, exe_name, argv0, view.comm)
                    && sig.env.iter().all(|m| m.found_in(environ))
            })
            .map(Class::Agent)
    }

    /// The agent kind of a process, or `None` for helpers and non-agents.
    pub fn agent_kind(&self, view: &ProcView<'_>) -> Option<AgentKind> {
        match self.classify(view)? {
            Class::Agent(i) => Some(self.signatures[i].kind.clone()),
            Class::Helper(_) => None,
        }
    }
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "classify_env_tests.rs"]
mod env_tests;
