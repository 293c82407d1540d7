use super::*;
use reins_core::{AgentKind, ProcessKey};

fn agent(pid: u32) -> AgentId {
    AgentId {
        kind: AgentKind::ClaudeCode,
        root: ProcessKey {
            pid,
            start_ticks: 1,
        },
    }
}

fn deletions(n: u32) -> Classified {
    Classified {
        deletions: n,
        ..Classified::default()
    }
}

fn call() -> Classified {
    Classified::default()
}

const S: u64 = 1000;

#[test]
fn five_deletions_in_forty_seconds_trip_on_the_fifth() {
    let mut t = Tripwires::new(TripwireSettings::default());
    let a = agent(1);
    for i in 0..4 {
        assert_eq!(
            t.observe(i * 10 * S, Some(&a), Some("s"), &deletions(1)),
            Outcome::Clear
        );
    }
    let Outcome::Fired(f) = t.observe(40 * S, Some(&a), Some("s"), &deletions(1)) else {
        panic!("the fifth deletion trips the wire");
    };
    assert_eq!((f.rule.as_str(), f.count, f.span_s()), ("deletions", 5, 40));
    assert_eq!(f.describe(), "5 deletions in 40 s");
    // Held until a person resumes it, the session too.
    assert!(matches!(
        t.observe(41 * S, Some(&a), Some("s"), &call()),
        Outcome::Held { .. }
    ));
    assert!(matches!(
        t.observe(41 * S, None, Some("s"), &call()),
        Outcome::Held { .. }
    ));
    assert!(t.is_tripped(&a));
}

#[test]
fn deletions_that_fall_out_of_the_window_are_forgotten() {
    let mut t = Tripwires::new(TripwireSettings::default());
    let a = agent(1);
    for i in 0..20 {
        // One every 15 s: never five within 60 s.
        assert_eq!(
            t.observe(i * 15 * S, Some(&a), None, &deletions(1)),
            Outcome::Clear,
            "deletion {i}"
        );
    }
}

#[test]
fn one_command_deleting_many_files_counts_them_all() {
    let mut t = Tripwires::new(TripwireSettings::default());
    let a = agent(1);
    assert_eq!(t.observe(0, Some(&a), None, &deletions(2)), Outcome::Clear);
    assert!(matches!(
        t.observe(S, Some(&a), None, &deletions(3)),
        Outcome::Fired(Fired { count: 5, .. })
    ));
}

#[test]
fn a_normal_session_trips_nothing() {
    let mut t = Tripwires::new(TripwireSettings::default());
    let a = agent(1);
    // Edits, builds and one `cargo clean`, a few seconds apart, for ten minutes.
    for i in 0..200u64 {
        let action = if i == 100 { deletions(1) } else { call() };
        assert_eq!(
            t.observe(i * 3 * S, Some(&a), Some("s"), &action),
            Outcome::Clear
        );
    }
}

#[test]
fn a_burst_of_thirty_tool_calls_in_ten_seconds_trips() {
    let mut t = Tripwires::new(TripwireSettings::default());
    let a = agent(1);
    for i in 0..29 {
        assert_eq!(t.observe(i * 300, Some(&a), None, &call()), Outcome::Clear);
    }
    assert!(matches!(
        t.observe(29 * 300, Some(&a), None, &call()),
        Outcome::Fired(Fired { ref rule, count: 30, .. }) if rule == "tool-burst"
    ));
}

#[test]
fn a_write_outside_the_project_and_a_protected_push_trip_at_once() {
    let mut t = Tripwires::new(TripwireSettings::default());
    let outside = Classified {
        writes_outside: vec!["/etc/motd".into()],
        ..Classified::default()
    };
    assert!(matches!(
        t.observe(0, Some(&agent(1)), None, &outside),
        Outcome::Fired(Fired { ref rule, .. }) if rule == "write-outside-project"
    ));
    let push = Classified {
        protected_pushes: 1,
        ..Classified::default()
    };
    assert!(matches!(
        t.observe(0, Some(&agent(2)), None, &push),
        Outcome::Fired(Fired { ref rule, .. }) if rule == "protected-push"
    ));
}

#[test]
fn per_agent_rules_add_sessions_up_and_per_session_rules_do_not() {
    let a = agent(1);
    let mut per_agent = Tripwires::new(TripwireSettings::default());
    for (i, s) in ["s1", "s2", "s1", "s2"].into_iter().enumerate() {
        assert_eq!(
            per_agent.observe(i as u64 * S, Some(&a), Some(s), &deletions(1)),
            Outcome::Clear
        );
    }
    assert!(matches!(
        per_agent.observe(5 * S, Some(&a), Some("s3"), &deletions(1)),
        Outcome::Fired(_)
    ));

    let mut settings = TripwireSettings::default();
    settings.rules[0].per = Scope::Session;
    let mut per_session = Tripwires::new(settings);
    for (i, s) in ["s1", "s2", "s1", "s2", "s1", "s2", "s1", "s2"]
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            per_session.observe(i as u64 * S, Some(&a), Some(s), &deletions(1)),
            Outcome::Clear,
            "four per session so far"
        );
    }
    assert!(matches!(
        per_session.observe(9 * S, Some(&a), Some("s1"), &deletions(1)),
        Outcome::Fired(_)
    ));
}

