//! Who may log which operation, and who may cancel a reminder.

use tsunagi_proto::{Audience, Operation};

/// Whether only a channel's owners may log `op`: what changes how the bot answers
/// everyone (settings), what reaches many patients at once (a reminder to a tag or to
/// every follower), a follower sync (thousands of LINE calls), a copy of all a patient's
/// data, and its erasure. Staff answer chats, tag, note, and remind one patient.
pub fn owner_only(op: &Operation) -> bool {
    match op {
        Operation::Settings(_)
        | Operation::SyncFollowers
        | Operation::Export { .. }
        | Operation::Erase { .. }
        | Operation::Hold { .. } => true,
        Operation::ScheduleReminder(reminder) => !matches!(reminder.to, Audience::Contact { .. }),
        _ => false,
    }
}

/// Whether someone may cancel `reminder`: what only owners may schedule (a reminder to
/// many patients), only those who oversee the channel (owners) may cancel; a reminder to one
/// patient, anyone at a desk. (`oversees` as [`crate::session::Actor`] says it.)
pub fn may_cancel(reminder: &tsunagi_proto::Reminder, oversees: bool) -> bool {
    oversees || matches!(reminder.to, Audience::Contact { .. })
}

/// Who may log an op: people at desks, or only the relay's executor (it reports what LINE
/// did; a desk must not claim a message was sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Desk,
    Executor,
}

pub fn author(op: &Operation) -> Author {
    match op {
        Operation::Sent { .. }
        | Operation::SendFailed { .. }
        | Operation::Profiles { .. }
        | Operation::Sending { .. }
        | Operation::NotSent { .. }
        | Operation::Unanswered { .. }
        | Operation::Alert { .. }
        | Operation::Media { .. }
        | Operation::FollowerIds { .. }
        | Operation::FollowerSyncProgress { .. }
        | Operation::FollowerSyncDone { .. }
        | Operation::ReminderRecipients { .. }
        | Operation::ReminderDelivered { .. }
        // The relay logs these itself: a credential it now keeps, what the model
        // answered, what became of a Telegram alert.
        | Operation::CredentialSet { .. }
        | Operation::AiAnswered { .. }
        | Operation::TelegramSending { .. }
        | Operation::TelegramSent { .. }
        | Operation::LineAccount(_)
        // Only the relay writes a tombstone, and only over an entry it erased.
        | Operation::Erased
        | Operation::Expire { .. } => Author::Executor,
        _ => Author::Desk,
    }
}
