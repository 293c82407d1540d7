//! The supervisor parsers against `/proc/<pid>/cgroup` texts as real
//! systems write them, plus garbage.

use super::*;

const DOCKER_ID: &str = "4f1c2b6a9e0d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b";

fn sup(cgroup_text: &str) -> Option<Supervisor> {
    cgroup_path(cgroup_text).and_then(from_cgroup)
}

#[test]
fn a_desktop_user_unit_is_a_user_scoped_systemd_unit() {
    let text =
        "0::/user.slice/user-1000.slice/user@1000.service/app.slice/openclaw-gateway.service\n";
    assert_eq!(
        sup(text),
        Some(Supervisor::SystemdUnit {
            unit: "openclaw-gateway.service".into(),
            scope: UnitScope::User,
            cgroup:
                "/user.slice/user-1000.slice/user@1000.service/app.slice/openclaw-gateway.service"
                    .into(),
        })
    );
}

#[test]
fn a_system_unit_is_system_scoped_and_its_own_subgroups_belong_to_it() {
    let text = "0::/system.slice/agent-runner.service/payload\n";
    assert_eq!(
        sup(text),
        Some(Supervisor::SystemdUnit {
            unit: "agent-runner.service".into(),
            scope: UnitScope::System,
            cgroup: "/system.slice/agent-runner.service".into(),
        })
    );
}

#[test]
fn a_terminal_or_login_scope_is_not_a_supervisor() {
    for text in [
        "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/vte-spawn-1f2e.scope\n",
        "0::/user.slice/user-1000.slice/session-2.scope\n",
        "0::/user.slice/user-1000.slice/user@1000.service/init.scope\n",
        "0::/user.slice/user-1000.slice/user@1000.service\n",
        "0::/\n",
    ] {
        assert_eq!(sup(text), None, "{text}");
    }
}

#[test]
fn docker_and_podman_containers_are_found_by_both_cgroup_drivers() {
    let systemd_driver = format!("0::/system.slice/docker-{DOCKER_ID}.scope\n");
    let cgroupfs_driver = format!("0::/docker/{DOCKER_ID}\n");
    for text in [systemd_driver, cgroupfs_driver] {
        match sup(&text) {
            Some(Supervisor::Container { engine, id, .. }) => {
                assert_eq!((engine.as_str(), id.as_str()), ("docker", DOCKER_ID))
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    let podman = format!(
        "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{DOCKER_ID}.scope/container\n"
    );
    assert_eq!(
        sup(&podman),
        Some(Supervisor::Container {
            engine: "podman".into(),
            id: DOCKER_ID.into(),
            cgroup: format!(
                "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{DOCKER_ID}.scope"
            ),
        })
    );
    let kube =
        format!("0::/kubepods/burstable/pod1a2b3c4d-0000-1111-2222-333344445555/{DOCKER_ID}\n");
    assert!(
        matches!(sup(&kube), Some(Supervisor::Container { engine, .. }) if engine == "kubernetes")
    );
    let lxc = "0::/lxc.payload.builder/system.slice/agent.service\n";
    assert!(
        matches!(sup(lxc), Some(Supervisor::Container { engine, id, .. }) if engine == "lxc" && id == "builder")
    );
}

#[test]
fn look_alike_container_names_are_not_containers() {
    // Not a 64-hex id: a unit someone named docker-something.
    let text = "0::/system.slice/docker-cleanup.scope\n";
    assert_eq!(sup(text), None);
    let text = "0::/system.slice/docker.service\n";
    assert!(
        matches!(sup(text), Some(Supervisor::SystemdUnit { unit, .. }) if unit == "docker.service")
    );
}

#[test]
fn a_hybrid_system_falls_back_to_systemds_v1_hierarchy() {
    let text = "12:pids:/user.slice/user-1000.slice\n\
                1:name=systemd:/user.slice/user-1000.slice/user@1000.service/app.slice/openclaw-gateway.service\n\
                0::/\n";
    assert_eq!(
        cgroup_path(text),
        Some("/user.slice/user-1000.slice/user@1000.service/app.slice/openclaw-gateway.service")
    );
    assert!(matches!(
        sup(text),
        Some(Supervisor::SystemdUnit {
            scope: UnitScope::User,
            ..
        })
    ));
    // A v2 line that says something wins over the v1 one.
    let both = "1:name=systemd:/a.service\n0::/system.slice/b.service\n";
    assert_eq!(cgroup_path(both), Some("/system.slice/b.service"));
}

#[test]
fn garbage_cgroup_texts_name_no_supervisor() {
    for text in [
        "",
        "\n\n",
        "garbage",
        "0::relative/path.service",
        "x:y",
        "0::/.service\n",
        "0::/user.slice/user@abc.service/app.slice/x.scope\n",
    ] {
        assert_eq!(sup(text), None, "{text:?}");
    }
}

#[test]
fn pm2s_god_daemon_is_recognised_by_its_title_only() {
    assert!(is_pm2_god_daemon("PM2 v5.3.0: God Daemon (/home/me/.pm2)"));
    assert!(is_pm2_god_daemon("PM2 v6.0.8: God Daemon (/root/.pm2) "));
    for not in [
        "node /usr/lib/node_modules/pm2/bin/pm2 start app.js",
        "PM2 vX: God Daemon",
        "bash -c echo PM2 v5.3.0: God Daemon",
        "",
    ] {
        assert!(!is_pm2_god_daemon(not), "{not}");
    }
}

#[test]
fn a_stat_line_gives_the_parent_even_with_parentheses_in_comm() {
    assert_eq!(
        parse_stat_parent("4242 (we (ird) x) S 17 4242 4242 0 -1"),
        Some((17, "we (ird) x".into()))
    );
    assert_eq!(parse_stat_parent("garbage"), None);
}

#[test]
fn this_test_process_is_supervised_by_its_parent_or_a_unit() {
    let me = std::process::id();
    let s = supervisor_of(me).expect("a running process has a supervisor");
    match s {
        Supervisor::Parent { pid, .. } => {
            assert_eq!(
                Some(pid),
                parse_stat_parent(&fs::read_to_string("/proc/self/stat").unwrap()).map(|p| p.0)
            )
        }
        Supervisor::SystemdUnit { .. } | Supervisor::Container { .. } | Supervisor::Pm2 { .. } => {}
    }
}

#[test]
fn an_agent_started_by_another_process_inside_a_service_is_not_run_by_that_service() {
    let unit = Supervisor::SystemdUnit {
        unit: "tmux.service".into(),
        scope: UnitScope::User,
        cgroup: "/user.slice/user-1000.slice/user@1000.service/app.slice/tmux.service".into(),
    };
    // Its parent (a shell in tmux) is in the same unit: not the unit's main process.
    assert!(started_inside(
        &unit,
        Some("/user.slice/user-1000.slice/user@1000.service/app.slice/tmux.service")
    ));
    assert!(started_inside(
        &unit,
        Some("/user.slice/user-1000.slice/user@1000.service/app.slice/tmux.service/pane-3")
    ));
    // Started by the user manager (its own cgroup is init.scope): run by the unit.
    assert!(!started_inside(
        &unit,
        Some("/user.slice/user-1000.slice/user@1000.service/init.scope")
    ));
    assert!(!started_inside(&unit, None));
    assert!(!within("/a.service2", "/a.service"));
}
