//! A night's purge of what the clinic's retention keeps no longer ([`Operation::Expire`]),
//! judged entry by entry as an erase is ([`crate::erasure`]), so the relay's log and every
//! desk keep the same:
//!
//! - messages older than their time go, both ways (a patient's LINE message or its edit,
//!   the team's send and its outcome), their media with them;
//! - media older than its time goes, the message staying: its `media` op says it is gone;
//! - the AI responder's decisions older than their time go;
//! - the audit's records older than their time go: exports, reads and typing (an erase
//!   stays: a desk that meets it late must still purge the patient).
//!
//! What is about a contact on hold stays, whatever its age. The patient's follows, taps and
//! consents are not messages: they stay.

use std::collections::{BTreeSet, HashSet};

use tsunagi_line::{MessageId, UserId};
use tsunagi_proto::{
    ConversationId, Cutoffs, LoggedOp, MediaOutcome, OpId, Operation, Seq, UnixMillis,
};

use crate::erasure::{Chain, Judge, Verdict, uploads_in};

#[derive(Debug, Clone)]
pub struct Expiry {
    before: Cutoffs,
    held: HashSet<String>,
    /// What went tonight (messages with their media), and so what follows from it.
    went: Chain,
    /// Messages whose media alone goes (the messages stay).
    media_only: HashSet<MessageId>,
    /// Messages whose media goes tonight (their media op said it was kept).
    media_gone: BTreeSet<MessageId>,
    uploads: BTreeSet<String>,
}

impl Expiry {
    pub fn new(before: Cutoffs, held: &[UserId]) -> Self {
        Self {
            before,
            held: held.iter().map(|u| u.as_str().to_owned()).collect(),
            went: Chain::default(),
            media_only: HashSet::new(),
            media_gone: BTreeSet::new(),
            uploads: BTreeSet::new(),
        }
    }

    /// A message a desk deletes as this purge's (at `seq`, with LINE's id if it has one):
    /// what followed from it goes from the desk's audit too.
    pub fn message(&mut self, seq: Seq, message: Option<MessageId>) {
        self.went.seqs.insert(seq);
        self.went.messages.extend(message);
    }

    /// A message whose media a desk marks gone as this purge's.
    pub fn media(&mut self, message: MessageId) {
        self.media_only.insert(message.clone());
        self.media_gone.insert(message);
    }

    fn older(cutoff: Option<UnixMillis>, at: UnixMillis) -> bool {
        cutoff.is_some_and(|before| at < before)
    }

    fn is_held(&self, id: Option<&str>) -> bool {
        id.is_some_and(|id| self.held.contains(id))
    }

    fn erased(&mut self, seq: Seq, op_id: Option<OpId>) -> Verdict {
        self.went.seqs.insert(seq);
        self.went.ops.extend(op_id);
        Verdict::Erase
    }
}

impl Judge for Expiry {
    fn event(&mut self, seq: Seq, at: UnixMillis, event: &str) -> Verdict {
        let messages = Self::older(self.before.messages, at);
        let media = Self::older(self.before.media, at);
        if !(messages || media) {
            return Verdict::Keep;
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(event) else {
            return Verdict::Keep;
        };
        let kind = value.get("type").and_then(|t| t.as_str());
        if !matches!(kind, Some("message" | "messageEdited")) {
            return Verdict::Keep;
        }
        if self.is_held(value.pointer("/source/userId").and_then(|u| u.as_str())) {
            return Verdict::Keep;
        }
        let id = value
            .pointer("/message/id")
            .and_then(|id| id.as_str())
            .map(MessageId::new);
        if messages {
            self.went.messages.extend(id);
            return self.erased(seq, None);
        }
        self.media_only.extend(id);
        Verdict::Keep
    }

    fn op(&mut self, seq: Seq, at: UnixMillis, op_id: OpId, op: &str) -> Verdict {
        let Ok(LoggedOp::Known(op)) = serde_json::from_str::<LoggedOp>(op) else {
            return Verdict::Keep;
        };
        if self.went.follows(&op) {
            return self.erased(seq, None);
        }
        let chat_held = |conversation: &ConversationId| self.held.contains(conversation.as_str());
        match &op {
            Operation::Send(send)
                if Self::older(self.before.messages, at) && !chat_held(&send.conversation) =>
            {
                let json = serde_json::to_string(&send.messages).unwrap_or_default();
                self.uploads.extend(uploads_in(&json));
                self.erased(seq, Some(op_id))
            }
            Operation::Media { message, outcome } if self.media_only.contains(message) => {
                match outcome {
                    MediaOutcome::Gone => Verdict::Keep,
                    _ => {
                        self.media_gone.insert(message.clone());
                        Verdict::Rewrite(Operation::Media {
                            message: message.clone(),
                            outcome: MediaOutcome::Gone,
                        })
                    }
                }
            }
            Operation::AiAnswered { conversation, .. }
                if Self::older(self.before.ai, at) && !chat_held(conversation) =>
            {
                self.erased(seq, None)
            }
            // (An erase stays whatever its age: a desk restored from an old copy, or away
            // for long, must still meet it.)
            Operation::Export { contact }
                if Self::older(self.before.audit, at) && !self.is_held(Some(contact.as_str())) =>
            {
                self.erased(seq, None)
            }
            Operation::MarkRead { conversation, .. } | Operation::Typing { conversation, .. }
                if Self::older(self.before.audit, at) && !chat_held(conversation) =>
            {
                self.erased(seq, None)
            }
            _ => Verdict::Keep,
        }
    }

    fn media_gone(&self) -> Vec<MessageId> {
        let mut gone: BTreeSet<_> = self.went.messages.clone();
        gone.extend(self.media_gone.iter().cloned());
        gone.into_iter().collect()
    }

    fn uploads(&self) -> &BTreeSet<String> {
        &self.uploads
    }
}

#[cfg(test)]
mod tests;
