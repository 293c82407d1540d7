//! `reins pair` and `reins devices`: the phone link's local surfaces.
//!
//! The daemon owns the link; these commands only ask it over IPC. Pairing
//! always needs a person at this terminal to compare the six-digit code:
//! there is no `--yes`, the answer is read from stdin, and anything but
//! `y`/`yes` (including end of input) rejects. The daemon refuses answers
//! and device changes sent from inside an agent's process tree.

use crate::Exit;
use reins_runtime::ipc::proto::DeviceStatus;
use reins_runtime::ipc::{Client, ClientError, ErrorCode, Request, Response};
use reins_runtime::paths::Paths;
use reins_runtime::phone::{LinkSummary, PairStep, SecretsKind, SecretsStatus};
use std::io::{BufRead, Write};

fn client(paths: &Paths) -> anyhow::Result<Client> {
    Client::connect(&paths.socket()).map_err(|e| match e {
        ClientError::NotRunning(_) => anyhow::anyhow!(
            "no Reins daemon is running; the daemon owns the phone link: start it with `reins daemon`"
        ),
        e => e.into(),
    })
}

fn fail(code: ErrorCode, message: &str) -> Exit {
    eprintln!("reins: {message}");
    match code {
        ErrorCode::BadRequest => Exit::Usage,
        ErrorCode::NoSuchDevice => Exit::NoSuchAgent,
        _ => Exit::Other,
    }
}

/// Reads one answer line; only `y`/`yes` accepts.
fn ask_yes(prompt: &str) -> bool {
    print!("{prompt}");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => {
            println!();
            false
        }
        Ok(_) => matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"),
    }
}

/// `reins pair`.
pub fn pair(paths: &Paths, now_ms: u64) -> anyhow::Result<Exit> {
    let mut c = client(paths)?;
    let (session, url, qr, expires_at_ms) = match c.call(&Request::PairStart)? {
        Response::PairOffer {
            session,
            url,
            qr,
            expires_at_ms,
        } => (session, url, qr, expires_at_ms),
        Response::Error(e) => return Ok(fail(e.code, &e.message)),
        other => anyhow::bail!("unexpected daemon response: {other:?}"),
    };
    println!("Scan this code with your phone, or open the link on it:\n");
    print!("{qr}");
    println!("\nPairing link: {url}");
    if url.starts_with(reins_link_base()) {
        println!(
            "(No phone app is served, so a browser cannot open this link: set phone.enabled = true or phone.app_url; see `reins status`.)"
        );
    }
    println!(
        "It is valid for {} s, once. Keep it private: whoever scans it first can ask to pair.",
        expires_at_ms.saturating_sub(now_ms) / 1000
    );
    println!("Waiting for the phone...");
    let _ = std::io::stdout().flush();
    loop {
        let step = match c.call(&Request::PairNext {
            session: session.clone(),
        })? {
            Response::PairStep { step } => step,
            Response::Error(e) => return Ok(fail(e.code, &e.message)),
            other => anyhow::bail!("unexpected daemon response: {other:?}"),
        };
        match step {
            PairStep::Code { device_name, code } => {
                println!("\nThe phone \"{device_name}\" wants to pair.");
                let accept = ask_yes(&format!("Does the phone show {code}? [y/N] "));
                match c.call(&Request::PairAnswer {
                    session: session.clone(),
                    accept,
                })? {
                    Response::PairAnswered => {}
                    Response::Error(e) => return Ok(fail(e.code, &e.message)),
                    other => anyhow::bail!("unexpected daemon response: {other:?}"),
                }
                if !accept {
                    println!("Not confirmed: nothing was paired.");
                }
            }
            PairStep::AnotherDeviceTried => eprintln!(
                "WARNING: a second device tried this pairing code. Someone else may have seen the QR code; answer N unless you are sure the code matches your phone."
            ),
            PairStep::Paired { device } => {
                println!("Paired with \"{}\" (device {}).", device.name, device.id);
                return Ok(Exit::Ok);
            }
            PairStep::Failed { message } => {
                eprintln!("reins: {message}");
                return Ok(Exit::Other);
            }
        }
    }
}

