//! Human-readable rendering of agents and halt results for the terminal.
//!
//! Pure formatting: no I/O beyond returning strings, no decisions. The JSON
//! forms are the serde forms of the runtime types, printed by `commands`.

use reins_core::{AgentRecord, AgentState, HaltOp, ProcessFate};
use reins_runtime::audit::AuditRecord;
use reins_runtime::audit_health::AuditProblem;
use reins_runtime::ipc::HaltOutcome;
use reins_runtime::surfaces::SurfacesSummary;
use std::fmt::Write as _;

/// A string from an agent, a phone or a hook, made safe to print. Clean
/// text comes back as it is, so a command reads exactly as it will run.
/// Text with control characters (ESC and every other C0/C1 code, DEL,
/// newlines), bidirectional overrides or invisible format characters comes
/// back escaped throughout: those as `\u{..}` (newline and tab as `\n` and
/// `\t`) and every backslash doubled, so the text cannot move the cursor,
/// repaint or clear the screen, fake a line of its own or reorder what the
/// person reads, and an escape in it is never mistaken for a character.
/// [`is_escaped`] says which form was returned.
pub fn safe(s: &str) -> String {
    if !is_escaped(s) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// True when [`safe`] escapes `s`.
pub fn is_escaped(s: &str) -> bool {
    s.chars().any(needs_escape)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

/// Unicode format characters that change how text around them is shown:
/// bidirectional embeddings, overrides and isolates, zero-width characters.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}'
        | '\u{feff}' | '\u{061c}' | '\u{00ad}')
}

/// The words for an alert action, as `reins` spells the command.
pub fn alert_action_word(a: reins_core::AlertAction) -> &'static str {
    match a {
        reins_core::AlertAction::Resume => "resume",
        reins_core::AlertAction::Stop => "stop",
        reins_core::AlertAction::Release => "release",
        reins_core::AlertAction::StopSupervisor => "stop-supervisor",
    }
}

/// The audit log's problem for `status`, one loud line (empty when the log
/// can be written).
pub fn audit_lines(p: Option<&AuditProblem>) -> String {
    match p {
        Some(p) => format!("AUDIT LOG NOT WRITTEN: {}\n\n", safe(&p.message())),
        None => String::new(),
    }
}

/// The audit log's problem for `status --json`: the problem's fields plus
/// its `message`; `null` when the log can be written.
pub fn audit_json(p: Option<&AuditProblem>) -> serde_json::Value {
    let Some(p) = p else {
        return serde_json::Value::Null;
    };
    let mut v = serde_json::to_value(p).unwrap_or_default();
    v["message"] = p.message().into();
    v
}

/// Active alerts for `status`: one block each, agent text escaped, with the
/// commands that act on it. Empty when there are none.
pub fn alerts_lines(alerts: &[reins_core::Alert]) -> String {
    let mut out = String::new();
    for a in alerts {
        let _ = writeln!(out, "ALERT {}: {}", a.id, safe(&a.message));
        let cmds: Vec<String> = a
            .actions
            .iter()
            .map(|x| format!("`reins {} {}`", alert_action_word(*x), a.agent))
            .collect();
        if !cmds.is_empty() {
            let _ = writeln!(out, "  act on it: {}", cmds.join(", "));
        }
    }
    if !alerts.is_empty() {
        out.push('\n');
    }
    out
}

/// Which surfaces can show an approval prompt now, for `status` and
/// `doctor`: one line, then the notes that say why others are missing.
pub fn surfaces_lines(s: &SurfacesSummary) -> String {
    let mut out = String::new();
    if s.live.is_empty() {
        out.push_str(
            "surfaces none live: approval prompts abstain at once and each agent asks in its own dialog; run `reins approvals --watch`, the tray, or open the phone app to answer them\n",
        );
    } else {
        let live: Vec<String> = s
            .live
            .iter()
            .map(|l| format!("{}: {}", l.kind.label(), safe(&l.detail)))
            .collect();
        let _ = writeln!(
            out,
            "surfaces {} (approval prompts wait for an answer)",
            live.join("; ")
        );
    }
    for n in &s.notes {
        let _ = writeln!(out, "  note: {}", safe(n));
    }
    out
}

/// The `reins status` table.
pub fn agents_table(agents: &[AgentRecord]) -> String {
    if agents.is_empty() {
        return "No agents running.\n".into();
    }
    let mut out = format!(
        "{:<28} {:<13} {:>7} {:<8} {:>6} {:>8} {:>5}  {}\n",
        "ID", "AGENT", "PID", "STATE", "CPU%", "MEM", "PROCS", "PROJECT (CWD)"
    );
    for a in agents {
        let state = match a.state {
            AgentState::Running => "running",
            AgentState::Paused => "paused",
            AgentState::Stopping => "stopping",
            AgentState::Exited => "exited",
        };
        let cwd = a
            .cwd
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "?".into());
        let _ = writeln!(
            out,
            "{:<28} {:<13} {:>7} {:<8} {:>6.1} {:>8} {:>5}  {} ({})",
            a.id.to_string(),
            a.display_name,
            a.pid,
            state,
            a.cpu_percent,
            human_bytes(a.memory_bytes),
            a.descendants + 1,
            a.project.as_deref().unwrap_or("-"),
            cwd
        );
        if let Some(sup) = &a.supervisor {
            let _ = writeln!(out, "{:<28} supervised by {}", "", safe(&sup.to_string()));
        }
    }
    out
}

