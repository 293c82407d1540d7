//! Seal/open throughput of `reins_proto::PairChannel`, the envelope every
//! phone-link message goes through.
//!
//! One thread seals [`CRYPTO_MSGS`] desktop→phone `agent_snapshot`s (JSON
//! encode, XChaCha20-Poly1305, base64 wire), then opens them all (parse,
//! replay window, decrypt, JSON decode), for a small (~200 B) and a large
//! (~4 KiB) body. Each call is timed on its own; throughput is messages
//! over the loop's wall time.
//!
//! Deliberately not measured here: pairing and key agreement (the key is
//! fixed), any broker, socket or MQTT framing, the device store's saved
//! sequence numbers and replay windows (both are in memory), and more than
//! one thread. The transport and stop measures include all of those.

use crate::bench::Res;
use crate::bench::procs::check_interrupted;
use crate::bench::stats::Row;
use reins_link::now_ms;
use reins_proto::payload as p;
use reins_proto::{OutgoingSeq, PairChannel, PairKey, Payload, ReplayWindow, Role};
use std::time::Instant;

/// Messages sealed (then opened) per payload size.
const CRYPTO_MSGS: usize = 10_000;

/// A desktop→phone snapshot whose JSON body is at least `bytes` long.
fn snapshot_of(bytes: usize) -> Payload {
    let mut agents = Vec::new();
    loop {
        let payload = Payload::AgentSnapshot(p::AgentSnapshot {
            agents: agents.clone(),
        });
        if payload.to_json().len() >= bytes {
            return payload;
        }
        let i = agents.len() as u32;
        agents.push(p::AgentSummary {
            id: format!("claude-{}-{}", 40_000 + i, 1_234_567 + i),
            kind: "claude".into(),
            display_name: "Claude Code".into(),
            pid: 40_000 + i,
            project: Some("reins".into()),
            cwd: Some("/home/dev/src/reins".into()),
            started_at: 1_750_000_000,
            cpu_percent: 1.5,
            memory_bytes: 200 << 20,
            descendants: 3,
            state: p::AgentStatus::Running,
        });
    }
}

/// Seal then open [`CRYPTO_MSGS`] messages per body size; two rows each.
pub(super) fn run(rows: &mut Vec<Row>) -> Res<()> {
    let key = PairKey::from_bytes([7; 32]);
    let desk = PairChannel::paired(Role::Desktop, &key, "").map_err(|e| format!("{e:?}"))?;
    let phone = PairChannel::paired(Role::Phone, &key, "").map_err(|e| format!("{e:?}"))?;
    for target in [200, 4096] {
        check_interrupted()?;
        let payload = snapshot_of(target);
        let plain = payload.to_json().len();
        let (mut seq, now) = (OutgoingSeq::new(), now_ms());
        let (mut seal_us, mut sealed) = (Vec::new(), Vec::with_capacity(CRYPTO_MSGS));
        let start = Instant::now();
        for _ in 0..CRYPTO_MSGS {
            let t = Instant::now();
            let out = desk
                .seal(&mut seq, &payload, now, &mut rand::rngs::OsRng)
                .map_err(|e| format!("seal: {e}"))?;
            seal_us.push(t.elapsed().as_nanos() as f64 / 1000.0);
            sealed.push(out);
        }
        let seal_wall = start.elapsed();
        let wire = sealed[0].bytes.len();
        let (mut replay, mut open_us) = (ReplayWindow::new(), Vec::new());
        let start = Instant::now();
        for out in &sealed {
            let t = Instant::now();
            phone
                .open(&out.topic, &out.bytes, &mut replay, now)
                .map_err(|e| format!("open: {e}"))?;
            open_us.push(t.elapsed().as_nanos() as f64 / 1000.0);
        }
        let open_wall = start.elapsed();
        for (what, samples, wall) in [("seal", seal_us, seal_wall), ("open", open_us, open_wall)] {
            let per_s = CRYPTO_MSGS as f64 / wall.as_secs_f64();
            let cond = format!(
                "{plain} B body ({wire} B on the wire), one thread: {per_s:.0} msg/s, \
                 {:.1} MB/s of body, {:.1} MB/s of wire",
                per_s * plain as f64 / 1e6,
                per_s * wire as f64 / 1e6
            );
            rows.extend(Row::new(
                format!("phone: PairChannel::{what}, per message"),
                cond,
                "µs",
                &samples,
                None,
            ));
        }
    }
    Ok(())
}
