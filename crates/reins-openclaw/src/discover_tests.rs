//! Unit tests for [`super::discover`], with a fake environment and temp files.

use super::*;
use std::collections::HashMap;

#[derive(Default)]
struct FakeEnv {
    vars: HashMap<String, String>,
    home: Option<PathBuf>,
}

impl FakeEnv {
    fn home(dir: &std::path::Path) -> Self {
        Self {
            vars: HashMap::new(),
            home: Some(dir.to_path_buf()),
        }
    }
    fn with(mut self, k: &str, v: &str) -> Self {
        self.vars.insert(k.into(), v.into());
        self
    }
}

impl Env for FakeEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.is_empty()).cloned()
    }
    fn home(&self) -> Option<PathBuf> {
        self.home.clone()
    }
}

fn write_config(home: &std::path::Path, text: &str) -> PathBuf {
    let dir = home.join(".openclaw");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("openclaw.json");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_json5_config_with_comments_and_trailing_commas_gives_port_and_token() {
    let home = tempfile::tempdir().unwrap();
    let p = write_config(
        home.path(),
        "// written by openclaw onboard\n{\n  gateway: {\n    port: 19001, /* dev */\n    auth: { mode: 'token', token: 'tok-123', },\n  },\n}\n",
    );
    let t = discover(&FakeEnv::home(home.path())).unwrap();
    assert_eq!(t.port, 19001);
    assert_eq!(t.url, "ws://127.0.0.1:19001");
    assert_eq!(t.token.as_str(), "tok-123");
    assert_eq!(t.token_source, TokenSource::Config(p.clone()));
    assert_eq!(t.config_path, Some(p));
}

#[test]
fn environment_variables_win_over_the_config_file() {
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        r#"{"gateway":{"port":19001,"auth":{"token":"from-file"}}}"#,
    );
    let env = FakeEnv::home(home.path())
        .with("OPENCLAW_GATEWAY_PORT", "28789")
        .with("OPENCLAW_GATEWAY_TOKEN", "from-env");
    let t = discover(&env).unwrap();
    assert_eq!(t.port, 28789);
    assert_eq!(t.token.as_str(), "from-env");
    assert_eq!(t.token_source, TokenSource::Env);
}

#[test]
fn the_port_variable_may_carry_a_host_as_openclaw_allows() {
    assert_eq!(parse_port_var("127.0.0.1:18800"), Some(18800));
    assert_eq!(parse_port_var("[::1]:18801"), Some(18801));
    assert_eq!(parse_port_var(" 18802 "), Some(18802));
    assert_eq!(parse_port_var("a:b:1"), None);
    assert_eq!(parse_port_var("0"), None);
    assert_eq!(parse_port_var("99999"), None);
    assert_eq!(parse_port_var("port"), None);
}

#[test]
fn without_a_port_anywhere_the_default_port_is_used() {
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), r#"{"gateway":{"auth":{"token":"t"}}}"#);
    let t = discover(&FakeEnv::home(home.path())).unwrap();
    assert_eq!(t.port, DEFAULT_PORT);
    assert_eq!(t.url, "ws://127.0.0.1:18789");
}

#[test]
fn the_config_path_variable_wins_over_the_state_dir_which_wins_over_home() {
    let home = tempfile::tempdir().unwrap();
    let env = FakeEnv::home(home.path());
    assert_eq!(
        config_path(&env),
        Some(home.path().join(".openclaw/openclaw.json"))
    );
    let env = env.with("OPENCLAW_STATE_DIR", "/srv/oc");
    assert_eq!(
        config_path(&env),
        Some(PathBuf::from("/srv/oc/openclaw.json"))
    );
    let env = env.with("OPENCLAW_CONFIG_PATH", "~/custom.json");
    assert_eq!(config_path(&env), Some(home.path().join("custom.json")));
    let env = FakeEnv::home(home.path()).with("OPENCLAW_HOME", "/opt/claw");
    assert_eq!(
        config_path(&env),
        Some(PathBuf::from("/opt/claw/.openclaw/openclaw.json"))
    );
}

#[test]
fn a_config_in_the_state_dir_is_read() {
    let home = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    std::fs::write(
        state.path().join("openclaw.json"),
        r#"{gateway:{port:20000,auth:{token:"s"}}}"#,
    )
    .unwrap();
    let env = FakeEnv::home(home.path()).with("OPENCLAW_STATE_DIR", state.path().to_str().unwrap());
    let t = discover(&env).unwrap();
    assert_eq!(t.port, 20000);
    assert_eq!(t.token.as_str(), "s");
}

