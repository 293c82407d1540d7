//! The `reins` command: the daemon, and the CLI surfaces over it.
//!
//! Each subcommand talks to a running daemon over IPC; `status`, `stop`,
//! `pause` and `resume` fall back to acting directly when no daemon runs.
//! Exit codes are stable (see `docs/cli.md`): 0 ok, 1 other error, 2 usage,
//! 3 no such agent, 4 partially failed. This file only parses arguments and
//! dispatches; the work lives in `reins-runtime`.

mod approvals;
mod commands;
mod hook;
mod hook_openclaw;
mod install;
mod latch;
mod openclaw;
mod output;
mod phone;
mod service;
mod watch;
mod watch_alerts;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Exit codes, as documented in docs/cli.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// Any other error.
    Other = 1,
    /// Bad usage.
    Usage = 2,
    /// No such agent.
    NoSuchAgent = 3,
    /// Some processes were not dealt with.
    Partial = 4,
}

/// Reins keeps you in control of the AI agents running on this machine.
#[derive(Debug, Parser)]
#[command(name = "reins", version, about, long_about = None)]
pub struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/reins/config.toml).
    #[arg(long, global = true, env = "REINS_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: scanner, controller, audit log and IPC socket.
    Daemon,
    /// List running agents.
    Status {
        /// Print the stable JSON schema instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Freeze, then kill an agent's whole process tree, and verify it is gone.
    Stop(HaltArgs),
    /// Freeze (SIGSTOP) an agent's whole process tree.
    Pause(HaltArgs),
    /// Continue (SIGCONT) a paused agent's whole process tree.
    Resume(HaltArgs),
    /// End a stop latch: respawns of a stopped agent may run again (held
    /// ones are resumed).
    Release {
        /// The stopped agent's id, a held respawn's id (see `reins status`), or `all`.
        target: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop what restarts an agent (its parent loop or pm2), then the agent.
    StopSupervisor {
        /// An agent id: running, held, or stopped and latched.
        target: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The entry point agents' hooks call: reads the event, answers on stdout.
    Hook {
        /// claude, codex, gemini, cursor or copilot.
        agent: String,
        /// The hook event, e.g. permission-request, pre-tool-use, notify.
        event: String,
        /// Codex `notify` passes its JSON as the last argument.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        rest: Vec<String>,
    },
    /// List pending approval requests with the exact command, cwd and agent.
    Approvals {
        /// Print JSON.
        #[arg(long, conflicts_with = "watch")]
        json: bool,
        /// Keep running: print requests as they arrive and answer them here
        /// (this terminal then counts as a surface, so prompts wait for it).
        #[arg(long)]
        watch: bool,
    },
    /// Approve a pending request (any unique prefix of its id).
    Approve {
        /// The request id or a unique prefix.
        id: String,
        /// Also allow the same call for the rest of this session.
        #[arg(long)]
        session: bool,
    },
    /// Deny a pending request.
    Deny {
        /// The request id or a unique prefix.
        id: String,
        /// A message passed to the agent.
        #[arg(long)]
        message: Option<String>,
    },
    /// Check or try the approval policy.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Install Reins' hooks into an agent's config (claude, codex, gemini, cursor, copilot),
    /// or the Reins plugin into OpenClaw (openclaw).
    Install(InstallArgs),
    /// Remove Reins' hooks from an agent's config.
    Uninstall(InstallArgs),
    /// Check each agent's hooks, the daemon, the live surfaces and the policy file.
    Doctor {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the daemon at login as a systemd user service (or remove it).
    Service {
        #[command(subcommand)]
        command: ServiceCommand,
    },
    /// Pair a phone: shows a QR code, then asks you to compare a six-digit code.
    Pair,
    /// List paired phones, or rename or revoke one.
    Devices {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        command: Option<DevicesCommand>,
    },
    /// Print the audit log.
    Log {
        /// One JSON record per line.
        #[arg(long)]
        json: bool,
        /// Check the hash chain and name the first broken link.
        #[arg(long)]
        verify: bool,
    },
}

/// `reins devices ...`
#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Give a paired phone another name.
    Rename {
        /// The device id (from `reins devices`).
        id: String,
        /// The new name.
        name: String,
    },
    /// Revoke a paired phone: its key is deleted and its messages ignored.
    Revoke {
        /// The device id (from `reins devices`).
        id: String,
    },
}

/// `reins service ...`
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Write ~/.config/systemd/user/reins.service, then enable and start it.
    Install {
        /// Print the unit and the commands instead of doing anything.
        #[arg(long)]
        print: bool,
    },
    /// Stop and disable the service, and remove its unit file.
    Uninstall {
        /// Print the commands instead of doing anything.
        #[arg(long)]
        print: bool,
    },
}

/// `reins policy ...`
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate the policy file and list its rules; errors point at the line.
    Check,
    /// Say which rule matches a hook payload, and why.
    Test {
        /// The hook's JSON (as the agent sends it on stdin), or `-` for stdin.
        json: String,
        /// Which agent's hook format.
        #[arg(long, default_value = "claude")]
        agent: String,
        /// Which event (default: the payload's hook_event_name).
        #[arg(long)]
        event: Option<String>,
    },
}

/// Arguments of install and uninstall.
#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// claude, codex, gemini, cursor or copilot.
    pub agent: String,
    /// For this user (the default).
    #[arg(long, conflicts_with = "project")]
    pub user: bool,
    /// For one project directory instead.
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Show the diff without writing anything.
    #[arg(long)]
    pub print: bool,
}

/// Arguments of stop, pause and resume.
#[derive(Debug, clap::Args)]
pub struct HaltArgs {
    /// An agent id (from `reins status`), a PID, or `all`.
    pub target: String,
    /// Allow a PID that is not a detected agent.
    #[arg(long)]
    pub force: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// `stop` only: print the verified result and exit, without waiting for
    /// the daemon's check that the agent is still gone some seconds later.
    #[arg(long)]
    pub no_wait: bool,
    /// `stop` of an OpenClaw agent only: abort its active runs through the
    /// gateway (`sessions.abort`, queued turns cleared) and leave the gateway
    /// and its chat channels up. Asks OpenClaw; the default stop does not.
    #[arg(long, conflicts_with_all = ["force", "no_wait"])]
    pub soft: bool,
}

fn main() {
    // The hook fast path: skip clap's full parse and the config file.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("hook") && args.len() >= 4 {
        std::process::exit(hook::run(&args[2], &args[3], &args[4..]));
    }
    let cli = Cli::parse();
    let code = match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("reins: {e:#}");
            Exit::Other
        }
    };
    std::process::exit(code as i32);
}
