//! Building [`UiError`]s: from the daemon's IPC errors, from client
//! failures, and for refusals this crate makes itself.
//!
//! Every message says what happened and what to do next, because the window
//! and the tray show it as is. This module decides nothing.

use crate::view::{SettingsError, UiError};
use reins_runtime::ipc::{ClientError, ErrorCode, IpcError, Response};

impl UiError {
    /// An error with a message for people and no field errors.
    pub fn new(message: impl Into<String>) -> Self {
        UiError {
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// A settings error with one entry per refused field.
    pub fn fields(message: impl Into<String>, fields: Vec<SettingsError>) -> Self {
        UiError {
            message: message.into(),
            fields,
        }
    }
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        for e in &self.fields {
            write!(f, "; {:?}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for UiError {}

impl From<IpcError> for UiError {
    fn from(e: IpcError) -> Self {
        let hint = match e.code {
            ErrorCode::NoSuchAgent => " The agent list has been refreshed; pick one from it.",
            ErrorCode::NoSuchRequest | ErrorCode::Rejected => {
                " Nothing was approved; the list shows what is still waiting."
            }
            ErrorCode::LinkUnavailable => {
                " Turn the phone link on in Settings, then restart the daemon."
            }
            _ => "",
        };
        UiError::new(format!("{}{hint}", e.message.trim_end()))
    }
}

impl From<ClientError> for UiError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::NotRunning(_) => UiError::new(
                "The Reins daemon is not running. Reins starts it on its own; wait a moment and \
                 try again, or run `reins daemon` in a terminal to see why it does not start.",
            ),
            ClientError::Io(e) => UiError::new(format!(
                "Lost the connection to the Reins daemon ({e}). Nothing is known to have \
                 happened; check the agent list and try again."
            )),
            ClientError::Protocol(e) => UiError::new(format!(
                "The Reins daemon answered something this app does not understand ({e}). \
                 Are the app and `reins` the same version? Reinstall or restart the daemon."
            )),
        }
    }
}

/// The error for a response of the wrong type (or an error response).
pub(crate) fn unexpected(resp: Response, asked: &str) -> UiError {
    match resp {
        Response::Error(e) => e.into(),
        other => UiError::new(format!(
            "The Reins daemon answered {asked} with something else ({}); are the app and \
             `reins` the same version?",
            response_name(&other)
        )),
    }
}

fn response_name(r: &Response) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "an unknown response".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejected_decision_says_nothing_was_approved() {
        let e: UiError = IpcError {
            code: ErrorCode::Rejected,
            message: "the action hash does not match".into(),
            agents: vec![],
        }
        .into();
        assert!(e.message.contains("Nothing was approved"), "{}", e.message);
        assert!(e.fields.is_empty());
    }

    #[test]
    fn a_wrong_response_names_its_type() {
        let e = unexpected(Response::PairAnswered, "halt");
        assert!(e.message.contains("pair_answered"), "{}", e.message);
    }
}