fn ago(now_ms: u64, then_ms: u64) -> String {
    match now_ms.saturating_sub(then_ms) / 60_000 {
        0 => "just now".to_owned(),
        m if m < 120 => format!("{m} min ago"),
        m if m < 48 * 60 => format!("{} h ago", m / 60),
        m => format!("{} days ago", m / (24 * 60)),
    }
}

fn devices_table(devices: &[DeviceStatus], now_ms: u64) -> String {
    if devices.is_empty() {
        return "No paired devices. Pair one with `reins pair`.\n".into();
    }
    let mut out = format!(
        "{:<32}  {:<24}  {:<14}  {}\n",
        "ID", "NAME", "PAIRED", "LAST SEEN"
    );
    for d in devices {
        let seen = match (d.online, d.last_seen_ms) {
            (true, _) => "online".to_owned(),
            (false, Some(t)) => ago(now_ms, t),
            (false, None) => "not since the daemon started".to_owned(),
        };
        out.push_str(&format!(
            "{:<32}  {:<24}  {:<14}  {seen}\n",
            d.id,
            crate::output::safe(&d.name),
            ago(now_ms, d.paired_at_ms)
        ));
    }
    out
}

/// `reins devices [--json]`.
pub fn list(paths: &Paths, json: bool, now_ms: u64) -> anyhow::Result<Exit> {
    match client(paths)?.call(&Request::Devices)? {
        Response::Devices { devices } => {
            if json {
                println!("{}", serde_json::to_string_pretty(&devices)?);
            } else {
                print!("{}", devices_table(&devices, now_ms));
            }
            Ok(Exit::Ok)
        }
        Response::Error(e) => Ok(fail(e.code, &e.message)),
        other => anyhow::bail!("unexpected daemon response: {other:?}"),
    }
}

/// `reins devices rename <id> <name>`.
pub fn rename(paths: &Paths, id: &str, name: &str) -> anyhow::Result<Exit> {
    let req = Request::RenameDevice {
        id: id.to_owned(),
        name: name.to_owned(),
    };
    match client(paths)?.call(&req)? {
        Response::Device { device } => {
            println!("Renamed device {} to \"{}\".", device.id, device.name);
            Ok(Exit::Ok)
        }
        Response::Error(e) => Ok(fail(e.code, &e.message)),
        other => anyhow::bail!("unexpected daemon response: {other:?}"),
    }
}

/// `reins devices revoke <id>`.
pub fn revoke(paths: &Paths, id: &str) -> anyhow::Result<Exit> {
    match client(paths)?.call(&Request::RevokeDevice { id: id.to_owned() })? {
        Response::Revoked { id } => {
            println!("Revoked device {id}: its key is deleted and its messages are ignored.");
            Ok(Exit::Ok)
        }
        Response::Error(e) => Ok(fail(e.code, &e.message)),
        other => anyhow::bail!("unexpected daemon response: {other:?}"),
    }
}

/// The base of pairing links when no app is served.
fn reins_link_base() -> &'static str {
    reins_runtime::phone::NO_APP_BASE_URL
}

/// The `reins status` line about the phone app, if the link is on.
fn app_line(link: &LinkSummary) -> String {
    let Some(app) = &link.app else {
        return String::new();
    };
    let how = |url: &str, https: bool| {
        if https {
            format!("{url} (HTTPS)")
        } else {
            format!(
                "{url} (plain HTTP: no offline use or notifications, and anyone on this network could alter the page; see phone.tls_cert)"
            )
        }
    };
    match (&app.url, &app.error) {
        (Some(url), None) => format!("Phone app: {}\n", how(url, app.https)),
        (Some(url), Some(e)) => format!(
            "Phone app: {} (this daemon does not serve it: {e})\n",
            how(url, app.https)
        ),
        (None, Some(e)) => format!("Phone app: NOT SERVED: {e}\n"),
        (None, None) => {
            "Phone app: not served (phone.enabled = false and no phone.app_url)\n".into()
        }
    }
}

/// The `reins status` lines about the link and the phone app.
pub fn link_line(link: &LinkSummary) -> String {
    format!(
        "{}{}{}",
        link_only_line(link),
        secrets_line(link).unwrap_or_default(),
        app_line(link)
    )
}

