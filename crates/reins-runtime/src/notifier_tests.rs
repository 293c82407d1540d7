//! The notifier task against a fake notification server on a private
//! dbus-daemon, with the real approvals task: what a click does, and what a
//! forged one does not.
use super::*;
use crate::audit::AuditLog;
use crate::audit_writer::AuditHandle;
use crate::clock::{Clock, MonotonicClock};
use crate::surfaces::SurfacesSummary;
use reins_approval::broker::ApprovalRequest;
use reins_approval::{ActionSpec, BrokerConfig, HookVerdict, RiskLevel};
use reins_core::{AgentKind, ProcessKey};
use reins_notify::fake::{FakeServer, Forger, Notified, PrivateBus};
use std::sync::Mutex;
use tokio::task::JoinHandle;

#[derive(Clone, Default)]
struct Opens(Arc<Mutex<Vec<OpenView>>>);

impl WindowOpener for Opens {
    fn open(&mut self, view: &OpenView) -> Result<(), OpenError> {
        self.0.lock().unwrap().push(view.clone());
        Err(OpenError::NotInstalled)
    }
}

struct World {
    _dir: tempfile::TempDir,
    bus: PrivateBus,
    surfaces: Surfaces,
    events: DaemonEvents,
    approvals: ApprovalsHandle,
    opens: Opens,
    acts: tokio::sync::mpsc::UnboundedSender<(reins_core::AlertAction, AgentId)>,
    acted: tokio::sync::Mutex<
        tokio::sync::mpsc::UnboundedReceiver<(reins_core::AlertAction, AgentId)>,
    >,
    stop: CancellationToken,
    tracker: TaskTracker,
}

fn no_agent() -> AgentGuard {
    Arc::new(|_| Box::pin(async { None }))
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let stop = CancellationToken::new();
    let tracker = TaskTracker::new();
    let approvals = ApprovalsHandle::spawn(
        BrokerConfig::default(),
        Arc::new(MonotonicClock::new()),
        AuditHandle::spawn(AuditLog::new(dir.path().join("audit.jsonl"))),
        stop.clone(),
        &tracker,
    );
    let (acts, acted) = tokio::sync::mpsc::unbounded_channel();
    World {
        _dir: dir,
        acts,
        acted: tokio::sync::Mutex::new(acted),
        bus: PrivateBus::start().unwrap(),
        surfaces: Surfaces::new(),
        events: DaemonEvents::new(),
        approvals,
        opens: Opens::default(),
        stop,
        tracker,
    }
}

impl World {
    fn start_notifier(&self, guard: AgentGuard) {
        spawn(
            Bus::Address(self.bus.address().to_owned()),
            NotifierParts {
                surfaces: self.surfaces.clone(),
                events: self.events.clone(),
                approvals: self.approvals.clone(),
                guard,
                alert_actor: self.alert_actor(),
            },
            self.opens.clone(),
            self.stop.clone(),
            &self.tracker,
        );
    }

    async fn surfaces_until(&self, f: impl Fn(&SurfacesSummary) -> bool) -> SurfacesSummary {
        let mut rx = self.surfaces.watch();
        rx.wait_for(|s| f(s)).await.unwrap().clone()
    }

    /// Records each alert action it is asked to run.
    fn alert_actor(&self) -> AlertActor {
        let tx = self.acts.clone();
        Arc::new(move |action, agent| {
            let _ = tx.send((action, agent));
            Box::pin(async { Ok(()) })
        })
    }

    /// Start the notifier against `server` and wait until it is a surface.
    async fn ready(&self, guard: AgentGuard) {
        self.start_notifier(guard);
        self.surfaces_until(|s| s.any()).await;
    }

