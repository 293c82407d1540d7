//! Alerts in the notification state machine: inputs in, actions out.
use super::super::{Input, NotifyState};
use super::*;
use reins_core::{AgentId, AgentKind, AlertKind, ProcessKey};

fn server(caps: &[&str]) -> ServerInfo {
    ServerInfo {
        name: "dunst".into(),
        vendor: "knopwob".into(),
        version: "1.9.0".into(),
        spec_version: "1.2".into(),
        capabilities: caps.iter().map(|c| (*c).to_owned()).collect(),
        pid: Some(77),
    }
}

fn alert(id: u64, actions: Vec<AlertAction>) -> Alert {
    Alert {
        id: AlertId(id),
        kind: AlertKind::StopWord {
            word: "STOP".into(),
        },
        agent: AgentId {
            kind: AgentKind::ClaudeCode,
            root: ProcessKey {
                pid: 9,
                start_ticks: 1,
            },
        },
        display_name: "Claude Code".into(),
        project: Some("<i>inbox</i>".into()),
        message: "Stop word: claude · <i>inbox</i> paused; you typed “STOP”".into(),
        actions,
        raised_at: 5,
    }
}

/// A state with a server up and `a` raised as note 3.
fn shown(caps: &[&str], a: &Alert) -> (NotifyState, Notice) {
    let mut s = NotifyState::new();
    s.handle(Input::ServerUp(server(caps)));
    let out = s.handle(Input::Alert(a.clone()));
    let [Action::Raise { purpose, notice }] = out.as_slice() else {
        panic!("expected one raise, got {out:?}");
    };
    assert_eq!(*purpose, Purpose::Alert(a.id));
    let notice = notice.clone();
    assert!(
        s.handle(Input::Raised {
            purpose: *purpose,
            id: NoteId(3)
        })
        .is_empty()
    );
    (s, notice)
}

fn click(s: &mut NotifyState, key: &str) -> Vec<Action> {
    s.handle(Input::Clicked {
        id: NoteId(3),
        key: key.into(),
    })
}

#[test]
fn an_alert_raises_a_critical_resident_notice_with_its_actions_as_buttons() {
    let a = alert(1, vec![AlertAction::Resume, AlertAction::Stop]);
    let (_, n) = shown(&["actions", "body"], &a);
    assert_eq!(n.urgency, Urgency::Critical);
    assert!(n.resident && n.persistent);
    assert!(n.body.contains("you typed “STOP”"), "{}", n.body);
    let keys: Vec<(&str, &str)> = n
        .actions
        .iter()
        .map(|x| (x.key.as_str(), x.label.as_str()))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("default", "Open Reins"),
            ("alert-resume", "Resume"),
            ("alert-stop", "Stop")
        ]
    );
}

#[test]
fn agent_text_in_an_alert_is_escaped_for_a_markup_server() {
    let a = alert(1, vec![AlertAction::Resume]);
    let (_, n) = shown(&["actions", "body-markup"], &a);
    assert!(!n.body.contains('<'), "{}", n.body);
    assert!(n.body.contains("&lt;i&gt;inbox&lt;/i&gt;"));
}

#[test]
fn a_button_becomes_the_alerts_own_action_and_a_key_it_did_not_offer_does_nothing() {
    let a = alert(1, vec![AlertAction::Release, AlertAction::StopSupervisor]);
    let (mut s, _) = shown(&["actions"], &a);
    assert_eq!(
        click(&mut s, "alert-release"),
        vec![Action::AlertAct {
            alert: a.id,
            agent: a.agent.clone(),
            action: AlertAction::Release
        }]
    );
    assert!(click(&mut s, "alert-resume").is_empty(), "not offered");
    assert!(click(&mut s, "approve").is_empty(), "not an alert key");
    assert_eq!(
        click(&mut s, "default"),
        vec![Action::Open(OpenView::Agents)]
    );
}

#[test]
fn a_server_without_buttons_shows_the_alert_and_a_click_only_opens_the_window() {
    let a = alert(1, vec![AlertAction::Resume, AlertAction::Stop]);
    let (mut s, n) = shown(&["body"], &a);
    assert_eq!(n.actions.len(), 1);
    assert_eq!(
        click(&mut s, "alert-stop"),
        vec![Action::Open(OpenView::Agents)]
    );
}

#[test]
fn a_cleared_alert_closes_its_notice_and_a_late_raise_is_taken_down() {
    let a = alert(1, vec![AlertAction::Resume]);
    let (mut s, _) = shown(&["actions"], &a);
    assert_eq!(
        s.handle(Input::AlertCleared(a.id)),
        vec![Action::Close(NoteId(3))]
    );
    assert!(click(&mut s, "alert-resume").is_empty());
    // Cleared between the raise and its id coming back.
    let b = alert(2, vec![AlertAction::Resume]);
    assert_eq!(s.handle(Input::Alert(b.clone())).len(), 1);
    assert!(s.handle(Input::AlertCleared(b.id)).is_empty());
    assert_eq!(
        s.handle(Input::Raised {
            purpose: Purpose::Alert(b.id),
            id: NoteId(4)
        }),
        vec![Action::Close(NoteId(4))]
    );
}

#[test]
fn an_alert_raised_with_no_server_is_shown_when_one_comes_up() {
    let mut s = NotifyState::new();
    let a = alert(1, vec![AlertAction::Resume]);
    assert!(s.handle(Input::Alert(a.clone())).is_empty());
    assert!(s.handle(Input::Alert(a.clone())).is_empty(), "no duplicate");
    let out = s.handle(Input::ServerUp(server(&["actions"])));
    assert!(
        out.iter()
            .any(|x| matches!(x, Action::Raise { purpose: Purpose::Alert(id), .. } if *id == a.id)),
        "{out:?}"
    );
}