#[test]
fn a_broken_config_is_an_error_naming_the_file() {
    let home = tempfile::tempdir().unwrap();
    let p = write_config(home.path(), "{ gateway: { port: 18789, ");
    let err = discover(&FakeEnv::home(home.path())).unwrap_err();
    match &err {
        DiscoverError::BadConfig { path, .. } => assert_eq!(path, &p),
        other => panic!("expected BadConfig, got {other:?}"),
    }
    assert!(err.to_string().contains("openclaw doctor"), "{err}");
}

#[test]
fn a_port_that_is_not_a_port_is_a_bad_config() {
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), r#"{"gateway":{"port":"eighty"}}"#);
    assert!(matches!(
        discover(&FakeEnv::home(home.path())),
        Err(DiscoverError::BadConfig { .. })
    ));
}

#[test]
fn no_config_and_no_variables_means_not_configured() {
    let home = tempfile::tempdir().unwrap();
    let err = discover(&FakeEnv::home(home.path())).unwrap_err();
    assert!(matches!(err, DiscoverError::NotConfigured(_)), "{err:?}");
    assert!(err.to_string().contains("openclaw onboard"));
}

#[test]
fn variables_alone_are_enough_without_a_config_file() {
    let home = tempfile::tempdir().unwrap();
    let env = FakeEnv::home(home.path()).with("OPENCLAW_GATEWAY_TOKEN", "t");
    let t = discover(&env).unwrap();
    assert_eq!(t.port, DEFAULT_PORT);
    assert_eq!(t.config_path, None);
}

#[test]
fn auth_mode_none_needs_no_token() {
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), r#"{"gateway":{"auth":{"mode":"none"}}}"#);
    let t = discover(&FakeEnv::home(home.path())).unwrap();
    assert_eq!(t.token_source, TokenSource::NotNeeded);
    assert!(t.token.is_empty());
}

#[test]
fn password_and_trusted_proxy_auth_are_unsupported() {
    for mode in ["password", "trusted-proxy"] {
        let home = tempfile::tempdir().unwrap();
        write_config(
            home.path(),
            &format!(r#"{{"gateway":{{"auth":{{"mode":"{mode}","password":"p"}}}}}}"#),
        );
        match discover(&FakeEnv::home(home.path())) {
            Err(DiscoverError::UnsupportedAuth(m)) => assert_eq!(m, mode),
            other => panic!("expected UnsupportedAuth for {mode}, got {other:?}"),
        }
    }
}

#[test]
fn a_token_given_as_a_secret_ref_is_no_token_with_a_clear_message() {
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        r#"{"gateway":{"auth":{"mode":"token","token":{"source":"env","provider":"default","id":"OC_TOKEN"}}}}"#,
    );
    let err = discover(&FakeEnv::home(home.path())).unwrap_err();
    assert!(matches!(err, DiscoverError::NoToken(_)), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("secret reference"), "{msg}");
    assert!(msg.contains("OPENCLAW_GATEWAY_TOKEN"), "{msg}");
}

#[test]
fn a_token_referring_to_a_variable_is_looked_up() {
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), r#"{"gateway":{"auth":{"token":"${OC_TOK}"}}}"#);
    let env = FakeEnv::home(home.path()).with("OC_TOK", "resolved");
    assert_eq!(discover(&env).unwrap().token.as_str(), "resolved");
    let err = discover(&FakeEnv::home(home.path())).unwrap_err();
    assert!(err.to_string().contains("OC_TOK"), "{err}");
}

#[test]
fn token_auth_without_a_token_is_no_token() {
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), r#"{"gateway":{"port":18789}}"#);
    assert!(matches!(
        discover(&FakeEnv::home(home.path())),
        Err(DiscoverError::NoToken(_))
    ));
}

#[test]
fn the_debug_output_never_shows_the_token() {
    let home = tempfile::tempdir().unwrap();
    let env = FakeEnv::home(home.path()).with("OPENCLAW_GATEWAY_TOKEN", "hunter2-secret");
    let t = discover(&env).unwrap();
    assert!(!format!("{t:?}").contains("hunter2"));
}