    fn ask(&self, cmd: &str, risk: RiskLevel) -> (ApprovalRequest, JoinHandle<HookVerdict>) {
        let spec = ActionSpec {
            kind: AgentKind::ClaudeCode,
            session_id: Some("s1".into()),
            tool_name: "Bash".into(),
            tool_input: serde_json::json!({ "command": cmd }),
            command: Some(cmd.into()),
            cwd: Some("/home/me/project".into()),
        };
        let now = MonotonicClock::new().now_ms();
        let r = ApprovalRequest::new(spec, None, risk, now, 600_000);
        let h = self.approvals.clone();
        let req = r.clone();
        (r, tokio::spawn(async move { h.ask(req).await }))
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn server(w: &World, caps: &[&str]) -> FakeServer {
    FakeServer::start(w.bus.address(), caps).await.unwrap()
}

fn is_deny(v: &HookVerdict) -> bool {
    matches!(v, HookVerdict::Deny { .. })
}

#[tokio::test]
async fn approve_from_the_servers_own_name_approves_and_the_resolved_request_closes_its_notice() {
    let w = world();
    let mut srv = server(&w, &["actions", "body"]).await;
    w.ready(no_agent()).await;
    let (_, verdict) = w.ask("cargo test", RiskLevel::Medium);
    let n: Notified = srv.next_notify().await;
    assert_eq!(n.summary, "Claude Code wants to run a command");
    assert_eq!(n.keys(), vec!["default", "approve", "deny"]);
    srv.invoke(n.id, "approve").await.unwrap();
    assert_eq!(verdict.await.unwrap(), HookVerdict::Allow);
    assert_eq!(srv.next_close().await, n.id, "resolved: its notice closes");
}

#[tokio::test]
async fn the_same_approve_forged_from_another_connection_approves_nothing() {
    let w = world();
    let mut srv = server(&w, &["actions"]).await;
    w.ready(no_agent()).await;
    let (_, verdict) = w.ask("cargo test", RiskLevel::Medium);
    let n = srv.next_notify().await;
    let forger = Forger::connect(w.bus.address()).await.unwrap();
    forger
        .forge_action(&n.sender, n.id, "approve")
        .await
        .unwrap();
    forger.flush().await.unwrap();
    // Delivered after the forgeries: if any had counted, this would be too late.
    srv.invoke(n.id, "deny").await.unwrap();
    assert!(
        is_deny(&verdict.await.unwrap()),
        "the forged approve was ignored"
    );
}

#[tokio::test]
async fn a_high_risk_approve_does_not_approve_and_asks_the_window_to_open() {
    let w = world();
    let mut srv = server(&w, &["actions"]).await;
    w.ready(no_agent()).await;
    let mut events = w.events.subscribe();
    let (r, verdict) = w.ask("rm -rf ~/.ssh", RiskLevel::High);
    let n = srv.next_notify().await;
    assert_eq!(n.label("review"), Some("Review…"));
    srv.invoke(n.id, "approve").await.unwrap();
    let view = OpenView::Approval {
        request_id: r.request_id,
    };
    assert_eq!(
        events.recv().await.unwrap(),
        DaemonEvent::Open(view.clone())
    );
    // The window could not open: a notice says where to answer instead.
    let fallback = srv.next_notify().await;
    assert!(
        fallback.body.contains("reins approvals --watch"),
        "{}",
        fallback.body
    );
    assert_eq!(
        *w.opens.0.lock().unwrap(),
        vec![view],
        "no window: the tray was tried"
    );
    srv.invoke(n.id, "deny").await.unwrap();
    assert!(is_deny(&verdict.await.unwrap()), "approve did not count");
}

#[tokio::test]
async fn a_click_is_refused_when_the_server_runs_inside_an_agent() {
    let w = world();
    let mut srv = server(&w, &["actions"]).await;
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let guard: AgentGuard = Arc::new(move |pid| {
        seen.lock().unwrap().push(pid);
        Box::pin(async {
            Some(AgentId {
                kind: AgentKind::ClaudeCode,
                root: ProcessKey {
                    pid: 1234,
                    start_ticks: 1,
                },
            })
        })
    });
    w.ready(guard).await;
    let mut events = w.events.subscribe();
    let (r, _verdict) = w.ask("cargo test", RiskLevel::Medium);
    let n = srv.next_notify().await;
    srv.invoke(n.id, "approve").await.unwrap();
    srv.invoke(n.id, "default").await.unwrap();
    // The default click is handled after the approve: once it is seen, the
    // approve was handled too.
    assert!(matches!(events.recv().await.unwrap(), DaemonEvent::Open(_)));
    assert_eq!(*calls.lock().unwrap(), vec![std::process::id()]);
    let pending = w.approvals.pending().await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].request_id, r.request_id, "still waiting");
}

#[tokio::test]
async fn with_no_server_the_note_says_so_and_a_server_appearing_later_becomes_a_surface() {
    let w = world();
    w.start_notifier(no_agent());
    let s = w.surfaces_until(|s| !s.notes.is_empty()).await;
    assert!(!s.any());
    assert!(
        s.notes[0].contains("no notification server"),
        "{:?}",
        s.notes
    );
    let _srv = server(&w, &["actions"]).await;
    let s = w.surfaces_until(|s| s.any()).await;
    assert_eq!(s.live[0].detail, "fake-notify 1.0");
    assert!(s.notes.is_empty());
}

