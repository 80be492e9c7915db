//! Erasing a patient from the log: which entries go, which are rewritten without them, and
//! which stay. The relay judges its log with this when it logs an erase, and each desk its
//! audit trail when it applies one, so both keep the same.
//!
//! An entry goes when it is about the patient: a LINE event that names their user id, an
//! op about their chat or contact, and what followed from those (a send's outcome, the media
//! of their messages, the AI's decision on their question, a Telegram alert they caused, a
//! reminder only to them). An op about many patients (a profile batch, a follower page, a
//! reminder's recipients) is rewritten without them. Whatever still names them after that
//! goes too, so no op that this version does not understand keeps their id. The erase op
//! itself stays: it is the audit of who erased which LINE user id, and when.

use std::collections::{BTreeSet, HashSet};

use tsunagi_line::{MessageId, UserId};
use tsunagi_proto::{Audience, ConversationId, LoggedOp, OpId, Operation, Seq, UnixMillis};

/// What the relay keeps of an erased entry, op or LINE event alike: its place in the log.
/// A desk and the executor skip it (an event without a source is about nobody).
pub const ERASED: &str = r#"{"type":"erased"}"#;

/// The relay's public path of an operator's upload; the name (32 hex digits) follows.
const UPLOAD_PATH: &str = "/public/uploads/";

/// Judges a log's entries in order: an erasure, or a night's expiry.
pub trait Judge {
    /// A LINE event, as logged, at `at`.
    fn event(&mut self, seq: Seq, at: UnixMillis, event: &str) -> Verdict;
    /// An op, as logged (`op` its JSON), at `at`.
    fn op(&mut self, seq: Seq, at: UnixMillis, op_id: OpId, op: &str) -> Verdict;
    /// LINE's ids of the messages whose media goes.
    fn media_gone(&self) -> Vec<MessageId>;
    /// The names of the uploads that go (unless something kept still names them).
    fn uploads(&self) -> &BTreeSet<String>;
}

impl Judge for Erasure {
    fn event(&mut self, seq: Seq, _: UnixMillis, event: &str) -> Verdict {
        Erasure::event(self, seq, event)
    }

    fn op(&mut self, seq: Seq, _: UnixMillis, op_id: OpId, op: &str) -> Verdict {
        Erasure::op(self, seq, op_id, op)
    }

    fn media_gone(&self) -> Vec<MessageId> {
        self.went.messages.iter().cloned().collect()
    }

    fn uploads(&self) -> &BTreeSet<String> {
        &self.uploads
    }
}

/// What becomes of one entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Keep,
    /// Replaced by [`ERASED`].
    Erase,
    /// Kept without the patient: this op instead.
    Rewrite(Operation),
}

/// One erasure, judging a log's entries in order (an outcome always follows what it is
/// the outcome of).
#[derive(Debug, Clone)]
pub struct Erasure {
    contact: UserId,
    chat: ConversationId,
    /// What was erased, and so what follows from it.
    went: Chain,
    /// The relay's uploads that were sent to them.
    uploads: BTreeSet<String>,
}

impl Erasure {
    pub fn new(contact: UserId) -> Self {
        let chat = ConversationId::from(contact.as_str());
        Self {
            contact,
            chat,
            went: Chain::default(),
            uploads: BTreeSet::new(),
        }
    }

    pub fn contact(&self) -> &UserId {
        &self.contact
    }

    /// LINE's ids of the messages erased, in and out: their media is deleted.
    pub fn messages(&self) -> &BTreeSet<MessageId> {
        &self.went.messages
    }

    /// The names of the uploads sent to the patient. One sent to others too is still
    /// named in what stays: the caller keeps it then.
    pub fn uploads(&self) -> &BTreeSet<String> {
        &self.uploads
    }

    /// Whether `text` (an entry as stored) names the patient.
    pub fn names(&self, text: &str) -> bool {
        text.contains(self.contact.as_str())
    }

