use super::*;
use crate::convert::{agent_view, approval_view};
use crate::state::initial_state;
use crate::testkit::{agent, request};
use reins_approval::broker::RiskLevel;
use reins_core::{AgentKind, AgentState};

const NOW: u64 = 1_700_000_000_000 + 3_725_000; // 1h 2m 5s after the fixtures started

fn connected(agents: &[(AgentKind, AgentState)], pending: &[(&str, RiskLevel)]) -> DesktopState {
    let mut s = initial_state();
    s.daemon = DaemonConn::Connected;
    s.agents = agents
        .iter()
        .enumerate()
        .map(|(i, (k, st))| agent_view(&agent(k.clone(), 100 + i as u32, *st)))
        .collect();
    s.pending = pending
        .iter()
        .map(|(c, r)| approval_view(&request(c, *r)))
        .collect();
    s
}

fn labels(entries: &[MenuEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| match e {
            MenuEntry::Item { label, .. } | MenuEntry::Check { label, .. } => label.clone(),
            MenuEntry::Submenu { label, .. } => format!("{label} >"),
            MenuEntry::Separator => "---".into(),
        })
        .collect()
}

fn find<'a>(m: &'a [MenuEntry], id: &MenuId) -> Option<&'a MenuEntry> {
    m.iter().find_map(|e| match e {
        MenuEntry::Item { id: Some(i), .. } | MenuEntry::Check { id: i, .. } if i == id => Some(e),
        MenuEntry::Submenu { items, .. } => find(items, id),
        _ => None,
    })
}

fn enabled(m: &[MenuEntry], id: &MenuId) -> bool {
    match find(m, id) {
        Some(MenuEntry::Item { enabled, .. }) => *enabled,
        other => panic!("{id:?}: {other:?}"),
    }
}

#[test]
fn every_menu_id_round_trips_through_its_string() {
    let ids = [
        MenuId::Agent {
            id: "claude-1-2".into(),
            op: HaltOpView::Stop,
        },
        MenuId::Agent {
            id: "my-agent-10-20".into(),
            op: HaltOpView::Pause,
        },
        MenuId::Agent {
            id: "x:y-1-2".into(),
            op: HaltOpView::Resume,
        },
        MenuId::SoftStop("openclaw-9-1".into()),
        MenuId::SoftStop("x:y-1-2".into()),
        MenuId::Approve("ab12".into()),
        MenuId::Deny("ab12".into()),
        MenuId::Review("ab12".into()),
        MenuId::Alert {
            agent: "openclaw-9-1".into(),
            action: AlertActionView::StopSupervisor,
        },
        MenuId::Alert {
            agent: "x:y-1-2".into(),
            action: AlertActionView::Resume,
        },
        MenuId::StopAll,
        MenuId::Pair,
        MenuId::Open,
        MenuId::StartAtLogin,
        MenuId::Quit,
    ];
    for id in ids {
        assert_eq!(
            MenuId::decode(&id.encode()),
            Some(id.clone()),
            "{}",
            id.encode()
        );
    }
}

#[test]
fn unknown_or_partial_menu_ids_decode_to_nothing() {
    for s in [
        "",
        "quit ",
        "QUIT",
        "approve:",
        "agent:stop:",
        "agent:kill:claude-1-2",
        "agent:stop",
        "soft_stop:",
        "soft_stop",
        "open:x",
        "nope:1",
    ] {
        assert_eq!(MenuId::decode(s), None, "{s:?}");
    }
}

#[test]
fn the_icon_follows_the_priority_disconnected_waiting_paused_running_idle() {
    let s = connected(&[], &[]);
    assert_eq!(tray_model(&s, NOW, false).icon, TrayIcon::Idle);
    let s = connected(&[(AgentKind::ClaudeCode, AgentState::Running)], &[]);
    assert_eq!(tray_model(&s, NOW, false).icon, TrayIcon::Running);
    let s = connected(
        &[
            (AgentKind::ClaudeCode, AgentState::Running),
            (AgentKind::Codex, AgentState::Paused),
        ],
        &[],
    );
    assert_eq!(tray_model(&s, NOW, false).icon, TrayIcon::Paused);
    let mut s = connected(
        &[(AgentKind::Codex, AgentState::Paused)],
        &[("ls", RiskLevel::Low)],
    );
    assert_eq!(tray_model(&s, NOW, false).icon, TrayIcon::Waiting);
    s.daemon = DaemonConn::Connecting;
    assert_eq!(tray_model(&s, NOW, false).icon, TrayIcon::Disconnected);
}

