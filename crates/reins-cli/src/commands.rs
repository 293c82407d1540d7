//! The subcommands: each talks to the daemon when one runs, and otherwise
//! (for status, stop, pause and resume) acts directly with the same
//! controller and audit log the daemon uses.
//!
//! Nothing here decides policy: target resolution, safety rules and audit
//! records come from `reins-runtime`.

use crate::{Cli, Command, DevicesCommand, Exit, HaltArgs, PolicyCommand, ServiceCommand, output};
use anyhow::Context as _;
use reins_approval::Decision;
use reins_core::{Actor, HaltOp, HaltOptions};
use reins_install::Op;
use reins_os::{Linux, ProcessOps};
use reins_runtime::audit::{AuditLog, Verification};
use reins_runtime::audit_writer::now_ms;
use reins_runtime::config::Config;
use reins_runtime::controller::{self, ResolveError};
use reins_runtime::daemon::{self, DaemonSettings};
use reins_runtime::ipc::{Client, ClientError, ErrorCode, HaltOutcome, Request, Response};
use reins_runtime::paths::Paths;
use serde_json::json;

/// Version of the `status --json` document.
const STATUS_SCHEMA: u32 = 1;

pub(crate) struct Ctx {
    config: Config,
    paths: Paths,
}

impl Ctx {
    fn load(cli: &Cli) -> anyhow::Result<Ctx> {
        let paths = Paths::from_env()?;
        let file = cli.config.clone().unwrap_or_else(|| paths.config_file());
        let config = Config::load(&file)?;
        Ok(Ctx { config, paths })
    }

    fn audit(&self) -> AuditLog {
        AuditLog::new(
            self.config
                .audit
                .path
                .clone()
                .unwrap_or_else(|| self.paths.audit_log()),
        )
    }

    /// A daemon client, or `None` when no daemon is running.
    pub(crate) fn client(&self) -> anyhow::Result<Option<Client>> {
        match Client::connect(&self.paths.socket()) {
            Ok(c) => Ok(Some(c)),
            Err(ClientError::NotRunning(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    let ctx = Ctx::load(&cli)?;
    let config_arg = cli.config.clone();
    match cli.command {
        Command::Daemon => run_daemon(ctx),
        Command::Status { json } => status(&ctx, json),
        Command::Stop(a) if a.soft => crate::openclaw::soft_stop(&ctx, &a.target, a.json),
        Command::Stop(a) => halt(&ctx, HaltOp::Stop, a),
        Command::Pause(a) => halt(&ctx, HaltOp::Pause, a),
        Command::Resume(a) => halt(&ctx, HaltOp::Resume, a),
        Command::Release { target, json } => crate::latch::release(&ctx.paths, &target, json),
        Command::StopSupervisor { target, json } => {
            crate::latch::stop_supervisor(&ctx.paths, &target, json)
        }
        Command::Log { json, verify } => log(&ctx, json, verify),
        Command::Hook { agent, event, rest } => Ok(match crate::hook::run(&agent, &event, &rest) {
            0 => Exit::Ok,
            _ => Exit::Other,
        }),
        Command::Approvals { watch: true, .. } => crate::watch::run(&ctx.paths, now_ms),
        Command::Approvals { json, .. } => crate::approvals::list(&ctx.paths, json, now_ms()),
        Command::Approve { id, session } => {
            let d = if session {
                Decision::AllowForSession
            } else {
                Decision::Allow
            };
            crate::approvals::decide(&ctx.paths, &id, d, now_ms())
        }
        Command::Deny { id, message } => {
            crate::approvals::decide(&ctx.paths, &id, Decision::Deny { message }, now_ms())
        }
        Command::Policy {
            command: PolicyCommand::Check,
        } => crate::approvals::check(&ctx.paths),
        Command::Policy {
            command: PolicyCommand::Test { json, agent, event },
        } => {
            let json = crate::approvals::read_arg(&json)?;
            crate::approvals::test(&ctx.paths, &agent, event.as_deref(), &json)
        }
        Command::Install(a) => {
            crate::install::run(&a.agent, a.project.as_deref(), a.print, Op::Install)
        }
        Command::Uninstall(a) => {
            crate::install::run(&a.agent, a.project.as_deref(), a.print, Op::Uninstall)
        }
        Command::Doctor { json } => crate::install::doctor(&ctx.paths, json),
        Command::Service {
            command: ServiceCommand::Install { print },
        } => crate::service::install(print, config_arg.as_deref()),
        Command::Service {
            command: ServiceCommand::Uninstall { print },
        } => crate::service::uninstall(print),
        Command::Pair => crate::phone::pair(&ctx.paths, now_ms()),
        Command::Devices {
            json,
            command: None,
        } => crate::phone::list(&ctx.paths, json, now_ms()),
        Command::Devices {
            command: Some(DevicesCommand::Rename { id, name }),
            ..
        } => crate::phone::rename(&ctx.paths, &id, &name),
        Command::Devices {
            command: Some(DevicesCommand::Revoke { id }),
            ..
        } => crate::phone::revoke(&ctx.paths, &id),
    }
}

fn run_daemon(ctx: Ctx) -> anyhow::Result<Exit> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rumqttd=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // A broken policy stops the daemon from starting: nothing half-configured.
    let policy = crate::approvals::load_policy(&ctx.paths)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let shutdown = reins_runtime::CancellationToken::new();
        let s = shutdown.clone();
        tokio::spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("cannot install a SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            s.cancel();
        });
        let settings = DaemonSettings {
            config: ctx.config,
            paths: ctx.paths,
            policy,
        };
        let socket = settings.paths.socket();
        daemon::run(settings, shutdown, || {
            println!("reins daemon listening on {}", socket.display());
        })
        .await
    })?;
    Ok(Exit::Ok)
}

