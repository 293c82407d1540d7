//! The soak's phones: each a real `reins_link::PhoneClient` with its own
//! broker connection, paired through a real `reins pair`, run as one tokio
//! task that answers approval requests, sends commands and keeps the agent
//! list it was shown.
//!
//! Who answers a request, how and when is a pure function of its id
//! ([`plan`]), so every phone agrees without talking to the others: one
//! phone allows or denies after a random delay, sometimes two phones answer
//! at the same moment, sometimes the answer comes after the request
//! expired, sometimes nobody answers. Everything a phone saw and sent is in
//! its [`PhoneLog`] for the checker. Not a model of the phone app's UI.

use super::{PhoneLog, SeenRequest, SentDecision};
use crate::bench::Res;
use crate::bench::daemon::Env;
use crate::bench::phone::ReinsPair;
use reins_link::{BrokerConfig, PhoneClient, PhoneError};
use reins_proto::Payload;
use reins_proto::pairing::PairingOffer;
use reins_proto::payload::{self as p, AgentEvent, CommandOp, Decision, Target};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

/// Failure guard for pairing steps that take milliseconds.
const T: Duration = Duration::from_secs(20);

/// The longest a phone task waits for a message before it looks at its
/// queue of due answers and commands again.
const TICK: Duration = Duration::from_millis(20);

/// What the run tells a phone to do.
#[derive(Debug)]
pub enum PhoneCmd {
    /// Send this command about this agent id.
    Command(CommandOp, String),
    /// Say `presence {"online":false}` and stop answering.
    Offline,
    /// Come back: `presence {"online":true}` (the daemon resyncs it).
    Online,
    /// Close the connection and end the task.
    Quit,
}

/// A running phone task.
pub struct Phone {
    /// Its commands.
    pub tx: mpsc::UnboundedSender<PhoneCmd>,
    /// What it saw and sent.
    pub log: Arc<Mutex<PhoneLog>>,
    /// The topic the daemon reads this phone on (the flood's target).
    pub p2d_topic: String,
    task: tokio::task::JoinHandle<()>,
}

impl Phone {
    /// Tell it to quit and wait for it.
    pub fn quit(self, rt: &Runtime) {
        let _ = self.tx.send(PhoneCmd::Quit);
        let _ = rt.block_on(self.task);
    }
}

/// Pair a phone named `name` with `reins pair`, as a person comparing codes.
pub fn pair(rt: &Runtime, env: &Env, name: &str) -> Res<PhoneClient> {
    let es = |e: PhoneError| e.to_string();
    let mut rp = ReinsPair::start(env)?;
    let url = rp.url.clone();
    let offer = PairingOffer::from_url(&url).map_err(|e| format!("bad pairing link: {e}"))?;
    let broker = BrokerConfig::parse(offer.brokers.first().ok_or("no broker in the offer")?)
        .map_err(|e| e.to_string())?;
    let mut phone = rt.block_on(PhoneClient::connect(&broker, T)).map_err(es)?;
    let pending = rt
        .block_on(phone.begin_pairing(&url, name, T))
        .map_err(es)?;
    rp.confirm(&pending.code.to_string())?;
    rt.block_on(phone.finish_pairing(pending, T))
        .map_err(|e| format!("pairing failed: {e}"))?;
    rp.finish()?;
    Ok(phone)
}

/// Start the task of phone `index` (of `count`); `timeout` is the daemon's
/// approval timeout (late answers come after it).
pub fn start(
    rt: &Runtime,
    client: PhoneClient,
    index: usize,
    count: usize,
    timeout: Duration,
) -> Res<Phone> {
    let p2d_topic = client
        .channel()
        .ok_or("the phone is not paired")?
        .send_topic()
        .to_owned();
    let log = Arc::new(Mutex::new(PhoneLog::default()));
    let (tx, rx) = mpsc::unbounded_channel();
    let task = rt.spawn(run(client, rx, log.clone(), index, count, timeout));
    Ok(Phone {
        tx,
        log,
        p2d_topic,
        task,
    })
}

/// One phone's answer to a request: (phone, decision, delay).
pub type Answer = (usize, Decision, Duration);

/// Who answers `request_id`, with what, after how long. About 55 % one
/// allow, 15 % one deny, 15 % two phones at the same moment (one allow and
/// one deny, or two allows), 8 % one allow after the request expired, 7 %
/// nobody (it expires).
pub fn plan(request_id: &str, phones: usize, timeout: Duration) -> Vec<Answer> {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    request_id.hash(&mut h);
    let h = h.finish();
    let n = phones.max(1) as u64;
    let first = (h % n) as usize;
    let second = ((h + 1) % n) as usize;
    let bucket = (h >> 16) % 100;
    let delay = Duration::from_millis(50 + (h >> 32) % 1450);
    match bucket {
        0..55 => vec![(first, Decision::Allow, delay)],
        55..70 => vec![(first, Decision::Deny, delay)],
        70..85 if phones > 1 => {
            let other = if bucket % 2 == 0 {
                Decision::Deny
            } else {
                Decision::Allow
            };
            vec![(first, Decision::Allow, delay), (second, other, delay)]
        }
        70..85 => vec![(first, Decision::Allow, delay)],
        85..93 => vec![(first, Decision::Allow, timeout + delay)],
        _ => Vec::new(),
    }
}

