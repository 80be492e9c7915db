//! Applying the log to the store: entry by entry, in order, in the transaction that also
//! moves the cursor, so a crash anywhere leaves the store at an entry boundary. Time is the
//! entry's `at`, never the local clock. Applying an entry the store already has changes
//! nothing.
//!
//! The rooms: this file takes a batch and hands each entry on; `line` applies what LINE
//! sent, `ops` what devices and the relay's executor logged (by family: `sessions`, `sends`,
//! `contacts`, `settings`, `outreach`, `media`); `rows` holds the writes they share (a
//! message row, a contact, an inbox preview).

use std::collections::BTreeSet;

use tsunagi_domain::session;
use tsunagi_line::UserId;
use tsunagi_proto::{AlertReason, ConversationId, DeviceId, Entry, EntryBody, Seq};

use crate::alerts::Happened;
use crate::store::Store;
use crate::{Error, Result};

mod consents;
mod contacts;
mod erase;
mod expire;
mod line;
mod media;
mod ops;
mod outreach;
mod rows;
mod sends;
mod sessions;
mod settings;

pub(crate) use settings::LINE_ACCOUNT;

/// How long LINE accepts a reply token after the webhook arrived (with a margin): as long
/// as the relay's executor uses one.
pub const REPLY_TOKEN_LIFETIME_MS: i64 = tsunagi_domain::automation::REPLY_TOKEN_MS;
pub use crate::columns::MESSAGES_PER_ENTRY;

/// What an applied batch changed, for the app to refresh.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub conversations: BTreeSet<ConversationId>,
    pub contacts: BTreeSet<UserId>,
    pub settings: bool,
    /// A follower sync began, moved on or ended.
    pub followers: bool,
    /// A reminder was scheduled, cancelled, or LINE answered for some of its recipients.
    pub reminders: bool,
    /// The devices whose ops were applied (to learn the names of new operators).
    pub devices: BTreeSet<DeviceId>,
    /// Alerts the executor raised, in log order.
    pub alerts: Vec<(ConversationId, AlertReason)>,
    /// What may call for an alert on this desk, in log order ([`crate::alerts::decide`]).
    pub happened: Vec<Happened>,
    /// The seq the store is at now.
    pub cursor: Seq,
    /// A patient was erased: the store is checkpointed, and the media cache deletes what
    /// `erased_media` lists.
    pub erased: bool,
    /// Applied as it happened, not while catching up on what the desk missed (set by
    /// sync: alerts for old entries are not news).
    pub live: bool,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty()
            && self.contacts.is_empty()
            && !self.settings
            && !self.followers
            && !self.reminders
            && self.happened.is_empty()
    }
}

impl Store {
    /// Applies `entries` (consecutive, in order) in one transaction. Entries at or before
    /// the cursor are skipped; a gap is an error and applies nothing.
    pub async fn apply(&self, entries: &[Entry]) -> Result<Changes> {
        let entries = entries.to_vec();
        let changes = self.writer.run(move |db| apply(db, &entries)).await?;
        if changes.erased {
            self.writer.empty_the_log().await?;
        }
        Ok(changes)
    }
}

pub(crate) fn apply(db: &mut rusqlite::Connection, entries: &[Entry]) -> Result<Changes> {
    let tx = db.transaction()?;
    let cursor: i64 = tx.query_row("SELECT seq FROM cursor", [], |row| row.get(0))?;
    let mut at = Seq(cursor as u64);
    let mut changes = Changes::default();
    for entry in entries {
        if entry.seq <= at {
            continue;
        }
        if entry.seq != at.next() {
            return Err(Error::Gap {
                expected: at.next(),
                got: entry.seq,
            });
        }
        apply_entry(&tx, entry, &mut changes)?;
        at = entry.seq;
    }
    if at.0 as i64 != cursor {
        tx.prepare_cached("UPDATE cursor SET seq = ?")?
            .execute([at.0 as i64])?;
    }
    tx.commit()?;
    changes.cursor = at;
    Ok(changes)
}

fn apply_entry(db: &rusqlite::Connection, entry: &Entry, changes: &mut Changes) -> Result<()> {
    match &entry.body {
        EntryBody::Line { event, .. } => line::line_event(db, entry, event, changes),
        EntryBody::Op {
            op_id,
            device,
            role,
            op,
        } => {
            let actor = session::Actor::new(device, *role);
            ops::operation(db, entry, *op_id, device, &actor, op, changes)
        }
    }
}
