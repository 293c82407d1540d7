//! A small, conservative shell-command reader for the built-in denylist.
//!
//! It splits a command line into simple commands (on `;`, `&&`, `||`, `|`,
//! `&`, newlines, subshell parentheses, `$(`, backticks and `<(`), honours
//! quoting and backslashes, records redirections, strips wrappers such as
//! `sudo`, `env`, `nohup`, `timeout`, `xargs` and leading `VAR=value`
//! assignments, and reads `sh -c '...'` and `eval '...'` scripts recursively.
//!
//! It is deliberately not a shell: no expansion, no functions, no aliases.
//! It only has to be good enough to *recognise* dangerous commands; when it
//! is unsure, callers treat the command as suspicious rather than safe.

/// One simple command after wrapper stripping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cmd {
    /// Basename of the program (`/bin/rm` → `rm`).
    pub program: String,
    /// The arguments, unquoted.
    pub args: Vec<String>,
    /// Targets of `>`, `>>`, `&>`, `>|`.
    pub redirects_out: Vec<String>,
    /// Sources of `<`.
    pub redirects_in: Vec<String>,
    /// True when this command wrapped itself in `sudo` or `doas`.
    pub privileged: bool,
}

/// A command line: pipelines of simple commands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Script {
    /// Every pipeline, flattened from nested `sh -c` scripts too.
    pub pipelines: Vec<Vec<Cmd>>,
}

impl Script {
    /// Every simple command, in order.
    pub fn commands(&self) -> impl Iterator<Item = &Cmd> {
        self.pipelines.iter().flatten()
    }
}

/// Nested `sh -c` / `eval` scripts are read this deep, no deeper.
const MAX_DEPTH: usize = 4;

/// Shells whose `-c` argument is itself a script.
pub(crate) const SHELLS: [&str; 7] = ["sh", "bash", "zsh", "dash", "ksh", "fish", "ash"];

/// Parse a command line.
pub(crate) fn parse(cmd: &str) -> Script {
    let mut script = Script::default();
    parse_into(cmd, 0, &mut script);
    script
}

fn parse_into(cmd: &str, depth: usize, out: &mut Script) {
    for pipeline in split(cmd) {
        let mut cmds = Vec::new();
        for raw in pipeline {
            let Some(c) = strip_wrappers(raw) else {
                continue;
            };
            if depth < MAX_DEPTH {
                if let Some(inner) = nested_script(&c) {
                    parse_into(&inner, depth + 1, out);
                }
            }
            cmds.push(c);
        }
        if !cmds.is_empty() {
            out.pipelines.push(cmds);
        }
    }
}

/// The script of `bash -c '...'` or `eval ...`, if `c` is one.
fn nested_script(c: &Cmd) -> Option<String> {
    if c.program == "eval" {
        return Some(c.args.join(" "));
    }
    if SHELLS.contains(&c.program.as_str()) {
        return shell_c_script(&c.args).map(str::to_owned);
    }
    None
}

/// The script argument of a shell invoked with `-c` (also `-lc`, `-ec`, ...).
pub(crate) fn shell_c_script(args: &[String]) -> Option<&str> {
    let pos = args
        .iter()
        .position(|a| a.starts_with('-') && !a.starts_with("--") && a[1..].contains('c'))?;
    args.get(pos + 1).map(String::as_str)
}

/// A raw word list with its redirections, before wrapper stripping.
#[derive(Default)]
struct RawCmd {
    words: Vec<String>,
    out: Vec<String>,
    inp: Vec<String>,
}

#[derive(PartialEq)]
enum Pending {
    None,
    Out,
    In,
}

