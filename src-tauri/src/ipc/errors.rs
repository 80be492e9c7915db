//! Errors as the window receives them: a code it words in the reader's language, and a
//! message for details and the log.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use tsunagi_desk::profile::{ConnectError, JoinError};
use tsunagi_desk::relay_url::Problem;

/// What the UI can act on when a command fails: each has its own words in every language.
/// Add a variant only when the UI handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Something the user typed or chose cannot be used; `message` says what (in English).
    InvalidInput,
    AddressEmpty,
    /// Not an address the desk can use (no host, a scheme other than https, a password …).
    AddressInvalid,
    /// Plain http:// to another computer.
    AddressInsecure,
    NameEmpty,
    CodeEmpty,
    CodeUnknown,
    CodeUsed,
    CodeExpired,
    /// An owner withdrew the code, or shut out whoever made it.
    CodeWithdrawn,
    RelayUnreachable,
    /// The relay said no; `message` has its reason.
    RelayRefused,
    /// The OS keyring cannot keep the device token.
    NoKeyring,
    /// The relay has no LINE channel yet.
    NoChannel,
    /// Connecting a channel: no channel ID, no secret.
    ChannelIdEmpty,
    ChannelSecretEmpty,
    /// LINE refused the channel ID and secret; nothing was stored.
    LineRefused,
    /// LINE could not be reached to check them; nothing was stored.
    LineUnavailable,
    /// Only an owner may do this.
    OwnerOnly,
    /// The desk has not joined a relay (or has left it).
    NotJoined,
    AlreadyJoined,
    /// The conversation, contact or op asked for is not in this desk's store.
    NotFound,
    /// An answer to a chat this operator does not hold: claim it first (someone else may).
    NotYours,
    /// A file could not be written where the user chose; `message` says why.
    SaveFailed,
    /// Alert settings out of bounds; `message` says which (in English).
    SettingsInvalid,
    /// Updates: no update address is set on this computer.
    UpdateOff,
    /// Updates: not an address to look for updates at (https://, or http:// on this
    /// computer).
    UpdateAddressInvalid,
    /// Updates: this build has no public key to check them with.
    UpdateUnverifiable,
    /// Updates: the update address or the download could not be reached, or stopped short.
    UpdateUnreachable,
    /// Updates: the update address answered with something that is not an update for
    /// this computer.
    UpdateManifestInvalid,
    /// Updates: the download's signature is not Tsunagi's, or was made for another
    /// version than the one offered. Nothing was installed.
    UpdateSignatureRefused,
    /// Updates: this copy was not installed from a package, so it cannot update itself.
    UpdateNotInstallable,
    /// Updates: the system did not install the verified update; `message` says why.
    UpdateInstallFailed,
    /// Telegram does not know the bot token given; nothing was kept.
    TelegramRefused,
    /// Telegram could not be reached to check the token or send the test.
    TelegramUnavailable,
    /// The relay keeps no Telegram bot token yet.
    NoCredential,
    /// Something went wrong inside the app; details are in the log.
    Internal,
}

/// A failed command, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct IpcError {
    pub code: ErrorCode,
    /// For the log and for details; the UI shows its own words for `code`.
    pub message: String,
}

impl IpcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "a command failed");
        Self::new(ErrorCode::Internal, error.to_string())
    }
}

impl From<Problem> for IpcError {
    fn from(problem: Problem) -> Self {
        let code = match problem {
            Problem::Empty => ErrorCode::AddressEmpty,
            Problem::PlainHttp => ErrorCode::AddressInsecure,
            Problem::NotAnAddress { .. }
            | Problem::NoHost
            | Problem::Scheme { .. }
            | Problem::Credentials
            | Problem::QueryOrFragment => ErrorCode::AddressInvalid,
        };
        Self::new(code, problem.to_string())
    }
}

impl From<JoinError> for IpcError {
    fn from(error: JoinError) -> Self {
        let code = match &error {
            JoinError::Address(problem) => return problem.clone().into(),
            JoinError::NoName => ErrorCode::NameEmpty,
            JoinError::NoCode => ErrorCode::CodeEmpty,
            JoinError::UnknownCode => ErrorCode::CodeUnknown,
            JoinError::UsedCode => ErrorCode::CodeUsed,
            JoinError::ExpiredCode => ErrorCode::CodeExpired,
            JoinError::WithdrawnCode => ErrorCode::CodeWithdrawn,
            JoinError::Unreachable(_) => ErrorCode::RelayUnreachable,
            JoinError::Refused(_) | JoinError::Suspect(_) => ErrorCode::RelayRefused,
            JoinError::NoKeyring(_) => ErrorCode::NoKeyring,
            JoinError::NoChannel | JoinError::ChooseChannel(_) => ErrorCode::NoChannel,
            JoinError::AlreadyJoined => ErrorCode::AlreadyJoined,
            JoinError::Store(_) => return IpcError::internal(error),
        };
        Self::new(code, error.to_string())
    }
}

