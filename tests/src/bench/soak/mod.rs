//! `reins-bench soak`: many agents, several phones and a steady stream of
//! approval requests at once, with faults, for minutes; then a check that
//! every promise held (see [`check`]) and a report ([`report`]).
//!
//! The pieces: agents that raise requests with real `reins hook`
//! processes inside their own trees ([`agents`]), phones that each hold
//! their own broker connection and answer at random ([`phones`]), a real
//! Mosquitto that can be restarted and a flood of forged messages
//! ([`faults`]), the load and the schedule of stops, pauses, resumes and
//! faults ([`run`]), the checker and the report. Everything runs against a
//! daemon in private XDG directories that watches only this run's agent
//! copies; everything started is killed and reaped on drop.
//!
//! A benchmark, not a test: `tests/tests/soak_e2e.rs` runs a short one and
//! asserts only its findings, never a duration.

pub mod agents;
pub mod check;
pub mod daemon_view;
pub mod faults;
pub mod phones;
pub mod report;
pub mod run;

use super::Res;
use reins_proto::payload::{AgentStatus, ApprovalResolved, CommandAck, CommandOp};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// What a soak run does.
#[derive(Clone, Debug)]
pub struct SoakOpts {
    /// How long requests are raised.
    pub duration: Duration,
    /// Agent trees.
    pub agents: usize,
    /// Paired phones.
    pub phones: usize,
    /// Approval requests a minute, across all agents.
    pub rate_per_min: u64,
    /// Forged messages a second on the daemon's phone topics (None: no flood).
    pub flood_per_s: Option<u64>,
    /// The daemon's approval timeout: answers planned later than this come
    /// after the request expired.
    pub approval_timeout: Duration,
    /// How often the daemon's CPU and RSS are sampled.
    pub sample_every: Duration,
    /// Restart the broker once and SIGKILL the daemon once.
    pub faults: bool,
    /// Print progress on stderr.
    pub verbose: bool,
}

impl SoakOpts {
    /// The benchmark's defaults: 100 agents, 10 phones, 1,000 requests a
    /// minute for 10 minutes, with faults.
    pub fn bench() -> SoakOpts {
        SoakOpts {
            duration: Duration::from_secs(600),
            agents: 100,
            phones: 10,
            rate_per_min: 1000,
            flood_per_s: None,
            approval_timeout: Duration::from_secs(4),
            sample_every: Duration::from_secs(10),
            faults: true,
            verbose: true,
        }
    }
}

/// A request the load generator handed to an agent.
#[derive(Clone, Debug)]
pub struct SentRequest {
    /// Its tag (index in the run; in its command text).
    pub tag: u64,
    /// The agent (index) that raises it.
    pub agent: usize,
    /// When it was written to the agent.
    pub at: Instant,
    /// The same, Unix ms (to line it up with the audit log's `ts_ms`).
    pub unix_ms: u64,
}

/// A request as a phone saw it.
#[derive(Clone, Debug)]
pub struct SeenRequest {
    /// The canonical action text.
    pub action: String,
    /// Its hash, as sent.
    pub action_hash: String,
    /// The agent the daemon tied it to.
    pub agent_id: String,
    /// When this phone opened it.
    pub at: Instant,
}

/// A decision a phone sent.
#[derive(Clone, Debug)]
pub struct SentDecision {
    /// The request.
    pub request_id: String,
    /// Allow (else deny).
    pub allow: bool,
    /// When it was published.
    pub at: Instant,
    /// Whether the broker connection took it.
    pub published: bool,
}

/// Everything one phone saw and did.
#[derive(Debug, Default)]
pub struct PhoneLog {
    /// Requests by id.
    pub seen: HashMap<String, SeenRequest>,
    /// Decisions sent.
    pub sent: Vec<SentDecision>,
    /// Resolutions received.
    pub resolved: Vec<ApprovalResolved>,
    /// The agent list it was shown: id → state.
    pub view: BTreeMap<String, AgentStatus>,
    /// Commands sent: op, agent id, published.
    pub commands: Vec<(CommandOp, String, bool)>,
    /// Acks received.
    pub acks: Vec<CommandAck>,
    /// Connection errors.
    pub errors: Vec<String>,
}

/// One sample of the daemon's cost.
#[derive(Clone, Copy, Debug)]
pub struct CostSample {
    /// Seconds since the load started.
    pub t_s: f64,
    /// CPU % of one core over the interval before it.
    pub cpu_pct: f64,
    /// Resident set, kB.
    pub rss_kb: u64,
    /// Which daemon (it changes once when the daemon is killed).
    pub pid: u32,
}

/// What a stop did, for the checker.
#[derive(Clone, Debug)]
pub struct StopDone {
    /// The agent (index).
    pub agent: usize,
    /// Its root PID (and process group).
    pub pgid: u32,
    /// Who asked: "phone N" or "cli".
    pub by: String,
    /// When it was sent.
    pub at: Instant,
    /// Whether it was confirmed done (ack `done`, or the CLI's success).
    pub confirmed: Result<(), String>,
}

/// Everything a run gathered, for the checker and the report.
#[derive(Debug, Default)]
pub struct Gathered {
    /// Requests handed to agents.
    pub sent: Vec<SentRequest>,
    /// Hooks' answers.
    pub done: Vec<agents::Done>,
    /// The daemon's id of each agent, by index.
    pub agent_ids: Vec<String>,
    /// Phones' logs, by index.
    pub phones: Vec<PhoneLog>,
    /// Device id (from `reins devices`) → phone index.
    pub devices: HashMap<String, usize>,
    /// Stops.
    pub stops: Vec<StopDone>,
    /// Pauses and resumes: (what, by, confirmed).
    pub halts: Vec<(String, Result<(), String>)>,
    /// When the daemon was SIGKILLed, if it was.
    pub daemon_killed: Option<Instant>,
    /// When the broker was restarted, if it was.
    pub broker_restarted: Option<Instant>,
    /// Audit records (one JSON value per line).
    pub audit: Vec<serde_json::Value>,
    /// Why `reins log --verify` failed (None: the chain verifies).
    pub audit_broken: Option<String>,
    /// Final agent lists that differ from the daemon's: (phone, daemon's, phone's).
    pub views_differ: Vec<String>,
    /// Trees of stopped agents with members left: (pgid, pids).
    pub leftovers: Vec<(u32, Vec<u32>)>,
    /// The daemon's cost over time.
    pub cost: Vec<CostSample>,
    /// When requests started and stopped being raised.
    pub load: (Option<Instant>, Option<Instant>),
    /// Forged messages published (with a flood).
    pub flooded: u64,
}
