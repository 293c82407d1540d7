//! The phone side of the daemon's IPC dispatcher: pairing through `reins
//! pair` and device administration through `reins devices`.
//!
//! Pairing needs a person at this machine to compare the six-digit code, so
//! the answer to "does the phone show 123456?" and every device change are
//! refused when they come from inside an agent's process tree (an agent must
//! not pair its own phone or revoke the user's), and each refusal is audited.
//! All link state lives in the link task and each pairing's own task; this
//! is glue.

use crate::audit::{AuditAction, AuditEntry, AuditOutcome};
use crate::controller;
use crate::daemon::Dispatcher;
use crate::ipc::proto::{DeviceStatus, ErrorCode, IpcError, Response};
use crate::phone::{MAX_PAIRINGS, PairStep, PhoneLink};
use reins_core::Actor;
use reins_link::{DeviceId, LinkError};
use reins_os::PeerCred;

fn err(code: ErrorCode, message: String) -> IpcError {
    IpcError {
        code,
        message,
        agents: Vec::new(),
    }
}

fn unavailable(why: &str) -> IpcError {
    err(
        ErrorCode::LinkUnavailable,
        format!("the phone link is {why}; see `reins status` and the [link] section of the config"),
    )
}

fn link_error(e: LinkError) -> Response {
    match e {
        LinkError::NoSuchDevice(_) | LinkError::Store(reins_link::StoreError::NoSuchDevice(_)) => {
            Response::error(ErrorCode::NoSuchDevice, e.to_string())
        }
        LinkError::Store(reins_link::StoreError::BadName) => {
            Response::error(ErrorCode::BadRequest, e.to_string())
        }
        e => Response::error(ErrorCode::Internal, e.to_string()),
    }
}

fn parse_device(id: &str) -> Result<DeviceId, IpcError> {
    id.parse()
        .map_err(|e: reins_link::StoreError| err(ErrorCode::NoSuchDevice, e.to_string()))
}

impl Dispatcher {
    fn link(&self) -> Result<&PhoneLink, IpcError> {
        match &self.phone {
            crate::phone::PhoneState::Running(p) => Ok(p),
            crate::phone::PhoneState::Disabled => {
                Err(unavailable("disabled (link.enabled = false)"))
            }
            crate::phone::PhoneState::Failed(e) => Err(unavailable(&format!("not running ({e})"))),
        }
    }

    /// Refuses (and audits) `what` when `peer` runs inside an agent's tree.
    async fn refuse_from_agent(
        &self,
        peer: PeerCred,
        what: &str,
        target: &str,
    ) -> Option<Response> {
        let agents = self.registry.scan_now().await;
        let inside = controller::agent_containing(peer.pid, &agents, &*self.ops)?;
        let actor = Actor::Cli {
            pid: peer.pid,
            uid: peer.uid,
        };
        let why = format!("{what} sent from inside agent {inside}'s own process tree");
        self.audit
            .submit(controller::refused_entry(&actor, target, &why));
        Some(Response::error(
            ErrorCode::Refused,
            format!("{why}; an agent may not manage your phones. Do it from your own terminal"),
        ))
    }

    fn device_audit(&self, peer: PeerCred, action: AuditAction, id: &str, name: Option<&str>) {
        self.audit.submit(AuditEntry {
            actor: Actor::Cli {
                pid: peer.pid,
                uid: peer.uid,
            },
            action,
            target: id.to_owned(),
            outcome: AuditOutcome::Ok,
            latency_us: None,
            detail: serde_json::json!({ "name": name }),
        });
    }

    /// Opens a pairing offer.
    pub(crate) async fn pair_start(&self) -> Response {
        let link = match self.link() {
            Ok(l) => l,
            Err(e) => return Response::Error(e),
        };
        if link.open_pairings() >= MAX_PAIRINGS {
            return Response::error(
                ErrorCode::Refused,
                format!(
                    "{MAX_PAIRINGS} pairings are already open; finish them or wait 3 minutes for them to expire"
                ),
            );
        }
        match link.start_pairing().await {
            Ok((session, url, qr, expires_at_ms)) => Response::PairOffer {
                session,
                url,
                qr,
                expires_at_ms,
            },
            Err(e) => Response::error(ErrorCode::Internal, e.to_string()),
        }
    }