#[test]
fn a_reset_after_resume_lets_the_next_call_through_without_refiring() {
    let mut t = Tripwires::new(TripwireSettings::default());
    let a = agent(1);
    for i in 0..4 {
        t.observe(i * S, Some(&a), Some("s"), &deletions(1));
    }
    assert!(matches!(
        t.observe(4 * S, Some(&a), Some("s"), &deletions(1)),
        Outcome::Fired(_)
    ));
    t.reset_agent(&a);
    assert!(!t.is_tripped(&a));
    assert_eq!(
        t.observe(5 * S, Some(&a), Some("s"), &deletions(1)),
        Outcome::Clear,
        "the sixth deletion starts a fresh window"
    );
}

#[test]
fn switched_off_rules_and_settings_count_nothing() {
    let a = agent(1);
    let mut off = Tripwires::new(TripwireSettings {
        enabled: false,
        ..TripwireSettings::default()
    });
    let mut one_off = TripwireSettings::default();
    one_off.rules[0].enabled = false;
    let mut one_off = Tripwires::new(one_off);
    for i in 0..10 {
        assert_eq!(
            off.observe(i, Some(&a), None, &deletions(1)),
            Outcome::Clear
        );
        assert_eq!(
            one_off.observe(i, Some(&a), None, &deletions(1)),
            Outcome::Clear
        );
    }
}

#[test]
fn other_agents_are_not_held_by_one_agents_tripwire() {
    let mut t = Tripwires::new(TripwireSettings::default());
    assert!(matches!(
        t.observe(0, Some(&agent(1)), Some("s1"), &deletions(5)),
        Outcome::Fired(_)
    ));
    assert_eq!(
        t.observe(0, Some(&agent(2)), Some("s2"), &deletions(1)),
        Outcome::Clear
    );
}

fn load(text: &str) -> Result<TripwireSettings, String> {
    crate::Policy::from_toml_str(text, std::path::Path::new("policy.toml"), None)
        .map(|p| p.tripwires)
        .map_err(|e| e.to_string())
}

#[test]
fn the_policy_file_tunes_switches_off_and_adds_tripwires() {
    assert_eq!(load("").unwrap(), TripwireSettings::default());
    assert!(!load("[tripwires]\nenabled = false\n").unwrap().enabled);
    let t = load(
        r#"
[[tripwires.rule]]
name = "deletions"
threshold = 10
per = "session"

[[tripwires.rule]]
name = "protected-push"
enabled = false

[[tripwires.rule]]
name = "sql"
counts = "deletion"
threshold = 3
window_s = 30
"#,
    )
    .unwrap();
    let d = &t.rules[0];
    assert_eq!((d.threshold, d.window_s, d.per), (10, 60, Scope::Session));
    assert!(!t.rules[3].enabled);
    assert_eq!(t.rules[4].name, "sql");
    assert_eq!(t.rules[4].per, Scope::Agent);
}

#[test]
fn a_broken_tripwire_entry_is_an_error_naming_the_key() {
    for (text, key) in [
        (
            "[[tripwires.rule]]\nname = \"x\"\ncounts = \"deletes\"\nthreshold = 1\nwindow_s = 1\n",
            "tripwires.rule[1].counts",
        ),
        (
            "[[tripwires.rule]]\nname = \"deletions\"\nthreshold = 0\n",
            "tripwires.rule[1].threshold",
        ),
        (
            "[[tripwires.rule]]\nname = \"deletions\"\nwindow_s = 999999\n",
            "tripwires.rule[1].window_s",
        ),
        (
            "[[tripwires.rule]]\nname = \"deletions\"\nper = \"user\"\n",
            "tripwires.rule[1].per",
        ),
        (
            "[[tripwires.rule]]\nname = \"new\"\ncounts = \"deletion\"\n",
            "tripwires.rule[1].threshold",
        ),
        (
            "[[tripwires.rule]]\nname = \"deletions\"\nthreshhold = 3\n",
            "threshhold",
        ),
        (
            "[[tripwires.rule]]\nname = \"a\"\ncounts = \"deletion\"\nthreshold = 1\nwindow_s = 1\n[[tripwires.rule]]\nname = \"a\"\n",
            "tripwires.rule[2].name",
        ),
    ] {
        let err = load(text).unwrap_err();
        assert!(err.contains(key), "{key} in {err}");
    }
}

#[test]
fn policy_check_lists_the_tripwires_and_whether_they_are_on() {
    let p = crate::Policy::from_toml_str(
        "[[tripwires.rule]]\nname = \"protected-push\"\nenabled = false\n",
        std::path::Path::new("policy.toml"),
        None,
    )
    .unwrap();
    let lines = p.describe();
    assert!(
        lines.iter().any(|l| l.starts_with("tripwire  on ")
            && l.contains("deletions")
            && l.contains("5 deletions in 60 s, per agent")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("tripwire  off") && l.contains("protected-push"))
    );
}