    /// A LINE event, as logged: it goes if it names the patient anywhere (their message,
    /// follow, tap, or a group event they are in).
    pub fn event(&mut self, seq: Seq, event: &str) -> Verdict {
        if !self.names(event) {
            return Verdict::Keep;
        }
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(event)
            && let Some(id) = value.pointer("/message/id").and_then(|id| id.as_str())
        {
            self.went.messages.insert(MessageId::new(id));
        }
        self.went.seqs.insert(seq);
        Verdict::Erase
    }

    /// A message of the patient's chat, as a desk keeps it (in or out, at the entry
    /// `seq`, with LINE's id if it has one): what a desk knows of the LINE events the relay
    /// erased, so what followed from them goes too.
    pub fn message(&mut self, seq: Seq, message: Option<MessageId>) {
        self.went.seqs.insert(seq);
        self.went.messages.extend(message);
    }

    /// An op, as logged: `op` its JSON, `op_id` its id.
    pub fn op(&mut self, seq: Seq, op_id: OpId, op: &str) -> Verdict {
        let named = self.names(op);
        // Most ops neither name the patient nor follow from what does.
        if !named && self.went.is_empty() {
            return Verdict::Keep;
        }
        let verdict = match serde_json::from_str::<LoggedOp>(op) {
            Ok(LoggedOp::Known(Operation::Erase { .. })) => return Verdict::Keep,
            Ok(LoggedOp::Known(known)) => match self.known(op_id, &known) {
                // Nothing kept may still name them, wherever a newer field put their id.
                Verdict::Keep if named => Verdict::Erase,
                Verdict::Rewrite(kept)
                    if serde_json::to_string(&kept).is_ok_and(|json| self.names(&json)) =>
                {
                    Verdict::Erase
                }
                verdict => verdict,
            },
            Ok(LoggedOp::Unsupported(_)) | Err(_) if named => Verdict::Erase,
            Ok(LoggedOp::Unsupported(_)) | Err(_) => Verdict::Keep,
        };
        if verdict == Verdict::Erase {
            self.went.seqs.insert(seq);
            self.went.ops.insert(op_id);
        }
        verdict
    }

    fn known(&mut self, op_id: OpId, op: &Operation) -> Verdict {
        let erase = |yes: bool| if yes { Verdict::Erase } else { Verdict::Keep };
        if self.went.follows(op) {
            return Verdict::Erase;
        }
        match op {
            Operation::Erase { .. } | Operation::Erased => Verdict::Keep,
            Operation::Send(send) if send.conversation == self.chat => {
                let json = serde_json::to_string(&send.messages).unwrap_or_default();
                self.uploads.extend(uploads_in(&json));
                self.went.ops.insert(op_id);
                Verdict::Erase
            }
            Operation::Note { contact, .. }
            | Operation::ContactFields { contact, .. }
            | Operation::Tag { contact, .. }
            | Operation::Export { contact }
            | Operation::Consent { contact, .. } => erase(*contact == self.contact),
            Operation::AiAnswered { conversation, .. } => erase(*conversation == self.chat),
            Operation::ScheduleReminder(reminder) => {
                let theirs =
                    matches!(&reminder.to, Audience::Contact { user } if *user == self.contact);
                if theirs {
                    self.went.ops.insert(op_id);
                }
                erase(theirs)
            }
            Operation::CancelReminder { reminder } => erase(self.went.ops.contains(reminder)),
            Operation::ReminderRecipients {
                reminder,
                recipients,
            } => {
                if self.went.ops.contains(reminder) {
                    return Verdict::Erase;
                }
                self.rewrite(recipients, |kept| Operation::ReminderRecipients {
                    reminder: *reminder,
                    recipients: kept,
                })
            }
            Operation::ReminderDelivered {
                reminder,
                part,
                results,
            } => {
                if self.went.ops.contains(reminder) {
                    return Verdict::Erase;
                }
                let kept: Vec<_> = results
                    .iter()
                    .filter(|r| r.user != self.contact)
                    .cloned()
                    .collect();
                if kept.len() == results.len() {
                    return Verdict::Keep;
                }
                Verdict::Rewrite(Operation::ReminderDelivered {
                    reminder: *reminder,
                    part: *part,
                    results: kept,
                })
            }
            Operation::Profiles { profiles } => {
                let kept: Vec<_> = profiles
                    .iter()
                    .filter(|p| p.user_id != self.contact)
                    .cloned()
                    .collect();
                if kept.len() == profiles.len() {
                    Verdict::Keep
                } else if kept.is_empty() {
                    Verdict::Erase
                } else {
                    Verdict::Rewrite(Operation::Profiles { profiles: kept })
                }
            }
            Operation::Expire { before, held } => self.rewrite(held, |kept| Operation::Expire {
                before: *before,
                held: kept,
            }),
            Operation::FollowerIds {
                sync,
                page,
                user_ids,
                next,
            } => self.rewrite(user_ids, |kept| Operation::FollowerIds {
                sync: *sync,
                page: *page,
                user_ids: kept,
                next: next.clone(),
            }),
            Operation::FollowerSyncProgress {
                sync,
                done,
                total,
                skipped,
            } => self.rewrite(skipped, |kept| Operation::FollowerSyncProgress {
                sync: *sync,
                done: *done,
                total: *total,
                skipped: kept,
            }),
            op => erase(op.conversation() == Some(&self.chat)),
        }
    }

