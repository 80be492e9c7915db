//! Tsunagi's desktop core, without Tauri: the local store, the projection of the relay's
//! log into it, sync with the relay, and the queries behind the inbox. The app and
//! `tsunagi-cli` only call into this crate.

pub mod actions;
pub mod alerts;
pub mod analytics;
mod columns;
pub mod credentials;
pub mod detail;
pub mod folder;
pub mod id;
pub mod inbox;
pub mod media;
pub mod outbox;
pub mod outreach;
pub mod private;
pub mod profile;
pub mod projection;
pub mod query;
pub mod relay;
pub mod relay_url;
pub mod search;
pub mod settings;
pub mod sheet;
pub mod store;
pub mod sync;

pub use projection::Changes;
pub use store::Store;
use tsunagi_proto::Seq;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the local store failed: {0}")]
    Store(String),
    /// The log skipped an entry: nothing of the batch was applied.
    #[error("the log jumped from {expected} to {got}")]
    Gap { expected: Seq, got: Seq },
    #[error(transparent)]
    Relay(#[from] relay::Error),
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Invalid(String),
    /// Asked about something this desk has never seen.
    #[error("{0}")]
    NotFound(String),
    /// An answer to a chat the operator does not hold.
    #[error("conversation {0} is not yours to answer: claim it first")]
    NotYours(tsunagi_proto::ConversationId),
    /// The log says there is no such thing to fetch (media the user unsent, or that the
    /// relay could not keep): not asked of the relay.
    #[error("{0}")]
    Unavailable(String),
}

/// An op the relay would refuse is refused here, with every reason.
impl From<tsunagi_domain::validate::OpProblems> for Error {
    fn from(problems: tsunagi_domain::validate::OpProblems) -> Self {
        Error::Invalid(problems.to_string())
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Error::Store(error.to_string())
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::Store(error.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
