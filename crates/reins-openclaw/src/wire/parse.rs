//! Frames, the handshake's payloads and their bounds (see the parent module).

use super::*;

/// The protocol versions Reins speaks: 3 (older gateways) to 4 (current;
/// OpenClaw 2026.9 accepts a client whose range includes 4).
pub const MIN_PROTOCOL: u32 = 3;
/// See [`MIN_PROTOCOL`].
pub const MAX_PROTOCOL: u32 = 4;

/// The client id OpenClaw's closed registry allows for a command-line client.
pub const CLIENT_ID: &str = "cli";
/// The client mode.
pub const CLIENT_MODE: &str = "cli";
/// The platform Reins announces (signed lowercase).
pub const PLATFORM: &str = "linux";
/// The role.
pub const ROLE: &str = "operator";
/// The scopes Reins asks for. `operator.admin` is what makes agent- and
/// channel-raised approvals visible to it.
pub const SCOPES: [&str; 4] = [
    "operator.admin",
    "operator.approvals",
    "operator.read",
    "operator.write",
];
/// The caps announced in approver mode only.
pub const APPROVER_CAPS: [&str; 3] = ["approvals", "exec-approvals", "plugin-approvals"];

/// Largest frame Reins accepts before hello-ok says otherwise (OpenClaw's
/// default `policy.maxPayload` is 25 MiB).
pub const DEFAULT_MAX_FRAME: usize = 25 * 1024 * 1024;
/// Largest command text (and argv total) in an approval.
pub const MAX_COMMAND: usize = 128 * 1024;
/// Largest description / warning text.
pub const MAX_TEXT: usize = 16 * 1024;
/// Largest id, key, path, name or other short field.
pub const MAX_SHORT: usize = 4 * 1024;
/// Most argv entries.
pub const MAX_ARGV: usize = 4096;
/// Most approvals in one list reply.
pub const MAX_LIST: usize = 10_000;

/// Why a frame or payload was not understood. The frame is dropped; nothing
/// changes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not JSON, or not a frame.
    #[error("malformed frame from OpenClaw's gateway: {0}")]
    Malformed(String),
    /// A field Reins needs is missing or of the wrong type.
    #[error("OpenClaw's gateway sent {what} without a valid `{field}`")]
    Missing {
        /// What was being read.
        what: &'static str,
        /// The field.
        field: &'static str,
    },
    /// A field or the frame is larger than Reins accepts.
    #[error("OpenClaw's gateway sent an oversized {0}; dropped")]
    TooLarge(&'static str),
}

/// An error reply's body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorShape {
    /// `INVALID_REQUEST`, ...
    pub code: String,
    /// Words for a person.
    pub message: String,
    /// Structured details (`details.code` e.g. `AUTH_TOKEN_MISMATCH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Box<Value>>,
    /// OpenClaw says trying again later may work (e.g. "gateway starting").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
    /// When OpenClaw suggests trying again (`retryAfterMs`).
    #[serde(
        default,
        rename = "retryAfterMs",
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after_ms: Option<u64>,
}

/// One frame on the gateway socket.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// A request (client → gateway).
    Req {
        /// Request id.
        id: String,
        /// Method name.
        method: String,
        /// Params (`{}` when absent).
        params: Value,
    },
    /// A reply.
    Res {
        /// The request's id.
        id: String,
        /// The payload, or the error.
        result: Result<Value, ErrorShape>,
    },
    /// An event (gateway → client).
    Event {
        /// Event name.
        event: String,
        /// Payload (`null` when absent).
        payload: Value,
        /// Sequence number, if the gateway numbers its events.
        seq: Option<u64>,
    },
}

pub(super) fn string_field(
    obj: &Map<String, Value>,
    field: &'static str,
    what: &'static str,
    max: usize,
) -> Result<String, WireError> {
    match obj.get(field) {
        Some(Value::String(s)) if s.len() > max => Err(WireError::TooLarge(field)),
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(WireError::Missing { what, field }),
    }
}

