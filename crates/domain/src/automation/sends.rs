//! Sends in the log that LINE has not taken yet, and how each goes out: by a reply token
//! while one is fresh, else by push, and what LINE refusing a token means.

use tsunagi_line::client::RetryKey;
use tsunagi_line::id::ReplyToken;
use tsunagi_line::message::{Message, MessageBody};
use tsunagi_proto::UnixMillis;
use tsunagi_proto::{ConversationId, Delivery, Entry, EntryBody, OpId, Operation, SendOp, Seq};
use uuid::Uuid;

use super::Bot;
use super::chat::Token;

/// How long after its webhook arrived a reply token is used; LINE allows about a minute.
pub const REPLY_TOKEN_MS: i64 = 50_000;
/// Most messages in one LINE call.
pub const MESSAGES_PER_CALL: usize = 5;
/// A send not delivered within LINE's retry-key memory fails instead of going out late.
pub const SEND_EXPIRES_MS: i64 = 24 * 60 * 60 * 1000;

/// A send in the log that LINE has not taken yet.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    pub op_id: OpId,
    pub seq: Seq,
    pub at: UnixMillis,
    pub send: SendOp,
    /// How an earlier attempt went out, if one was logged (`sending`).
    pub attempt: Option<Attempt>,
    /// Attempts LINE certainly did not carry out (`not_sent`).
    pub failed_attempts: u32,
}

impl Pending {
    /// The id of the note of a new attempt by `via`; each attempt after one LINE certainly
    /// did not carry out is noted anew.
    pub fn attempt_cause(&self, via: Delivery) -> String {
        let via = match via {
            Delivery::Reply => "reply",
            Delivery::Push => "push",
        };
        match self.failed_attempts {
            0 => format!("sending/{}/{via}", self.op_id),
            n => format!("sending/{}/{via}/{n}", self.op_id),
        }
    }

    /// The id of the record that LINE did not carry out the attempt noted last.
    pub fn not_sent_cause(&self) -> String {
        format!("not-sent/{}/{}", self.op_id, self.failed_attempts)
    }

    /// Whether the attempt noted last was by reply, may have gone out, and its token is no
    /// longer known (it was dropped from the chat's few kept tokens before the note was
    /// read): it can be neither asked about again nor pushed after, which could answer
    /// twice. The executor ends such a send unconfirmed rather than plan it.
    pub fn lost_reply(&self) -> bool {
        matches!(
            self.attempt,
            Some(Attempt::Reply {
                token: None,
                open: true,
                ..
            })
        )
    }

    /// The id of the record that LINE's answer to the attempt noted last was a 5xx or lost.
    pub fn unanswered_cause(&self) -> String {
        format!("unanswered/{}/{}", self.op_id, self.failed_attempts)
    }
}

/// A delivery attempt noted in the log before it was made.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Attempt {
    /// With the reply token of the entry `of` (`None` if it is no longer known), given at
    /// `at`. `open` until LINE certainly refused it: LINE may have carried it out.
    /// `unanswered` once LINE answered it 5xx or not at all.
    Reply {
        token: Option<ReplyToken>,
        of: Seq,
        at: UnixMillis,
        open: bool,
        #[serde(default)]
        unanswered: bool,
    },
    Push,
}

/// How one LINE call of a send goes out.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// With the reply token of the entry `of`; `if_spent` says what LINE refusing the token
    /// means.
    Reply {
        token: ReplyToken,
        of: Seq,
        if_spent: IfSpent,
    },
    Push {
        to: ConversationId,
        key: RetryKey,
    },
}

/// What LINE answering that a reply token is used or too old means for a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfSpent {
    /// A new attempt (noted first): nothing went out, so push instead.
    Push,
    /// The attempt noted before was cut short by the executor stopping (LINE gave no
    /// failure), and its token is still within LINE's minute: only that attempt can have
    /// used it, and LINE carries out what it takes, so the send went out.
    WentOut,
    /// An attempt with it may have gone out, and LINE answered it 5xx or not at all, or the
    /// token is old enough to have lapsed: whether the patient has the message cannot be
    /// known. Never pushed, which could answer twice; the desk hears that it may not have
    /// arrived. (Asking again while the token lasts is safe: a token works once, so LINE
    /// taking it now proves the first attempt did not.)
    Unconfirmed,
}

/// One LINE call of a send: up to five messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub messages: Vec<Message>,
    pub route: Route,
}