/// The line saying how a stop went through an agent's systemd unit.
fn unit_line(r: &reins_core::HaltReport) -> Option<String> {
    use reins_core::{HaltMethod, UnitScope, UnitStopResult};
    let u = r.unit.as_ref()?;
    let how = match r.method {
        HaltMethod::Cgroup => "frozen and killed through its cgroup",
        HaltMethod::Walk => "frozen and killed by walking its process tree",
    };
    let scope = match u.scope {
        UnitScope::User => "user unit",
        UnitScope::System => "unit",
    };
    let unit = safe(&u.unit);
    Some(match &u.result {
        UnitStopResult::Stopped { active_state } => {
            let state = active_state
                .and_then(|s| serde_json::to_value(s).ok())
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "unknown".into());
            let failed = if state == "failed" {
                " (a process had to be killed; `systemctl reset-failed` clears it)"
            } else {
                ""
            };
            format!("  systemd {scope} {unit}: stopped through systemd, {how}; now {state}{failed}")
        }
        UnitStopResult::NotTold { error } => format!(
            "  WARNING: systemd {scope} {unit}: {how}, but NOT stopped through systemd: {}",
            safe(error)
        ),
    })
}

fn human_bytes(b: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if b as f64 >= 1024.0 * MIB {
        format!("{:.1}G", b as f64 / (1024.0 * MIB))
    } else {
        format!("{:.0}M", b as f64 / MIB)
    }
}

fn ms(us: Option<u64>) -> String {
    us.map(|u| format!("{:.1} ms", u as f64 / 1000.0))
        .unwrap_or_else(|| "-".into())
}

/// The result of a stop, pause or resume.
pub fn halt_outcome(o: &HaltOutcome) -> String {
    let mut out = String::new();
    if o.targets.is_empty() {
        let _ = writeln!(out, "No agents running; nothing to {}.", o.op.verb());
    }
    for t in &o.targets {
        let r = &t.report;
        let name = t
            .agent
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| format!("pid {}", r.root.pid));
        let n = r.processes.len();
        let count = |f: fn(&ProcessFate) -> bool| r.processes.iter().filter(|p| f(&p.fate)).count();
        let verdict = if r.success { "OK" } else { "INCOMPLETE" };
        match o.op {
            HaltOp::Stop => {
                let killed = count(|f| matches!(f, ProcessFate::Killed));
                let _ = writeln!(
                    out,
                    "{verdict}: stopped {name}: {n} process(es) frozen in {}, all gone in {} ({killed} needed SIGKILL)",
                    ms(r.frozen_after_us),
                    ms(r.gone_after_us)
                );
            }
            HaltOp::Pause => {
                let _ = writeln!(
                    out,
                    "{verdict}: paused {name}: {n} process(es) frozen in {}",
                    ms(r.frozen_after_us)
                );
            }
            HaltOp::Resume => {
                let _ = writeln!(out, "{verdict}: resumed {name}: {n} process(es) continued");
            }
        }
        if let Some(line) = unit_line(r) {
            let _ = writeln!(out, "{line}");
        }
        for p in &r.processes {
            if let ProcessFate::Survived
            | ProcessFate::Failed { .. }
            | ProcessFate::Skipped { .. } = &p.fate
            {
                let _ = writeln!(out, "  pid {} ({}): {:?}", p.process.pid, p.comm, p.fate);
            }
        }
    }
    for w in &o.warnings {
        let _ = writeln!(out, "WARNING: {w}");
    }
    out
}

