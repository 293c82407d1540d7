//! OpenClaw's gateway approvals end to end: a real `reins daemon` finds a
//! gateway from `~/.openclaw/openclaw.json`, joins it as an operator and
//! shows its approvals; a person's answer from the terminal or a paired
//! phone reaches the gateway. The gateway is the fake written from
//! OpenClaw's documented protocol (`reins_openclaw::fake`, checked against
//! OpenClaw 2026.9.6), on a real socket: a real gateway needs Node.js 24
//! and a model to raise exec approvals, which CI does not have.

mod common;
#[path = "common/phone.rs"]
mod phone;

use common::*;
use phone::{agent_id, approval_request, pair, private_env, rt, wait_pending};
use reins_openclaw::fake::{ExecRequest, FakeGateway, FakeOptions, PluginRequest};
use reins_proto::Payload;
use reins_proto::payload as p;
use std::process::Stdio;

const TOKEN: &str = "e2e-token-5b1f0c";

/// OpenClaw's config in the env's home, the way `openclaw onboard` leaves
/// it (JSON5, with a comment).
fn openclaw_config(env: &Env, port: u16, token: &str) {
    write(
        &env.path("home/.openclaw/openclaw.json"),
        &format!(
            "// written by the test\n{{\n  gateway: {{ port: {port}, auth: {{ mode: \"token\", token: \"{token}\" }} }},\n}}\n"
        ),
    );
}

fn gateway(rt: &tokio::runtime::Runtime) -> FakeGateway {
    rt.block_on(FakeGateway::start(FakeOptions {
        token: TOKEN.into(),
        ..FakeOptions::default()
    }))
    .unwrap()
}

fn exec(command: &str) -> ExecRequest {
    ExecRequest {
        command: command.into(),
        argv: Some(vec!["sh".into(), "-c".into(), command.into()]),
        cwd: "/home/me/.openclaw/workspace".into(),
        agent_id: "main".into(),
        session_key: "agent:main:main".into(),
        ..ExecRequest::default()
    }
}

/// Wait until Reins is connected as an approver.
fn approver_connected(rt: &tokio::runtime::Runtime, g: &FakeGateway) {
    rt.block_on(g.wait_until(|g| g.clients().into_iter().find(|c| c.approver)));
}