impl From<ConnectError> for IpcError {
    fn from(error: ConnectError) -> Self {
        let code = match &error {
            ConnectError::NotJoined => ErrorCode::NotJoined,
            ConnectError::Connected => ErrorCode::AlreadyJoined,
            ConnectError::NotOwner => ErrorCode::OwnerOnly,
            ConnectError::NoChannelId => ErrorCode::ChannelIdEmpty,
            ConnectError::NoSecret => ErrorCode::ChannelSecretEmpty,
            ConnectError::Refused(_) => ErrorCode::LineRefused,
            ConnectError::LineUnavailable(_) => ErrorCode::LineUnavailable,
            ConnectError::Unreachable(_) => ErrorCode::RelayUnreachable,
            ConnectError::Relay(_) | ConnectError::Suspect(_) => ErrorCode::RelayRefused,
            ConnectError::Store(_) => return IpcError::internal(error),
        };
        Self::new(code, error.to_string())
    }
}

impl From<tsunagi_desk::relay::Error> for IpcError {
    /// A call to the relay made directly (not through the outbox), worded as the desk's.
    fn from(error: tsunagi_desk::relay::Error) -> Self {
        tsunagi_desk::Error::from(error).into()
    }
}

impl From<tsunagi_desk::Error> for IpcError {
    fn from(error: tsunagi_desk::Error) -> Self {
        match error {
            tsunagi_desk::Error::Invalid(message) => Self::new(ErrorCode::InvalidInput, message),
            tsunagi_desk::Error::NotFound(message) => Self::new(ErrorCode::NotFound, message),
            error @ tsunagi_desk::Error::NotYours(_) => {
                Self::new(ErrorCode::NotYours, error.to_string())
            }
            tsunagi_desk::Error::Relay(tsunagi_desk::relay::Error::Refused {
                code:
                    tsunagi_proto::api::ErrorCode::Forbidden | tsunagi_proto::api::ErrorCode::OwnerOnly,
                message,
                ..
            }) => Self::new(ErrorCode::OwnerOnly, message),
            tsunagi_desk::Error::Relay(error) if error.is_transient() => {
                Self::new(ErrorCode::RelayUnreachable, error.to_string())
            }
            tsunagi_desk::Error::Relay(error) => {
                Self::new(ErrorCode::RelayRefused, error.to_string())
            }
            other => IpcError::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_cross_ipc_as_code_and_message() {
        let error: IpcError = Problem::PlainHttp.into();
        assert_eq!(
            serde_json::to_value(&error).expect("serializes"),
            serde_json::json!({
                "code": "address_insecure",
                "message": Problem::PlainHttp.to_string(),
            })
        );
        let used: IpcError = JoinError::UsedCode.into();
        assert_eq!(used.code, ErrorCode::CodeUsed);
    }

    #[test]
    fn the_relays_refusals_reach_the_window_as_what_the_operator_can_act_on() {
        let refused = |status, code| tsunagi_desk::relay::Error::Refused {
            status,
            code,
            message: "refused".into(),
        };
        use tsunagi_proto::api::ErrorCode as Relay;
        for (status, code) in [(403, Relay::Forbidden), (403, Relay::OwnerOnly)] {
            let error: IpcError = refused(status, code).into();
            assert_eq!(error.code, ErrorCode::OwnerOnly, "{code:?}");
        }
        let error: IpcError = refused(503, Relay::Unavailable).into();
        assert_eq!(error.code, ErrorCode::RelayUnreachable);
        let error: IpcError = refused(404, Relay::NotFound).into();
        assert_eq!(error.code, ErrorCode::RelayRefused);

        // Connecting a channel: LINE's answer, and what the relay said of the owner.
        let line: IpcError = ConnectError::from(refused(400, Relay::LineRefused)).into();
        assert_eq!(line.code, ErrorCode::LineRefused);
        let down: IpcError = ConnectError::from(refused(502, Relay::LineUnavailable)).into();
        assert_eq!(down.code, ErrorCode::LineUnavailable);
        let staff: IpcError = ConnectError::from(refused(403, Relay::Forbidden)).into();
        assert_eq!(staff.code, ErrorCode::OwnerOnly);
    }
}
