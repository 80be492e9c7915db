//! What an operator does at a desk, with the rules that go with it, for every host: the
//! app's commands and `tsunagi-cli` call these and build no op of their own, so the two
//! behave alike by construction (a send is the holder's alone, and marks the chat read as
//! the clinic set, from either).
//!
//! Each action is made on a [`Joined`] desk. Those the log settles later are queued in the
//! outbox and answer the op's id at once: the app returns, the log decides, and the window
//! hears through the sync's changes; the CLI waits for the outcome with
//! [`Joined::settle`]. The owner's actions that must be answered now (a reminder, a
//! follower sync) go straight to the relay and come back pulled.

mod chat;
mod contacts;
mod reminders;

pub use chat::{ConversationView, HandoffRequest, Look, Outgoing, PendingAction, PendingKind};
pub use reminders::ReminderDraft;

use tsunagi_proto::{OpId, Operation, Seq, UnixMillis};

use crate::profile::Joined;
use crate::query::AuditRecord;
use crate::{Error, Result};

/// What became of an op this desk made, once it is in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Carried out, at this place in the log.
    Done(Seq),
    /// In the log at this place, and refused there: the log's reason.
    NotDone { seq: Seq, reason: String },
}

impl From<AuditRecord> for Settled {
    fn from(record: AuditRecord) -> Self {
        let seq = Seq(record.seq);
        if record.outcome == "applied" {
            Settled::Done(seq)
        } else {
            Settled::NotDone {
                seq,
                reason: record.reason.unwrap_or(record.outcome),
            }
        }
    }
}

impl Joined {
    /// Queues `op` in the outbox: it reaches the relay as soon as it can.
    async fn queue(&self, op: &Operation) -> Result<OpId> {
        self.sync.submit(op, UnixMillis::now()).await
    }

    /// Waits until the op `op_id` is in the log and applied here, pushing what waits first,
    /// and says what became of it. A relay out of reach is an error the outbox outlives:
    /// the op goes out on the next sync.
    pub async fn settle(&self, op_id: OpId) -> Result<Settled> {
        Ok(self.sync.settle(op_id).await?.into())
    }

    /// Appends `op` to the relay now and pulls it in: for the owner's changes that are
    /// answered at once, where a refusal is heard here and nothing waits to go out again.
    /// Refused in the log is refused here, with the log's reason.
    async fn append_now(&self, op: &Operation) -> Result<OpId> {
        let (op_id, _) = self.sync.append_and_pull(op).await?;
        let record = (self.sync.store().op_outcome(op_id).await?)
            .ok_or_else(|| Error::missing(format!("op {op_id} is in the log but not here")))?;
        match Settled::from(record) {
            Settled::Done(_) => Ok(op_id),
            Settled::NotDone { reason, .. } => Err(Error::Invalid(reason)),
        }
    }
}
