//! The bot kept between runs: a snapshot, and the shape the bot has in it.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use tsunagi_line::{MessageId, UserId};
use tsunagi_proto::{ConversationId, Credential, OpId, OperatorId, Seq, UnixMillis};

use super::{
    Bot, Chat, Contact, FollowerSync, Ledger, Pending, PendingMedia, Scheduled, Settings,
    TelegramAlert,
};

/// The version of [`Bot::snapshot`]'s format: a snapshot of another is not read (the
/// executor folds the log from the start instead).
/// 2: contacts keep the stop word they wrote and their consents (a relay of version 1's
/// snapshot folds the log again, so stop words written before the upgrade count).
/// 3: media waiting to be fetched knows its chat, so an erased patient's is never fetched.
pub const SNAPSHOT_VERSION: u32 = 3;

/// A snapshot this version cannot read.
#[derive(Debug, thiserror::Error)]
#[error("an executor snapshot this version cannot read: {0}")]
pub struct SnapshotError(String);

#[derive(serde::Serialize)]
struct SnapshotOut<'a> {
    version: u32,
    bot: &'a Bot,
}

#[derive(serde::Deserialize)]
struct SnapshotIn {
    version: u32,
    bot: Bot,
}

/// Just the version of a snapshot, to say which it is when it cannot be read.
#[derive(serde::Deserialize)]
struct SnapshotVersion {
    version: u32,
}

impl Bot {
    /// Everything folded so far, to start from instead of the log's first entry: what
    /// [`Bot::from_snapshot`] reads back into the same state.
    pub fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(&SnapshotOut {
            version: SNAPSHOT_VERSION,
            bot: self,
        })
        .unwrap_or_default()
    }

    pub fn from_snapshot(bytes: &[u8]) -> Result<Bot, SnapshotError> {
        let other_version = |version: u32| {
            SnapshotError(format!(
                "version {version} (this one reads {SNAPSHOT_VERSION})"
            ))
        };
        match serde_json::from_slice::<SnapshotIn>(bytes) {
            Ok(read) if read.version == SNAPSHOT_VERSION => Ok(read.bot),
            Ok(read) => Err(other_version(read.version)),
            // Another version's state may not parse as this one's: say which it was.
            Err(error) => match serde_json::from_slice::<SnapshotVersion>(bytes) {
                Ok(read) if read.version != SNAPSHOT_VERSION => Err(other_version(read.version)),
                _ => Err(SnapshotError(error.to_string())),
            },
        }
    }
}

/// The bot as a snapshot holds it, field by field in this order: each ledger as its
/// entries and its index by key, side by side. Written from a bot it borrows; read, it
/// owns.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename = "Bot")]
struct Stored<'a> {
    seq: Seq,
    settings: Cow<'a, Settings>,
    chats: Cow<'a, HashMap<ConversationId, Chat>>,
    contacts: Cow<'a, HashMap<UserId, Contact>>,
    pending: Cow<'a, BTreeMap<Seq, Pending>>,
    pending_by_op: Cow<'a, HashMap<OpId, Seq>>,
    waits: Cow<'a, VecDeque<i64>>,
    reminders: Cow<'a, BTreeMap<Seq, Scheduled>>,
    reminder_by_op: Cow<'a, HashMap<OpId, Seq>>,
    reminded: Cow<'a, HashMap<UserId, (OperatorId, UnixMillis)>>,
    media: Cow<'a, BTreeMap<Seq, PendingMedia>>,
    media_by_id: Cow<'a, HashMap<MessageId, Seq>>,
    syncs: Cow<'a, BTreeMap<Seq, FollowerSync>>,
    sync_by_op: Cow<'a, HashMap<OpId, Seq>>,
    #[serde(default)]
    credentials: Cow<'a, HashSet<Credential>>,
    #[serde(default)]
    telegram: Cow<'a, BTreeMap<Seq, TelegramAlert>>,
    #[serde(default)]
    expired_on: Option<jiff::civil::Date>,
}

impl serde::Serialize for Bot {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let stored = Stored {
            seq: self.seq,
            settings: Cow::Borrowed(&self.settings),
            chats: Cow::Borrowed(&self.chats),
            contacts: Cow::Borrowed(&self.contacts),
            pending: Cow::Borrowed(self.pending.entries()),
            pending_by_op: Cow::Borrowed(self.pending.by_key()),
            waits: Cow::Borrowed(&self.waits),
            reminders: Cow::Borrowed(self.reminders.entries()),
            reminder_by_op: Cow::Borrowed(self.reminders.by_key()),
            reminded: Cow::Borrowed(&self.reminded),
            media: Cow::Borrowed(self.media.entries()),
            media_by_id: Cow::Borrowed(self.media.by_key()),
            syncs: Cow::Borrowed(self.syncs.entries()),
            sync_by_op: Cow::Borrowed(self.syncs.by_key()),
            credentials: Cow::Borrowed(&self.credentials),
            telegram: Cow::Borrowed(&self.telegram),
            expired_on: self.expired_on,
        };
        serde::Serialize::serialize(&stored, serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Bot {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored: Stored = serde::Deserialize::deserialize(deserializer)?;
        Ok(Bot {
            seq: stored.seq,
            settings: stored.settings.into_owned(),
            chats: stored.chats.into_owned(),
            contacts: stored.contacts.into_owned(),
            pending: Ledger::from_parts(
                stored.pending.into_owned(),
                stored.pending_by_op.into_owned(),
            ),
            waits: stored.waits.into_owned(),
            reminders: Ledger::from_parts(
                stored.reminders.into_owned(),
                stored.reminder_by_op.into_owned(),
            ),
            reminded: stored.reminded.into_owned(),
            media: Ledger::from_parts(stored.media.into_owned(), stored.media_by_id.into_owned()),
            syncs: Ledger::from_parts(stored.syncs.into_owned(), stored.sync_by_op.into_owned()),
            credentials: stored.credentials.into_owned(),
            telegram: stored.telegram.into_owned(),
            expired_on: stored.expired_on,
        })
    }
}
