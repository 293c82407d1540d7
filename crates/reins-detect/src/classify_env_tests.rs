//! Environment markers: the builtin OpenClaw markers and user `env` signatures.

use super::*;
use crate::signature::SignatureSpec;

const GATEWAY_ENV: &[u8] =
    b"HOME=/home/u\0OPENCLAW_SERVICE_KIND=gateway\0OPENCLAW_SYSTEMD_UNIT=openclaw-gateway.service\0";

fn node(script: &'static [&'static str]) -> ProcView<'static> {
    ProcView {
        exe: "/usr/bin/node",
        argv: script,
        comm: "node",
    }
}

#[test]
fn a_node_process_with_the_gateway_markers_is_openclaw_whatever_its_command_line() {
    let table = SignatureTable::builtin();
    let view = node(&["node", "/srv/x/server.js"]);
    assert_eq!(
        table.classify(&view),
        None,
        "the command line alone says nothing"
    );
    let class = table.classify_with_env(&view, || Some(GATEWAY_ENV.to_vec()));
    let Some(Class::Agent(i)) = class else {
        panic!("{class:?}")
    };
    assert_eq!(table.signatures()[i].kind(), &AgentKind::OpenClaw);
}

#[test]
fn a_marker_with_the_wrong_value_or_only_one_marker_is_not_enough() {
    let table = SignatureTable::builtin();
    let view = node(&["node", "/srv/x/server.js"]);
    for env in [
        &b"OPENCLAW_SERVICE_KIND=node\0OPENCLAW_SYSTEMD_UNIT=x.service\0"[..],
        b"OPENCLAW_SERVICE_KIND=gateway\0",
        b"OPENCLAW_SYSTEMD_UNIT=x.service\0",
        b"OPENCLAW_SERVICE_KIND=gateway2\0OPENCLAW_SYSTEMD_UNIT=x\0",
        b"XOPENCLAW_SERVICE_KIND=gateway\0OPENCLAW_SYSTEMD_UNITX=x\0",
        b"",
    ] {
        assert_eq!(
            table.classify_with_env(&view, || Some(env.to_vec())),
            None,
            "{:?}",
            String::from_utf8_lossy(env)
        );
    }
}

#[test]
fn the_environment_is_read_only_for_programs_a_marker_signature_names() {
    let table = SignatureTable::builtin();
    let shell = ProcView {
        exe: "/bin/sh",
        argv: &["sh", "-c", "echo openclaw-gateway"],
        comm: "sh",
    };
    let mut read = false;
    let class = table.classify_with_env(&shell, || {
        read = true;
        Some(GATEWAY_ENV.to_vec())
    });
    assert_eq!(class, None, "a shell that mentions the title is no agent");
    assert!(!read, "a shell's environment is never read");
    // An agent already found by its command line costs no environment read.
    let renamed = ProcView {
        exe: "/usr/bin/node",
        argv: &["openclaw-gateway"],
        comm: "openclaw-gatewa",
    };
    let class = table.classify_with_env(&renamed, || panic!("not needed"));
    assert!(matches!(class, Some(Class::Agent(_))));
}

#[test]
fn an_unreadable_environment_means_no_match() {
    let table = SignatureTable::builtin();
    let view = node(&["node", "/srv/x/server.js"]);
    assert_eq!(table.classify_with_env(&view, || None), None);
}

#[test]
fn a_user_signature_can_require_a_variable_to_be_set_or_to_hold_a_value() {
    let spec = SignatureSpec {
        kind: "svc".into(),
        env: vec!["SVC_ROLE=worker".into(), "SVC_HOME".into()],
        env_programs: vec!["python3".into()],
        ..Default::default()
    };
    let table = SignatureTable::with_user(&[spec]).unwrap();
    let view = ProcView {
        exe: "/usr/bin/python3",
        argv: &["python3", "run.py"],
        comm: "python3",
    };
    let hit = table.classify_env(&view, b"SVC_HOME=\0SVC_ROLE=worker\0");
    assert_eq!(hit, Some(Class::Agent(0)));
    assert_eq!(table.classify_env(&view, b"SVC_ROLE=worker\0"), None);
    let other = node(&["node", "x.js"]);
    assert_eq!(
        table.classify_env(&other, b"SVC_HOME=1\0SVC_ROLE=worker\0"),
        None,
        "only the programs named in env_programs"
    );
}

#[test]
fn a_broken_env_entry_in_the_config_is_a_clear_error() {
    for (env, programs, needle) in [
        (vec!["1BAD=x"], vec!["node"], "env marker '1BAD=x'"),
        (vec!["=x"], vec!["node"], "NAME or NAME=value"),
        (vec!["A B"], vec!["node"], "env marker"),
        (vec!["OK"], vec![], "env_programs"),
        (vec![], vec!["node"], "env_programs"),
        (vec!["OK"], vec!["bin/node"], "bare file name"),
    ] {
        let spec = SignatureSpec {
            kind: "svc".into(),
            exe_names: vec!["svc".into()],
            env: env.iter().map(|s| s.to_string()).collect(),
            env_programs: programs.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        let err = SignatureTable::with_user(&[spec]).unwrap_err().to_string();
        assert!(err.contains(needle), "{env:?} {programs:?}: {err}");
    }
}