impl Bot {
    /// Sends waiting for LINE, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &Pending> {
        self.pending.values()
    }

    /// How `pending` goes out at `now`, a call per five messages. The first call uses a
    /// reply token of the conversation if the send prefers it and one is fresh and unused;
    /// the others push, each with its own retry key drawn from the send's.
    pub fn plan(&self, pending: &Pending, now: UnixMillis) -> Vec<Call> {
        let send = &pending.send;
        let push = Route::Push {
            to: send.conversation.clone(),
            key: send.retry_key,
        };
        let fresh = |at: UnixMillis| now.0 - at.0 <= REPLY_TOKEN_MS;
        let first = match &pending.attempt {
            Some(Attempt::Reply {
                token: Some(token),
                of,
                at,
                open,
                unanswered,
            }) => match (*open, fresh(*at)) {
                (true, true) if !*unanswered => Route::Reply {
                    token: token.clone(),
                    of: *of,
                    if_spent: IfSpent::WentOut,
                },
                (true, _) => Route::Reply {
                    token: token.clone(),
                    of: *of,
                    if_spent: IfSpent::Unconfirmed,
                },
                // LINE did not take the last attempt: another, while the token lasts.
                (false, true) => Route::Reply {
                    token: token.clone(),
                    of: *of,
                    if_spent: IfSpent::Push,
                },
                (false, false) => push,
            },
            Some(Attempt::Push) | Some(Attempt::Reply { token: None, .. }) => push,
            None => match self.fresh_token(&send.conversation, now) {
                Some(token) if send.prefer_reply_token => Route::Reply {
                    token: token.token.clone(),
                    of: token.of,
                    if_spent: IfSpent::Push,
                },
                _ => push,
            },
        };
        send.messages
            .chunks(MESSAGES_PER_CALL)
            .enumerate()
            .map(|(n, messages)| Call {
                messages: messages.to_vec(),
                route: if n == 0 {
                    first.clone()
                } else {
                    Route::Push {
                        to: send.conversation.clone(),
                        key: part_key(send.retry_key, n),
                    }
                },
            })
            .collect()
    }

    /// A reply token of the chat that is unused and still alive, the newest first: a
    /// patient who wrote and then tapped "talk to staff" gave two, and the bot's queue line
    /// took only one, so the operator's answer a moment later is still free.
    pub(super) fn fresh_token(
        &self,
        conversation: &ConversationId,
        now: UnixMillis,
    ) -> Option<&Token> {
        self.chats
            .get(conversation)?
            .tokens
            .iter()
            .rev()
            .find(|t| !t.used && now.0 - t.at.0 <= REPLY_TOKEN_MS)
    }

    /// A send of `messages` to the chat, its retry key given by `log`.
    pub(super) fn send(&self, conversation: &ConversationId, messages: Vec<Message>) -> Operation {
        Operation::Send(SendOp {
            conversation: conversation.clone(),
            messages,
            // Replaced by the op's own id in `log`, so a decision made twice keeps its key.
            retry_key: RetryKey(Uuid::nil()),
            prefer_reply_token: true,
        })
    }

    /// A send logged: it waits for LINE. The chat was active.
    pub(super) fn fold_send(&mut self, entry: &Entry, send: &SendOp) {
        let op_id = match &entry.body {
            EntryBody::Op { op_id, .. } => *op_id,
            EntryBody::Line { .. } => return,
        };
        let keeps_texts = self.settings.ai.is_some();
        let chat = self.chat(&send.conversation, entry);
        chat.active_at = entry.at;
        chat.active_seq = entry.seq;
        for message in &send.messages {
            if let MessageBody::Text { text, .. } = &message.body
                && keeps_texts
            {
                chat.note_said(entry.seq, false, text);
            }
        }
        // An owed greeting that went out (the executor logged it before a restart).
        if chat
            .owed_greeting
            .as_ref()
            .is_some_and(|owed| OpId::derived(&owed.cause) == op_id)
        {
            chat.owed_greeting = None;
        }
        self.pending.insert(
            entry.seq,
            op_id,
            Pending {
                op_id,
                seq: entry.seq,
                at: entry.at,
                send: send.clone(),
                attempt: None,
                failed_attempts: 0,
            },
        );
    }

    /// An attempt noted before it is made; a reply takes its token.
    pub(super) fn fold_sending(&mut self, send: &OpId, via: &Delivery, token_of: &Option<Seq>) {
        let Some(pending) = self.pending.get_mut(send) else {
            return;
        };
        pending.attempt = Some(match (via, token_of) {
            (Delivery::Reply, Some(of)) => {
                let token = self
                    .chats
                    .get_mut(&pending.send.conversation)
                    .and_then(|c| c.tokens.iter_mut().find(|t| t.of == *of));
                let at = token.as_ref().map_or(UnixMillis(0), |t| t.at);
                Attempt::Reply {
                    token: token.map(|t| {
                        t.used = true;
                        t.token.clone()
                    }),
                    of: *of,
                    at,
                    open: true,
                    unanswered: false,
                }
            }
            _ => Attempt::Push,
        });
    }

    /// LINE certainly did not carry out the attempt noted last.
    pub(super) fn fold_not_sent(&mut self, send: &OpId) {
        let Some(pending) = self.pending.get_mut(send) else {
            return;
        };
        pending.failed_attempts += 1;
        if let Some(Attempt::Reply { open, .. }) = &mut pending.attempt {
            *open = false;
        }
    }

    /// LINE answered the reply attempt noted last with 5xx, or not at all.
    pub(super) fn fold_unanswered(&mut self, send: &OpId) {
        if let Some(Attempt::Reply { unanswered, .. }) = self
            .pending
            .get_mut(send)
            .and_then(|pending| pending.attempt.as_mut())
        {
            *unanswered = true;
        }
    }

    /// The send went out, or failed for good: it waits no more.
    pub(super) fn fold_settled(&mut self, send: &OpId) {
        self.pending.remove(send);
    }
}

/// The retry key of the `n`th call of a send (the first uses the send's own).
fn part_key(key: RetryKey, n: usize) -> RetryKey {
    RetryKey(Uuid::new_v5(&key.0, format!("part/{n}").as_bytes()))
}
