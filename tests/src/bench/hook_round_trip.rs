//! The approval round trip of `reins-bench hook`: a hook waiting for a
//! person, listed in `approvals`, decided over IPC, and its answer read
//! (see the parent module's docs for how it is timed). Split out of
//! `hook.rs` to keep files short; it shares that module's helpers.

use super::*;

/// Shuts a socket down on drop (ending its reader thread).
struct Detach(std::os::unix::net::UnixStream);

impl Drop for Detach {
    fn drop(&mut self) {
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }
}

/// Subscribe as a terminal surface, as `reins approvals --watch` does:
/// with no live surface, prompts abstain at once and are never listed. The
/// stream is drained on a thread until the returned socket is shut down.
fn terminal_surface(env: &Env) -> Res<std::os::unix::net::UnixStream> {
    let s = std::os::unix::net::UnixStream::connect(socket(env)?).map_err(|e| e.to_string())?;
    let line = serde_json::to_string(&Request::Subscribe {
        surface: reins_runtime::ipc::ClientSurface::Terminal,
    })
    .map_err(|e| e.to_string())?;
    (&s).write_all(format!("{line}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(s.try_clone().map_err(|e| e.to_string())?);
    // The snapshot comes after the surface is attached.
    let mut first = String::new();
    reader.read_line(&mut first).map_err(|e| e.to_string())?;
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    Ok(s)
}

/// Hook → listed in `approvals`, and `decide` → the hook's allow JSON / exit.
pub(super) fn round_trip(env: &Env, opts: &Opts, rows: &mut Vec<Row>) -> Res<()> {
    let surface = terminal_surface(env)?;
    let _detach = Detach(surface);
    let mut client = Client::connect(&socket(env)?).map_err(|e| e.to_string())?;
    client
        .set_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    // listed, decided, output, exited; and polls per run.
    let (mut times, mut polls): ([Vec<f64>; 4], Vec<f64>) = Default::default();
    for run in 0..WARMUP + opts.runs {
        check_interrupted()?;
        let payload = claude(
            "PermissionRequest",
            &format!("bench-rt-{run}"),
            "make deploy",
        );
        let t0 = Instant::now();
        let mut cmd = env.reins();
        cmd.args(["hook", "claude", "permission-request"]);
        let mut p = start(&mut cmd, &payload, false)?;
        let mut n = 0u32;
        let req = loop {
            n += 1;
            match client.call(&Request::Approvals) {
                Ok(Response::Approvals { mut pending }) if !pending.is_empty() => {
                    break pending.remove(0);
                }
                Ok(Response::Approvals { .. }) => {}
                other => return Err(format!("approvals answered {other:?}")),
            }
            if t0.elapsed() > LISTED_WITHIN {
                let d = finish(&mut p)?;
                return Err(format!("the request was never listed: {d:?}"));
            }
            std::thread::sleep(POLL_EVERY);
        };
        let t_listed = t0.elapsed();
        let t1 = Instant::now();
        let decide = Request::Decide {
            request_id: req.request_id,
            action_hash: req.action_hash,
            decision: Decision::Allow,
        };
        match client.call(&decide) {
            Ok(Response::Decided { .. }) => {}
            other => return Err(format!("decide answered {other:?}")),
        }
        let t_decided = t1.elapsed();
        let mut out = String::new();
        if let Some(mut s) = p.0.stdout.take() {
            s.read_to_string(&mut out).map_err(|e| e.to_string())?;
        }
        let t_output = t1.elapsed();
        let d = finish(&mut p)?;
        let t_exited = t1.elapsed();
        if d.code != Some(0) || !out.contains("\"behavior\":\"allow\"") {
            return Err(format!(
                "round trip: exit {:?}, {out:?}, {:?}",
                d.code, d.err
            ));
        }
        if run >= WARMUP {
            for (v, t) in times
                .iter_mut()
                .zip([t_listed, t_decided, t_output, t_exited])
            {
                v.push(ms(t.as_micros() as u64));
            }
            polls.push(f64::from(n));
        }
    }
    let cond = format!(
        "{} runs, one `approvals` connection polled every 0.1 ms (median {} polls)",
        opts.runs,
        super::super::stats::Summary::of(&polls).map_or(0.0, |s| s.p50)
    );
    let labels = [
        "round trip: hook spawn → listed in `approvals`",
        "round trip: `decide` sent → `decided` reply",
        "round trip: `decide` sent → hook's allow JSON read (stdout EOF)",
        "round trip: `decide` sent → hook reaped",
    ];
    for (label, v) in labels.iter().zip(&times) {
        rows.extend(Row::new(*label, &cond, "ms", v, None));
    }
    Ok(())
}