#[tokio::test]
async fn a_server_without_actions_is_not_a_surface() {
    let w = world();
    let _srv = server(&w, &["body"]).await;
    w.start_notifier(no_agent());
    let s = w.surfaces_until(|s| !s.notes.is_empty()).await;
    assert!(!s.any());
    assert!(s.notes[0].contains("no buttons"), "{:?}", s.notes);
}

#[tokio::test]
async fn with_no_session_bus_the_note_says_so() {
    let w = world();
    spawn(
        Bus::Address("unix:path=/nonexistent/reins-test-bus".into()),
        NotifierParts {
            surfaces: w.surfaces.clone(),
            events: w.events.clone(),
            approvals: w.approvals.clone(),
            guard: no_agent(),
            alert_actor: w.alert_actor(),
        },
        w.opens.clone(),
        w.stop.clone(),
        &w.tracker,
    );
    let s = w.surfaces_until(|s| !s.notes.is_empty()).await;
    assert!(s.notes[0].contains("no D-Bus session bus"), "{:?}", s.notes);
}

#[tokio::test]
async fn hostile_markup_in_a_command_reaches_a_markup_server_escaped() {
    let w = world();
    let mut srv = server(&w, &["actions", "body-markup"]).await;
    w.ready(no_agent()).await;
    let (_, _verdict) = w.ask(
        r#"curl <a href="http://x">docs</a> & <b>"#,
        RiskLevel::Medium,
    );
    let n = srv.next_notify().await;
    assert!(!n.body.contains('<'), "{}", n.body);
    assert!(
        n.body
            .contains("&lt;a href=&quot;http://x&quot;&gt;docs&lt;/a&gt; &amp; &lt;b&gt;")
    );
}

#[test]
fn the_tray_is_asked_to_open_at_a_request_by_its_full_id() {
    let id = reins_approval::broker::RequestId([0xab; 16]);
    assert_eq!(
        open_arg(&OpenView::Approval { request_id: id }),
        format!("approval:{}", "ab".repeat(16))
    );
    assert_eq!(open_arg(&OpenView::Agents), "agents");
}

fn stop_word_alert(id: u64) -> reins_core::Alert {
    reins_core::Alert {
        id: reins_core::AlertId(id),
        kind: reins_core::AlertKind::StopWord {
            word: "STOP".into(),
        },
        agent: AgentId {
            kind: AgentKind::ClaudeCode,
            root: ProcessKey {
                pid: 4242,
                start_ticks: 7,
            },
        },
        display_name: "Claude Code".into(),
        project: Some("<b>inbox</b>".into()),
        message: "Stop word: claude · <b>inbox</b> paused; you typed “STOP”".into(),
        actions: vec![
            reins_core::AlertAction::Resume,
            reins_core::AlertAction::Stop,
        ],
        raised_at: 1,
    }
}

#[tokio::test]
async fn an_alert_raises_a_critical_notice_whose_resume_button_resumes_and_which_closes_when_cleared()
 {
    let w = world();
    let mut srv = server(&w, &["actions", "body-markup"]).await;
    w.ready(no_agent()).await;
    let alert = stop_word_alert(1);
    w.events.publish(DaemonEvent::Alert(alert.clone()));
    let n = srv.next_notify().await;
    assert_eq!(n.summary, "Reins paused an agent");
    assert_eq!(n.keys(), vec!["default", "alert-resume", "alert-stop"]);
    assert!(!n.body.contains('<'), "escaped: {}", n.body);
    // A forged click from another connection runs nothing.
    let forger = Forger::connect(w.bus.address()).await.unwrap();
    forger
        .forge_action(&n.sender, n.id, "alert-stop")
        .await
        .unwrap();
    forger.flush().await.unwrap();
    srv.invoke(n.id, "alert-resume").await.unwrap();
    let (action, agent) = w.acted.lock().await.recv().await.unwrap();
    assert_eq!(
        action,
        reins_core::AlertAction::Resume,
        "the forged stop did not count"
    );
    assert_eq!(agent, alert.agent);
    w.events.publish(DaemonEvent::AlertCleared { id: alert.id });
    assert_eq!(srv.next_close().await, n.id);
}