fn status(ctx: &Ctx, json: bool) -> anyhow::Result<Exit> {
    let (agents, daemon, link, surfaces, alerts, latches, openclaw, audit) = match ctx.client()? {
        Some(mut c) => match c.call(&Request::Status)? {
            Response::Status {
                agents,
                link,
                surfaces,
                alerts,
                latches,
                openclaw,
                audit,
            } => (
                agents, true, link, surfaces, alerts, latches, openclaw, audit,
            ),
            other => anyhow::bail!("unexpected daemon response: {other:?}"),
        },
        None => {
            let table = ctx.config.signature_table()?;
            let agents = reins_detect::scan_once(table)?;
            (agents, false, None, None, Vec::new(), None, None, None)
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "schema": STATUS_SCHEMA, "daemon": daemon, "agents": agents, "link": link,
                "surfaces": surfaces, "alerts": alerts, "latches": latches, "openclaw": openclaw,
                "audit": output::audit_json(audit.as_ref())
            }))?
        );
    } else {
        print!("{}", output::audit_lines(audit.as_ref()));
        print!("{}", output::alerts_lines(&alerts));
        print!("{}", output::agents_table(&agents));
        if let Some(link) = &link {
            print!("{}", crate::phone::link_line(link));
        }
        if let Some(surfaces) = &surfaces {
            print!("{}", output::surfaces_lines(surfaces));
        }
        if let Some(latches) = &latches {
            print!("{}", crate::latch::latch_lines(latches));
        }
        if let Some(o) = &openclaw {
            print!("{}", crate::openclaw::status_line(o));
        }
        if !daemon {
            println!("(no daemon running: this is a one-off scan; start one with `reins daemon`)");
        }
    }
    Ok(Exit::Ok)
}

