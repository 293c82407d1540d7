//! The words of desktop notifications: the notice for an approval request
//! and for a finished halt. Pure text building; what to raise when, and what
//! a click means, is `notify_state`.

use crate::ipc::proto::HaltOutcome;
use crate::notify_state::NoteKey;
use reins_approval::broker::{ApprovalRequest, RiskLevel};
use reins_core::{Actor, HaltOp, ProcessFate};
use reins_notify::{Notice, ServerInfo, Urgency};

/// How many characters of a command a notification shows.
pub const COMMAND_DISPLAY_CHARS: usize = 240;

/// The notification for an approval request.
pub fn approval_notice(r: &ApprovalRequest, server: &ServerInfo) -> Notice {
    let agent = r.kind.display_name();
    let summary = match &r.command {
        Some(_) => format!("{agent} wants to run a command"),
        None => format!("{agent} wants to use {}", r.tool_name),
    };
    let mut lines = vec![format!("Agent: {agent}")];
    match &r.command {
        Some(cmd) => lines.push(format!("Command: {}", shorten(cmd))),
        None => lines.push(format!("Tool: {}", shorten(&r.tool_name))),
    }
    if let Some(cwd) = &r.cwd {
        lines.push(format!("In: {}", shorten(cwd)));
    }
    let high = r.risk == RiskLevel::High;
    if high {
        lines.push("High risk: review it in the Reins window before approving.".into());
    }
    let mut body = lines.join("\n");
    if server.has_body_markup() {
        body = reins_notify::escape_markup(&body);
    }
    let actions = if server.has_actions() {
        let approve = if high {
            NoteKey::Review.action("Review…")
        } else {
            NoteKey::Approve.action("Approve")
        };
        vec![
            NoteKey::Default.action("Open Reins"),
            approve,
            NoteKey::Deny.action("Deny"),
        ]
    } else {
        vec![NoteKey::Default.action("Open Reins")]
    };
    Notice {
        summary,
        body,
        actions,
        urgency: Urgency::Critical,
        resident: true,
        category: Some("x-reins.approval".into()),
        persistent: true,
    }
}

/// Text as the person should read it at a glance: line breaks and other
/// control characters are made visible, and anything past
/// [`COMMAND_DISPLAY_CHARS`] is cut with "…" (the window and the phone show
/// it whole).
fn shorten(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == COMMAND_DISPLAY_CHARS {
            out.push_str("… (shortened; the full text is in the Reins window and on your phone)");
            break;
        }
        match c {
            '\n' => out.push('⏎'),
            c if c.is_control() => out.push('�'),
            c => out.push(c),
        }
    }
    out
}

/// The notification for a finished halt, or `None` when it raises nothing
/// (a successful pause or resume, or no target).
pub fn halt_notice(actor: &Actor, outcome: &HaltOutcome) -> Option<Notice> {
    if outcome.targets.is_empty() || (outcome.success() && outcome.op != HaltOp::Stop) {
        return None;
    }
    let names: Vec<String> = outcome
        .targets
        .iter()
        .map(|t| match &t.agent {
            Some(a) => format!("{} (pid {})", a.kind.display_name(), a.root.pid),
            None => format!("pid {}", t.report.root.pid),
        })
        .collect();
    let who = match names.as_slice() {
        [one] => one.clone(),
        many => format!("{} agents", many.len()),
    };
    let count = |pred: fn(&ProcessFate) -> bool| {
        outcome
            .targets
            .iter()
            .flat_map(|t| &t.report.processes)
            .filter(|p| pred(&p.fate))
            .count()
    };
    let failed = outcome
        .targets
        .iter()
        .map(|t| t.report.failures().count())
        .sum::<usize>();
    let verb = match outcome.op {
        HaltOp::Stop => "Stop",
        HaltOp::Pause => "Pause",
        HaltOp::Resume => "Resume",
    };
    let plural = |n: usize| if n == 1 { "process" } else { "processes" };
    let (summary, urgency) = if outcome.success() {
        let gone = count(|f| {
            matches!(
                f,
                ProcessFate::Terminated | ProcessFate::Killed | ProcessFate::AlreadyGone
            )
        });
        (
            format!("Stopped {who}: {gone} {} gone", plural(gone)),
            Urgency::Normal,
        )
    } else if failed == 0 {
        (
            format!("{verb} FAILED for {who}: the result could not be verified"),
            Urgency::Critical,
        )
    } else {
        let state = match (outcome.op, failed) {
            (HaltOp::Stop, 1) => "survives",
            (HaltOp::Stop, _) => "survive",
            (HaltOp::Pause, _) => "not paused",
            (HaltOp::Resume, _) => "not resumed",
        };
        (
            format!(
                "{verb} FAILED: {failed} {} of {who} {state}",
                plural(failed)
            ),
            Urgency::Critical,
        )
    };
    let mut body = format!("Asked by: {actor}");
    if names.len() > 1 {
        body.push_str(&format!("\nAgents: {}", names.join(", ")));
    }
    if !outcome.success() {
        body.push_str("\nRun `reins status` to see what is still running, then try again.");
    }
    Some(Notice {
        summary,
        body,
        actions: vec![NoteKey::Default.action("Show agents")],
        urgency,
        resident: false,
        category: Some("x-reins.halt".into()),
        persistent: !outcome.success(),
    })
}