    /// `ids` without the patient, made into an op by `op`; kept as it was if they are not
    /// among them.
    fn rewrite(&self, ids: &[UserId], op: impl FnOnce(Vec<UserId>) -> Operation) -> Verdict {
        if !ids.contains(&self.contact) {
            return Verdict::Keep;
        }
        Verdict::Rewrite(op(ids
            .iter()
            .filter(|id| **id != self.contact)
            .cloned()
            .collect()))
    }
}

/// What went, and so what follows from it goes too: a send's outcomes, the media op of a
/// message, a Telegram alert or an AI decision whose cause went. Both judges keep one.
#[derive(Debug, Clone, Default)]
pub(crate) struct Chain {
    /// Entries that went.
    pub(crate) seqs: HashSet<Seq>,
    /// Sends (and, for an erase, reminders) that went.
    pub(crate) ops: HashSet<OpId>,
    /// LINE's ids of the messages that went, in and out.
    pub(crate) messages: BTreeSet<MessageId>,
}

impl Chain {
    /// Whether `op` followed from something that went (a send's delivery adds the ids of
    /// what it sent).
    pub(crate) fn follows(&mut self, op: &Operation) -> bool {
        match op {
            Operation::Sent {
                send, message_ids, ..
            } if self.ops.contains(send) => {
                self.messages.extend(message_ids.iter().cloned());
                true
            }
            Operation::SendFailed { send, .. }
            | Operation::Sending { send, .. }
            | Operation::NotSent { send, .. }
            | Operation::Unanswered { send, .. } => self.ops.contains(send),
            Operation::Media { message, .. } => self.messages.contains(message),
            Operation::TelegramSending { cause } | Operation::TelegramSent { cause, .. } => {
                self.seqs.contains(cause)
            }
            Operation::AiAnswered { question, .. } => self.seqs.contains(question),
            _ => false,
        }
    }

    /// Whether nothing went yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.seqs.is_empty() && self.ops.is_empty() && self.messages.is_empty()
    }
}

/// The upload names in a send's JSON: what follows the relay's public upload path.
pub(crate) fn uploads_in(json: &str) -> impl Iterator<Item = String> + '_ {
    json.match_indices(UPLOAD_PATH).filter_map(|(at, _)| {
        let name = json.get(at + UPLOAD_PATH.len()..at + UPLOAD_PATH.len() + 32)?;
        name.bytes()
            .all(|b| b.is_ascii_hexdigit())
            .then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests;
