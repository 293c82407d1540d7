//! The `reins` command: the daemon, and the CLI surfaces over it.
//!
//! Each subcommand talks to a running daemon over IPC; `status`, `stop`,
//! `pause` and `resume` fall back to acting directly when no daemon runs.
//! Exit codes are stable (see `docs/cli.md`): 0 ok, 1 other error, 2 usage,
//! 3 no such agent, 4 partially failed. This file only parses arguments and
//! dispatches; the work lives in `reins-runtime`.

mod commands;
mod output;

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
}

fn main() {
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
