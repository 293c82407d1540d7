//! The machine's inbound side: events and replies from the gateway (see
//! the parent module).

use super::*;

impl<T> Machine<T> {
    pub(super) fn on_event(
        &mut self,
        event: &str,
        payload: &Value,
        seq: Option<u64>,
        now: Instant,
        out: &mut Vec<Action<T>>,
    ) {
        if self.phase == Phase::AwaitChallenge {
            if event != "connect.challenge" {
                return;
            }
            match Challenge::from_payload(payload) {
                Ok(ch) => {
                    self.challenge_deadline = None;
                    let params = wire::connect_params(
                        &self.identity,
                        &ch,
                        &self.cfg.token,
                        &self.cfg.version,
                        &self.cfg.display_name,
                        self.approver,
                    );
                    let params = serde_json::to_value(&params).unwrap_or(Value::Null);
                    self.phase = Phase::AwaitHello;
                    out.push(self.request("connect", params, Purpose::Connect, now));
                }
                Err(e) => out.push(Action::Close(CloseReason::Failed(e.to_string()))),
            }
            return;
        }
        if !matches!(self.phase, Phase::Syncing | Phase::Up) {
            return;
        }
        if let Some(seq) = seq {
            let gap = self.last_seq.is_some_and(|last| seq > last + 1);
            self.last_seq = Some(seq);
            if gap && self.phase == Phase::Up && self.approver {
                out.push(Action::Warn(
                    "missed events from OpenClaw's gateway; fetching its approvals again".into(),
                ));
                self.start_sync(now, out);
            }
        }
        if event == "tick" {
            self.saw_tick = true;
            return;
        }
        let Some((kind, requested)) = wire::approval_event(event) else {
            return;
        };
        if requested {
            if !self.approver {
                return;
            }
            match wire::parse_approval(kind, payload) {
                Ok(a) => self.on_requested(a, out),
                Err(e) => out.push(Action::Warn(e.to_string())),
            }
        } else {
            match wire::parse_resolved(kind, payload) {
                Ok(r) => {
                    let key = (r.kind, r.id.clone());
                    if let Some(sync) = self.sync.as_mut() {
                        sync.working.remove(&key);
                        sync.resolved.insert(key.clone());
                    }
                    let was_shown = self.approvals.remove(&key).is_some();
                    if self.phase == Phase::Up {
                        out.push(Action::Emit(LinkEvent::Resolved(r)));
                        if was_shown {
                            out.push(Action::Emit(LinkEvent::Status(self.status_up())));
                        }
                    }
                }
                Err(e) => out.push(Action::Warn(e.to_string())),
            }
        }
    }

    fn on_requested(&mut self, a: GatewayApproval, out: &mut Vec<Action<T>>) {
        let key = (a.kind, a.id.clone());
        if let Some(sync) = self.sync.as_mut() {
            sync.resolved.remove(&key);
            sync.working.insert(key, a);
            return;
        }
        if self.phase != Phase::Up || self.approvals.contains_key(&key) {
            return;
        }
        self.approvals.insert(key, a.clone());
        out.push(Action::Emit(LinkEvent::Requested(a)));
        out.push(Action::Emit(LinkEvent::Status(self.status_up())));
    }

    pub(super) fn on_res(
        &mut self,
        id: &str,
        result: Result<Value, ErrorShape>,
        now: Instant,
        out: &mut Vec<Action<T>>,
    ) {
        let Some(p) = self.pending.remove(id) else {
            out.push(Action::Warn(format!(
                "OpenClaw's gateway answered an unknown request ({}); ignored",
                id.chars().take(80).collect::<String>()
            )));
            return;
        };
        match p.purpose {
            Purpose::Connect => self.on_hello(result, now, out),
            Purpose::List(kind) => self.on_list(kind, result, out),
            Purpose::User { call, reply } => {
                out.push(Action::Reply(reply, calls::reply_for(&call, result)))
            }
        }
    }

    fn on_hello(
        &mut self,
        result: Result<Value, ErrorShape>,
        now: Instant,
        out: &mut Vec<Action<T>>,
    ) {
        let payload = match result {
            Ok(p) => p,
            Err(e) if e.retryable == Some(true) || e.code == "UNAVAILABLE" => {
                // "gateway starting; retry shortly": not for a person to fix.
                let msg: String = e.message.chars().take(500).collect();
                out.push(Action::Close(CloseReason::NotReady {
                    error: format!("OpenClaw's gateway is not ready: {msg}"),
                    retry_after: calls::not_ready_delay(e.retry_after_ms),
                }));
                return;
            }
            Err(e) => {
                out.push(Action::Close(CloseReason::Refused(calls::refusal_text(&e))));
                return;
            }
        };
        let hello = match HelloOk::from_payload(&payload) {
            Ok(h) => h,
            Err(e) => {
                out.push(Action::Close(CloseReason::Failed(e.to_string())));
                return;
            }
        };
        if !(wire::MIN_PROTOCOL..=wire::MAX_PROTOCOL).contains(&hello.protocol) {
            out.push(Action::Close(CloseReason::Refused(format!(
                "OpenClaw's gateway chose protocol {}, which Reins does not speak ({}–{}); update Reins or OpenClaw",
                hello.protocol,
                wire::MIN_PROTOCOL,
                wire::MAX_PROTOCOL
            ))));
            return;
        }
        if self.approver
            && !hello.granted_scopes.is_empty()
            && !hello.granted_scopes.iter().any(|s| s == "operator.admin")
        {
            out.push(Action::Warn(
                "OpenClaw did not grant Reins operator.admin: approvals raised by agents and chat channels will not reach Reins; approve Reins' device scopes in OpenClaw".into(),
            ));
        }
        self.hello = Some(hello);
        self.start_sync(now, out);
    }

    fn on_list(
        &mut self,
        kind: ApprovalKind,
        result: Result<Value, ErrorShape>,
        out: &mut Vec<Action<T>>,
    ) {
        let Some(sync) = self.sync.as_mut() else {
            return;
        };
        match result.map_err(|e| format!("{}: {}", e.code, e.message)).and_then(|p| {
            wire::parse_approval_list(kind, &p).map_err(|e| e.to_string())
        }) {
            Ok((good, bad)) => {
                for a in good {
                    let key = (a.kind, a.id.clone());
                    if !sync.resolved.contains(&key) {
                        sync.working.entry(key).or_insert(a);
                    }
                }
                for e in bad {
                    out.push(Action::Warn(e.to_string()));
                }
            }
            Err(e) => out.push(Action::Warn(format!(
                "OpenClaw's {}.approval.list failed ({e}); its pending approvals are not shown until the next reconnect",
                kind.as_str()
            ))),
        }
        sync.lists_left = sync.lists_left.saturating_sub(1);
        if sync.lists_left == 0 {
            let sync = self.sync.take().unwrap_or_default();
            let mut snapshot: Vec<_> = sync.working.into_values().collect();
            snapshot.sort_by_key(|a| a.created_at_ms);
            self.finish_up(snapshot, out);
        }
    }
}
