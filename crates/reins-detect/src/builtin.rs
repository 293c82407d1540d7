//! The built-in signature table: how each agent Reins knows about shows up in
//! the process table (see `agent-hooks.md`, "Processes").
//!
//! This is data only, in the same shape users write in the config. It
//! deliberately lists only program names and script paths, never words to
//! look for in arbitrary arguments, so `grep claude` or `vim CLAUDE.md` can
//! never match.

use crate::signature::SignatureSpec;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The built-in signatures, one per [`reins_core::AgentKind::BUILTIN`] kind.
pub fn specs() -> Vec<SignatureSpec> {
    vec![
        SignatureSpec {
            kind: "claude".into(),
            // The native install runs `~/.local/share/claude/versions/<X.Y.Z>`
            // through the symlink `~/.local/bin/claude`; npm runs cli.js.
            exe_names: strings(&["claude"]),
            exe_paths: strings(&["**/claude/versions/[0-9]*.[0-9]*.[0-9]*"]),
            script_patterns: strings(&["@anthropic-ai/claude-code/cli.js"]),
            helper_args: strings(&["--bg-pty-host"]),
            // `auto` lets a classifier approve instead of a person; `dontAsk`
            // denies what would prompt, so it is not listed.
            unattended_args: strings(&[
                "--dangerously-skip-permissions",
                "--permission-mode=bypassPermissions",
                "--permission-mode=auto",
            ]),
            ..Default::default()
        },
        SignatureSpec {
            kind: "codex".into(),
            // The node shim spawns `vendor/<triple>/codex/codex`; both are one
            // agent because the shim (an ancestor) absorbs the native child.
            exe_names: strings(&["codex"]),
            script_patterns: strings(&["@openai/codex/bin/codex.js"]),
            helper_exe_names: strings(&["codex-linux-sandbox"]),
            // `--full-auto` still asks on request, so it is not listed.
            unattended_args: strings(&[
                "--yolo",
                "--dangerously-bypass-approvals-and-sandbox",
                "-a=never",
                "--ask-for-approval=never",
            ]),
            ..Default::default()
        },
        SignatureSpec {
            kind: "gemini".into(),
            exe_names: strings(&["gemini"]),
            script_patterns: strings(&["@google/gemini-cli/dist/index.js"]),
            unattended_args: strings(&["--yolo", "-y", "--approval-mode=yolo"]),
            ..Default::default()
        },
        SignatureSpec {
            kind: "openclaw".into(),
            // Only the long-running gateway is an agent; `openclaw status` and
            // friends are short CLI calls.
            exe_names: strings(&["openclaw"]),
            script_patterns: strings(&["openclaw/dist/index.js"]),
            required_args: strings(&["gateway"]),
            // The gateway renames itself (process.title), after which its
            // command line is only this and `comm` is "openclaw-gatewa".
            process_titles: strings(&["openclaw-gateway"]),
            // What its service unit sets (openclaw.md §3): found by these even
            // before it renames itself, whatever its command line. Both are
            // required, so a node script that merely has one exported is not
            // an agent; children that inherit them fold into the gateway.
            env: strings(&["OPENCLAW_SERVICE_KIND=gateway", "OPENCLAW_SYSTEMD_UNIT"]),
            env_programs: strings(&["node", "nodejs"]),
            ..Default::default()
        },
        SignatureSpec {
            kind: "aider".into(),
            exe_names: strings(&["aider"]),
            script_patterns: strings(&["bin/aider"]),
            python_modules: strings(&["aider"]),
            ..Default::default()
        },
        SignatureSpec {
            kind: "cursor".into(),
            exe_names: strings(&["cursor-agent"]),
            // Assumption (cursor-agent --help, 2026): `--force` allows every
            // command not explicitly denied.
            unattended_args: strings(&["--force", "--yolo"]),
            ..Default::default()
        },
        SignatureSpec {
            kind: "copilot".into(),
            exe_names: strings(&["copilot"]),
            script_patterns: strings(&["@github/copilot/**"]),
            unattended_args: strings(&["--allow-all-tools", "--allow-all", "--yolo"]),
            ..Default::default()
        },
        SignatureSpec {
            kind: "opencode".into(),
            exe_names: strings(&["opencode"]),
            ..Default::default()
        },
        SignatureSpec {
            kind: "goose".into(),
            exe_names: strings(&["goose", "goosed"]),
            ..Default::default()
        },
    ]
}
