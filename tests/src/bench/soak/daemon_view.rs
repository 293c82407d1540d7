//! What the soak reads from the daemon, always through the `reins` CLI
//! as a user would: the agent list (`reins status --json`), the link's
//! state, the paired devices, the audit log and its verification. Also
//! the final comparison of each phone's agent list with the daemon's.
//! Nothing here changes the daemon's state.

use super::phones::{Phone, lock};
use crate::bench::Res;
use crate::bench::daemon::Env;
use crate::bench::procs::check_interrupted;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Bound on any one wait for the daemon (listing agents, a link, views).
pub const WAIT: Duration = Duration::from_secs(30);

/// The daemon's agent ids for `pids`, once it lists all of them.
pub fn wait_listed(env: &Env, pids: &[u32]) -> Res<Vec<String>> {
    let start = Instant::now();
    loop {
        let agents = status(env)?["agents"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let ids: Vec<Option<String>> = pids
            .iter()
            .map(|&p| {
                agents
                    .iter()
                    .find(|a| a["pid"].as_u64() == Some(u64::from(p)))
                    .and_then(|a| a["id"].as_str().map(str::to_owned))
            })
            .collect();
        if ids.iter().all(Option::is_some) {
            return Ok(ids.into_iter().flatten().collect());
        }
        if start.elapsed() > WAIT {
            let n = ids.iter().filter(|i| i.is_some()).count();
            return Err(format!(
                "the daemon listed {n} of {} agents within {WAIT:?}",
                pids.len()
            ));
        }
        check_interrupted()?;
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `reins status --json`.
fn status(env: &Env) -> Res<serde_json::Value> {
    let o = env.run(&["status", "--json"])?;
    serde_json::from_slice(&o.stdout).map_err(|e| format!("reins status --json: {e}"))
}

/// Wait until the daemon's link is connected and ready.
pub fn wait_link(env: &Env) -> Res<()> {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        let v = status(env)?;
        if v["link"]["state"] == "connected" && v["link"]["ready"] == true {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err("the daemon's link did not come back".into())
}

/// Wait (bounded) until every online phone's agent list equals the
/// daemon's; returns the differences left.
pub fn converge(env: &Env, phones: &[Phone]) -> Vec<String> {
    let start = Instant::now();
    loop {
        let daemon: std::collections::BTreeMap<String, String> = status(env)
            .ok()
            .and_then(|v| v["agents"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|a| {
                Some((
                    a["id"].as_str()?.to_owned(),
                    a["state"].as_str()?.to_owned(),
                ))
            })
            .collect();
        let diffs: Vec<String> = phones
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let view: std::collections::BTreeMap<String, String> = lock(&p.log)
                    .view
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            serde_json::to_value(v)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default(),
                        )
                    })
                    .collect();
                (view != daemon).then(|| {
                    let only_d: Vec<_> = daemon
                        .iter()
                        .filter(|(k, v)| view.get(*k) != Some(v))
                        .collect();
                    let only_p: Vec<_> = view
                        .iter()
                        .filter(|(k, v)| daemon.get(*k) != Some(v))
                        .collect();
                    format!("phone {i}: daemon has {only_d:?}, phone has {only_p:?}")
                })
            })
            .collect();
        if diffs.is_empty() || start.elapsed() > WAIT {
            return diffs;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `reins devices --json`: device id → phone index (from its name).
pub fn devices(env: &Env) -> Res<HashMap<String, usize>> {
    let o = env.run(&["devices", "--json"])?;
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).map_err(|e| format!("reins devices --json: {e}"))?;
    let list = v
        .as_array()
        .cloned()
        .or_else(|| v["devices"].as_array().cloned())
        .unwrap_or_default();
    Ok(list
        .iter()
        .filter_map(|d| {
            let i = d["name"]
                .as_str()?
                .strip_prefix("soak phone ")?
                .parse()
                .ok()?;
            Some((d["id"].as_str()?.to_owned(), i))
        })
        .collect())
}

/// Every audit record (`reins log --json`, one JSON value per line).
pub fn audit(env: &Env) -> Res<Vec<serde_json::Value>> {
    let o = env.run(&["log", "--json"])?;
    Ok(String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// `reins log --verify`: Ok when the hash chain holds.
pub fn verify(env: &Env) -> Result<(), String> {
    let o = env.run(&["log", "--verify"]).map_err(|e| e.to_string())?;
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "reins log --verify: {} {}",
            String::from_utf8_lossy(&o.stdout).trim(),
            String::from_utf8_lossy(&o.stderr).trim()
        ))
    }
}
