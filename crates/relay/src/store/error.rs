//! How a store request fails.

use tsunagi_line::ChannelId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("there is no channel {0}")]
    UnknownChannel(ChannelId),
    #[error("channel {0} exists already")]
    ChannelExists(ChannelId),
    /// The storage failed; nothing of the request was written.
    #[error("storage is unavailable: {0}")]
    Unavailable(String),
    #[error("the stored log is damaged: {0}")]
    Corrupt(String),
    #[error("this enrollment code {0}")]
    Invite(InviteProblem),
    /// A fenced append by an executor whose lease has lapsed or passed to another process:
    /// nothing of it was written.
    #[error("the executor's lease on channel {0} is no longer held")]
    LeaseLost(ChannelId),
}

/// Why an enrollment code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InviteProblem {
    #[error("does not exist")]
    Unknown,
    #[error("was used already")]
    Used,
    #[error("has expired")]
    Expired,
    #[error("was withdrawn")]
    Withdrawn,
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
