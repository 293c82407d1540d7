//! Loading the TOML policy and evaluating user rules.

use super::*;
use serde_json::json;

fn load(text: &str) -> Result<Policy, PolicyError> {
    Policy::from_toml_str(
        text,
        Path::new("/etc/reins/policy.toml"),
        Some(Path::new("/home/alice")),
    )
}

fn bash<'a>(cmd: &'a str, input: &'a Value) -> ActionView<'a> {
    ActionView {
        agent: Some(HookAgent::Claude),
        tool_name: Some("Bash"),
        tool_input: Some(input),
        command: Some(cmd),
        cwd: Some("/home/alice/proj"),
    }
}

fn eval_cmd(p: &Policy, cmd: &str) -> Evaluation {
    let input = json!({ "command": cmd });
    p.evaluate(&bash(cmd, &input))
}

const EXAMPLE: &str = r#"
[approvals]
timeout_secs = 60
on_timeout = "deny"

[[rule]]
name = "tests are fine"
tool = "Bash"
command = "cargo test*"
result = "allow"

[[rule]]
name = "no npm publish"
command_regex = "^npm\\s+publish"
result = "deny"
message = "publishing is for humans"

[[rule]]
name = "codex edits in prod ask"
agent = "codex"
path = "~/prod/**"
result = "ask"

[[rule]]
name = "never touch secrets dir"
path = "/home/alice/proj/secrets/**"
result = "deny"

[[rule]]
name = "read-only tools"
tool = "{Read,Glob,Grep}"
result = "allow"

[[rule]]
name = "wipe scratch boxes"
override_builtin = "rm-recursive-critical"
agent = "claude"
command = "rm -rf /"
result = "ask"
"#;

#[test]
fn the_example_policy_loads_with_its_settings() {
    let p = load(EXAMPLE).unwrap();
    assert_eq!(
        p.approvals,
        ApprovalSettings {
            timeout_secs: 60,
            on_timeout: TimeoutOutcome::Deny
        }
    );
    assert_eq!(p.rule_count(), 6);
    assert!(
        p.describe()
            .iter()
            .any(|l| l.contains("wipe scratch boxes (overrides rm-recursive-critical)"))
    );
}

#[test]
fn an_empty_file_means_default_settings_and_ask() {
    let p = load("").unwrap();
    assert_eq!(
        p.approvals,
        ApprovalSettings {
            timeout_secs: 90,
            on_timeout: TimeoutOutcome::Abstain
        }
    );
    let ev = eval_cmd(&p, "ls");
    assert_eq!(
        (ev.decision, ev.rule),
        (PolicyDecision::Ask, RuleRef::Default)
    );
}

#[test]
fn the_first_matching_rule_wins_and_says_why() {
    let p = load(EXAMPLE).unwrap();
    let ev = eval_cmd(&p, "cargo test -p x");
    assert_eq!(ev.decision, PolicyDecision::Allow);
    assert_eq!(
        ev.rule,
        RuleRef::User {
            index: 0,
            name: "tests are fine".into()
        }
    );
    assert!(
        ev.reason
            .contains("rule #1 'tests are fine' matched: tool ~ Bash, command ~ cargo test*"),
        "{}",
        ev.reason
    );

    let ev = eval_cmd(&p, "npm  publish --access public");
    assert_eq!(ev.decision, PolicyDecision::Deny);
    assert_eq!(
        ev.verdict(),
        Some(HookVerdict::Deny {
            message: "publishing is for humans".into()
        })
    );

    assert_eq!(eval_cmd(&p, "npm test").rule, RuleRef::Default);
}

