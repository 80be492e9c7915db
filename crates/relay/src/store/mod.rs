//! The log's storage, behind one trait with two backends: SQLite in the relay's data
//! folder (one process), and PostgreSQL (several relay processes on one database).

mod any;
mod columns;
mod entry;
mod erase;
mod error;
mod log_store;
mod postgres;
mod records;
mod shared;
mod sqlite;
mod writer;

pub use self::any::AnyStore;
pub use self::entry::{Appended, MessageLink, NewBody, NewEntry, tombstone};
pub use self::error::{InviteProblem, Result, StoreError};
pub use self::log_store::LogStore;
pub use self::postgres::PgStore;
pub use self::records::{Channel, Device, Fence, Invite, NewDevice, OutstandingInvite};
pub use self::sqlite::SqliteStore;
