//! OpenClaw in the CLI: the gateway link's line in `reins status`, and
//! `reins stop <id> --soft` (abort the agent's runs through the gateway,
//! leaving the gateway up). Output only; the daemon does the work.

use crate::Exit;
use crate::commands::Ctx;
use reins_openclaw::LinkStatus;
use reins_runtime::daemon_openclaw::SoftStopOutcome;
use reins_runtime::ipc::{Request, Response};
use reins_runtime::openclaw::OpenClawStatus;

/// One line for `reins status`.
pub fn status_line(s: &OpenClawStatus) -> String {
    let what = match (&s.link, &s.problem) {
        _ if !s.enabled => "off ([openclaw] enabled = false)".to_owned(),
        (
            Some(LinkStatus::Up {
                url,
                approver,
                pending,
                server_version,
                ..
            }),
            _,
        ) => {
            let role = if *approver {
                "Reins answers its approvals"
            } else {
                "not an approver: no surface is open, so OpenClaw's own rules apply"
            };
            let version = server_version
                .as_deref()
                .map(|v| format!(" (OpenClaw {v})"))
                .unwrap_or_default();
            format!("connected to {url}{version}; {role}; {pending} pending")
        }
        (Some(LinkStatus::Connecting { url }), _) => format!("connecting to {url}"),
        (
            Some(LinkStatus::Down {
                url,
                error,
                retry_in_ms,
            }),
            _,
        ) => format!(
            "not connected to {url}: {error} (retrying in {} s)",
            retry_in_ms.div_ceil(1000)
        ),
        (Some(LinkStatus::Refused { url, error }), _) => format!("REFUSED by {url}: {error}"),
        (None, Some(p)) => format!("no link: {p}"),
        (None, None) => "starting".to_owned(),
    };
    format!("OpenClaw gateway: {what}\n")
}

/// `reins stop <target> --soft`.
pub fn soft_stop(ctx: &Ctx, target: &str, json: bool) -> anyhow::Result<Exit> {
    let Some(mut c) = ctx.client()? else {
        eprintln!(
            "reins: the soft stop goes through the daemon's gateway link, and no daemon is running; `reins stop {target}` stops it the hard way"
        );
        return Ok(Exit::Other);
    };
    match c.call(&Request::SoftStop {
        target: target.to_owned(),
    })? {
        Response::SoftStopped(o) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&o)?);
            } else {
                print!("{}", soft_stop_lines(&o));
            }
            Ok(if o.runs.iter().all(|r| r.outcome.is_ok()) {
                Exit::Ok
            } else {
                Exit::Partial
            })
        }
        Response::Error(e) => {
            eprintln!("reins: {}", e.message);
            Ok(Exit::Other)
        }
        other => anyhow::bail!("unexpected daemon response: {other:?}"),
    }
}

fn soft_stop_lines(o: &SoftStopOutcome) -> String {
    let mut out = String::new();
    if o.runs.is_empty() {
        out.push_str(&format!(
            "{}: no run was active; nothing to abort\n",
            o.target
        ));
    }
    for r in &o.runs {
        match &r.outcome {
            Ok(a) if a.aborted => out.push_str(&format!(
                "aborted the run in session {} and cleared its queued turns\n",
                r.session_key
            )),
            Ok(a) => out.push_str(&format!("session {}: {}\n", r.session_key, a.status)),
            Err(e) => out.push_str(&format!("session {}: NOT aborted: {e}\n", r.session_key)),
        }
    }
    out.push_str(
        "The gateway and its chat channels stay up. OpenClaw was asked to stop, not made to: `reins stop` freezes and kills it.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_link_says_so_in_capitals() {
        let s = OpenClawStatus {
            enabled: true,
            problem: None,
            link: Some(LinkStatus::Refused {
                url: "ws://127.0.0.1:18789".into(),
                error: "unauthorized: gateway token mismatch".into(),
            }),
        };
        assert_eq!(
            status_line(&s),
            "OpenClaw gateway: REFUSED by ws://127.0.0.1:18789: unauthorized: gateway token mismatch\n"
        );
    }

    #[test]
    fn an_up_link_without_a_surface_says_openclaw_decides() {
        let s = OpenClawStatus {
            enabled: true,
            problem: None,
            link: Some(LinkStatus::Up {
                url: "ws://127.0.0.1:18789".into(),
                protocol: 4,
                server_version: Some("2026.9.6".into()),
                approver: false,
                pending: 0,
            }),
        };
        let line = status_line(&s);
        assert!(line.contains("OpenClaw 2026.9.6"), "{line}");
        assert!(line.contains("OpenClaw's own rules apply"), "{line}");
    }
}
