//! The tray, as data: which icon, which tooltip, which menu, for a given
//! [`DesktopState`]. The shell draws a [`TrayModel`] and maps a clicked
//! entry's id back with [`MenuId::decode`]; it never builds labels or
//! matches on strings itself.
//!
//! Pure and clock-free (the time is an input). Every string that comes from
//! an agent or a hook is cleaned for a one-line menu: control characters
//! and text-direction overrides removed, whitespace collapsed, length
//! bounded, `&` doubled (menu mnemonics).

use crate::view::{
    AgentStateView, AgentView, AlertActionView, AlertView, ApprovalView, DaemonConn, DesktopState,
    HaltOpView, RiskView,
};
use reins_core::AgentKind;

/// The tray icon, by priority: Disconnected > Waiting > Paused > Running > Idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrayIcon {
    /// No agents.
    Idle,
    /// Agents running.
    Running,
    /// An approval is waiting for a person.
    Waiting,
    /// An agent is paused.
    Paused,
    /// The daemon is not reachable.
    Disconnected,
}

/// What a menu entry does. Encoded into the shell's menu item ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MenuId {
    /// Halt one agent.
    Agent {
        /// The agent id.
        id: String,
        /// Which operation.
        op: HaltOpView,
    },
    /// OpenClaw only: abort the agent's active runs, keep its gateway up.
    SoftStop(String),
    /// Approve a normal-risk request.
    Approve(String),
    /// Deny a request.
    Deny(String),
    /// Open the window on a high-risk request (never approved from the menu).
    Review(String),
    /// Act on an alert's agent.
    Alert {
        /// The agent id.
        agent: String,
        /// What to do.
        action: AlertActionView,
    },
    /// Stop every agent.
    StopAll,
    /// Open the window on pairing.
    Pair,
    /// Open the window.
    Open,
    /// Toggle start at login.
    StartAtLogin,
    /// Quit the tray.
    Quit,
}

impl MenuId {
    /// The id as a string for the shell's menu.
    pub fn encode(&self) -> String {
        match self {
            MenuId::Agent { id, op } => format!("agent:{}:{id}", op_word(*op)),
            MenuId::SoftStop(id) => format!("soft_stop:{id}"),
            MenuId::Approve(r) => format!("approve:{r}"),
            MenuId::Deny(r) => format!("deny:{r}"),
            MenuId::Review(r) => format!("review:{r}"),
            MenuId::Alert { agent, action } => format!("alert:{}:{agent}", alert_word(*action)),
            MenuId::StopAll => "stop_all".into(),
            MenuId::Pair => "pair".into(),
            MenuId::Open => "open".into(),
            MenuId::StartAtLogin => "start_at_login".into(),
            MenuId::Quit => "quit".into(),
        }
    }

    /// The id back from its string; `None` for anything else.
    pub fn decode(s: &str) -> Option<MenuId> {
        let nonempty = |x: &str| (!x.is_empty()).then(|| x.to_owned());
        Some(match s {
            "stop_all" => MenuId::StopAll,
            "pair" => MenuId::Pair,
            "open" => MenuId::Open,
            "start_at_login" => MenuId::StartAtLogin,
            "quit" => MenuId::Quit,
            _ => match s.split_once(':')? {
                ("soft_stop", id) => MenuId::SoftStop(nonempty(id)?),
                ("approve", r) => MenuId::Approve(nonempty(r)?),
                ("deny", r) => MenuId::Deny(nonempty(r)?),
                ("review", r) => MenuId::Review(nonempty(r)?),
                ("alert", rest) => {
                    let (word, agent) = rest.split_once(':')?;
                    let action = [
                        AlertActionView::Resume,
                        AlertActionView::Stop,
                        AlertActionView::Release,
                        AlertActionView::StopSupervisor,
                    ]
                    .into_iter()
                    .find(|a| alert_word(*a) == word)?;
                    MenuId::Alert {
                        agent: nonempty(agent)?,
                        action,
                    }
                }
                ("agent", rest) => {
                    let (op, id) = rest.split_once(':')?;
                    let op = match op {
                        "stop" => HaltOpView::Stop,
                        "pause" => HaltOpView::Pause,
                        "resume" => HaltOpView::Resume,
                        _ => return None,
                    };
                    MenuId::Agent {
                        id: nonempty(id)?,
                        op,
                    }
                }
                _ => return None,
            },
        })
    }
}

fn alert_word(a: AlertActionView) -> &'static str {
    match a {
        AlertActionView::Resume => "resume",
        AlertActionView::Stop => "stop",
        AlertActionView::Release => "release",
        AlertActionView::StopSupervisor => "stop_supervisor",
    }
}

/// An alert's submenu: its message (cleaned) over one entry per action.
fn alert_entry(a: &AlertView) -> MenuEntry {
    let items = a
        .actions
        .iter()
        .map(|x| {
            let word = match x {
                AlertActionView::Resume => "Resume",
                AlertActionView::Stop => "Stop",
                AlertActionView::Release => "Release (let it run)",
                AlertActionView::StopSupervisor => "Stop its supervisor too",
            };
            let id = MenuId::Alert {
                agent: a.agent_id.clone(),
                action: *x,
            };
            item(id, word, true)
        })
        .collect();
    MenuEntry::Submenu {
        label: format!("⚠ {}", label(&a.message, 70)),
        items,
    }
}

