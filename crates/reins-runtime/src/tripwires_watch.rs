//! Deletions seen on disk, for agents that have no hooks (Aider, opencode,
//! goose): while such an agent runs, its project directory is watched with
//! inotify (`reins_os::fswatch`) and every file deleted or moved out of it
//! counts as one deletion *of that agent* in the same tripwire machine as
//! hook events; when a rule fires the agent is paused like any other. The
//! same task forgets an agent's tripwire state when the agent exits.
//!
//! The attribution is by place, not by process: inotify does not say who
//! deleted a file, so the user's own `rm` in that directory, a build tool
//! the agent started, or a second agent in the same project all count for
//! it (see `docs/policy.md`). Nothing is watched for agents with hooks (their
//! hooks already report deletions), for an agent whose project would be the
//! home directory or `/` (far too many directories, and most changes there
//! are not the agent's), or beyond [`MAX_WATCHES`] directories.

use crate::daemon::Dispatcher;
use crate::tripwires::project_root;
use reins_approval::actions::Classified;
use reins_approval::tripwire::Outcome;
use reins_core::{AgentKind, AgentRecord, RegistryEvent};
use reins_os::fswatch::DirWatch;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Agents with no hook system: the only way to see their deletions.
pub(crate) const HOOKLESS: [AgentKind; 3] =
    [AgentKind::Aider, AgentKind::Opencode, AgentKind::Goose];

/// Directories watched per agent at most. Each watch costs about 1 KiB of
/// unswappable kernel memory and the default per-user limit
/// (`fs.inotify.max_user_watches`) is often 8192 to 65536 shared by every
/// program; a project with more directories than this is watched in part.
pub const MAX_WATCHES: usize = 4096;

/// Run until shutdown: follow the registry and keep one watch per running
/// hookless agent.
pub(crate) fn spawn(d: Arc<Dispatcher>, shutdown: CancellationToken, tracker: &TaskTracker) {
    let t = tracker.clone();
    tracker.spawn(async move {
        let mut events = d.registry.subscribe();
        let mut watches: HashMap<reins_core::AgentId, CancellationToken> = HashMap::new();
        let mut sync = true;
        loop {
            if sync {
                sync = false;
                let live = d.registry.snapshot().await;
                watches.retain(|id, tok| {
                    let keep = live.iter().any(|r| &r.id == id);
                    if !keep {
                        tok.cancel();
                    }
                    keep
                });
                for rec in live {
                    start(&d, rec, &mut watches, &shutdown, &t);
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                ev = events.recv() => match ev {
                    Ok(RegistryEvent::Appeared { agent }) => start(&d, agent, &mut watches, &shutdown, &t),
                    Ok(RegistryEvent::Exited { id }) => {
                        // Its windows and held state go with it.
                        d.tripwires.reset_agent(&id);
                        if let Some(tok) = watches.remove(&id) {
                            tok.cancel();
                        }
                    }
                    Ok(RegistryEvent::Changed { .. }) => {}
                    Err(RecvError::Lagged(_)) => sync = true,
                    Err(RecvError::Closed) => return,
                },
            }
        }
    });
}

fn start(
    d: &Arc<Dispatcher>,
    rec: AgentRecord,
    watches: &mut HashMap<reins_core::AgentId, CancellationToken>,
    shutdown: &CancellationToken,
    tracker: &TaskTracker,
) {
    if !HOOKLESS.contains(&rec.kind) || watches.contains_key(&rec.id) {
        return;
    }
    let Some(cwd) = rec.cwd.clone() else { return };
    let root = project_root(&cwd);
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    if root == Path::new("/") || home.as_deref() == Some(root.as_path()) {
        tracing::info!(agent = %rec.id, "not watching {} for deletions: too broad", root.display());
        return;
    }
    let tok = shutdown.child_token();
    watches.insert(rec.id.clone(), tok.clone());
    tracker.spawn(watch(d.clone(), rec, root, tok));
}

async fn watch(
    d: Arc<Dispatcher>,
    rec: AgentRecord,
    root: std::path::PathBuf,
    stop: CancellationToken,
) {
    let setup = {
        let root = root.clone();
        tokio::task::spawn_blocking(move || DirWatch::new(&root, MAX_WATCHES)).await
    };
    let w = match setup {
        Ok(Ok(w)) => w,
        Ok(Err(e)) => {
            tracing::warn!(agent = %rec.id, "cannot watch {} for deletions: {e}", root.display());
            return;
        }
        Err(_) => return,
    };
    if w.truncated {
        tracing::warn!(agent = %rec.id, "{} has more than {MAX_WATCHES} directories; deletions in the rest are not seen", root.display());
    }
    // SAFETY: `DirWatch` owns its inotify descriptor (an `OwnedFd` it never
    // replaces) and returns that same descriptor from `as_raw_fd` for as
    // long as it lives; the `AsyncFd` owns the `DirWatch`.
    let registered = unsafe { AsyncFd::register_with_interest(w, Interest::READABLE) };
    let mut afd = match registered {
        Ok(a) => a,
        Err(e) => {
            let (_, e) = e.into_parts();
            tracing::warn!(agent = %rec.id, "cannot wait on the inotify descriptor: {e}");
            return;
        }
    };
    tracing::debug!(agent = %rec.id, root = %root.display(), "watching for deletions");
    loop {
        let mut guard = tokio::select! {
            _ = stop.cancelled() => return,
            g = afd.readable_mut() => match g {
                Ok(g) => g,
                Err(_) => return,
            },
        };
        let changes = match guard.get_inner_mut().read() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(agent = %rec.id, "inotify read failed: {e}; no longer watching");
                return;
            }
        };
        guard.clear_ready();
        for change in changes {
            let one = Classified {
                deletions: 1,
                ..Classified::default()
            };
            match d
                .tripwires
                .observe(d.clock.now_ms(), Some(&rec.id), None, &one)
            {
                Outcome::Clear | Outcome::Held { .. } => {}
                Outcome::Fired(fired) => {
                    let action =
                        serde_json::json!({ "seen_on_disk": format!("{change:?}"), "root": root });
                    d.trip(&rec.id, &rec, &fired, action).await;
                }
            }
        }
    }
}
