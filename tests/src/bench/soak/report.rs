//! The soak's figures: requests a minute held, the decision latency under
//! load (a phone's decision published → the hook's answer read by its
//! agent), the daemon's CPU and RSS over time, and what was lost; as
//! `stats::Row`s plus a printed series and the checker's findings.
//!
//! It measures; it does not judge (the checker does).

use super::check::{Findings, tag_of};
use super::{Gathered, SoakOpts};
use crate::bench::stats::{Row, Summary, ms};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Decision latencies: for each hook that got an allow or a deny, from the
/// first decision a phone published on its request to the answer; (ms,
/// when the decision was published).
pub fn latencies(g: &Gathered) -> Vec<(f64, Instant)> {
    let mut first: HashMap<u64, Instant> = HashMap::new();
    for p in &g.phones {
        for s in p.sent.iter().filter(|s| s.published) {
            let Some(tag) = p.seen.get(&s.request_id).and_then(|r| tag_of(&r.action)) else {
                continue;
            };
            let e = first.entry(tag).or_insert(s.at);
            *e = (*e).min(s.at);
        }
    }
    g.done
        .iter()
        .filter(|d| d.out.contains("\"behavior\""))
        .filter_map(|d| {
            let t = first.get(&d.tag)?;
            Some((ms(d.at.checked_duration_since(*t)?.as_micros() as u64), *t))
        })
        .collect()
}

/// Request written to its agent → first shown on a phone (ms).
fn shown(g: &Gathered) -> Vec<f64> {
    let mut first: HashMap<u64, Instant> = HashMap::new();
    for p in &g.phones {
        for r in p.seen.values() {
            if let Some(tag) = tag_of(&r.action) {
                let e = first.entry(tag).or_insert(r.at);
                *e = (*e).min(r.at);
            }
        }
    }
    g.sent
        .iter()
        .filter_map(|r| {
            let at = first.get(&r.tag)?;
            Some(ms(at.checked_duration_since(r.at)?.as_micros() as u64))
        })
        .collect()
}

/// Request written to its agent → its `approval_requested` record (ms, by
/// the wall clock: the hook's start, its IPC and the daemon's intake).
fn requested(g: &Gathered) -> Vec<f64> {
    let mut tag_of_id: HashMap<&str, u64> = HashMap::new();
    for p in &g.phones {
        for (id, r) in &p.seen {
            if let Some(tag) = tag_of(&r.action) {
                tag_of_id.insert(id, tag);
            }
        }
    }
    let written: HashMap<u64, u64> = g.sent.iter().map(|r| (r.tag, r.unix_ms)).collect();
    g.audit
        .iter()
        .filter(|r| r["action"] == "approval_requested")
        .filter_map(|r| {
            let tag = tag_of_id.get(r["target"].as_str()?)?;
            let ts = r["ts_ms"].as_u64()?;
            Some(ts.saturating_sub(*written.get(tag)?) as f64)
        })
        .collect()
}

/// How each request was resolved, from the audit log: a count per kind
/// (decided, expired, withdrawn and why, rate limited, no surface).
pub fn resolutions(g: &Gathered) -> Vec<(String, usize)> {
    let mut n: HashMap<String, usize> = HashMap::new();
    for r in g
        .audit
        .iter()
        .filter(|r| r["action"] == "approval_resolved")
    {
        let d = &r["detail"];
        let key = if let Some(reason) = d["reason"].as_str() {
            format!("{} ({reason})", d["outcome"].as_str().unwrap_or("?"))
        } else {
            let mut res = d["record"]["outcome"]["resolution"].clone();
            if let Some(o) = res.as_object_mut() {
                o.remove("at");
                o.remove("by");
            }
            res.to_string()
        };
        *n.entry(key).or_default() += 1;
    }
    let mut v: Vec<_> = n.into_iter().collect();
    v.sort_by_key(|e| std::cmp::Reverse(e.1));
    v
}

/// How long after a broker restart or a daemon kill a decision counts as
/// "during a fault" (reconnections with backoff, the new daemon's resync).
const FAULT_WINDOW: Duration = Duration::from_secs(10);

/// The latencies of decisions published away from any fault (ms).
fn steady(g: &Gathered) -> Vec<f64> {
    let faults: Vec<Instant> = [g.broker_restarted, g.daemon_killed]
        .into_iter()
        .flatten()
        .collect();
    latencies(g)
        .into_iter()
        .filter(|(_, at)| !faults.iter().any(|&f| *at >= f && *at < f + FAULT_WINDOW))
        .map(|(v, _)| v)
        .collect()
}

