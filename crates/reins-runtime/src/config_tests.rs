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
fn port_zero_is_accepted_for_both_embedded_ports() {
    let c = load("[link]\nembedded_tcp_port = 0\nembedded_ws_port = 0\n", &[]).unwrap();
    assert_eq!((c.link.embedded_tcp_port, c.link.embedded_ws_port), (0, 0));
    assert!(load("[link]\nembedded_tcp_port = 9\nembedded_ws_port = 9\n", &[]).is_err());
}
