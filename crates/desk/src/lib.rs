//! Tsunagi's desktop core, without Tauri: the local store, the projection of the relay's
//! log into it, sync with the relay, and the queries behind the inbox. The app and
//! `tsunagi-cli` only call into this crate.

pub mod actions;
pub mod alerts;
pub mod analytics;
mod columns;
pub mod credentials;
pub mod detail;
pub mod export;
pub mod folder;
pub mod id;
pub mod inbox;
pub mod lock;
pub mod media;
pub mod outbox;
pub mod outreach;
pub mod private;
pub mod profile;
pub mod projection;
pub mod query;
pub mod relay;
pub mod relay_url;
pub mod retention;
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
    Store(#[from] StoreError),
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

/// What failed in the desk's own keeping (its store, its files, its keyring), by kind, with
/// the cause kept as its source.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed or refused, as sqlx tells it (busy, full, I/O, a constraint).
    #[error(transparent)]
    Query(#[from] sqlx::Error),
    /// SQLite failed or refused, as rusqlite tells it (the projection's writer).
    #[error(transparent)]
    Write(#[from] rusqlite::Error),
    /// A file of the desk's data directory could not be read, written or removed.
    #[error("{what}: {source}")]
    File {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The store or a file holds what this version cannot read: damaged, or written by a
    /// newer version.
    #[error("{0}")]
    Unreadable(String),
    /// Something this desk made could not be written out (JSON, a CSV, a workbook).
    #[error("{what}: {source}")]
    Encoding {
        what: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Upgrading the store's schema failed.
    #[error("upgrading the store: {0}")]
    Upgrade(#[from] sqlx::migrate::MigrateError),
    /// The store's writer is gone (the desk is shutting down).
    #[error("the writer stopped")]
    Stopped,
    /// The store does not hold what it must by now (an op the relay logged, after a pull).
    #[error("{0}")]
    Missing(String),
    /// The OS keyring, or the file that stands in for it, failed.
    #[error(transparent)]
    Vault(#[from] credentials::VaultError),
}

impl Error {
    /// The store or a file holds what this version cannot read.
    pub(crate) fn unreadable(what: impl Into<String>) -> Self {
        StoreError::Unreadable(what.into()).into()
    }

    /// A file of the data directory failed `what`.
    pub(crate) fn file(what: impl Into<String>, source: std::io::Error) -> Self {
        StoreError::File {
            what: what.into(),
            source,
        }
        .into()
    }

    /// Writing `what` out failed.
    pub(crate) fn encoding(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Encoding {
            what: what.into(),
            source: Box::new(source),
        }
        .into()
    }

    /// The store does not hold what it must by now.
    pub(crate) fn missing(what: impl Into<String>) -> Self {
        StoreError::Missing(what.into()).into()
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        StoreError::from(error).into()
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::from(error).into()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_error_keeps_its_kind_and_its_cause() {
        let denied = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let error = Error::file("saving profile.json", denied);
        assert!(matches!(&error, Error::Store(StoreError::File { .. })));
        let cause = std::error::Error::source(&error)
            .and_then(std::error::Error::source)
            .and_then(|cause| cause.downcast_ref::<std::io::Error>())
            .map(std::io::Error::kind);
        assert_eq!(cause, Some(std::io::ErrorKind::PermissionDenied));
        assert_eq!(
            error.to_string(),
            "the local store failed: saving profile.json: denied"
        );
        let sqlite: Error = rusqlite::Error::QueryReturnedNoRows.into();
        assert!(matches!(
            sqlite,
            Error::Store(StoreError::Write(rusqlite::Error::QueryReturnedNoRows))
        ));
    }
}