fn openclaw_status(env: &Env) -> serde_json::Value {
    let o = env.run(&["status", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["openclaw"].clone()
}

#[test]
fn an_exec_approval_from_the_gateway_is_shown_in_full_and_a_terminal_allow_goes_back() {
    let rt = rt();
    let g = gateway(&rt);
    let env = Env::new();
    openclaw_config(&env, g.port(), TOKEN);
    let _daemon = env.daemon();
    let _terminal = Watcher::start(&env);
    approver_connected(&rt, &g);

    let long = format!(
        "gog gmail trash --query 'in:inbox' --all {}",
        "--label x ".repeat(40)
    );
    let oc_id = g.request_exec(exec(&long));
    let listed = pending(&env, 1);
    let r = &listed[0];
    assert_eq!(
        r["command"],
        long.as_str(),
        "the full command, not a preview"
    );
    assert_eq!(r["kind"], "openclaw");
    assert_eq!(r["session_id"], "agent:main:main");
    assert_eq!(r["cwd"], "/home/me/.openclaw/workspace");
    assert_eq!(r["gateway"]["id"], oc_id.as_str());
    let text = stdout(&env.run(&["approvals"]));
    assert!(
        text.contains("agent main") && text.contains("argv:"),
        "{text}"
    );

    let o = env.run(&["approve", &id(r)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = rt.block_on(g.wait_for_decision(&oc_id));
    assert_eq!(
        (d.decision.as_str(), d.applied),
        ("allow-once", true),
        "{d:?}"
    );
    assert_eq!(d.client, "Reins");
    let log = audit_log_when(&env, |l| l.contains("openclaw_relay"));
    assert!(log.contains("\"action\":\"openclaw_relay\""), "{log}");
    pending(&env, 0);
}

#[test]
fn allow_for_session_is_refused_for_openclaw_and_nothing_reaches_the_gateway() {
    let rt = rt();
    let g = gateway(&rt);
    let env = Env::new();
    openclaw_config(&env, g.port(), TOKEN);
    let _daemon = env.daemon();
    let _terminal = Watcher::start(&env);
    approver_connected(&rt, &g);
    let oc_id = g.request_exec(exec("rm -rf ~/Mail"));
    let r = &pending(&env, 1)[0];
    let o = env.run(&["approve", "--session", &id(r)]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("allow-always is set in OpenClaw"),
        "{}",
        stderr(&o)
    );
    assert!(g.decisions().is_empty());
    let o = env.run(&["deny", &id(r)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(rt.block_on(g.wait_for_decision(&oc_id)).decision, "deny");
}

#[test]
fn a_paired_phone_sees_the_approval_and_its_deny_reaches_the_gateway() {
    let rt = rt();
    let g = gateway(&rt);
    let env = private_env(&format!("ocph{}", std::process::id()), "");
    openclaw_config(&env, g.port(), TOKEN);
    let _daemon = env.daemon();
    let (mut phone, _device) = pair(&env, &rt, "Pixel");
    let online = Payload::Presence(p::Presence { online: true });
    rt.block_on(async { phone.send(&online) }).unwrap();
    approver_connected(&rt, &g);

    let oc_id = g.request_plugin(PluginRequest {
        title: "Reins: message".into(),
        description: "send \"I deleted your inbox\" to +15551234".into(),
        severity: "critical".into(),
        tool_name: "message".into(),
        plugin_id: "reins".into(),
        agent_id: "main".into(),
        session_key: "agent:main:telegram".into(),
    });
    let r = approval_request(&rt, &mut phone);
    assert!(r.action.contains("I deleted your inbox"), "{}", r.action);
    assert_eq!(r.tool, "message");
    assert_eq!(r.session_id.as_deref(), Some("agent:main:telegram"));
    assert_eq!(r.allow_session, Some(false), "no allow-for-session button");
    assert_eq!(r.risk, Some(p::Risk::High));
    let deny = Payload::ApprovalDecision(p::ApprovalDecision {
        request_id: r.request_id,
        action_hash: r.action_hash,
        decision: p::Decision::Deny,
        scope: None,
    });
    rt.block_on(async { phone.send(&deny) }).unwrap();
    let d = rt.block_on(g.wait_for_decision(&oc_id));
    assert_eq!(d.decision, "deny", "{d:?}");
    wait_pending(&env, 0);
}

#[test]
fn a_decision_made_in_another_openclaw_client_clears_it_everywhere() {
    let rt = rt();
    let g = gateway(&rt);
    let env = Env::new();
    openclaw_config(&env, g.port(), TOKEN);
    let _daemon = env.daemon();
    let _terminal = Watcher::start(&env);
    approver_connected(&rt, &g);
    let oc_id = g.request_exec(exec("gog gmail send --to boss@example.com"));
    let r = pending(&env, 1)[0].clone();
    assert!(g.resolve_as_other_client(&oc_id, "deny").unwrap());
    pending(&env, 0);
    // A late answer from Reins changes nothing and says so.
    let o = env.run(&["approve", &id(&r)]);
    assert!(!o.status.success());
    let log = audit_log_when(&env, |l| l.contains("answered_elsewhere"));
    assert!(log.contains("answered_elsewhere"), "{log}");
    assert_eq!(g.decisions().len(), 1, "only the other client's");
}

#[test]
fn after_the_gateway_drops_the_link_reins_reconnects_and_shows_what_is_still_pending() {
    let rt = rt();
    let g = gateway(&rt);
    let env = Env::new();
    openclaw_config(&env, g.port(), TOKEN);
    let _daemon = env.daemon();
    let _terminal = Watcher::start(&env);
    approver_connected(&rt, &g);
    let first = g.request_exec(exec("git push --force"));
    let before = pending(&env, 1)[0].clone();
    g.drop_connections();
    // Back: the same OpenClaw approval, under a new Reins request.
    let after = loop {
        let now = pending(&env, 1)[0].clone();
        if now["request_id"] != before["request_id"] {
            break now;
        }
    };
    assert_eq!(after["gateway"]["id"], first.as_str());
    assert_eq!(openclaw_status(&env)["link"]["state"], "up");
    let o = env.run(&["approve", &id(&after)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        rt.block_on(g.wait_for_decision(&first)).decision,
        "allow-once"
    );
}

#[test]
fn a_wrong_token_is_refused_with_openclaws_message_in_reins_status() {
    let rt = rt();
    let g = gateway(&rt);
    let env = Env::new();
    openclaw_config(&env, g.port(), "not-the-token");
    let _daemon = env.daemon();
    rt.block_on(g.wait_for_refusals(1));
    let status = loop {
        let s = openclaw_status(&env);
        if s["link"]["state"] == "refused" {
            break s;
        }
    };
    let error = status["link"]["error"].as_str().unwrap();
    assert!(error.contains("token mismatch"), "{error}");
    let text = stdout(&env.run(&["status"]));
    assert!(text.contains("OpenClaw gateway: REFUSED"), "{text}");
    assert!(g.clients().is_empty());
}

#[test]
fn with_no_surface_open_reins_is_not_an_approver_and_openclaw_decides() {
    let rt = rt();
    let g = gateway(&rt);
    let env = Env::new();
    openclaw_config(&env, g.port(), TOKEN);
    let _daemon = env.daemon();
    let c = rt.block_on(g.wait_for_clients(1));
    assert!(!c[0].approver, "{c:?}");
    let text = loop {
        let t = stdout(&env.run(&["status"]));
        if t.contains("OpenClaw gateway: connected") {
            break t;
        }
    };
    assert!(text.contains("OpenClaw's own rules apply"), "{text}");
    // A surface appears: Reins becomes an approver.
    let _terminal = Watcher::start(&env);
    approver_connected(&rt, &g);
}

#[test]
fn a_soft_stop_aborts_the_openclaw_run_and_leaves_the_gateway_running() {
    let rt = rt();
    let g = gateway(&rt);
    let name = format!("ocgw{}", std::process::id());
    let env = Env::new();
    write(
        &env.path("config/reins/config.toml"),
        &format!(
            "[scan]\nbuiltin_signatures = false\n[[signatures]]\nkind = \"openclaw\"\nexe_names = [\"{name}\"]\n"
        ),
    );
    openclaw_config(&env, g.port(), TOKEN);
    let _daemon = env.daemon();
    let mut gw = env.spawn_agent(&format!("bin/{name}"), &[]);
    let agent = agent_id(&env, gw.pid());
    rt.block_on(g.wait_for_clients(1));
    g.set_session("agent:main:main", true);
    g.set_session("agent:main:idle", false);
    let o = env
        .reins()
        .args(["stop", &agent, "--soft"])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("aborted the run in session agent:main:main"),
        "{text}"
    );
    assert_eq!(g.aborts(), vec![("agent:main:main".to_owned(), true)]);
    assert!(!gw.reaped(), "the gateway process is still running");
    gw.terminate();
}
