//! Table-driven tests of the pure classifier: every agent pattern from
//! `agent-hooks.md` and every false positive it lists.

use super::*;

/// (exe, argv, comm)
type Row<'a> = (&'a str, &'a [&'a str], &'a str);

fn kind_of(table: &SignatureTable, (exe, argv, comm): Row<'_>) -> Option<Class> {
    table.classify(&ProcView { exe, argv, comm })
}

fn kind_name(table: &SignatureTable, class: Option<Class>) -> String {
    match class {
        None => "none".into(),
        Some(Class::Agent(i)) => table.signatures()[i].kind().slug().to_owned(),
        Some(Class::Helper(i)) => format!("helper:{}", table.signatures()[i].kind().slug()),
    }
}

fn check(rows: &[(Row<'_>, &str)]) {
    let table = SignatureTable::builtin();
    let mut failures = Vec::new();
    for (row, want) in rows {
        let got = kind_name(&table, kind_of(&table, *row));
        if got != *want {
            failures.push(format!("{row:?}: want {want}, got {got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "misclassified:\n{}",
        failures.join("\n")
    );
}

const NODE: &str = "/usr/bin/node";
const CC_CLI: &str = "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js";
const CODEX_JS: &str = "/home/u/.npm/lib/node_modules/@openai/codex/bin/codex.js";
const CODEX_NATIVE: &str =
    "/home/u/.npm/lib/node_modules/@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex";
const GEMINI_JS: &str = "/usr/lib/node_modules/@google/gemini-cli/dist/index.js";
const CLAW_JS: &str = "/usr/lib/node_modules/openclaw/dist/index.js";

#[test]
fn claude_code_is_recognised_in_every_install_form() {
    let v = "/home/u/.local/share/claude/versions/2.1.3";
    check(&[
        ((v, &["claude"], "claude"), "claude"),
        ((v, &["claude", "--resume"], "claude"), "claude"),
        ((v, &[v, "-p", "hi"], "2.1.3"), "claude"),
        ((v, &[], ""), "claude"),
        (
            (
                "/home/u/.local/share/claude/versions/2.0.14-beta",
                &["x"],
                "x",
            ),
            "claude",
        ),
        (
            ("/usr/local/bin/claude", &["claude", "-p", "hi"], "claude"),
            "claude",
        ),
        ((NODE, &["node", CC_CLI], "node"), "claude"),
        (
            (
                NODE,
                &[
                    "node",
                    "--no-warnings",
                    "--require",
                    "/x/y.js",
                    CC_CLI,
                    "-c",
                ],
                "node",
            ),
            "claude",
        ),
        ((NODE, &["node", "--", CC_CLI], "node"), "claude"),
        (
            (
                NODE,
                &["node", "/usr/local/bin/claude", "--resume"],
                "claude",
            ),
            "claude",
        ),
        ((NODE, &["claude"], "claude"), "claude"),
        (
            ("/home/u/.bun/bin/bun", &["bun", "run", CC_CLI], "bun"),
            "claude",
        ),
        (
            ("/usr/bin/deno", &["deno", "run", "-A", CC_CLI], "deno"),
            "claude",
        ),
        (("", &["claude"], "claude"), "claude"),
    ]);
}

#[test]
fn claude_helpers_are_helpers_not_agents() {
    let v = "/home/u/.local/share/claude/versions/2.1.3";
    check(&[
        (
            (v, &["claude", "--bg-pty-host", "/tmp/sock"], "claude"),
            "helper:claude",
        ),
        (
            (NODE, &["node", CC_CLI, "--bg-pty-host"], "node"),
            "helper:claude",
        ),
    ]);
}

#[test]
fn codex_shim_native_child_standalone_and_sandbox_are_recognised() {
    check(&[
        ((NODE, &["node", CODEX_JS], "node"), "codex"),
        (
            (NODE, &["node", CODEX_JS, "exec", "fix it"], "node"),
            "codex",
        ),
        ((CODEX_NATIVE, &[CODEX_NATIVE], "codex"), "codex"),
        (("/usr/local/bin/codex", &["codex"], "codex"), "codex"),
        (
            ("/usr/local/bin/codex", &["codex", "app-server"], "codex"),
            "codex",
        ),
        ((NODE, &["node", "/usr/local/bin/codex"], "codex"), "codex"),
        (
            (
                "/usr/local/bin/codex-linux-sandbox",
                &["codex-linux-sandbox", "--", "ls"],
                "codex-linux-san",
            ),
            "helper:codex",
        ),
        (
            (
                CODEX_NATIVE,
                &["codex-linux-sandbox", "--", "ls"],
                "codex-linux-san",
            ),
            "helper:codex",
        ),
    ]);
}

#[test]
fn gemini_and_its_relaunched_child_are_recognised() {
    check(&[
        ((NODE, &["node", GEMINI_JS], "node"), "gemini"),
        (
            (
                NODE,
                &[
                    "node",
                    "--max-old-space-size=8192",
                    GEMINI_JS,
                    "--prompt",
                    "x",
                ],
                "node",
            ),
            "gemini",
        ),
        (
            (NODE, &["node", "/usr/local/bin/gemini"], "gemini"),
            "gemini",
        ),
    ]);
}

#[test]
fn openclaw_counts_only_as_a_gateway() {
    check(&[
        (
            (
                NODE,
                &["node", CLAW_JS, "gateway", "--port", "18789"],
                "node",
            ),
            "openclaw",
        ),
        ((NODE, &["node", CLAW_JS, "status"], "node"), "none"),
        ((NODE, &["node", CLAW_JS], "node"), "none"),
        (
            (
                NODE,
                &["node", "/usr/local/bin/openclaw", "gateway"],
                "openclaw",
            ),
            "openclaw",
        ),
    ]);
}

#[test]
fn an_openclaw_gateway_is_recognised_by_its_own_process_title() {
    check(&[
        // process.title = 'openclaw-gateway': cmdline is the title, comm its
        // first 15 bytes, the exe still node.
        ((NODE, &["openclaw-gateway"], "openclaw-gatewa"), "openclaw"),
        // Only comm left (cmdline unreadable).
        ((NODE, &[], "openclaw-gatewa"), "openclaw"),
        // Mentioning the title in an argument is not being it.
        (
            (
                "/usr/bin/bash",
                &["bash", "-c", "pkill openclaw-gateway"],
                "bash",
            ),
            "none",
        ),
        (
            ("/usr/bin/grep", &["grep", "openclaw-gateway"], "grep"),
            "none",
        ),
    ]);
}

#[test]
fn aider_is_recognised_as_a_script_or_a_module() {
    let py = "/usr/bin/python3.11";
    check(&[
        (
            (
                py,
                &["/usr/bin/python3", "/home/u/.local/bin/aider"],
                "aider",
            ),
            "aider",
        ),
        (
            (
                py,
                &["python3", "/home/u/venv/bin/aider", "--model", "x"],
                "python3",
            ),
            "aider",
        ),
        ((py, &["python", "-m", "aider"], "python"), "aider"),
        (
            (py, &["python", "-u", "-m", "aider.main"], "python"),
            "aider",
        ),
        ((py, &["python", "-um", "aider"], "python"), "aider"),
        ((py, &["python", "-maider"], "python"), "aider"),
        (
            (py, &["python", "-X", "utf8", "-m", "aider"], "python"),
            "aider",
        ),
        (
            ("/usr/bin/pypy3", &["pypy3", "-m", "aider"], "pypy3"),
            "aider",
        ),
    ]);
}

#[test]
fn single_binary_agents_are_recognised_by_name() {
    check(&[
        (
            (
                "/home/u/.local/bin/cursor-agent",
                &["cursor-agent"],
                "cursor-agent",
            ),
            "cursor",
        ),
        (
            ("/usr/local/bin/copilot", &["copilot"], "copilot"),
            "copilot",
        ),
        (
            (
                NODE,
                &["node", "/usr/lib/node_modules/@github/copilot/index.js"],
                "node",
            ),
            "copilot",
        ),
        (
            (
                NODE,
                &[
                    "node",
                    "/usr/lib/node_modules/@github/copilot/dist/cli.js",
                    "-p",
                ],
                "node",
            ),
            "copilot",
        ),
        (
            ("/home/u/.opencode/bin/opencode", &["opencode"], "opencode"),
            "opencode",
        ),
        (
            ("/usr/local/bin/goose", &["goose", "session"], "goose"),
            "goose",
        ),
        (
            ("/usr/local/bin/goosed", &["goosed", "agent"], "goosed"),
            "goose",
        ),
    ]);
}

#[test]
fn tools_mentioning_agents_in_their_arguments_are_not_agents() {
    check(&[
        (("/usr/bin/grep", &["grep", "claude"], "grep"), "none"),
        (
            ("/usr/bin/grep", &["grep", "-r", "codex", "."], "grep"),
            "none",
        ),
        (("/usr/bin/vim.basic", &["vim", "CLAUDE.md"], "vim"), "none"),
        (
            (
                "/usr/bin/vim.basic",
                &["vim", "/usr/local/bin/claude"],
                "vim",
            ),
            "none",
        ),
        (("/usr/bin/less", &["less", "codex.log"], "less"), "none"),
        (
            (
                "/usr/bin/tail",
                &["tail", "-f", "/home/u/.claude/x"],
                "tail",
            ),
            "none",
        ),
        (
            (
                "/usr/bin/nano",
                &["nano", "/home/u/.codex/config.toml"],
                "nano",
            ),
            "none",
        ),
        (("/usr/bin/cat", &["cat", "claude"], "cat"), "none"),
        (("/usr/bin/man", &["man", "goose"], "man"), "none"),
        (
            ("/usr/bin/bash", &["bash", "-c", "claude -p hi"], "bash"),
            "none",
        ),
        (("/usr/bin/sudo", &["sudo", "claude"], "sudo"), "none"),
        (("/usr/bin/code", &["code", CC_CLI], "code"), "none"),
    ]);
}

#[test]
fn interpreters_running_other_scripts_are_not_agents() {
    check(&[
        (
            (NODE, &["node", "some-other-script.js", "claude"], "node"),
            "none",
        ),
        ((NODE, &["node", "/srv/app.js", CC_CLI], "node"), "none"),
        (
            (
                NODE,
                &[
                    "node",
                    "-e",
                    "require('/x/@anthropic-ai/claude-code/cli.js')",
                ],
                "node",
            ),
            "none",
        ),
        ((NODE, &["node", "-r", CC_CLI, "other.js"], "node"), "none"),
        ((NODE, &["node"], "node"), "none"),
        (
            (
                NODE,
                &["node", "/x/@anthropic-ai/claude-code/other.js"],
                "node",
            ),
            "none",
        ),
        (
            (
                NODE,
                &["node", "/x/@anthropic-ai/claude-code-fork/cli.js"],
                "node",
            ),
            "none",
        ),
        (
            (
                NODE,
                &[
                    "node",
                    "/x/node_modules/@github/copilot-language-server/dist/x.js",
                ],
                "node",
            ),
            "none",
        ),
        (
            (
                "/usr/bin/python3",
                &["python3", "-c", "import aider"],
                "python3",
            ),
            "none",
        ),
        (
            (
                "/usr/bin/python3",
                &["python3", "script.py", "aider"],
                "python3",
            ),
            "none",
        ),
        (
            (
                "/usr/bin/python3",
                &["python3", "-m", "pip", "install", "aider-chat"],
                "python3",
            ),
            "none",
        ),
        (
            (
                "/usr/bin/python3",
                &["python3", "-m", "aider_tools"],
                "python3",
            ),
            "none",
        ),
    ]);
}

#[test]
fn reins_itself_is_never_an_agent() {
    check(&[
        (
            (
                "/usr/local/bin/reins",
                &["reins", "hook", "claude", "permission-request"],
                "reins",
            ),
            "none",
        ),
        (
            (
                "/work/target/debug/reins",
                &["/work/target/debug/reins", "daemon"],
                "reins",
            ),
            "none",
        ),
        (("", &["reins", "hook", "codex", "notify"], "reins"), "none"),
    ]);
}

#[test]
fn similar_names_and_unknown_processes_are_not_agents() {
    check(&[
        (
            ("/usr/bin/claude-notes", &["claude-notes"], "claude-notes"),
            "none",
        ),
        (("/usr/bin/myclaude", &["myclaude"], "myclaude"), "none"),
        (("/opt/claude/versions/notes.txt", &["x"], "x"), "none"),
        (("", &[], "kworker/0:1"), "none"),
        (("", &[], ""), "none"),
    ]);
}

#[test]
fn agent_kind_reports_agents_but_not_helpers() {
    let table = SignatureTable::builtin();
    let claude = ProcView {
        exe: "/usr/bin/claude",
        argv: &["claude"],
        comm: "claude",
    };
    assert_eq!(table.agent_kind(&claude), Some(AgentKind::ClaudeCode));
    let helper = ProcView {
        exe: "/usr/bin/claude",
        argv: &["claude", "--bg-pty-host"],
        comm: "claude",
    };
    assert_eq!(table.agent_kind(&helper), None);
}
