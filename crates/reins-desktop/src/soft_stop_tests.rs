use super::*;
use crate::core::DesktopOptions;
use crate::testkit::paths;
use reins_openclaw::AbortOutcome;
use reins_runtime::daemon_openclaw::AbortedRun;
use tokio_util::sync::CancellationToken;

fn run(key: &str, outcome: Result<(bool, &str), &str>) -> AbortedRun {
    AbortedRun {
        session_key: key.into(),
        outcome: outcome
            .map(|(aborted, status)| AbortOutcome {
                aborted,
                run_id: aborted.then(|| "run-1".into()),
                status: status.into(),
            })
            .map_err(str::to_owned),
    }
}

fn outcome(runs: Vec<AbortedRun>) -> SoftStopOutcome {
    SoftStopOutcome {
        target: "openclaw-9-1".into(),
        runs,
    }
}

#[test]
fn one_aborted_run_is_named_and_the_gateway_is_said_to_stay_up() {
    let v = soft_stop_view(&outcome(vec![run(
        "agent:main:main",
        Ok((true, "aborted")),
    )]));
    assert!(v.success);
    assert_eq!(
        v.summary,
        "Aborted the run in agent:main:main; the gateway stays up."
    );
    assert_eq!(v.target, "openclaw-9-1");
    assert_eq!(
        v.runs,
        [SoftStopRunView {
            session_key: "agent:main:main".into(),
            aborted: true,
            ok: true,
            detail: "aborted the run, queued turns cleared".into(),
        }]
    );
}

#[test]
fn no_active_run_says_so_and_counts_as_success() {
    let v = soft_stop_view(&outcome(vec![]));
    assert!(v.success);
    assert_eq!(v.summary, "No run was active; nothing to abort.");
    // A run that ended between the list and the abort.
    let v = soft_stop_view(&outcome(vec![run(
        "agent:main:x",
        Ok((false, "no-active-run")),
    )]));
    assert!(v.success);
    assert_eq!(v.summary, "No run was active; nothing to abort.");
    assert_eq!(v.runs[0].detail, "no run was active");
}

#[test]
fn a_session_that_could_not_be_asked_fails_the_whole_and_points_to_the_hard_stop() {
    let v = soft_stop_view(&outcome(vec![
        run("agent:main:main", Ok((true, "aborted"))),
        run(
            "agent:ops:cron",
            Err("the gateway did not answer within 10 s"),
        ),
    ]));
    assert!(!v.success);
    assert_eq!(
        v.summary,
        "Could not abort every run: agent:ops:cron (not aborted: the gateway did not answer \
         within 10 s). Stop stops it the hard way."
    );
    assert!(v.runs[0].ok && v.runs[0].aborted);
    assert!(!v.runs[1].ok && !v.runs[1].aborted);
}

#[test]
fn several_aborted_runs_are_counted_and_listed() {
    let v = soft_stop_view(&outcome(vec![
        run("agent:a:1", Ok((true, "aborted"))),
        run("agent:b:2", Ok((true, "aborted"))),
    ]));
    assert_eq!(
        v.summary,
        "Aborted 2 runs (agent:a:1, agent:b:2); the gateway stays up."
    );
}

#[test]
fn hostile_session_keys_and_errors_from_openclaw_become_one_bounded_line() {
    let key = format!("agent:\u{202e}evil\nkey{}", "k".repeat(500));
    let v = soft_stop_view(&outcome(vec![
        run(&key, Ok((true, "aborted"))),
        run("s2", Err("bad\r\nthing\u{2066}")),
    ]));
    for text in [&v.summary, &v.runs[0].session_key, &v.runs[1].detail] {
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() || crate::tray::is_bidi_control(c)),
            "{text:?}"
        );
    }
    assert!(v.runs[0].session_key.starts_with("agent:evil key"));
    assert!(v.runs[0].session_key.chars().count() <= TEXT_CHARS);
    assert_eq!(v.runs[1].detail, "not aborted: bad thing");
}

#[test]
fn the_tray_shows_a_soft_stop_as_a_stop_result_that_says_which_stop() {
    let v = soft_stop_view(&outcome(vec![run(
        "agent:main:main",
        Ok((true, "aborted")),
    )]));
    let h = soft_stop_as_halt(Ok(v));
    assert_eq!(h.op, HaltOpView::Stop);
    assert!(h.success);
    assert_eq!(
        h.summary,
        "Stop this run (keep gateway): Aborted the run in agent:main:main; the gateway stays up."
    );
    assert_eq!(h.targets[0].target, "agent:main:main");
    let h = soft_stop_as_halt(Err(UiError::new("cannot reach OpenClaw's gateway")));
    assert!(!h.success);
    assert_eq!(
        h.summary,
        "Stop this run (keep gateway): cannot reach OpenClaw's gateway"
    );
    assert!(h.targets.is_empty());
}

#[tokio::test]
async fn a_soft_stop_of_anything_but_an_openclaw_agent_is_refused_before_anything_is_sent() {
    let t = tempfile::tempdir().unwrap();
    // No daemon listens: a request sent would fail with "not running",
    // not with these refusals.
    let opts = DesktopOptions {
        start_daemon: false,
        paths: Some(paths(t.path())),
        ..DesktopOptions::tray()
    };
    let shutdown = CancellationToken::new();
    let d = Desktop::start(opts, shutdown.clone());
    let e = d.soft_stop("claude-100-1100").await.unwrap_err();
    assert!(e.message.contains("use Stop"), "{}", e.message);
    for bad in ["all", "", "openclaw", "openclaw-x-1", "12345"] {
        let e = d.soft_stop(bad).await.unwrap_err();
        assert!(
            e.message.contains("is not an agent"),
            "{bad:?}: {}",
            e.message
        );
    }
    let e = d.soft_stop("openclaw-9-1").await.unwrap_err();
    assert!(e.message.contains("not running"), "{}", e.message);
    shutdown.cancel();
}
