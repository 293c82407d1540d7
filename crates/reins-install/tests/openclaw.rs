//! `reins install/uninstall openclaw` on a temp home: the plugin's files,
//! the edits to `openclaw.json`, and what `reins doctor` reports.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::now;
use reins_install::openclaw::{self, OpenClawPaths};
use reins_install::{InstallError, Op};
use serde_json::{Value, json};

struct Oc {
    _dir: tempfile::TempDir,
    paths: OpenClawPaths,
    exe: PathBuf,
}

impl Oc {
    /// A home with `~/.openclaw/openclaw.json` holding `config` (None: no file,
    /// but the state dir exists), and an executable fake `reins`.
    fn new(config: Option<&str>) -> Oc {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        let paths = OpenClawPaths::resolve(&home, None, None);
        fs::create_dir_all(&paths.state_dir).unwrap();
        if let Some(c) = config {
            fs::write(&paths.config, c).unwrap();
        }
        let exe = dir.path().join("bin/reins");
        fs::create_dir_all(exe.parent().unwrap()).unwrap();
        fs::write(&exe, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        Oc {
            _dir: dir,
            paths,
            exe,
        }
    }

    fn plan(&self, op: Op) -> reins_install::Plan {
        openclaw::plan(&self.paths, &self.exe, op).unwrap()
    }

    fn run(&self, op: Op) -> reins_install::Plan {
        let p = self.plan(op);
        p.apply(now()).unwrap();
        p
    }

    fn config_text(&self) -> String {
        fs::read_to_string(&self.paths.config).unwrap()
    }

    fn config(&self) -> Value {
        serde_json::from_str(&self.config_text()).unwrap()
    }
}

fn repo_file(name: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../integrations/openclaw");
    fs::read_to_string(root.join(name)).unwrap()
}

const ORIGINAL: &str = r#"{
  "gateway": {
    "port": 18789,
    "auth": {
      "mode": "token"
    }
  },
  "tools": {
    "exec": {
      "mode": "full",
      "timeoutSeconds": 600
    }
  }
}
"#;

#[test]
fn install_writes_the_plugin_enables_it_and_makes_exec_ask_for_every_command() {
    let oc = Oc::new(Some(ORIGINAL));
    let p = oc.run(Op::Install);
    assert!(p.conflicts.is_empty(), "{:?}", p.conflicts);
    assert!(
        p.notices
            .iter()
            .any(|n| n.contains("openclaw exec-policy set --ask-fallback deny"))
    );
    let dir = oc.paths.plugin_dir();
    for name in [
        "index.js",
        "openclaw.plugin.json",
        "package.json",
        "README.md",
    ] {
        assert_eq!(
            fs::read_to_string(dir.join(name)).unwrap(),
            repo_file(name),
            "{name}"
        );
    }
    let c = oc.config();
    let entry = &c["plugins"]["entries"]["reins"];
    assert_eq!(entry["enabled"], true);
    assert_eq!(entry["config"]["reinsPath"], oc.exe.to_str().unwrap());
    assert_eq!(entry["config"]["deferExecToApprovals"], true);
    assert_eq!(
        c["plugins"]["load"]["paths"],
        json!([dir.to_str().unwrap()])
    );
    assert_eq!(
        c["tools"]["exec"],
        json!({"timeoutSeconds": 600, "security": "allowlist", "ask": "always"})
    );
    assert_eq!(c["gateway"]["port"], 18789);
}

#[test]
fn installing_twice_plans_nothing_the_second_time() {
    let oc = Oc::new(Some(ORIGINAL));
    oc.run(Op::Install);
    let again = oc.plan(Op::Install);
    assert!(again.is_noop(), "{}", again.diff());
}

#[test]
fn uninstall_restores_the_config_byte_for_byte_and_removes_the_plugin() {
    let oc = Oc::new(Some(ORIGINAL));
    oc.run(Op::Install);
    oc.run(Op::Install);
    let p = oc.run(Op::Uninstall);
    assert_eq!(oc.config_text(), ORIGINAL);
    assert!(!oc.paths.plugin_dir().exists(), "{:?}", p.changes);
    assert!(oc.plan(Op::Uninstall).is_noop());
}