    /// Waits for the next step of a pairing.
    pub(crate) async fn pair_next(&self, session: &str, peer: PeerCred) -> Response {
        let link = match self.link() {
            Ok(l) => l,
            Err(e) => return Response::Error(e),
        };
        let Some(slot) = link.pairing(session) else {
            return Response::error(
                ErrorCode::BadRequest,
                "no such pairing (it ended or expired); run `reins pair` again",
            );
        };
        let step = slot.steps.lock().await.recv().await;
        let step = step.unwrap_or(PairStep::Failed {
            message: "the pairing ended; run `reins pair` again".into(),
        });
        if let PairStep::Paired { device } = &step {
            self.device_audit(
                peer,
                AuditAction::DevicePaired,
                &device.id,
                Some(&device.name),
            );
        }
        if matches!(step, PairStep::Paired { .. } | PairStep::Failed { .. }) {
            link.end_pairing(session);
        }
        Response::PairStep { step }
    }

    /// The person's answer to the code comparison.
    pub(crate) async fn pair_answer(
        &self,
        session: &str,
        accept: bool,
        peer: PeerCred,
    ) -> Response {
        let link = match self.link() {
            Ok(l) => l,
            Err(e) => return Response::Error(e),
        };
        let Some(slot) = link.pairing(session) else {
            return Response::error(
                ErrorCode::BadRequest,
                "no such pairing (it ended or expired); run `reins pair` again",
            );
        };
        let Some(tx) = slot.answer.lock().expect("pair answer lock").take() else {
            return Response::error(ErrorCode::BadRequest, "this pairing was already answered");
        };
        if let Some(refused) = self
            .refuse_from_agent(peer, "a pairing confirmation", "pairing")
            .await
        {
            // The offer is void: an agent held the code prompt.
            let _ = tx.send(false);
            return refused;
        }
        let _ = tx.send(accept);
        Response::PairAnswered
    }

    /// Lists paired devices.
    pub(crate) async fn devices(&self) -> Response {
        match self.link() {
            Ok(l) => match l.link.devices().await {
                Ok(devices) => Response::Devices {
                    devices: devices
                        .into_iter()
                        .map(|d| {
                            let (last_seen_ms, online) = self.phones.get(&d.id);
                            DeviceStatus::new(d, last_seen_ms, online)
                        })
                        .collect(),
                },
                Err(e) => link_error(e),
            },
            Err(e) => Response::Error(e),
        }
    }

    /// Renames a device.
    pub(crate) async fn rename_device(&self, id: &str, name: &str, peer: PeerCred) -> Response {
        let link = match self.link() {
            Ok(l) => l,
            Err(e) => return Response::Error(e),
        };
        let dev = match parse_device(id) {
            Ok(d) => d,
            Err(e) => return Response::Error(e),
        };
        if let Some(refused) = self.refuse_from_agent(peer, "a device rename", id).await {
            return refused;
        }
        match link.link.rename(dev, name).await {
            Ok(device) => {
                self.device_audit(peer, AuditAction::DeviceRenamed, id, Some(name));
                Response::Device { device }
            }
            Err(e) => link_error(e),
        }
    }

    /// Revokes a device.
    pub(crate) async fn revoke_device(&self, id: &str, peer: PeerCred) -> Response {
        let link = match self.link() {
            Ok(l) => l,
            Err(e) => return Response::Error(e),
        };
        let dev = match parse_device(id) {
            Ok(d) => d,
            Err(e) => return Response::Error(e),
        };
        if let Some(refused) = self
            .refuse_from_agent(peer, "a device revocation", id)
            .await
        {
            return refused;
        }
        match link.link.revoke(dev).await {
            Ok(true) => {
                let key = dev.to_string();
                self.phones.forget(&key);
                self.surfaces
                    .set(crate::surfaces::SurfaceKind::Phone, &key, None);
                self.device_audit(peer, AuditAction::DeviceRevoked, id, None);
                Response::Revoked { id: id.to_owned() }
            }
            Ok(false) => Response::error(
                ErrorCode::NoSuchDevice,
                format!("no paired device {id}; run `reins devices` to list them"),
            ),
            Err(e) => link_error(e),
        }
    }
}