/// An optional string; `null`/absent/empty → `None`; too long → error.
pub(super) fn opt_string(
    obj: &Map<String, Value>,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, WireError> {
    match obj.get(field) {
        Some(Value::String(s)) if s.len() > max => Err(WireError::TooLarge(field)),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        _ => Ok(None),
    }
}

impl Frame {
    /// Parse one text frame, refusing frames longer than `max_len` bytes.
    pub fn parse(text: &str, max_len: usize) -> Result<Frame, WireError> {
        if text.len() > max_len {
            return Err(WireError::TooLarge("frame"));
        }
        let v: Value =
            serde_json::from_str(text).map_err(|e| WireError::Malformed(e.to_string()))?;
        let Value::Object(mut obj) = v else {
            return Err(WireError::Malformed("not an object".into()));
        };
        let kind = obj
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        match kind.as_str() {
            "req" => Ok(Frame::Req {
                id: string_field(&obj, "id", "a request", MAX_SHORT)?,
                method: string_field(&obj, "method", "a request", MAX_SHORT)?,
                params: obj.remove("params").unwrap_or_else(|| json!({})),
            }),
            "res" => {
                let id = string_field(&obj, "id", "a reply", MAX_SHORT)?;
                let ok = obj
                    .get("ok")
                    .and_then(Value::as_bool)
                    .ok_or(WireError::Missing {
                        what: "a reply",
                        field: "ok",
                    })?;
                let result = if ok {
                    Ok(obj.remove("payload").unwrap_or(Value::Null))
                } else {
                    let err = obj.remove("error").unwrap_or(Value::Null);
                    Err(
                        serde_json::from_value::<ErrorShape>(err).unwrap_or_else(|_| ErrorShape {
                            code: "UNKNOWN".into(),
                            message: "the gateway refused without saying why".into(),
                            details: None,
                            retryable: None,
                            retry_after_ms: None,
                        }),
                    )
                };
                Ok(Frame::Res { id, result })
            }
            "event" => Ok(Frame::Event {
                event: string_field(&obj, "event", "an event", MAX_SHORT)?,
                seq: obj.get("seq").and_then(Value::as_u64),
                payload: obj.remove("payload").unwrap_or(Value::Null),
            }),
            other => Err(WireError::Malformed(format!(
                "unknown frame type {:?}",
                other.chars().take(40).collect::<String>()
            ))),
        }
    }

    /// The frame as JSON text.
    pub fn to_text(&self) -> String {
        let v = match self {
            Frame::Req { id, method, params } => {
                json!({"type": "req", "id": id, "method": method, "params": params})
            }
            Frame::Res {
                id,
                result: Ok(payload),
            } => {
                json!({"type": "res", "id": id, "ok": true, "payload": payload})
            }
            Frame::Res { id, result: Err(e) } => {
                json!({"type": "res", "id": id, "ok": false, "error": e})
            }
            Frame::Event {
                event,
                payload,
                seq,
            } => {
                let mut v = json!({"type": "event", "event": event, "payload": payload});
                if let Some(seq) = seq {
                    v["seq"] = json!(seq);
                }
                v
            }
        };
        v.to_string()
    }
}

/// `connect.challenge`'s payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// To sign and echo back.
    pub nonce: String,
    /// The gateway's clock (ms); sent back as `device.signedAt`.
    pub ts: u64,
}

impl Challenge {
    /// Read a challenge payload.
    pub fn from_payload(payload: &Value) -> Result<Challenge, WireError> {
        let obj = payload.as_object().ok_or(WireError::Missing {
            what: "connect.challenge",
            field: "payload",
        })?;
        let nonce = string_field(obj, "nonce", "connect.challenge", MAX_SHORT)?;
        let ts = obj
            .get("ts")
            .and_then(Value::as_u64)
            .ok_or(WireError::Missing {
                what: "connect.challenge",
                field: "ts",
            })?;
        Ok(Challenge { nonce, ts })
    }
}

/// `connect`'s `client`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    /// From OpenClaw's closed registry: `cli`.
    pub id: String,
    /// Reins' version.
    pub version: String,
    /// `linux`.
    pub platform: String,
    /// `cli`.
    pub mode: String,
    /// Shown in OpenClaw's device list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Signed when present (lowercased); Reins sends none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
}

/// `connect`'s `auth`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectAuth {
    /// The shared token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl std::fmt::Debug for ConnectAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectAuth")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// `connect`'s `device`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectDevice {
    /// Hex SHA-256 of the raw public key.
    pub id: String,
    /// base64url raw public key.
    pub public_key: String,
    /// base64url Ed25519 signature over the v3 payload.
    pub signature: String,
    /// The challenge's `ts`.
    pub signed_at: u64,
    /// The challenge's nonce.
    pub nonce: String,
}

