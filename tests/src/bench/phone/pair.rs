//! Pairing a phone with a running daemon the way a person does: `reins
//! pair` prints a pairing link, the phone ([`PhoneClient`]) begins pairing
//! through the broker the link names, and once `reins pair` shows the same
//! verification code the bench answers "y".
//!
//! This is set-up for the stop measure, not a measure: nothing here is
//! timed or produces a row. Every wait is bounded by [`T`], and `reins
//! pair` is killed and reaped on any error.

use super::{Reaped, T, es};
use crate::bench::Res;
use crate::bench::daemon::Env;
use crate::bench::procs::spawn_retrying;
use reins_link::{BrokerConfig, PhoneClient};
use reins_proto::pairing::PairingOffer;
use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::mpsc;
use tokio::runtime::Runtime;

/// A child's stdout, read on a thread, searched with a bounded wait.
pub(crate) struct Output {
    rx: mpsc::Receiver<String>,
    buf: String,
}

impl Output {
    pub(crate) fn new(mut r: impl Read + Send + 'static) -> Output {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut b = [0u8; 4096];
            while let Ok(n @ 1..) = r.read(&mut b) {
                if tx
                    .send(String::from_utf8_lossy(&b[..n]).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        });
        Output {
            rx,
            buf: String::new(),
        }
    }

    /// Everything up to and including `needle` (consumed).
    pub(crate) fn until(&mut self, needle: &str) -> Res<String> {
        loop {
            if let Some(i) = self.buf.find(needle) {
                let rest = self.buf.split_off(i + needle.len());
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            match self.rx.recv_timeout(T) {
                Ok(s) => self.buf.push_str(&s),
                Err(_) => return Err(format!("never saw {needle:?} in {:?}", self.buf)),
            }
        }
    }
}

/// A running `reins pair` that has printed its pairing link.
pub(crate) struct ReinsPair {
    child: Reaped,
    out: Output,
    /// The pairing link.
    pub(crate) url: String,
}

impl ReinsPair {
    /// Starts `reins pair` and reads its link.
    pub(crate) fn start(env: &Env) -> Res<ReinsPair> {
        let mut cmd = env.reins();
        cmd.arg("pair")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = Reaped(spawn_retrying(&mut cmd)?);
        let mut out = Output::new(child.0.stdout.take().ok_or("reins pair has no stdout")?);
        out.until("Pairing link: ")?;
        let url = out.until("\n")?.trim().to_owned();
        Ok(ReinsPair { child, out, url })
    }

    /// Waits for the code prompt and answers "y" if it shows `code`, as a
    /// person comparing the two screens would.
    pub(crate) fn confirm(&mut self, code: &str) -> Res<()> {
        let prompt = self.out.until("[y/N] ")?;
        if !prompt.contains(code) {
            return Err(format!(
                "reins pair does not show the phone's code {code}: {prompt}"
            ));
        }
        let mut stdin = self.child.0.stdin.take().ok_or("reins pair has no stdin")?;
        stdin
            .write_all(b"y\n")
            .map_err(|e| format!("cannot answer reins pair: {e}"))
    }

    /// Waits for `reins pair` to exit successfully.
    pub(crate) fn finish(mut self) -> Res<()> {
        let status = self.child.0.wait().map_err(es)?;
        if !status.success() {
            return Err(format!("reins pair exited {status}"));
        }
        Ok(())
    }
}

/// Pair a phone with `reins pair`, answering "y" once it shows the code.
pub(super) fn pair(rt: &Runtime, env: &Env) -> Res<PhoneClient> {
    let mut rp = ReinsPair::start(env)?;
    let url = rp.url.clone();
    let offer = PairingOffer::from_url(&url).map_err(|e| format!("bad pairing link: {e}"))?;
    let broker =
        BrokerConfig::parse(offer.brokers.first().ok_or("no broker in the offer")?).map_err(es)?;
    let mut phone = rt.block_on(PhoneClient::connect(&broker, T)).map_err(es)?;
    let pending = rt
        .block_on(phone.begin_pairing(&url, "bench phone", T))
        .map_err(es)?;
    rp.confirm(&pending.code.to_string())?;
    rt.block_on(phone.finish_pairing(pending, T))
        .map_err(|e| format!("pairing failed: {e}"))?;
    rp.finish()?;
    Ok(phone)
}
