//! Tests for config loading.
use super::*;

fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    Config::from_parts(Path::new("/x/config.toml"), Some(text), env)
}

#[test]
fn an_empty_file_gives_the_defaults() {
    let c = load("", &[]).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.scan_interval(), Duration::from_secs(1));
    assert_eq!(c.grace(), Duration::from_secs(3));
}

#[test]
fn the_shipped_example_is_valid_and_equals_the_defaults() {
    let text = include_str!("../../../config.example.toml");
    let c = load(text, &[]).unwrap();
    assert_eq!(c.scan, ScanConfig::default());
    assert_eq!(c.halt, HaltConfig::default());
    assert_eq!(c.notify, NotifyConfig::default());
}

#[test]
fn a_wrong_type_names_the_file_line_and_key() {
    let err = load("[scan]\n\ninterval_ms = \"fast\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("/x/config.toml:3"), "{err}");
    assert!(err.contains("scan.interval_ms"), "{err}");
}

#[test]
fn an_unknown_key_is_an_error_not_ignored() {
    let err = load("[halt]\ngrace = 5\n", &[]).unwrap_err().to_string();
    assert!(err.contains(":2"), "{err}");
    assert!(err.contains("grace"), "{err}");
}

#[test]
fn broken_toml_names_the_line() {
    let err = load("[scan\ninterval_ms = 5\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("/x/config.toml:1"), "{err}");
}

#[test]
fn an_environment_override_wins_over_the_file() {
    let c = load(
        "[scan]\ninterval_ms = 2000\n",
        &[("REINS__SCAN__INTERVAL_MS", "500")],
    )
    .unwrap();
    assert_eq!(c.scan.interval_ms, 500);
}

#[test]
fn a_bad_environment_override_names_the_variable() {
    let err = load("", &[("REINS__HALT__GRACE_MS", "soon")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("REINS__HALT__GRACE_MS"), "{err}");
    let err = load("", &[("REINS__HALT__NOPE", "1")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("REINS__HALT__NOPE"), "{err}");
}

#[test]
fn an_out_of_range_interval_is_refused() {
    let err = load("[scan]\ninterval_ms = 1\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("scan.interval_ms"), "{err}");
}

#[test]
fn unrelated_environment_variables_are_ignored() {
    assert!(load("", &[("REINS_CONFIG", "x"), ("PATH", "/bin")]).is_ok());
}

#[test]
fn the_link_defaults_to_an_embedded_lan_broker_on_the_usual_ports() {
    let c = load("", &[]).unwrap();
    assert!(c.link.enabled && c.link.embedded());
    assert_eq!(c.link.embedded_bind, "0.0.0.0");
    assert_eq!(
        (c.link.embedded_tcp_port, c.link.embedded_ws_port),
        (1883, 8083)
    );
    let text = include_str!("../../../config.example.toml");
    assert_eq!(load(text, &[]).unwrap().link, LinkConfig::default());
}

#[test]
fn a_bad_broker_url_names_the_link_broker_key() {
    let err = load("[link]\nbroker = \"http://x\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("link.broker"), "{err}");
    let err = load("[link]\nbroker = \"mqtt://u:p@x\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("username/password"), "{err}");
}

#[test]
fn a_username_without_a_password_and_a_bad_bind_address_are_refused() {
    let err = load(
        "[link]\nbroker = \"mqtts://b.example\"\nusername = \"u\"\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("link.password"), "{err}");
    let err = load("", &[("REINS__LINK__EMBEDDED_BIND", "lan")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("link.embedded_bind"), "{err}");
    let err = load("[link]\ntopic_prefix = \"reins\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("link.topic_prefix"), "{err}");
    assert!(load("[link]\ntopic_prefix = \"reins/alice/\"\n", &[]).is_ok());
    let err = load("[link]\nphone_urls = [\"ftp://x\"]\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("link.phone_urls"), "{err}");
}

#[test]
fn the_link_keep_alive_is_set_in_whole_seconds_and_never_zero() {
    assert_eq!(load("", &[]).unwrap().link.keep_alive_s, 30);
    let c = load("", &[("REINS__LINK__KEEP_ALIVE_S", "2")]).unwrap();
    assert_eq!(c.link.keep_alive_s, 2);
    for bad in ["0", "3601"] {
        let err = load("", &[("REINS__LINK__KEEP_ALIVE_S", bad)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("link.keep_alive_s"), "{bad}: {err}");
    }
}

#[test]
fn port_zero_is_accepted_for_both_embedded_ports() {
    let c = load("[link]\nembedded_tcp_port = 0\nembedded_ws_port = 0\n", &[]).unwrap();
    assert_eq!((c.link.embedded_tcp_port, c.link.embedded_ws_port), (0, 0));
    assert!(load("[link]\nembedded_tcp_port = 9\nembedded_ws_port = 9\n", &[]).is_err());
}

#[test]
fn the_phone_app_is_served_on_port_8470_of_every_interface_by_default() {
    let c = load("", &[]).unwrap();
    assert_eq!(c.phone, PhoneConfig::default());
    assert!(c.serves_phone_app());
    assert_eq!((c.phone.bind.as_str(), c.phone.port), ("0.0.0.0", 8470));
    assert_eq!(c.phone.tls_files(), None);
}

#[test]
fn the_phone_app_is_not_served_without_the_link() {
    let c = load("[link]\nenabled = false\n", &[]).unwrap();
    assert!(!c.serves_phone_app());
}

#[test]
fn the_phone_port_can_be_overridden_from_the_environment() {
    let c = load(
        "",
        &[
            ("REINS__PHONE__PORT", "0"),
            ("REINS__PHONE__BIND", "127.0.0.1"),
        ],
    )
    .unwrap();
    assert_eq!((c.phone.port, c.phone.bind.as_str()), (0, "127.0.0.1"));
}

#[test]
fn a_certificate_without_a_key_is_an_error_naming_both_keys() {
    let err = load("[phone]\ntls_cert = \"/x/cert.pem\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("phone.tls_key"), "{err}");
    assert!(err.contains("phone.tls_cert and phone.tls_key"), "{err}");
    let err = load("[phone]\ntls_key = \"/x/key.pem\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("key `phone.tls_cert`"), "{err}");
}

#[test]
fn a_missing_certificate_file_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let key = d.path().join("key.pem");
    std::fs::write(&key, "").unwrap();
    let text = format!(
        "[phone]\ntls_cert = \"{}/missing.pem\"\ntls_key = \"{}\"\n",
        d.path().display(),
        key.display()
    );
    let err = load(&text, &[]).unwrap_err().to_string();
    assert!(err.contains("phone.tls_cert"), "{err}");
    assert!(err.contains("missing.pem"), "{err}");
}

#[test]
fn a_missing_app_dir_is_an_error_unless_the_app_is_not_served() {
    let err = load("[phone]\napp_dir = \"/nonexistent/dist\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("phone.app_dir"), "{err}");
    assert!(err.contains("/nonexistent/dist"), "{err}");
    load(
        "[phone]\nenabled = false\napp_dir = \"/nonexistent/dist\"\n",
        &[],
    )
    .unwrap();
}

#[test]
fn a_phone_host_is_a_bare_name_or_address() {
    let c = load("[phone]\nhost = \"box.tail1.ts.net\"\n", &[]).unwrap();
    assert_eq!(c.phone.host.as_deref(), Some("box.tail1.ts.net"));
    for bad in ["https://box", "box:8470", "a b", ""] {
        let err = load(&format!("[phone]\nhost = \"{bad}\"\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("phone.host"), "{bad}: {err}");
    }
}

#[test]
fn a_bad_bind_or_app_url_names_the_key() {
    let err = load("[phone]\nbind = \"lan\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("phone.bind"), "{err}");
    for url in ["ftp://x/", "https://x/#frag", "not a url", "https://u:p@x/"] {
        let err = load(&format!("[phone]\napp_url = \"{url}\"\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("phone.app_url"), "{url}: {err}");
    }
    let c = load("[phone]\napp_url = \"https://you.github.io/reins/\"\n", &[]).unwrap();
    assert_eq!(
        c.phone.app_url.as_deref(),
        Some("https://you.github.io/reins/")
    );
}

#[test]
fn the_phone_port_may_not_be_a_broker_port() {
    let err = load("[phone]\nport = 8083\n", &[]).unwrap_err().to_string();
    assert!(err.contains("phone.port"), "{err}");
    assert!(err.contains("link.embedded_ws_port"), "{err}");
}

#[test]
fn an_unknown_phone_key_names_the_line() {
    let err = load("[phone]\n\nprot = 1\n", &[]).unwrap_err().to_string();
    assert!(err.contains(":3"), "{err}");
    assert!(err.contains("prot"), "{err}");
}

#[test]
fn notifications_are_on_by_default_and_can_be_switched_off_from_the_environment() {
    assert!(load("", &[]).unwrap().notify.enabled);
    let off = load("", &[("REINS__NOTIFY__ENABLED", "false")]).unwrap();
    assert!(!off.notify.enabled);
    let err = load("[notify]\nenabled = \"yes\"\n", &[]).unwrap_err();
    assert!(err.to_string().contains("notify.enabled"), "{err}");
}

#[test]
fn the_stop_recheck_defaults_to_seven_seconds_can_be_turned_off_and_is_bounded() {
    let default = load("", &[]).unwrap();
    assert_eq!(
        default.recheck_after(),
        Some(std::time::Duration::from_secs(7))
    );
    let off = load("[halt]\nrecheck_after_s = 0\n", &[]).unwrap();
    assert_eq!(off.recheck_after(), None);
    let err = load("[halt]\nrecheck_after_s = 601\n", &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("halt.recheck_after_s"), "{err}");
}

#[test]
fn an_env_signature_in_the_config_compiles_and_a_broken_one_is_a_clear_error() {
    let ok = load(
        "[[signatures]]\nkind = \"svc\"\nenv = [\"SVC_ROLE=worker\", \"SVC_HOME\"]\nenv_programs = [\"node\"]\n",
        &[],
    )
    .unwrap();
    assert!(ok.signature_table().is_ok());
    let broken = load(
        "[[signatures]]\nkind = \"svc\"\nenv = [\"9X=1\"]\nenv_programs = [\"node\"]\n",
        &[],
    )
    .unwrap();
    let err = broken.signature_table().unwrap_err().to_string();
    assert!(
        err.contains("'svc'") && err.contains("env marker '9X=1'"),
        "{err}"
    );
}