/// The `connect` request's params.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectParams {
    /// Lowest protocol spoken.
    pub min_protocol: u32,
    /// Highest protocol spoken.
    pub max_protocol: u32,
    /// Who is connecting.
    pub client: ClientInfo,
    /// `operator`.
    pub role: String,
    /// Requested scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Announced caps.
    #[serde(default)]
    pub caps: Vec<String>,
    /// Shared-secret auth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<ConnectAuth>,
    /// Device proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<ConnectDevice>,
}

/// Build Reins' signed `connect` params for a challenge.
pub fn connect_params(
    identity: &crate::device::DeviceIdentity,
    challenge: &Challenge,
    token: &str,
    version: &str,
    display_name: &str,
    approver: bool,
) -> ConnectParams {
    let scopes: Vec<String> = SCOPES.iter().map(|s| s.to_string()).collect();
    let device_id = identity.device_id();
    let payload = crate::device::AuthPayload {
        device_id: &device_id,
        client_id: CLIENT_ID,
        client_mode: CLIENT_MODE,
        role: ROLE,
        scopes: &scopes,
        signed_at_ms: challenge.ts,
        token,
        nonce: &challenge.nonce,
        platform: PLATFORM,
        device_family: "",
    }
    .v3();
    ConnectParams {
        min_protocol: MIN_PROTOCOL,
        max_protocol: MAX_PROTOCOL,
        client: ClientInfo {
            id: CLIENT_ID.into(),
            version: version.into(),
            platform: PLATFORM.into(),
            mode: CLIENT_MODE.into(),
            display_name: Some(display_name.into()),
            device_family: None,
        },
        role: ROLE.into(),
        scopes,
        caps: if approver {
            APPROVER_CAPS.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        },
        auth: (!token.is_empty()).then(|| ConnectAuth {
            token: Some(token.into()),
        }),
        device: Some(ConnectDevice {
            id: device_id,
            public_key: identity.public_key_b64(),
            signature: identity.sign(&payload),
            signed_at: challenge.ts,
            nonce: challenge.nonce.clone(),
        }),
    }
}

/// What Reins reads from `hello-ok`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HelloOk {
    /// The protocol the gateway chose.
    pub protocol: u32,
    /// `server.version`.
    pub server_version: Option<String>,
    /// `features.methods`.
    pub methods: Vec<String>,
    /// `policy.maxPayload`.
    pub max_payload: Option<usize>,
    /// `policy.tickIntervalMs`.
    pub tick_interval_ms: Option<u64>,
    /// `auth.scopes` as granted.
    pub granted_scopes: Vec<String>,
}

impl HelloOk {
    /// Read the `connect` reply's payload.
    pub fn from_payload(payload: &Value) -> Result<HelloOk, WireError> {
        let what = "hello-ok";
        let obj = payload.as_object().ok_or(WireError::Missing {
            what,
            field: "payload",
        })?;
        if obj.get("type").and_then(Value::as_str) != Some("hello-ok") {
            return Err(WireError::Missing {
                what,
                field: "type",
            });
        }
        let protocol = obj
            .get("protocol")
            .and_then(Value::as_u64)
            .and_then(|p| u32::try_from(p).ok())
            .ok_or(WireError::Missing {
                what,
                field: "protocol",
            })?;
        let strings = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .filter(|s| s.len() <= MAX_SHORT)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let policy = obj.get("policy");
        Ok(HelloOk {
            protocol,
            server_version: obj
                .get("server")
                .and_then(|s| s.get("version"))
                .and_then(Value::as_str)
                .filter(|s| s.len() <= MAX_SHORT)
                .map(str::to_owned),
            methods: strings(obj.get("features").and_then(|f| f.get("methods"))),
            max_payload: policy
                .and_then(|p| p.get("maxPayload"))
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| *n >= 1024),
            tick_interval_ms: policy
                .and_then(|p| p.get("tickIntervalMs"))
                .and_then(Value::as_u64)
                .filter(|n| *n >= 100),
            granted_scopes: strings(obj.get("auth").and_then(|a| a.get("scopes"))),
        })
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
