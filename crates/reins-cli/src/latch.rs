//! `reins release`, `reins stop-supervisor`, the latch lines of `reins
//! status`, and the follow-up `reins stop` waits for ("still gone 7 s
//! later" / "respawned and held").
//!
//! Output and IPC only: the latches live in the daemon (they need it: no
//! daemon, no latch), and what they do is decided there.

use crate::{Exit, output};
use reins_runtime::ipc::{Client, ClientSurface, HaltOutcome, Request, Response, StreamEvent};
use reins_runtime::latch::{LatchInfo, RecheckVerdict, StopRecheck};
use reins_runtime::paths::Paths;
use std::path::Path;
use std::time::{Duration, Instant};

fn daemon(paths: &Paths) -> anyhow::Result<Client> {
    Client::connect(&paths.socket()).map_err(|e| {
        anyhow::anyhow!(
            "{e}. Stop latches live in the daemon; with no daemon running there is no latch to release"
        )
    })
}

fn error_exit(e: &reins_runtime::ipc::IpcError) -> Exit {
    eprintln!("reins: {}", e.message);
    match e.code {
        reins_runtime::ipc::ErrorCode::NoSuchAgent => Exit::NoSuchAgent,
        reins_runtime::ipc::ErrorCode::BadRequest => Exit::Usage,
        _ => Exit::Other,
    }
}

/// `reins release <agent|all>`.
pub fn release(paths: &Paths, target: &str, json: bool) -> anyhow::Result<Exit> {
    let mut c = daemon(paths)?;
    match c.call(&Request::Release {
        target: target.to_owned(),
    })? {
        Response::Released(r) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else if r.released.is_empty() {
                println!("No stop latch was active.");
            } else {
                for id in &r.released {
                    println!("released the stop latch on {id}");
                }
                for id in &r.resumed {
                    println!("resumed held respawn {id}");
                }
            }
            Ok(Exit::Ok)
        }
        Response::Error(e) => Ok(error_exit(&e)),
        other => anyhow::bail!("unexpected daemon response: {other:?}"),
    }
}

/// `reins stop-supervisor <agent>`.
pub fn stop_supervisor(paths: &Paths, target: &str, json: bool) -> anyhow::Result<Exit> {
    let mut c = daemon(paths)?;
    match c.call(&Request::StopSupervisor {
        target: target.to_owned(),
    })? {
        Response::Halted(o) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&o)?);
            } else {
                print!("{}", output::halt_outcome(&o));
            }
            Ok(if o.success() { Exit::Ok } else { Exit::Partial })
        }
        Response::Error(e) => Ok(error_exit(&e)),
        other => anyhow::bail!("unexpected daemon response: {other:?}"),
    }
}

/// The latch section of `reins status`.
pub fn latch_lines(latches: &[LatchInfo]) -> String {
    if latches.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\nStop latches (respawns are held frozen; they end with `reins release` or a daemon restart):\n",
    );
    for l in latches {
        let place = l
            .project
            .as_deref()
            .map(|p| format!(" · {}", output::safe(p)))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {} {}{place}, watching {}\n",
            l.stopped,
            output::safe(&l.display_name),
            output::safe(&l.supervisor.to_string())
        ));
        for h in &l.held {
            out.push_str(&format!("    held frozen: {h}\n"));
        }
    }
    out
}

/// What `reins stop` says about a recheck.
pub fn recheck_line(r: &StopRecheck) -> String {
    let ids = |v: &[reins_core::AgentId]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &r.verdict {
        RecheckVerdict::StillGone => format!("{}: still gone after {} s\n", r.stopped, r.after_s),
        RecheckVerdict::RespawnedHeld { held, supervisor } => format!(
            "{}: respawned by {} and held frozen ({}); `reins release {}` lets it run, \
             `reins stop-supervisor {}` stops what restarts it\n",
            r.stopped,
            output::safe(&supervisor.to_string()),
            ids(held),
            r.stopped,
            r.stopped
        ),
        RecheckVerdict::Respawned {
            running,
            supervisor,
        } => format!(
            "{}: respawned by {} and RUNNING ({}) after {} s\n",
            r.stopped,
            output::safe(&supervisor.to_string()),
            ids(running),
            r.after_s
        ),
    }
}

/// A subscription opened before a stop, to print its recheck.
pub struct Followup {
    client: Client,
}

impl Followup {
    /// Subscribe as an observer; `None` when no daemon runs (the stop then
    /// acts directly and nothing is rechecked).
    pub fn open(socket: &Path) -> Option<Followup> {
        let mut client = Client::connect(socket).ok()?;
        match client.call(&Request::Subscribe {
            surface: ClientSurface::Observer,
        }) {
            Ok(Response::Event { .. }) => Some(Followup { client }),
            _ => None,
        }
    }

    /// Wait for the recheck of every agent `outcome` stopped, printing each.
    pub fn wait(&mut self, outcome: &HaltOutcome, recheck_after_s: u64) {
        let mut waiting: Vec<_> = outcome
            .targets
            .iter()
            .filter(|t| t.report.success)
            .filter_map(|t| t.agent.clone())
            .collect();
        if waiting.is_empty() || recheck_after_s == 0 {
            return;
        }
        println!(
            "checking again in {recheck_after_s} s whether it comes back (--no-wait skips this)..."
        );
        // Generous: the daemon's check also scans; a missing answer is reported, not fatal.
        let deadline = Instant::now() + Duration::from_secs(recheck_after_s + 15);
        while !waiting.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.client.set_timeout(Some(left)).is_err() {
                break;
            }
            match self.client.next_response() {
                Ok(Response::Event {
                    event: StreamEvent::StopRechecked { recheck },
                }) => {
                    if let Some(i) = waiting.iter().position(|id| *id == recheck.stopped) {
                        waiting.remove(i);
                        print!("{}", recheck_line(&recheck));
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        for id in waiting {
            println!("{id}: no recheck arrived from the daemon; see `reins status`");
        }
    }
}