#[test]
fn a_config_without_exec_settings_gets_them_removed_again_on_uninstall() {
    let original = "{\n  \"agents\": {}\n}\n";
    let oc = Oc::new(Some(original));
    oc.run(Op::Install);
    assert_eq!(oc.config()["tools"]["exec"]["ask"], "always");
    oc.run(Op::Uninstall);
    assert_eq!(oc.config_text(), original);
}

#[test]
fn install_with_a_new_reins_path_only_updates_the_config() {
    let oc = Oc::new(Some(ORIGINAL));
    oc.run(Op::Install);
    let other = oc.exe.with_file_name("reins2");
    let p = openclaw::plan(&oc.paths, &other, Op::Install).unwrap();
    assert_eq!(p.paths().collect::<Vec<_>>(), [oc.paths.config.as_path()]);
    p.apply(now()).unwrap();
    assert_eq!(
        oc.config()["plugins"]["entries"]["reins"]["config"]["reinsPath"],
        other.to_str().unwrap()
    );
    // The original exec settings are still what uninstall puts back.
    oc.run(Op::Uninstall);
    assert_eq!(oc.config_text(), ORIGINAL);
}

#[test]
fn a_malformed_config_is_an_error_naming_the_file_and_nothing_is_written() {
    let oc = Oc::new(Some("{\n  \"tools\": {\n    exec: [1,,]\n}\n"));
    let err = openclaw::plan(&oc.paths, &oc.exe, Op::Install).unwrap_err();
    assert!(
        matches!(
            err,
            InstallError::Malformed {
                format: "JSON5",
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("openclaw.json:3:"), "{msg}");
    assert!(msg.contains("Nothing was changed"), "{msg}");
    assert!(!oc.paths.plugin_dir().exists());
}

#[test]
fn a_json5_config_is_rewritten_as_plain_json_and_the_plan_says_what_is_lost() {
    let json5 = "// OpenClaw config\n{\n  gateway: { port: 18789, }, /* the bind */\n  tools: { exec: { mode: 'ask' } },\n  note: 'a // not a comment',\n}\n";
    let oc = Oc::new(Some(json5));
    let p = oc.plan(Op::Install);
    let notice = p
        .notices
        .iter()
        .find(|n| n.contains("JSON5"))
        .expect("a JSON5 notice");
    assert!(notice.contains("2 comments are lost"), "{notice}");
    p.apply(now()).unwrap();
    let c = oc.config();
    assert_eq!(c["gateway"]["port"], 18789);
    assert_eq!(c["note"], "a // not a comment");
    assert_eq!(c["tools"]["exec"].get("mode"), None);
    // A backup keeps the original text.
    let backup = fs::read_dir(&oc.paths.state_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains(".reins-backup-"))
        .unwrap();
    assert_eq!(fs::read_to_string(backup).unwrap(), json5);
    oc.run(Op::Uninstall);
    assert_eq!(oc.config()["tools"]["exec"]["mode"], "ask");
}

#[test]
fn an_exec_policy_that_denies_is_kept() {
    let oc = Oc::new(Some(r#"{"tools":{"exec":{"mode":"deny"}}}"#));
    let p = oc.run(Op::Install);
    assert!(p.notices.iter().any(|n| n.contains("denies exec entirely")));
    assert_eq!(oc.config()["tools"]["exec"], json!({"mode": "deny"}));
}

#[test]
fn an_allowlist_gets_reins_and_loses_it_again_and_a_global_off_switch_is_a_conflict() {
    let original = "{\n  \"plugins\": {\n    \"enabled\": false,\n    \"allow\": [\n      \"voice-call\"\n    ]\n  }\n}\n";
    let oc = Oc::new(Some(original));
    let p = oc.run(Op::Install);
    assert!(
        p.conflicts
            .iter()
            .any(|c| c.contains("plugins.enabled = false")),
        "{:?}",
        p.conflicts
    );
    assert_eq!(
        oc.config()["plugins"]["allow"],
        json!(["voice-call", "reins"])
    );
    oc.run(Op::Uninstall);
    assert_eq!(oc.config_text(), original);
}

#[test]
fn an_exec_setting_changed_after_install_is_left_alone_on_uninstall() {
    let oc = Oc::new(Some(ORIGINAL));
    oc.run(Op::Install);
    let mut c = oc.config();
    c["tools"]["exec"]["ask"] = json!("on-miss");
    fs::write(&oc.paths.config, serde_json::to_string_pretty(&c).unwrap()).unwrap();
    let p = oc.run(Op::Uninstall);
    assert!(
        p.notices
            .iter()
            .any(|n| n.contains("tools.exec.ask") && n.contains("left as it is"))
    );
    let c = oc.config();
    assert_eq!(c["tools"]["exec"]["ask"], "on-miss");
    assert_eq!(c["tools"]["exec"]["mode"], "full");
}

#[test]
fn without_openclaw_install_refuses_and_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let paths = OpenClawPaths::resolve(&dir.path().join("home"), None, None);
    let err = openclaw::plan(&paths, Path::new("/usr/bin/reins"), Op::Install).unwrap_err();
    assert!(err.to_string().contains(".openclaw"), "{err}");
}

#[test]
fn the_environment_overrides_the_state_dir_and_the_config_path() {
    let home = Path::new("/home/u");
    let p = OpenClawPaths::resolve(home, None, None);
    assert_eq!(p.config, Path::new("/home/u/.openclaw/openclaw.json"));
    let p = OpenClawPaths::resolve(home, Some(Path::new("/srv/oc")), None);
    assert_eq!(p.config, Path::new("/srv/oc/openclaw.json"));
    assert_eq!(p.plugin_dir(), Path::new("/srv/oc/extensions/reins"));
    let p = OpenClawPaths::resolve(home, Some(Path::new("")), Some(Path::new("/etc/oc.json")));
    assert_eq!(
        (p.state_dir.as_path(), p.config.as_path()),
        (Path::new("/home/u/.openclaw"), Path::new("/etc/oc.json"))
    );
}

#[test]
fn doctor_findings_follow_the_install() {
    let oc = Oc::new(Some(ORIGINAL));
    let bad = |f: &[openclaw::Finding]| {
        f.iter()
            .filter(|f| !f.ok)
            .map(|f| f.what)
            .collect::<Vec<_>>()
    };
    let before = openclaw::check(&oc.paths, &oc.exe).unwrap();
    assert_eq!(bad(&before), ["plugin", "enabled", "reins_path", "exec"]);
    oc.run(Op::Install);
    let after = openclaw::check(&oc.paths, &oc.exe).unwrap();
    assert_eq!(bad(&after), Vec::<&str>::new(), "{after:?}");
    let moved = openclaw::check(&oc.paths, &oc.exe.with_file_name("other")).unwrap();
    assert_eq!(bad(&moved), ["reins_path"]);
    fs::write(oc.paths.plugin_dir().join("index.js"), "tampered").unwrap();
    assert_eq!(
        bad(&openclaw::check(&oc.paths, &oc.exe).unwrap()),
        ["plugin"]
    );
}

#[test]
fn doctor_says_nothing_about_openclaw_when_it_is_absent() {
    let dir = tempfile::tempdir().unwrap();
    let paths = OpenClawPaths::resolve(dir.path(), None, None);
    assert_eq!(openclaw::check(&paths, Path::new("/usr/bin/reins")), None);
}

#[test]
fn uninstall_without_an_install_changes_nothing_and_says_nothing() {
    let oc = Oc::new(Some(
        "// hand-written\n{ tools: { exec: { mode: 'full' } } }\n",
    ));
    let p = oc.plan(Op::Uninstall);
    assert!(p.is_noop(), "{}", p.diff());
    assert!(p.notices.is_empty(), "{:?}", p.notices);
}

#[test]
fn uninstall_of_a_hand_made_entry_leaves_exec_alone_and_says_why() {
    let oc = Oc::new(Some(
        r#"{"plugins":{"entries":{"reins":{"enabled":true}}},"tools":{"exec":{"ask":"always"}}}"#,
    ));
    let p = oc.run(Op::Uninstall);
    assert!(
        p.notices.iter().any(|n| n.contains("No record")),
        "{:?}",
        p.notices
    );
    assert_eq!(oc.config(), json!({"tools": {"exec": {"ask": "always"}}}));
}

#[test]
fn install_writes_the_config_last_and_uninstall_writes_it_first() {
    let oc = Oc::new(Some(ORIGINAL));
    let p = oc.run(Op::Install);
    assert_eq!(p.changes.last().unwrap().path, oc.paths.config);
    let p = oc.run(Op::Uninstall);
    assert_eq!(p.changes.first().unwrap().path, oc.paths.config);
}