#[test]
fn the_tooltip_counts_agents_and_waiting_approvals() {
    let s = connected(
        &[
            (AgentKind::ClaudeCode, AgentState::Running),
            (AgentKind::Codex, AgentState::Running),
            (AgentKind::Aider, AgentState::Paused),
        ],
        &[("ls", RiskLevel::Low)],
    );
    assert_eq!(
        tray_model(&s, NOW, false).tooltip,
        "3 agents · 1 approval waiting"
    );
    let s = connected(
        &[(AgentKind::ClaudeCode, AgentState::Running)],
        &[("a", RiskLevel::Low), ("b", RiskLevel::Low)],
    );
    assert_eq!(
        tray_model(&s, NOW, false).tooltip,
        "1 agent · 2 approvals waiting"
    );
    assert_eq!(
        tray_model(&connected(&[], &[]), NOW, false).tooltip,
        "No agents running"
    );
    let mut s = initial_state();
    s.daemon = DaemonConn::Unavailable;
    assert_eq!(
        tray_model(&s, NOW, false).tooltip,
        "Reins: daemon not reachable"
    );
}

#[test]
fn each_agent_gets_a_submenu_with_name_project_uptime_and_the_ops_that_apply() {
    let s = connected(
        &[
            (AgentKind::ClaudeCode, AgentState::Running),
            (AgentKind::Codex, AgentState::Paused),
        ],
        &[],
    );
    let m = tray_model(&s, NOW, false).menu;
    let MenuEntry::Submenu { label, items } = &m[0] else {
        panic!("{m:?}")
    };
    assert_eq!(label, "Claude Code · reins · 1h 2m");
    assert_eq!(labels(items), ["Pause", "Stop"]);
    let MenuEntry::Submenu { label, items } = &m[1] else {
        panic!("{m:?}")
    };
    assert_eq!(label, "Codex · reins · 1h 2m (paused)");
    assert_eq!(labels(items), ["Resume", "Stop"]);
    let id = s.agents[1].id.clone();
    assert!(enabled(
        &m,
        &MenuId::Agent {
            id,
            op: HaltOpView::Resume
        }
    ));
    assert!(enabled(&m, &MenuId::StopAll));
}

#[test]
fn a_stopping_agent_cannot_be_stopped_again_and_exited_agents_are_not_listed() {
    let s = connected(
        &[
            (AgentKind::ClaudeCode, AgentState::Stopping),
            (AgentKind::Codex, AgentState::Exited),
        ],
        &[],
    );
    let m = tray_model(&s, NOW, false);
    let MenuEntry::Submenu { label, items } = &m.menu[0] else {
        panic!()
    };
    assert!(label.ends_with("(stopping)"));
    assert_eq!(labels(items), ["Stop"]);
    assert!(!enabled(
        &m.menu,
        &MenuId::Agent {
            id: s.agents[0].id.clone(),
            op: HaltOpView::Stop
        }
    ));
    assert!(
        find(
            &m.menu,
            &MenuId::Agent {
                id: s.agents[1].id.clone(),
                op: HaltOpView::Stop
            }
        )
        .is_none()
    );
    assert_eq!(m.tooltip, "1 agent");
}

#[test]
fn stop_all_is_disabled_when_no_agent_runs_and_the_fixed_entries_are_always_there() {
    let m = tray_model(&connected(&[], &[]), NOW, true).menu;
    assert_eq!(
        labels(&m),
        [
            "No agents running",
            "---",
            "Stop all agents",
            "Pair a phone…",
            "Open Reins",
            "---",
            "Start at login",
            "Quit Reins"
        ]
    );
    assert!(!enabled(&m, &MenuId::StopAll));
    assert!(matches!(
        find(&m, &MenuId::StartAtLogin),
        Some(MenuEntry::Check { checked: true, .. })
    ));
}