fn halt(ctx: &Ctx, op: HaltOp, a: HaltArgs) -> anyhow::Result<Exit> {
    // Subscribed before the stop, so its follow-up cannot be missed.
    let mut follow = (op == HaltOp::Stop && !a.json && !a.no_wait)
        .then(|| crate::latch::Followup::open(&ctx.paths.socket()))
        .flatten();
    let result = match ctx.client()? {
        Some(mut c) => match c.call(&Request::Halt {
            halt: op,
            target: a.target.clone(),
            force: a.force,
        })? {
            Response::Halted(o) => Ok(o),
            Response::Error(e) => Err((e.code, e.message)),
            other => anyhow::bail!("unexpected daemon response: {other:?}"),
        },
        None => {
            eprintln!("reins: no daemon running; acting directly");
            halt_direct(ctx, op, &a)?
        }
    };
    match result {
        Ok(outcome) => {
            if a.json {
                println!("{}", serde_json::to_string_pretty(&outcome)?);
            } else {
                print!("{}", output::halt_outcome(&outcome));
                if let Some(f) = follow.as_mut() {
                    f.wait(&outcome, ctx.config.halt.recheck_after_s);
                }
            }
            Ok(if outcome.success() {
                Exit::Ok
            } else {
                Exit::Partial
            })
        }
        Err((code, message)) => {
            eprintln!("reins: {message}");
            Ok(match code {
                ErrorCode::NoSuchAgent => Exit::NoSuchAgent,
                ErrorCode::BadRequest => Exit::Usage,
                ErrorCode::NoSuchRequest => Exit::NoSuchAgent,
                ErrorCode::NoSuchDevice => Exit::NoSuchAgent,
                ErrorCode::Refused
                | ErrorCode::Rejected
                | ErrorCode::LinkUnavailable
                | ErrorCode::Internal => Exit::Other,
            })
        }
    }
}

/// The no-daemon path: the same resolution, safety rules and audit records.
fn halt_direct(
    ctx: &Ctx,
    op: HaltOp,
    a: &HaltArgs,
) -> anyhow::Result<Result<HaltOutcome, (ErrorCode, String)>> {
    let ops = Linux;
    let table = ctx.config.signature_table()?;
    let agents = reins_detect::scan_once(table)?;
    let actor = Actor::Cli {
        pid: std::process::id(),
        uid: ops.self_uid(),
    };
    let targets = match controller::resolve(&a.target, &agents, a.force, &ops) {
        Ok(t) => t,
        Err(e @ ResolveError::BadTarget(_)) => {
            return Ok(Err((ErrorCode::BadRequest, e.to_string())));
        }
        Err(e) => return Ok(Err((ErrorCode::NoSuchAgent, e.to_string()))),
    };
    let log = ctx.audit();
    let now = reins_runtime::audit_writer::now_ms;
    if op == HaltOp::Resume
        && let Some(inside) = controller::agent_containing(std::process::id(), &agents, &ops)
    {
        let why = format!("resume requested from inside agent {inside}'s own process tree");
        let _ = log.append(controller::refused_entry(&actor, &a.target, &why), now());
        return Ok(Err((
            ErrorCode::Refused,
            format!("{why}; an agent may not resume itself"),
        )));
    }
    let opts = HaltOptions {
        grace: ctx.config.grace(),
        force: a.force,
    };
    let units = if op == HaltOp::Stop {
        controller::Units::system()
    } else {
        controller::Units::none()
    };
    let reports = controller::execute_with(&ops, &units, op, &targets, &agents, &opts);
    let mut warnings = Vec::new();
    for entry in controller::audit_entries(&actor, op, &reports) {
        if let Err(e) = log.append(entry, now()) {
            warnings.push(e.to_string());
        }
    }
    Ok(Ok(HaltOutcome {
        op,
        target: a.target.clone(),
        targets: reports,
        warnings,
    }))
}

fn log(ctx: &Ctx, json: bool, verify: bool) -> anyhow::Result<Exit> {
    let log = ctx.audit();
    if verify {
        return match log.verify()? {
            Verification::Intact {
                records,
                gaps,
                lost,
            } => {
                println!(
                    "audit log {} is intact: {records} record(s)",
                    log.path().display()
                );
                if gaps > 0 {
                    println!(
                        "it records {gaps} gap(s): {lost} entr{} could not be written at the time                          (see the `gap` records: `reins log | grep gap`)",
                        if lost == 1 { "y" } else { "ies" }
                    );
                }
                Ok(Exit::Ok)
            }
            Verification::Broken { line, reason } => {
                eprintln!(
                    "audit log {} is BROKEN at line {line}: {reason}",
                    log.path().display()
                );
                Ok(Exit::Other)
            }
        };
    }
    for r in log
        .read_all()
        .with_context(|| format!("reading {}", log.path().display()))?
    {
        if json {
            println!("{}", serde_json::to_string(&r)?);
        } else {
            println!("{}", output::audit_line(&r));
        }
    }
    Ok(Exit::Ok)
}