/// Where the link's keys are, and any trouble with them (`None` when the
/// link does not run). Also a line of `reins doctor`.
pub fn secrets_line(link: &LinkSummary) -> Option<String> {
    link.secrets.as_ref().map(secrets_line_of)
}

/// The `Keys:` lines of one [`SecretsStatus`].
pub fn secrets_line_of(s: &SecretsStatus) -> String {
    let mut out = match (&s.backend, &s.warning) {
        (SecretsKind::Keyring, _) => "Keys: in the OS keyring\n".to_owned(),
        (_, Some(w)) => format!("Keys: {w}\n"),
        (SecretsKind::File, None) => "Keys: in a 0600 file (no OS keyring)\n".to_owned(),
        (SecretsKind::Memory, None) => "Keys: in memory only\n".to_owned(),
    };
    if let Some(p) = &s.problem {
        out.push_str(&format!("Keys: PROBLEM: {p}\n"));
    }
    out
}

fn link_only_line(link: &LinkSummary) -> String {
    let devices = match link.devices {
        1 => "1 paired device".to_owned(),
        n => format!("{n} paired devices"),
    };
    match link.state.as_str() {
        "disabled" => "Phone link: disabled (link.enabled = false)\n".into(),
        "failed" => format!(
            "Phone link: NOT RUNNING: {}\n",
            link.last_error.as_deref().unwrap_or("unknown error")
        ),
        state => {
            let broker = link.broker.as_deref().unwrap_or("?");
            let kind = if link.embedded { " (embedded)" } else { "" };
            // What the state means for a phone's messages, in words.
            let what = match state {
                "connected" if link.ready => "connected to".to_owned(),
                "connected" => "connected, NOT DELIVERING YET (the broker has not \
                                acknowledged the subscriptions) to"
                    .to_owned(),
                "backing_off" => "DOWN (reconnecting) to".to_owned(),
                "stopped" => "STOPPED: restart the daemon; was".to_owned(),
                other => format!("{other} to"),
            };
            let err = match (&link.last_error, link.ready) {
                (Some(e), false) => format!("; last error: {e}"),
                _ => String::new(),
            };
            format!("Phone link: {what} {broker}{kind}, {devices}{err}\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(state: &str, ready: bool, last_error: Option<&str>) -> LinkSummary {
        LinkSummary {
            state: state.into(),
            broker: Some("mqtt://b:1883".into()),
            embedded: false,
            devices: 1,
            ready,
            last_error: last_error.map(str::to_owned),
            phone_urls: Vec::new(),
            app: None,
            secrets: None,
        }
    }

    #[test]
    fn a_link_that_is_down_or_not_delivering_says_so_in_words() {
        let down = link_only_line(&link("backing_off", false, Some("no CONNACK")));
        assert!(
            down.contains("DOWN (reconnecting) to mqtt://b:1883"),
            "{down}"
        );
        assert!(down.contains("last error: no CONNACK"), "{down}");
        let stalled = link_only_line(&link("connected", false, None));
        assert!(stalled.contains("NOT DELIVERING YET"), "{stalled}");
        let up = link_only_line(&link("connected", true, Some("old")));
        assert_eq!(
            up,
            "Phone link: connected to mqtt://b:1883, 1 paired device\n"
        );
    }

    #[test]
    fn the_keys_line_names_the_file_fallback_and_a_live_problem() {
        let mut l = link("connected", true, None);
        assert_eq!(secrets_line(&l), None);
        l.secrets = Some(SecretsStatus {
            backend: SecretsKind::File,
            file: Some("/d/secrets.json".into()),
            keyring_error: Some("no bus".into()),
            warning: Some("WARNING: no OS keyring (no bus) ...".into()),
            problem: None,
        });
        assert_eq!(
            secrets_line(&l).unwrap(),
            "Keys: WARNING: no OS keyring (no bus) ...\n"
        );
        l.secrets = Some(SecretsStatus {
            backend: SecretsKind::Keyring,
            file: None,
            keyring_error: None,
            warning: None,
            problem: Some("Storing a key failed: x".into()),
        });
        let text = secrets_line(&l).unwrap();
        assert!(text.starts_with("Keys: in the OS keyring\n"), "{text}");
        assert!(
            text.contains("Keys: PROBLEM: Storing a key failed: x\n"),
            "{text}"
        );
    }
}