/// Tokenise into pipelines of raw commands.
fn split(s: &str) -> Vec<Vec<RawCmd>> {
    let mut pipelines: Vec<Vec<RawCmd>> = vec![];
    let mut pipeline: Vec<RawCmd> = vec![];
    let mut cur = RawCmd::default();
    let mut word = String::new();
    let mut in_word = false;
    let mut pending = Pending::None;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;

    // Finish the current word into the current command.
    fn flush(word: &mut String, in_word: &mut bool, cur: &mut RawCmd, pending: &mut Pending) {
        if *in_word {
            match pending {
                Pending::Out => cur.out.push(std::mem::take(word)),
                Pending::In => cur.inp.push(std::mem::take(word)),
                Pending::None => cur.words.push(std::mem::take(word)),
            }
            *pending = Pending::None;
        }
        word.clear();
        *in_word = false;
    }

    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\\' => {
                if let Some(n) = next {
                    if n != '\n' {
                        word.push(n);
                        in_word = true;
                    }
                    i += 1;
                }
            }
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`'))
                    {
                        i += 1;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            ' ' | '\t' => flush(&mut word, &mut in_word, &mut cur, &mut pending),
            '>' | '<' if !(c == '<' && next == Some('(')) => {
                // A pure-digit word right before is a file descriptor (`2>`).
                if in_word && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                } else {
                    flush(&mut word, &mut in_word, &mut cur, &mut pending);
                }
                while matches!(chars.get(i + 1), Some('>' | '|')) {
                    i += 1;
                }
                if chars.get(i + 1) == Some(&'&') {
                    // `>&2`: duplicating a descriptor, not a file.
                    i += 1;
                    while chars
                        .get(i + 1)
                        .is_some_and(|d| d.is_ascii_digit() || *d == '-')
                    {
                        i += 1;
                    }
                } else {
                    pending = if c == '>' { Pending::Out } else { Pending::In };
                }
            }
            '&' if next == Some('>') => {
                flush(&mut word, &mut in_word, &mut cur, &mut pending);
                i += 1;
                while matches!(chars.get(i + 1), Some('>')) {
                    i += 1;
                }
                pending = Pending::Out;
            }
            '|' if next != Some('|') => {
                flush(&mut word, &mut in_word, &mut cur, &mut pending);
                if next == Some('&') {
                    i += 1;
                }
                pipeline.push(std::mem::take(&mut cur));
            }
            ';' | '&' | '|' | '\n' | '(' | ')' | '`' | '{' | '}' => {
                if matches!(c, '{' | '}') && in_word {
                    word.push(c);
                    i += 1;
                    continue;
                }
                flush(&mut word, &mut in_word, &mut cur, &mut pending);
                if matches!((c, next), ('&', Some('&')) | ('|', Some('|'))) {
                    i += 1;
                }
                pipeline.push(std::mem::take(&mut cur));
                pipelines.push(std::mem::take(&mut pipeline));
            }
            '$' if next == Some('(') => {
                flush(&mut word, &mut in_word, &mut cur, &mut pending);
                i += 1;
                pipeline.push(std::mem::take(&mut cur));
                pipelines.push(std::mem::take(&mut pipeline));
            }
            '<' => {
                // `<(`: process substitution starts a new command.
                flush(&mut word, &mut in_word, &mut cur, &mut pending);
                i += 1;
                pipeline.push(std::mem::take(&mut cur));
                pipelines.push(std::mem::take(&mut pipeline));
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
        i += 1;
    }
    flush(&mut word, &mut in_word, &mut cur, &mut pending);
    pipeline.push(cur);
    pipelines.push(pipeline);
    pipelines
        .into_iter()
        .map(|p| {
            p.into_iter()
                .filter(|c| !c.words.is_empty() || !c.out.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// Options that take a separate value, per wrapper.
fn wrapper_value_opts(wrapper: &str) -> &'static [&'static str] {
    match wrapper {
        "sudo" => &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"],
        "doas" => &["-u", "-C"],
        "env" => &["-u", "-C", "-S"],
        "nice" => &["-n"],
        "ionice" => &["-c", "-n", "-p"],
        "timeout" => &["-s", "-k", "--signal", "--kill-after"],
        "xargs" => &["-I", "-L", "-n", "-P", "-d", "-E", "-s", "-a"],
        "stdbuf" => &["-i", "-o", "-e"],
        _ => &[],
    }
}

const WRAPPERS: [&str; 13] = [
    "sudo", "doas", "env", "nice", "ionice", "nohup", "time", "command", "builtin", "exec",
    "stdbuf", "timeout", "xargs",
];

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

fn basename(w: &str) -> &str {
    w.rsplit('/').next().unwrap_or(w)
}

/// Strip wrappers and assignments; `None` for a command that is only assignments.
fn strip_wrappers(raw: RawCmd) -> Option<Cmd> {
    let mut words = raw.words.into_iter().peekable();
    let mut privileged = false;
    loop {
        while words.peek().is_some_and(|w| is_assignment(w)) {
            words.next();
        }
        let Some(first) = words.peek() else {
            return (!raw.out.is_empty()).then(|| Cmd {
                redirects_out: raw.out.clone(),
                redirects_in: raw.inp.clone(),
                ..Cmd::default()
            });
        };
        let prog = basename(first).to_owned();
        if !WRAPPERS.contains(&prog.as_str()) {
            break;
        }
        words.next();
        privileged |= prog == "sudo" || prog == "doas";
        let value_opts = wrapper_value_opts(&prog);
        let mut timeout_duration_pending = prog == "timeout";
        while let Some(w) = words.peek() {
            if w == "--" {
                words.next();
                break;
            }
            if w.starts_with('-') && w.len() > 1 {
                let takes_value = value_opts.contains(&w.as_str());
                words.next();
                if takes_value {
                    words.next();
                }
            } else if prog == "env" && is_assignment(w) {
                words.next();
            } else if timeout_duration_pending {
                timeout_duration_pending = false;
                words.next();
            } else {
                break;
            }
        }
    }
    let program = basename(&words.next()?).to_owned();
    Some(Cmd {
        program,
        args: words.collect(),
        redirects_out: raw.out,
        redirects_in: raw.inp,
        privileged,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progs(s: &str) -> Vec<Vec<String>> {
        parse(s)
            .pipelines
            .iter()
            .map(|p| p.iter().map(|c| c.program.clone()).collect())
            .collect()
    }

    #[test]
    fn commands_split_on_operators_but_not_inside_quotes() {
        assert_eq!(
            progs("a && b || c; d & e"),
            [["a"], ["b"], ["c"], ["d"], ["e"]]
        );
        assert_eq!(progs("curl x | sudo bash"), [["curl", "bash"]]);
        assert_eq!(progs("echo 'a; rm -rf /'"), [["echo"]]);
        assert_eq!(parse("echo 'a; b'").pipelines[0][0].args, ["a; b"]);
    }

    #[test]
    fn wrappers_and_assignments_are_stripped() {
        let s = parse("FOO=1 sudo -u root env A=b nice -n 5 /bin/rm -rf /");
        let c = &s.pipelines[0][0];
        assert_eq!((c.program.as_str(), c.privileged), ("rm", true));
        assert_eq!(c.args, ["-rf", "/"]);
        assert_eq!(parse("timeout 10 rm -r x").pipelines[0][0].program, "rm");
    }

    #[test]
    fn nested_shell_scripts_are_read_too() {
        assert_eq!(
            progs("bash -lc 'cd / && rm -rf *'"),
            [["cd"], ["rm"], ["bash"]]
        );
        assert_eq!(progs("eval \"git push -f\""), [["git"], ["eval"]]);
    }

    #[test]
    fn redirections_are_recorded_and_fd_duplication_is_not_a_file() {
        let c = &parse("cat a 2>&1 > /dev/sda < ~/.netrc").pipelines[0][0];
        assert_eq!(c.args, ["a"]);
        assert_eq!(c.redirects_out, ["/dev/sda"]);
        assert_eq!(c.redirects_in, ["~/.netrc"]);
    }

    #[test]
    fn substitutions_start_new_commands() {
        assert_eq!(
            progs("echo $(curl x | sh)"),
            [vec!["echo"], vec!["curl", "sh"]]
        );
    }
}