async fn run(
    mut phone: PhoneClient,
    mut rx: mpsc::UnboundedReceiver<PhoneCmd>,
    log: Arc<Mutex<PhoneLog>>,
    me: usize,
    count: usize,
    timeout: Duration,
) {
    // Due answers: (when, request id, decision).
    let mut due: BinaryHeap<Reverse<(Instant, String, bool)>> = BinaryHeap::new();
    let mut offline = false;
    loop {
        while let Ok(cmd) = rx.try_recv() {
            match cmd {
                PhoneCmd::Quit => {
                    phone.close().await;
                    return;
                }
                PhoneCmd::Offline => {
                    offline = true;
                    due.clear();
                    let _ = phone.send(&Payload::Presence(p::Presence { online: false }));
                }
                PhoneCmd::Online => {
                    offline = false;
                    let _ = phone.announce();
                }
                PhoneCmd::Command(op, id) => {
                    let cmd = Payload::Command(p::Command {
                        op,
                        target: Target::Agent(id.clone()),
                    });
                    let ok = phone.send(&cmd).is_ok();
                    lock(&log).commands.push((op, id, ok));
                }
            }
        }
        let now = Instant::now();
        while let Some(Reverse((at, _, _))) = due.peek()
            && *at <= now
        {
            let Some(Reverse((_, id, allow))) = due.pop() else {
                break;
            };
            answer(&mut phone, &log, &id, allow);
        }
        let wait = due
            .peek()
            .map_or(TICK, |Reverse((at, _, _))| {
                at.saturating_duration_since(now)
            })
            .clamp(Duration::from_millis(1), TICK);
        let msg = match phone.recv(wait).await {
            Ok(m) => m,
            Err(PhoneError::Timeout(_)) => continue,
            Err(e) => {
                lock(&log).errors.push(e.to_string());
                tokio::time::sleep(TICK).await;
                continue;
            }
        };
        if offline {
            continue;
        }
        let mut l = lock(&log);
        match msg.payload {
            Payload::ApprovalRequest(r) => {
                if l.seen.contains_key(&r.request_id) {
                    continue; // a resync sends pending requests again
                }
                for (who, decision, delay) in plan(&r.request_id, count, timeout) {
                    if who == me {
                        let allow = decision == Decision::Allow;
                        due.push(Reverse((
                            Instant::now() + delay,
                            r.request_id.clone(),
                            allow,
                        )));
                    }
                }
                l.seen.insert(
                    r.request_id.clone(),
                    SeenRequest {
                        action: r.action,
                        action_hash: r.action_hash,
                        agent_id: r.agent_id,
                        at: Instant::now(),
                    },
                );
            }
            Payload::ApprovalResolved(r) => l.resolved.push(r),
            Payload::AgentSnapshot(s) => {
                l.view = s.agents.into_iter().map(|a| (a.id, a.state)).collect();
            }
            Payload::AgentEvent(AgentEvent::Appeared { agent } | AgentEvent::Changed { agent }) => {
                l.view.insert(agent.id, agent.state);
            }
            Payload::AgentEvent(AgentEvent::Exited { id }) => {
                l.view.remove(&id);
            }
            Payload::CommandAck(a) => l.acks.push(a),
            Payload::Heartbeat(h) => {
                drop(l);
                let beat = Payload::Heartbeat(p::Heartbeat {
                    interval_s: h.interval_s,
                });
                let _ = phone.send(&beat);
            }
            _ => {}
        }
    }
}

fn answer(phone: &mut PhoneClient, log: &Arc<Mutex<PhoneLog>>, request_id: &str, allow: bool) {
    let mut l = lock(log);
    let Some(seen) = l.seen.get(request_id) else {
        return;
    };
    let decision = if allow {
        Decision::Allow
    } else {
        Decision::Deny
    };
    let body = Payload::ApprovalDecision(p::ApprovalDecision {
        request_id: request_id.to_owned(),
        action_hash: seen.action_hash.clone(),
        decision,
        scope: None,
    });
    let at = Instant::now();
    let ok = phone.send(&body).is_ok();
    l.sent.push(SentDecision {
        request_id: request_id.to_owned(),
        allow,
        at,
        published: ok,
    });
}

/// The log, even if a task panicked while holding it.
pub fn lock(log: &Mutex<PhoneLog>) -> std::sync::MutexGuard<'_, PhoneLog> {
    log.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phone_computes_the_same_plan_and_all_kinds_occur() {
        let t = Duration::from_secs(4);
        let (mut two, mut late, mut none) = (0, 0, 0);
        for i in 0..2000 {
            let id = format!("{i:032x}");
            let a = plan(&id, 10, t);
            assert_eq!(a, plan(&id, 10, t));
            two += usize::from(a.len() == 2);
            late += usize::from(a.len() == 1 && a[0].2 > t);
            none += usize::from(a.is_empty());
        }
        assert!(two > 100 && late > 50 && none > 50, "{two} {late} {none}");
    }
}