#[test]
fn a_normal_request_offers_approve_and_a_high_risk_one_only_review() {
    let s = connected(
        &[],
        &[
            ("cargo test", RiskLevel::Medium),
            ("rm -rf ~", RiskLevel::High),
        ],
    );
    let m = tray_model(&s, NOW, false).menu;
    let subs: Vec<_> = m
        .iter()
        .filter_map(|e| match e {
            MenuEntry::Submenu { label, items } => Some((label.clone(), items.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(subs[0].0, "Claude Code: cargo test");
    assert_eq!(labels(&subs[0].1), ["Approve", "Deny"]);
    assert_eq!(subs[1].0, "⚠ Claude Code: rm -rf ~");
    assert_eq!(labels(&subs[1].1), ["Review…", "Deny"]);
    let high = &s.pending[1].request_id;
    assert!(find(&m, &MenuId::Approve(high.clone())).is_none());
    assert!(find(&m, &MenuId::Review(high.clone())).is_some());
    assert!(labels(&m).contains(&"Waiting for you (2)".to_owned()));
}

#[test]
fn hostile_agent_and_command_strings_become_one_short_plain_line() {
    let mut s = connected(&[(AgentKind::ClaudeCode, AgentState::Running)], &[]);
    s.agents[0].name = "Evil\nAgent\u{202e}gpj.exe\u{0007}".into();
    s.agents[0].project = Some("\u{2066}proj\r\n\t&co\u{2069}".into());
    let long = format!("echo {}\n$(curl evil)", "A".repeat(5000));
    s.pending = vec![approval_view(&request(&long, RiskLevel::Medium))];
    s.pending[0].agent_name = "x\u{200f}\u{202b}y".into();
    let m = tray_model(&s, NOW, false).menu;
    let all: Vec<String> = {
        fn walk(m: &[MenuEntry], out: &mut Vec<String>) {
            for e in m {
                match e {
                    MenuEntry::Item { label, .. } | MenuEntry::Check { label, .. } => {
                        out.push(label.clone())
                    }
                    MenuEntry::Submenu { label, items } => {
                        out.push(label.clone());
                        walk(items, out);
                    }
                    MenuEntry::Separator => {}
                }
            }
        }
        let mut v = Vec::new();
        walk(&m, &mut v);
        v
    };
    for l in &all {
        assert!(
            !l.chars().any(|c| c.is_control() || is_bidi_control(c)),
            "{l:?}"
        );
        assert!(
            l.chars().count() <= 120,
            "{} chars: {l:?}",
            l.chars().count()
        );
    }
    assert!(
        all.contains(&"Evil Agentgpj.exe · proj &&co · 1h 2m".to_owned()),
        "{all:?}"
    );
    let cmd = all.iter().find(|l| l.starts_with("xy: echo AAAA")).unwrap();
    assert!(cmd.ends_with('…'), "{cmd}");
    assert_eq!(cmd.chars().count(), "xy: ".len() + 48);
}

#[test]
fn cleaning_keeps_ordinary_unicode_and_cuts_on_characters_not_bytes() {
    assert_eq!(clean("  naïve   café  ", 40), "naïve café");
    assert_eq!(clean("日本語のプロジェクト", 5), "日本語の…");
    assert_eq!(clean("\u{feff}\u{200b}", 5), "");
}

#[test]
fn many_agents_and_requests_are_capped_with_an_open_entry() {
    let agents: Vec<_> = (0..20)
        .map(|_| (AgentKind::ClaudeCode, AgentState::Running))
        .collect();
    let pending: Vec<_> = (0..10).map(|_| ("ls", RiskLevel::Low)).collect();
    let s = connected(&agents, &pending);
    let m = tray_model(&s, NOW, false).menu;
    let l = labels(&m);
    assert!(l.contains(&"5 more… (open Reins)".to_owned()), "{l:?}");
    assert!(l.contains(&"2 more… (open Reins)".to_owned()), "{l:?}");
}

#[test]
fn while_disconnected_the_menu_says_why_and_still_offers_stop_all() {
    let mut s = initial_state();
    s.daemon = DaemonConn::Unavailable;
    s.daemon_error = Some("`reins daemon` exited at once:\nbad key".into());
    let m = tray_model(&s, NOW, false).menu;
    assert_eq!(
        labels(&m)[0],
        "Daemon not reachable: `reins daemon` exited at once: bad key"
    );
    // A stop works without the daemon (the CLI acts directly).
    assert!(enabled(&m, &MenuId::StopAll));
    assert!(!enabled(&m, &MenuId::Pair));
    assert!(enabled(&m, &MenuId::Open));
    assert!(enabled(&m, &MenuId::Quit));
}

#[test]
fn uptime_reads_in_the_largest_useful_units() {
    assert_eq!(uptime(0, 42_000), "42s");
    assert_eq!(uptime(0, 12 * 60_000 + 5), "12m");
    assert_eq!(uptime(0, 3_725_000), "1h 2m");
    assert_eq!(uptime(0, 2 * 86_400_000 + 5 * 3_600_000), "2d 5h");
    assert_eq!(uptime(10_000, 0), "0s");
}

#[test]
fn an_alert_asks_for_attention_in_the_icon_and_tooltip_and_offers_its_actions_first() {
    let mut s = connected(&[(AgentKind::ClaudeCode, AgentState::Paused)], &[]);
    s.alerts = vec![AlertView {
        id: 4,
        kind: "stop_word".into(),
        agent_id: s.agents[0].id.clone(),
        agent_name: "Claude Code".into(),
        project: None,
        message: "Stop word: claude paused; you typed \u{202e}“STOP”\n".into(),
        actions: vec![AlertActionView::Resume, AlertActionView::Stop],
        raised_at_ms: 0,
    }];
    let t = tray_model(&s, NOW, false);
    assert_eq!(t.icon, TrayIcon::Waiting);
    assert!(
        t.tooltip.contains("Stop word: claude paused"),
        "{}",
        t.tooltip
    );
    assert!(!t.tooltip.contains('\u{202e}') && !t.tooltip.contains('\n'));
    let l = labels(&t.menu);
    assert_eq!(l[0], "Alerts (1)");
    assert!(l[1].starts_with("⚠ Stop word: claude paused"), "{l:?}");
    let resume = MenuId::Alert {
        agent: s.agents[0].id.clone(),
        action: AlertActionView::Resume,
    };
    assert!(enabled(&t.menu, &resume));
    let release = MenuId::Alert {
        agent: s.agents[0].id.clone(),
        action: AlertActionView::Release,
    };
    assert!(
        find(&t.menu, &release).is_none(),
        "only the offered actions"
    );
}

#[test]
fn only_a_running_openclaw_agent_offers_stop_this_run_between_pause_and_stop() {
    let s = connected(
        &[
            (AgentKind::OpenClaw, AgentState::Running),
            (AgentKind::OpenClaw, AgentState::Paused),
            (AgentKind::ClaudeCode, AgentState::Running),
        ],
        &[],
    );
    let m = tray_model(&s, NOW, false).menu;
    let items = |i: usize| match &m[i] {
        MenuEntry::Submenu { items, .. } => labels(items),
        other => panic!("{other:?}"),
    };
    assert_eq!(items(0), ["Pause", "Stop this run (keep gateway)", "Stop"]);
    // A paused gateway is frozen and cannot answer an abort.
    assert_eq!(items(1), ["Resume", "Stop"]);
    assert_eq!(items(2), ["Pause", "Stop"]);
    let soft = MenuId::SoftStop(s.agents[0].id.clone());
    assert!(enabled(&m, &soft));
    assert_eq!(MenuId::decode(&soft.encode()), Some(soft));
    // The hard stop is still there, and still the same id.
    assert!(enabled(
        &m,
        &MenuId::Agent {
            id: s.agents[0].id.clone(),
            op: HaltOpView::Stop
        }
    ));
}

#[test]
fn an_audit_log_that_cannot_be_written_heads_the_menu_and_tooltip_and_wants_attention() {
    let mut s = connected(&[(AgentKind::ClaudeCode, AgentState::Running)], &[]);
    assert_eq!(tray_model(&s, NOW, false).icon, TrayIcon::Running);
    s.audit_problem = Some("the audit log cannot be written: No space left on device".into());
    let m = tray_model(&s, NOW, false);
    assert_eq!(m.icon, TrayIcon::Waiting);
    assert!(
        m.tooltip.starts_with("AUDIT LOG NOT WRITTEN"),
        "{}",
        m.tooltip
    );
    let l = labels(&m.menu);
    assert_eq!(l[0], "Audit log not written");
    assert!(l[1].contains("No space left on device"), "{l:?}");
    s.audit_problem = None;
    let m = tray_model(&s, NOW, false);
    assert!(!labels(&m.menu).iter().any(|l| l.contains("Audit")));
    assert_eq!(m.icon, TrayIcon::Running);
}