fn op_word(op: HaltOpView) -> &'static str {
    match op {
        HaltOpView::Stop => "stop",
        HaltOpView::Pause => "pause",
        HaltOpView::Resume => "resume",
    }
}

/// One menu entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MenuEntry {
    /// A clickable (or, without id or disabled, informational) item.
    Item {
        /// What it does; `None` for a label.
        id: Option<MenuId>,
        /// Its text.
        label: String,
        /// Clickable.
        enabled: bool,
    },
    /// A check item.
    Check {
        /// What it toggles.
        id: MenuId,
        /// Its text.
        label: String,
        /// Ticked.
        checked: bool,
    },
    /// A submenu.
    Submenu {
        /// Its text.
        label: String,
        /// Its entries.
        items: Vec<MenuEntry>,
    },
    /// A line.
    Separator,
}

/// Everything the tray shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrayModel {
    /// The icon.
    pub icon: TrayIcon,
    /// The tooltip.
    pub tooltip: String,
    /// The menu, top to bottom.
    pub menu: Vec<MenuEntry>,
}

/// Agents listed before "N more…".
pub const MAX_AGENTS: usize = 15;
/// Approvals listed before "N more…".
pub const MAX_APPROVALS: usize = 8;
/// Longest name or project in a label (characters).
const NAME_CHARS: usize = 32;
/// Longest command in a label (characters).
const COMMAND_CHARS: usize = 48;