/// One audit record as a line.
pub fn audit_line(r: &AuditRecord) -> String {
    let e = &r.entry;
    let secs = r.ts_ms / 1000;
    format!(
        "#{:<5} {} {:<20} {:<18} {:<32} {:?}{}",
        r.seq,
        secs,
        serde_json::to_value(e.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        e.actor.to_string(),
        e.target,
        e.outcome,
        e.latency_us
            .map(|u| format!(" in {:.1} ms", u as f64 / 1000.0))
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::safe;
    use reins_core::{
        AgentId, AgentKind, AgentRecord, AgentState, HaltMethod, HaltOp, HaltReport, ProcessKey,
        Supervisor, UnitScope, UnitStop, UnitStopResult,
    };

    fn agent(supervisor: Option<Supervisor>) -> AgentRecord {
        let root = ProcessKey {
            pid: 4242,
            start_ticks: 1,
        };
        AgentRecord {
            id: AgentId {
                kind: AgentKind::OpenClaw,
                root,
            },
            kind: AgentKind::OpenClaw,
            display_name: "OpenClaw".into(),
            pid: 4242,
            cwd: None,
            project: None,
            started_at: 0,
            cpu_percent: 0.0,
            memory_bytes: 0,
            descendants: 0,
            state: AgentState::Running,
            supervisor,
            unattended: None,
        }
    }

    #[test]
    fn status_names_each_agents_supervisor_and_escapes_a_hostile_parent_name() {
        let unit = Supervisor::SystemdUnit {
            unit: "openclaw-gateway.service".into(),
            scope: UnitScope::User,
            cgroup: "/user.slice/x".into(),
        };
        let table = super::agents_table(&[agent(Some(unit)), agent(None)]);
        assert!(
            table.contains("supervised by systemd user unit openclaw-gateway.service"),
            "{table}"
        );
        assert_eq!(table.matches("supervised by").count(), 1, "{table}");
        let hostile = Supervisor::Parent {
            pid: 7,
            comm: "sh\x1b[2J".into(),
        };
        let table = super::agents_table(&[agent(Some(hostile))]);
        assert!(!table.contains('\x1b'), "{table:?}");
    }

    #[test]
    fn a_stop_that_could_not_tell_systemd_says_so_loudly() {
        let a = agent(None);
        let outcome = reins_runtime::ipc::HaltOutcome {
            op: HaltOp::Stop,
            target: a.id.to_string(),
            targets: vec![reins_runtime::ipc::TargetReport {
                agent: Some(a.id.clone()),
                report: HaltReport {
                    op: HaltOp::Stop,
                    root: a.id.root,
                    processes: vec![],
                    frozen_after_us: Some(100),
                    gone_after_us: Some(200),
                    success: true,
                    method: HaltMethod::Cgroup,
                    unit: Some(UnitStop {
                        unit: "openclaw-gateway.service".into(),
                        scope: UnitScope::User,
                        result: UnitStopResult::NotTold {
                            error: "no bus".into(),
                        },
                    }),
                },
            }],
            warnings: vec![],
        };
        let text = super::halt_outcome(&outcome);
        assert!(
            text.contains("WARNING: systemd user unit openclaw-gateway.service: frozen and killed through its cgroup, but NOT stopped through systemd: no bus"),
            "{text}"
        );
    }

    #[test]
    fn an_alert_is_listed_escaped_with_the_commands_that_act_on_it() {
        let a = reins_core::Alert {
            id: reins_core::AlertId(2),
            kind: reins_core::AlertKind::StopWord {
                word: "STOP".into(),
            },
            agent: reins_core::AgentId {
                kind: reins_core::AgentKind::ClaudeCode,
                root: reins_core::ProcessKey {
                    pid: 5,
                    start_ticks: 6,
                },
            },
            display_name: "Claude Code".into(),
            project: None,
            message: "Stop word: claude \x1b[2J paused".into(),
            actions: vec![
                reins_core::AlertAction::Resume,
                reins_core::AlertAction::Stop,
            ],
            raised_at: 0,
        };
        let s = super::alerts_lines(&[a]);
        assert!(!s.contains('\x1b'), "{s:?}");
        assert!(
            s.starts_with("ALERT 2: Stop word: claude \\u{1b}[2J paused\n"),
            "{s:?}"
        );
        assert!(
            s.contains("`reins resume claude-5-6`, `reins stop claude-5-6`"),
            "{s:?}"
        );
        assert_eq!(super::alerts_lines(&[]), "");
    }

    #[test]
    fn hostile_text_cannot_drive_the_terminal() {
        let cmd = "ls\x1b[2J\x1b]0;pwned\x07\r\u{9b}31m\u{202e}txt.exe\nrm -rf ~";
        let shown = safe(cmd);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        assert_eq!(
            shown,
            "ls\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{d}\\u{9b}31m\\u{202e}txt.exe\\nrm -rf ~"
        );
        assert!(super::is_escaped(cmd));
        assert_eq!(
            safe("grep 'a\\|b' naïve 日本"),
            "grep 'a\\|b' naïve 日本",
            "clean text is exact"
        );
        assert_eq!(
            safe("echo a\\nb\nc"),
            "echo a\\\\nb\\nc",
            "once escaped, a literal backslash-n stays distinct from a newline"
        );
    }

    #[test]
    fn the_audit_problem_is_one_loud_line_and_json_with_its_message() {
        assert_eq!(super::audit_lines(None), "");
        assert!(super::audit_json(None).is_null());
        let p = reins_runtime::audit_health::AuditProblem {
            path: "/d/audit.jsonl".into(),
            error: "No space left on device (os error 28)\x1b[2J".into(),
            since_ms: 0,
            lost: 1,
            free_bytes: Some(2048),
        };
        let line = super::audit_lines(Some(&p));
        assert!(line.starts_with("AUDIT LOG NOT WRITTEN: the audit log cannot be written"));
        assert!(
            line.contains("1 entry not logged since 00:00:00 UTC; 2.0 KiB free on /d"),
            "{line}"
        );
        assert!(!line.contains('\x1b'), "{line:?}");
        let j = super::audit_json(Some(&p));
        assert_eq!(j["lost"], 1);
        assert_eq!(j["message"], p.message());
    }
}
