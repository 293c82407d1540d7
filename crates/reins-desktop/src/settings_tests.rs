use super::*;

const CONFIG: &str = "# my reins config\n[scan]\ninterval_ms = 500 # fast\n\n[link]\n# the phone link\nenabled = true # keep on\n\n[halt]\ngrace_ms = 2000 # two seconds\n";
const POLICY: &str = "# my policy\n[approvals]\ntimeout_secs = 60 # a minute\non_timeout = \"abstain\"\n\n[[rule]]\nname = \"git status\"\ntool = \"Bash\"\ncommand = \"git status\"\nresult = \"allow\"\n";

fn files(dir: &Path) -> SettingsFiles {
    SettingsFiles {
        config: dir.join("config.toml"),
        policy: dir.join("policy.toml"),
    }
}

fn setup() -> (tempfile::TempDir, SettingsFiles) {
    let t = tempfile::tempdir().unwrap();
    let f = files(t.path());
    std::fs::write(&f.config, CONFIG).unwrap();
    std::fs::write(&f.policy, POLICY).unwrap();
    (t, f)
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn settings_are_read_from_both_files() {
    let (_t, f) = setup();
    let v = read_settings(&f).unwrap();
    assert!(v.link_enabled);
    assert_eq!(v.broker, "embedded");
    assert_eq!(v.approval_timeout_secs, 60);
    assert_eq!(v.on_timeout, "abstain");
    assert_eq!(v.stop_grace_ms, 2000);
    assert!(!v.start_at_login);
    assert_eq!(v.policy_file, f.policy.display().to_string());
}

#[test]
fn missing_files_read_as_the_defaults() {
    let t = tempfile::tempdir().unwrap();
    let v = read_settings(&files(t.path())).unwrap();
    assert_eq!(
        (
            v.approval_timeout_secs,
            v.on_timeout.as_str(),
            v.stop_grace_ms
        ),
        (90, "abstain", 3000)
    );
}

#[test]
fn a_save_changes_only_the_edited_values_and_keeps_every_comment() {
    let (_t, f) = setup();
    let mut v = read_settings(&f).unwrap();
    v.broker = "mqtts://broker.example.com:8883".into();
    v.approval_timeout_secs = 120;
    v.on_timeout = "deny".into();
    v.stop_grace_ms = 5000;
    v.start_at_login = true;
    save_with(&f, &v, &mut write_atomic).unwrap();
    let c = read(&f.config);
    assert!(
        c.contains("# my reins config") && c.contains("# fast") && c.contains("# keep on"),
        "{c}"
    );
    assert!(c.contains("grace_ms = 5000 # two seconds"), "{c}");
    assert!(
        c.contains("broker = \"mqtts://broker.example.com:8883\""),
        "{c}"
    );
    assert!(!c.contains("start_at_login"), "{c}");
    let p = read(&f.policy);
    assert!(p.contains("timeout_secs = 120 # a minute"), "{p}");
    assert!(p.contains("on_timeout = \"deny\""), "{p}");
    assert!(p.contains("name = \"git status\""), "{p}");
    let back = read_settings(&f).unwrap();
    assert_eq!(
        back,
        SettingsView {
            start_at_login: false,
            ..v
        }
    );
}

#[test]
fn saving_unchanged_settings_writes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let f = files(t.path());
    let v = read_settings(&f).unwrap();
    let mut writes = 0;
    save_with(&f, &v, &mut |p, s| {
        writes += 1;
        write_atomic(p, s)
    })
    .unwrap();
    assert_eq!(writes, 0);
    assert!(!f.config.exists() && !f.policy.exists());
}

#[test]
fn switching_back_to_embedded_empties_the_broker() {
    let (_t, f) = setup();
    let mut v = read_settings(&f).unwrap();
    v.broker = "wss://b.example/mqtt".into();
    save_with(&f, &v, &mut write_atomic).unwrap();
    v.broker = "embedded".into();
    save_with(&f, &v, &mut write_atomic).unwrap();
    assert!(read(&f.config).contains("broker = \"\""));
    assert_eq!(read_settings(&f).unwrap().broker, "embedded");
}

#[test]
fn every_bad_field_is_reported_at_once_and_nothing_is_written() {
    let (_t, f) = setup();
    let v = SettingsView {
        link_enabled: true,
        broker: "http://example.com".into(),
        policy_file: String::new(),
        approval_timeout_secs: 0,
        on_timeout: "allow".into(),
        stop_grace_ms: 60_001,
        start_at_login: false,
    };
    let e = save_with(&f, &v, &mut |_, _| panic!("nothing may be written")).unwrap_err();
    let fields: Vec<SettingsField> = e.fields.iter().map(|x| x.field).collect();
    assert_eq!(
        fields,
        [
            SettingsField::Broker,
            SettingsField::ApprovalTimeoutSecs,
            SettingsField::OnTimeout,
            SettingsField::StopGraceMs
        ]
    );
    assert!(e.fields[2].message.contains("never approves"), "{e:?}");
    assert!(e.message.starts_with("Nothing was saved"));
    assert_eq!(read(&f.config), CONFIG);
    assert_eq!(read(&f.policy), POLICY);
}