/// True for the invisible characters that reorder displayed text.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` made safe for a one-line menu label: control and bidi characters
/// dropped (line breaks and tabs become spaces), runs of whitespace
/// collapsed, at most `max` characters (an ellipsis marks a cut).
pub fn clean(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut space = false;
    for c in s.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if c.is_control() || is_bidi_control(c) || matches!(c, '\u{200b}'..='\u{200d}' | '\u{feff}')
        {
            continue;
        }
        if c == ' ' {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    if out.chars().count() > max {
        out = out.chars().take(max.saturating_sub(1)).collect::<String>();
        out.truncate(out.trim_end().len());
        out.push('…');
    }
    out
}

/// [`clean`], with `&` doubled so the menu shows it instead of a mnemonic.
fn label(s: &str, max: usize) -> String {
    clean(s, max).replace('&', "&&")
}

/// "42s", "12m", "3h 4m", "2d 5h".
pub fn uptime(started_at_ms: u64, now_ms: u64) -> String {
    let s = now_ms.saturating_sub(started_at_ms) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86400, s % 86400 / 3600),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn item(id: MenuId, label: impl Into<String>, enabled: bool) -> MenuEntry {
    MenuEntry::Item {
        id: Some(id),
        label: label.into(),
        enabled,
    }
}

fn note(label: impl Into<String>) -> MenuEntry {
    MenuEntry::Item {
        id: None,
        label: label.into(),
        enabled: false,
    }
}

fn agent_entry(a: &AgentView, now_ms: u64) -> MenuEntry {
    let mut parts = vec![label(&a.name, NAME_CHARS)];
    if let Some(p) = a
        .project
        .as_deref()
        .map(|p| label(p, NAME_CHARS))
        .filter(|p| !p.is_empty())
    {
        parts.push(p);
    }
    parts.push(uptime(a.started_at_ms, now_ms));
    let mut title = parts.join(" · ");
    let mut items = Vec::new();
    match a.state {
        AgentStateView::Running => items.push(item(
            MenuId::Agent {
                id: a.id.clone(),
                op: HaltOpView::Pause,
            },
            "Pause",
            true,
        )),
        AgentStateView::Paused => {
            title.push_str(" (paused)");
            items.push(item(
                MenuId::Agent {
                    id: a.id.clone(),
                    op: HaltOpView::Resume,
                },
                "Resume",
                true,
            ));
        }
        AgentStateView::Stopping => title.push_str(" (stopping)"),
        AgentStateView::Exited => title.push_str(" (exited)"),
    }
    // OpenClaw's gateway answers an abort only while it runs (a paused one
    // is frozen), so the soft stop is offered then, and never instead of Stop.
    if a.kind == AgentKind::OpenClaw.slug() && a.state == AgentStateView::Running {
        items.push(item(
            MenuId::SoftStop(a.id.clone()),
            crate::soft_stop::SOFT_STOP_LABEL,
            true,
        ));
    }
    let stoppable = matches!(a.state, AgentStateView::Running | AgentStateView::Paused);
    items.push(item(
        MenuId::Agent {
            id: a.id.clone(),
            op: HaltOpView::Stop,
        },
        "Stop",
        stoppable,
    ));
    MenuEntry::Submenu {
        label: title,
        items,
    }
}

fn approval_entry(p: &ApprovalView) -> MenuEntry {
    let what = p.command.as_deref().unwrap_or(&p.tool);
    let title = format!(
        "{}{}: {}",
        if p.risk == RiskView::High { "⚠ " } else { "" },
        label(&p.agent_name, NAME_CHARS),
        label(what, COMMAND_CHARS)
    );
    let approve = if p.risk == RiskView::High {
        item(MenuId::Review(p.request_id.clone()), "Review…", true)
    } else {
        item(MenuId::Approve(p.request_id.clone()), "Approve", true)
    };
    MenuEntry::Submenu {
        label: title,
        items: vec![
            approve,
            item(MenuId::Deny(p.request_id.clone()), "Deny", true),
        ],
    }
}

/// The tray for `state` at `now_ms`.
pub fn tray_model(state: &DesktopState, now_ms: u64, start_at_login: bool) -> TrayModel {
    let connected = state.daemon == DaemonConn::Connected;
    let live = |a: &&AgentView| a.state != AgentStateView::Exited;
    let agents: Vec<&AgentView> = state.agents.iter().filter(live).collect();
    let icon = if !connected {
        TrayIcon::Disconnected
    } else if !state.pending.is_empty() || !state.alerts.is_empty() || state.audit_problem.is_some()
    {
        // An alert (or an audit log that cannot be written) wants the
        // person's attention as much as a prompt.
        TrayIcon::Waiting
    } else if agents.iter().any(|a| a.state == AgentStateView::Paused) {
        TrayIcon::Paused
    } else if !agents.is_empty() {
        TrayIcon::Running
    } else {
        TrayIcon::Idle
    };
    let tooltip = match state.daemon {
        DaemonConn::Unavailable => "Reins: daemon not reachable".to_owned(),
        DaemonConn::Connecting => "Reins: connecting to the daemon…".to_owned(),
        DaemonConn::Connected => {
            let mut t = if agents.is_empty() {
                "No agents running".to_owned()
            } else {
                plural(agents.len(), "agent", "agents")
            };
            if !state.pending.is_empty() {
                let n = state.pending.len();
                t.push_str(&format!(
                    " · {n} {} waiting",
                    if n == 1 { "approval" } else { "approvals" }
                ));
            }
            match state.alerts.as_slice() {
                [] => {}
                [one] => t.push_str(&format!(" · {}", label(&one.message, 80))),
                many => t.push_str(&format!(" · {} alerts", many.len())),
            }
            if state.audit_problem.is_some() {
                t = format!("AUDIT LOG NOT WRITTEN · {t}");
            }
            t
        }
    };

    let mut menu = Vec::new();
    if let Some(p) = state.audit_problem.as_ref().filter(|_| connected) {
        menu.push(note("Audit log not written"));
        menu.push(note(label(p, 120)));
        menu.push(MenuEntry::Separator);
    }
    if connected && !state.alerts.is_empty() {
        menu.push(note(format!("Alerts ({})", state.alerts.len())));
        for a in state.alerts.iter().take(MAX_APPROVALS) {
            menu.push(alert_entry(a));
        }
        menu.push(MenuEntry::Separator);
    }
    if connected {
        if agents.is_empty() {
            menu.push(note("No agents running"));
        }
        for a in agents.iter().take(MAX_AGENTS) {
            menu.push(agent_entry(a, now_ms));
        }
        if agents.len() > MAX_AGENTS {
            menu.push(item(
                MenuId::Open,
                format!("{} more… (open Reins)", agents.len() - MAX_AGENTS),
                true,
            ));
        }
        if !state.pending.is_empty() {
            menu.push(MenuEntry::Separator);
            menu.push(note(format!("Waiting for you ({})", state.pending.len())));
            for p in state.pending.iter().take(MAX_APPROVALS) {
                menu.push(approval_entry(p));
            }
            if state.pending.len() > MAX_APPROVALS {
                menu.push(item(
                    MenuId::Open,
                    format!("{} more… (open Reins)", state.pending.len() - MAX_APPROVALS),
                    true,
                ));
            }
        }
    } else {
        let why = match (&state.daemon, &state.daemon_error) {
            (DaemonConn::Connecting, _) => "Connecting to the Reins daemon…".to_owned(),
            (_, Some(e)) => format!("Daemon not reachable: {}", label(e, 60)),
            (_, None) => "Daemon not reachable".to_owned(),
        };
        menu.push(note(why));
    }
    menu.push(MenuEntry::Separator);
    // Without the daemon the agents are unknown, and a stop still works
    // (the CLI acts directly), so it stays offered.
    let any = !connected || !agents.is_empty();
    menu.push(item(MenuId::StopAll, "Stop all agents", any));
    menu.push(item(MenuId::Pair, "Pair a phone…", connected));
    menu.push(item(MenuId::Open, "Open Reins", true));
    menu.push(MenuEntry::Separator);
    menu.push(MenuEntry::Check {
        id: MenuId::StartAtLogin,
        label: "Start at login".into(),
        checked: start_at_login,
    });
    menu.push(item(MenuId::Quit, "Quit Reins", true));
    TrayModel {
        icon,
        tooltip,
        menu,
    }
}

#[cfg(test)]
#[path = "tray_tests.rs"]
mod tests;