/// The rows of one run; `label` tells runs apart (e.g. "flood").
pub fn rows(g: &Gathered, f: &Findings, opts: &SoakOpts, label: &str) -> Vec<Row> {
    let minutes = match g.load {
        (Some(a), Some(b)) => (b - a).as_secs_f64() / 60.0,
        _ => opts.duration.as_secs_f64() / 60.0,
    };
    let cond = format!(
        "{label}{} agents, {} phones on Mosquitto, {:.1} min{}",
        opts.agents,
        opts.phones,
        minutes,
        opts.flood_per_s
            .map_or(String::new(), |r| format!(", flood {r} forged msg/s"))
    );
    let mut rows = Vec::new();
    let held = g.sent.len() as f64 / minutes.max(1e-9);
    rows.extend(Row::new(
        format!("soak: requests a minute held (asked {})", opts.rate_per_min),
        &cond,
        "/min",
        &[held],
        None,
    ));
    let all: Vec<f64> = latencies(g).into_iter().map(|(v, _)| v).collect();
    rows.extend(Row::new(
        "soak: decision latency, phone publish → hook's answer read (all)",
        &cond,
        "ms",
        &all,
        None,
    ));
    rows.extend(Row::new(
        "soak: the same, decisions published ≥ 10 s after any fault",
        &cond,
        "ms",
        &steady(g),
        None,
    ));
    rows.extend(Row::new(
        "soak: request written to its agent → `approval_requested` audited",
        &cond,
        "ms",
        &requested(g),
        None,
    ));
    rows.extend(Row::new(
        "soak: request written to its agent → shown on the first phone",
        &cond,
        "ms",
        &shown(g),
        None,
    ));
    let cpu: Vec<f64> = g.cost.iter().map(|c| c.cpu_pct).collect();
    rows.extend(Row::new(
        "soak: daemon CPU per sample",
        &cond,
        "%",
        &cpu,
        None,
    ));
    let rss: Vec<f64> = g.cost.iter().map(|c| c.rss_kb as f64 / 1024.0).collect();
    rows.extend(Row::new(
        "soak: daemon RSS per sample",
        &cond,
        "MB",
        &rss,
        None,
    ));
    let lost = (f.lost.len() + f.duplicated.len()) as f64;
    rows.extend(Row::new(
        "soak: requests lost or answered twice",
        &cond,
        "",
        &[lost],
        Some(0.0),
    ));
    rows
}

/// Print the cost series, the outcome counts and every violation.
pub fn print(g: &Gathered, f: &Findings) {
    println!("daemon cost every sample (t s: CPU %, RSS MB, pid):");
    for c in &g.cost {
        println!(
            "  {:>7.1}: {:>6.1} %  {:>7.1} MB  {}",
            c.t_s,
            c.cpu_pct,
            c.rss_kb as f64 / 1024.0,
            c.pid
        );
    }
    // RSS first vs last of each daemon (the SIGKILL starts a new one).
    let mut pids: Vec<u32> = g.cost.iter().map(|c| c.pid).collect();
    pids.dedup();
    for pid in pids {
        let of: Vec<_> = g.cost.iter().filter(|c| c.pid == pid).collect();
        if let (Some(a), Some(b)) = (of.first(), of.last()) {
            println!(
                "daemon {pid}: RSS {:.1} MB at {:.0} s, {:.1} MB at {:.0} s ({} samples)",
                a.rss_kb as f64 / 1024.0,
                a.t_s,
                b.rss_kb as f64 / 1024.0,
                b.t_s,
                of.len()
            );
        }
    }
    let lat = Summary::of(&latencies(g).into_iter().map(|(v, _)| v).collect::<Vec<_>>());
    println!(
        "requests {}: allowed {}, denied {}, abstained {}, died with a stopped agent {}, \
         decision cut by the daemon's SIGKILL {}; lost {}, answered twice {}; \
         decisions too late or second {}; stops {}, pauses/resumes {}; forged messages {}",
        f.requests,
        f.allowed,
        f.denied,
        f.abstained,
        f.killed_by_stop,
        f.cut_by_kill,
        f.lost.len(),
        f.duplicated.len(),
        f.late_decisions,
        g.stops.len(),
        g.halts.len(),
        g.flooded
    );
    println!(
        "audit: {} decisions, {} with an action hash compared to the phones'; {} requests shown to phones",
        f.audited.0,
        f.audited.1,
        g.phones.iter().map(|p| p.seen.len()).max().unwrap_or(0)
    );
    if let Some(s) = lat {
        println!(
            "decision latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n {})",
            s.p50, s.p99, s.max, s.n
        );
    }
    println!("resolutions in the audit log:");
    for (k, n) in resolutions(g) {
        println!("  {n:>6}  {k}");
    }
    for (i, p) in g.phones.iter().enumerate() {
        if !p.errors.is_empty() {
            println!(
                "phone {i}: {} connection errors, first: {}",
                p.errors.len(),
                p.errors[0]
            );
        }
    }
    if f.clean() {
        println!("check: every promise held");
    } else {
        println!("check: {} violations", f.violations.len());
        for v in f.violations.iter().take(50) {
            println!("  - {v}");
        }
        if !f.lost.is_empty() {
            println!("  lost: {:?}", &f.lost[..f.lost.len().min(50)]);
        }
        if !f.duplicated.is_empty() {
            println!(
                "  answered twice: {:?}",
                &f.duplicated[..f.duplicated.len().min(50)]
            );
        }
    }
}
