//! OpenClaw gateway approvals: how long from the gateway announcing an exec
//! approval to Reins showing it, and from a person's decision to the
//! decision arriving at the gateway.
//!
//! The gateway is `reins_openclaw::fake` (the protocol as OpenClaw 2026.9.6
//! speaks it; a real gateway needs a model to raise approvals) on a real
//! loopback WebSocket, in this process. A real `reins daemon` in private
//! XDG directories finds it through `~/.openclaw/openclaw.json`. The bench
//! subscribes over IPC as a terminal surface, so Reins joins as an approver,
//! and waits until the gateway lists it as one. Each run then:
//!
//! 1. raises an exec approval on the gateway (the clock starts just
//!    before) and stops the clock when the subscription delivers the
//!    Requested event for it: **gateway event → shown by Reins** (the
//!    link, the broker and the IPC stream, all loopback);
//! 2. sends `decide` (allow) over a second IPC connection (a second clock
//!    starts just before) and stops it when the gateway has recorded the
//!    `allow-once` for that approval: **decision → at the gateway**.
//!
//! Every answer is checked; nothing here asserts a duration.

use super::daemon::Env;
use super::procs::{Bins, check_interrupted};
use super::stats::{Row, ms};
use super::{Opts, Res};
use reins_approval::{BrokerEvent, Decision};
use reins_openclaw::fake::{ExecRequest, FakeGateway, FakeOptions};
use reins_runtime::ipc::Subscription;
use reins_runtime::ipc::proto::{ClientSurface, StreamEvent};
use reins_runtime::ipc::{Client, Request, Response};
use std::time::{Duration, Instant};

/// Unrecorded runs first.
const WARMUP: usize = 5;

/// How long one step may take before the run is an error.
const WITHIN: Duration = Duration::from_secs(10);

const TOKEN: &str = "bench-openclaw-token";

fn config(env: &Env, port: u16) -> Res<()> {
    let home = super::hook::env_dir(env, "HOME")?;
    let dir = home.join(".openclaw");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let text = format!(
        "{{ gateway: {{ port: {port}, auth: {{ mode: \"token\", token: \"{TOKEN}\" }} }} }}\n"
    );
    std::fs::write(dir.join("openclaw.json"), text)
        .map_err(|e| format!("cannot write openclaw.json: {e}"))
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> Res<T> {
    tokio::time::timeout(WITHIN, f)
        .await
        .map_err(|_| format!("{what}: nothing within {WITHIN:?}"))
}

pub fn run(bins: &Bins, opts: &Opts, rows: &mut Vec<Row>) -> Res<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let g = rt
        .block_on(FakeGateway::start(FakeOptions {
            token: TOKEN.into(),
            ..FakeOptions::default()
        }))
        .map_err(|e| format!("cannot start the fake gateway: {e}"))?;
    let env = Env::new(bins, "rbocnone")?;
    config(&env, g.port())?;
    let mut daemon = env.daemon()?;
    let sock = super::hook::socket(&env)?;
    let (shown, relayed) = rt.block_on(async {
        let mut sub = within(
            "subscribing",
            Subscription::connect(&sock, ClientSurface::Terminal),
        )
        .await?
        .map_err(|e| format!("cannot subscribe: {e}"))?;
        within(
            "Reins joining the gateway as an approver",
            g.wait_until(|g| g.clients().into_iter().find(|c| c.approver)),
        )
        .await?;
        let mut client = Client::connect(&sock).map_err(|e| format!("cannot connect: {e}"))?;
        let (mut shown, mut relayed) = (vec![], vec![]);
        for round in 0..WARMUP + opts.runs {
            check_interrupted()?;
            let t0 = Instant::now();
            let id = g.request_exec(ExecRequest {
                command: format!("gog gmail trash --query 'label:bench-{round}' --all"),
                cwd: "/home/dev/.openclaw/workspace".into(),
                agent_id: "main".into(),
                session_key: format!("agent:main:bench-{round}"),
                ..ExecRequest::default()
            });
            let request = loop {
                let ev = within("the approval reaching a subscriber", sub.next())
                    .await?
                    .map_err(|e| format!("subscription: {e}"))?
                    .ok_or("the daemon closed the subscription")?;
                if let StreamEvent::Approval {
                    change: BrokerEvent::Requested { request },
                } = ev
                    && request.gateway.as_ref().is_some_and(|o| o.id == id)
                {
                    break request;
                }
            };
            let to_show = t0.elapsed();
            let t1 = Instant::now();
            let answer = tokio::task::block_in_place(|| {
                client.call(&Request::Decide {
                    request_id: request.request_id,
                    action_hash: request.action_hash,
                    decision: Decision::Allow,
                })
            })
            .map_err(|e| format!("decide: {e}"))?;
            if !matches!(answer, Response::Decided { .. }) {
                return Err(format!(
                    "round {round}: the decision was refused: {answer:?}"
                ));
            }
            let d = within(
                "the decision reaching the gateway",
                g.wait_for_decision(&id),
            )
            .await?;
            let to_gateway = t1.elapsed();
            if d.decision != "allow-once" || !d.applied {
                return Err(format!("round {round}: the gateway got {d:?}"));
            }
            if round >= WARMUP {
                shown.push(ms(to_show.as_micros() as u64));
                relayed.push(ms(to_gateway.as_micros() as u64));
            }
        }
        Ok::<_, String>((shown, relayed))
    })?;
    daemon.shutdown();
    g.shutdown();
    let cond = format!(
        "{} runs, fake gateway on loopback, one terminal subscriber",
        opts.runs
    );
    rows.extend(Row::new(
        "openclaw: `exec.approval.requested` sent by the gateway → Requested on a Reins subscription",
        &cond,
        "ms",
        &shown,
        None,
    ));
    rows.extend(Row::new(
        "openclaw: `decide` allow over IPC → `allow-once` recorded by the gateway",
        &cond,
        "ms",
        &relayed,
        None,
    ));
    Ok(())
}