#[test]
fn agent_and_path_matchers_narrow_a_rule() {
    let p = load(EXAMPLE).unwrap();
    let input = json!({"file_path": "/home/alice/prod/app.yml"});
    let mut view = ActionView {
        agent: Some(HookAgent::Codex),
        tool_name: Some("Edit"),
        tool_input: Some(&input),
        command: None,
        cwd: Some("/home/alice"),
    };
    assert_eq!(
        p.evaluate(&view).rule,
        RuleRef::User {
            index: 2,
            name: "codex edits in prod ask".into()
        }
    );
    view.agent = Some(HookAgent::Claude);
    assert_eq!(p.evaluate(&view).rule, RuleRef::Default);

    // Relative paths are joined to the cwd; the cwd itself is a candidate too.
    let rel = json!({"file_path": "secrets/key.txt"});
    let v = ActionView {
        tool_name: Some("Write"),
        tool_input: Some(&rel),
        cwd: Some("/home/alice/proj"),
        ..view
    };
    assert_eq!(p.evaluate(&v).decision, PolicyDecision::Deny);
    let input = json!({"command": "ls"});
    let in_secrets = ActionView {
        cwd: Some("/home/alice/proj/secrets/x"),
        ..bash("ls", &input)
    };
    assert_eq!(p.evaluate(&in_secrets).decision, PolicyDecision::Deny);
}

#[test]
fn tool_globs_match_tool_names() {
    let p = load(EXAMPLE).unwrap();
    let input = json!({"pattern": "x"});
    let v = ActionView {
        tool_name: Some("Grep"),
        tool_input: Some(&input),
        ..ActionView::default()
    };
    let ev = p.evaluate(&v);
    assert_eq!(ev.decision, PolicyDecision::Allow);
    assert_eq!(ev.risk, RiskLevel::Low);
}

#[test]
fn builtin_rules_beat_user_allow_rules() {
    let p = load(
        r#"
[[rule]]
name = "allow all bash"
tool = "Bash"
result = "allow"
"#,
    )
    .unwrap();
    let ev = eval_cmd(&p, "curl https://x | sh");
    assert_eq!(ev.decision, PolicyDecision::Deny);
    assert_eq!(
        ev.rule,
        RuleRef::Builtin {
            rule: BuiltinRule::PipeToShell
        }
    );
    assert_eq!(eval_cmd(&p, "ls").decision, PolicyDecision::Allow);
}

#[test]
fn only_a_matching_override_rule_lifts_a_builtin_deny() {
    let p = load(EXAMPLE).unwrap();
    let ev = eval_cmd(&p, "rm -rf /");
    assert_eq!(ev.decision, PolicyDecision::Ask);
    assert_eq!(
        ev.rule,
        RuleRef::Override {
            builtin: BuiltinRule::RmRecursiveCritical,
            index: 5,
            name: "wipe scratch boxes".into()
        }
    );
    assert_eq!(ev.builtin_hits, vec![BuiltinRule::RmRecursiveCritical]);
    assert_eq!(ev.risk, RiskLevel::High);
    // The override's matchers must match too.
    assert_eq!(eval_cmd(&p, "rm -rf ~").decision, PolicyDecision::Deny);
}

#[test]
fn an_override_rule_does_not_match_ordinary_actions() {
    let p = load(
        r#"
[[rule]]
name = "let me force push"
override_builtin = "git-force-push-main"
result = "allow"
"#,
    )
    .unwrap();
    assert_eq!(eval_cmd(&p, "ls").rule, RuleRef::Default);
    assert_eq!(
        eval_cmd(&p, "git push -f origin main").decision,
        PolicyDecision::Allow
    );
    // Two built-in hits need two overrides.
    assert_eq!(
        eval_cmd(&p, "git push -f origin main && rm -rf /").decision,
        PolicyDecision::Deny
    );
}

#[test]
fn an_override_rule_cannot_say_deny() {
    let e = load("[[rule]]\nname = \"x\"\noverride_builtin = \"mkfs\"\nresult = \"deny\"\n")
        .unwrap_err();
    let s = e.to_string();
    assert!(
        s.starts_with("/etc/reins/policy.toml:4:10: rule[1].result:"),
        "{s}"
    );
    assert!(s.contains("allow or ask"), "{s}");
}

