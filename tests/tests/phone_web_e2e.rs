//! The phone web app end to end: a real `reins daemon` serves the app on a
//! free loopback port, `reins status` shows its URL, `GET /` answers on it,
//! and `reins pair` prints a link that opens it and whose first broker is
//! the same-origin `ws://…/mqtt` proxy, over which a test phone pairs.
//!
//! Nothing here sleeps; waits are for lines and messages, bounded by `T`
//! only as a failure guard. Nothing depends on what the committed app
//! contains beyond it having an `index.html`.

mod common;
#[path = "common/phone.rs"]
mod phone;
use common::*;
use phone::*;
use reins_proto::pairing::PairingOffer;
use std::io::{Read, Write};
use std::net::TcpStream;

/// `GET path` on `hostport` (plain HTTP/1.1, connection closed after).
fn http_get(hostport: &str, path: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(hostport).unwrap();
    s.set_read_timeout(Some(T)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    (head, buf[end + 4..].to_vec())
}

#[test]
fn the_daemon_serves_the_phone_app_and_pairing_links_open_it_with_the_same_origin_broker_first() {
    let rt = rt();
    let agent = format!("e2eweb{}", std::process::id());
    let env = private_env(&agent, "");
    let _daemon = env.daemon();

    let link = link_status(&env);
    let app = &link["app"];
    let url = app["url"].as_str().expect("status shows the app URL");
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
        "{app}"
    );
    assert_eq!(app["https"], false, "{app}");
    assert_eq!(app["served"], true, "{app}");
    assert_eq!(app["error"], serde_json::Value::Null, "{app}");
    let hostport = url.trim_start_matches("http://").trim_end_matches('/');
    let same_origin = format!("ws://{hostport}/mqtt");
    assert_eq!(link["phone_urls"][0], same_origin.as_str(), "{link}");

    let text = stdout(&env.run(&["status"]));
    assert!(
        text.contains(&format!("Phone app: {url} (plain HTTP")),
        "{text}"
    );

    let (head, body) = http_get(hostport, "/");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let head = head.to_ascii_lowercase();
    assert!(head.contains("content-type: text/html"), "{head}");
    assert!(head.contains("cache-control: no-store"), "{head}");
    assert!(
        head.contains("content-security-policy: default-src 'self'"),
        "{head}"
    );
    assert!(!body.is_empty());

    let pairing = start_pair(env.reins_pair());
    let link_url = pairing.url().to_owned();
    assert!(link_url.starts_with(&format!("{url}#")), "{link_url}");
    let offer = PairingOffer::from_url(&link_url).unwrap();
    assert_eq!(offer.brokers[0], same_origin, "{:?}", offer.brokers);
    // The test phone pairs on that first URL: through the proxy.
    let (_phone, paired, child) = pair_with(&rt, pairing, "Web phone", "y\n");
    assert!(paired, "the phone paired over {same_origin}");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(link_status(&env)["devices"], 1);
}

#[test]
fn a_taken_web_port_is_reported_in_status_and_the_daemon_and_link_keep_running() {
    let agent = format!("e2ewebtaken{}", std::process::id());
    let env = private_env(&agent, "");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut daemon = {
        let mut c = env.reins();
        c.env("REINS__PHONE__PORT", port.to_string())
            .arg("daemon")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        spawn_retrying(&mut c)
    };
    let mut out = Stream::new(daemon.stdout.take().unwrap());
    let mut err = Stream::new(daemon.stderr.take().unwrap());
    out.until("listening");
    let complaint = err.line_after("the phone app is not served: ");
    assert!(complaint.contains("phone.port = 0"), "{complaint}");
    let _daemon = Proc(daemon);

    // The daemon's ready line does not wait for the broker connection.
    let link = wait_link_ready(&env);
    let app = &link["app"];
    assert_eq!(app["served"], false, "{app}");
    assert_eq!(app["url"], serde_json::Value::Null, "{app}");
    assert!(
        app["error"].as_str().unwrap().contains(&port.to_string()),
        "{app}"
    );
    let text = stdout(&env.run(&["status"]));
    assert!(
        text.contains("Phone app: NOT SERVED: cannot listen on"),
        "{text}"
    );
    // Pairing still works for clients that read the link themselves.
    let p = start_pair(env.reins_pair());
    assert!(p.url().starts_with("reins:pair#"), "{}", p.url());
}
