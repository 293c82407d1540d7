//! Human-readable rendering of agents and halt results for the terminal.
//!
//! Pure formatting: no I/O beyond returning strings, no decisions. The JSON
//! forms are the serde forms of the runtime types, printed by `commands`.

use reins_core::{AgentRecord, AgentState, HaltOp, ProcessFate};
use reins_runtime::audit::AuditRecord;
use reins_runtime::ipc::HaltOutcome;
use std::fmt::Write as _;

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
    }
    out
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