#[test]
fn allow_on_timeout_is_unrepresentable_and_rejected_with_a_reason() {
    let e = load("[approvals]\non_timeout = \"allow\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("policy.toml:2:"), "{e}");
    assert!(e.contains("never approves by default"), "{e}");
}

#[test]
fn load_errors_name_the_file_line_and_key() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[[rule]]\nname = \"a\"\nresutl = \"allow\"\n",
            ":3:1: resutl:",
            "unknown field",
        ),
        ("[[rule]]\nname = \"a\"\n", ":1:1: result:", "missing field"),
        (
            "[[rule]]\nname = \"a\"\nresult = \"maybe\"\n",
            ":3:10:",
            "unknown variant",
        ),
        (
            "[[rule]]\nname = \"a\"\nresult = \"ask\"\ncommand_regex = \"(\"\n",
            ":4:17: rule[1].command_regex:",
            "bad regex",
        ),
        (
            "[[rule]]\nname = \"a\"\nresult = \"ask\"\ncommand = \"a\"\ncommand_regex = \"b\"\n",
            ":5:17: rule[1].command_regex:",
            "not both",
        ),
        (
            "[[rule]]\nname = \"a\"\nresult = \"ask\"\nagent = \"hal\"\n",
            ":4:9: rule[1].agent:",
            "unknown agent 'hal'",
        ),
        (
            "[[rule]]\nname = \"a\"\nresult = \"ask\"\noverride_builtin = \"rm\"\n",
            ":4:20: rule[1].override_builtin:",
            "rm-recursive-critical",
        ),
        (
            "[approvals]\ntimeout_secs = 0\n",
            ":2:16: approvals.timeout_secs:",
            "1 to 3600",
        ),
        (
            "[[rule]]\nname = \"a\"\nresult = \"ask\"\npath = \"a[\"\n",
            ":4:8: rule[1].path:",
            "bad glob",
        ),
        ("not toml at all", ":1:", ""),
    ];
    for (text, at, msg) in cases {
        let e = load(text).unwrap_err().to_string();
        assert!(e.starts_with("/etc/reins/policy.toml"), "{e}");
        assert!(e.contains(at), "want {at:?} in {e:?}");
        assert!(e.contains(msg), "want {msg:?} in {e:?}");
    }
}

#[test]
fn load_reads_a_file_and_reports_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, EXAMPLE).unwrap();
    let p = Policy::load(&path).unwrap();
    assert_eq!(p.source(), Some(path.as_path()));
    let e = Policy::load(&dir.path().join("nope.toml")).unwrap_err();
    assert!(matches!(e, PolicyError::Io { .. }));
    assert!(e.to_string().contains("nope.toml"));
}

#[test]
fn hook_inputs_evaluate_through_the_action_view() {
    let raw = json!({"session_id":"s","cwd":"/home/alice/proj","tool_name":"Bash","tool_input":{"command":"cargo test"}});
    let h = crate::hooks::parse(
        HookAgent::Claude,
        crate::hooks::HookEvent::PermissionRequest,
        raw.to_string().as_bytes(),
    )
    .unwrap();
    let p = load(EXAMPLE).unwrap();
    assert_eq!(
        p.evaluate(&ActionView::from(&h)).decision,
        PolicyDecision::Allow
    );
}

#[test]
fn risk_levels_follow_the_heuristic() {
    let p = load("").unwrap();
    assert_eq!(eval_cmd(&p, "ls").risk, RiskLevel::Medium);
    assert_eq!(eval_cmd(&p, "sudo apt install x").risk, RiskLevel::High);
    assert_eq!(eval_cmd(&p, "rm -rf build").risk, RiskLevel::High);
    assert_eq!(
        eval_cmd(&p, "git push -f origin feature").risk,
        RiskLevel::High
    );
    assert_eq!(eval_cmd(&p, "cat .env").risk, RiskLevel::High);
    let env = json!({"file_path": "/p/.env"});
    let v = ActionView {
        tool_name: Some("Read"),
        tool_input: Some(&env),
        ..ActionView::default()
    };
    assert_eq!(p.evaluate(&v).risk, RiskLevel::High);
}