#[test]
fn field_bounds_are_inclusive() {
    let ok = SettingsView {
        link_enabled: false,
        broker: "mqtt://10.0.0.2".into(),
        policy_file: String::new(),
        approval_timeout_secs: 3600,
        on_timeout: "deny".into(),
        stop_grace_ms: 100,
        start_at_login: false,
    };
    assert!(validate(&ok).is_empty(), "{:?}", validate(&ok));
    let one = SettingsView {
        approval_timeout_secs: 1,
        stop_grace_ms: 60_000,
        ..ok.clone()
    };
    assert!(validate(&one).is_empty());
    let bad = SettingsView {
        approval_timeout_secs: 3601,
        stop_grace_ms: 99,
        ..ok.clone()
    };
    assert_eq!(validate(&bad).len(), 2);
    for b in ["tcp://x", "mqtt://user:pw@host", "mqtt://", "embedded2", ""] {
        let v = SettingsView {
            broker: b.into(),
            ..ok.clone()
        };
        assert_eq!(validate(&v).len(), 1, "{b:?}");
    }
}

#[test]
fn a_failure_writing_the_second_file_puts_the_first_back() {
    let (_t, f) = setup();
    let mut v = read_settings(&f).unwrap();
    v.stop_grace_ms = 4000;
    v.approval_timeout_secs = 30;
    let policy = f.policy.clone();
    let e = save_with(&f, &v, &mut |p, s| {
        if p == policy {
            Err(std::io::Error::other("disk full"))
        } else {
            write_atomic(p, s)
        }
    })
    .unwrap_err();
    assert!(e.message.contains("disk full"), "{e:?}");
    assert_eq!(e.fields[0].field, SettingsField::Files);
    assert_eq!(read(&f.config), CONFIG);
    assert_eq!(read(&f.policy), POLICY);
}

#[test]
fn a_real_failure_renaming_the_policy_leaves_both_files_unchanged() {
    let (t, _) = setup();
    // The policy path is a non-empty directory: the rename onto it fails
    // even for root.
    let f = SettingsFiles {
        config: t.path().join("config.toml"),
        policy: t.path().join("pol"),
    };
    std::fs::create_dir_all(f.policy.join("x")).unwrap();
    let v = SettingsView {
        link_enabled: false,
        broker: "embedded".into(),
        policy_file: String::new(),
        approval_timeout_secs: 90,
        on_timeout: "abstain".into(),
        stop_grace_ms: 2000,
        start_at_login: false,
    };
    // Reading a directory fails before anything is written.
    assert!(save_with(&f, &v, &mut write_atomic).is_err());
    assert_eq!(read(&f.config), CONFIG);
}

#[test]
fn settings_the_daemon_would_refuse_together_are_refused_before_writing() {
    let (_t, f) = setup();
    std::fs::write(
        &f.config,
        "[link]\nbroker = \"mqtt://b.example\"\nusername = \"u\"\npassword = \"p\"\n",
    )
    .unwrap();
    let mut v = read_settings(&f).unwrap();
    v.broker = "embedded".into();
    let e = save_with(&f, &v, &mut |_, _| panic!("nothing may be written")).unwrap_err();
    assert_eq!(e.fields[0].field, SettingsField::Broker, "{e:?}");
    assert!(e.fields[0].message.contains("external broker"), "{e:?}");
}

#[test]
fn a_new_file_is_private_and_an_existing_file_keeps_its_mode() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("sub/new.toml");
    write_atomic(&p, "a = 1\n").unwrap();
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o600
    );
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    write_atomic(&p, "a = 2\n").unwrap();
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert_eq!(read(&p), "a = 2\n");
    let leftovers: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1);
}

#[test]
fn the_shipped_example_files_round_trip_with_every_comment_kept() {
    let t = tempfile::tempdir().unwrap();
    let f = files(t.path());
    let config = include_str!("../../../config.example.toml");
    let policy = include_str!("../../../policy.example.toml");
    std::fs::write(&f.config, config).unwrap();
    std::fs::write(&f.policy, policy).unwrap();
    let mut v = read_settings(&f).unwrap();
    v.link_enabled = !v.link_enabled;
    v.broker = "wss://broker.example.com/mqtt".into();
    v.approval_timeout_secs = 300;
    v.on_timeout = "deny".into();
    v.stop_grace_ms = 1500;
    save_with(&f, &v, &mut write_atomic).unwrap();
    assert_eq!(read_settings(&f).unwrap(), v);
    let comments = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(comments(&read(&f.config)), comments(config));
    assert_eq!(comments(&read(&f.policy)), comments(policy));
    Policy::load(&f.policy).unwrap();
    Config::load(&f.config).unwrap();
}
