//! A conversation: opening it (and what that tells LINE), the handoff controls, answering,
//! and the typing animation.

use serde::{Deserialize, Serialize};
use tsunagi_line::QuoteToken;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::{Action, Message, MessageBody, Template};
use tsunagi_proto::{
    ConsentKind, ConversationId, ConversationMode, OpId, Operation, OperatorId, SendOp, UnixMillis,
};

use crate::detail::{ContactDetail, HandoffEvent};
use crate::outbox::PendingOp;
use crate::profile::Joined;
use crate::query::{ChatKind, InboxItem, MessageView, MessagesPage, SessionStatus, SessionSummary};
use crate::settings::Seen;
use crate::{Error, Result};

/// Messages in the first page of a conversation.
const FIRST_PAGE: u32 = 60;

/// How long LINE shows the loading animation for one [`Joined::typing`]; a host asks again
/// while the operator keeps writing.
const TYPING_SECONDS: u32 = 20;

/// How a conversation is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// The operator chose it: it is read, on this desk and (as the clinic set) for the
    /// patient on LINE.
    Read,
    /// Shown and nothing changed: no read mark here or on LINE. What a link opens, since
    /// anyone can make one and the chat must not look read because of it.
    Glance,
}

/// What the conversation pane shows at first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConversationView {
    pub item: InboxItem,
    /// The newest messages, oldest first.
    pub messages: Vec<MessageView>,
    /// Whether older messages exist before `messages`.
    pub has_older: bool,
    pub handoffs: Vec<HandoffEvent>,
    /// This desk's actions on the chat that have not reached the log.
    pub pending: Vec<PendingAction>,
    pub contact: Option<ContactDetail>,
    /// Earlier sessions, newest first.
    pub sessions: Vec<SessionSummary>,
    /// Until when an answer goes free, on a reply token the patient gave that nothing has
    /// used yet; null: it would count against the month's messages.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub free_reply_until: Option<i64>,
}

/// An action of this desk not yet in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PendingAction {
    pub op_id: String,
    pub kind: PendingKind,
    /// A send's text.
    pub text: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created_at: i64,
    pub last_error: Option<String>,
    /// The relay refused it: it will not go out unless retried.
    pub refused: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    Claim,
    Release,
    Transfer,
    Close,
    SetMode,
    Send,
    Other,
}

impl PendingAction {
    /// How the pane shows a waiting op; `None` for what only LINE's screens show (the
    /// patient's "Read", the typing dots), which goes out on its own: nothing for the
    /// operator to wait for or cancel.
    fn shown(pending: &PendingOp) -> Option<PendingAction> {
        let (kind, text) = match &pending.op {
            Operation::MarkRead { .. } | Operation::Typing { .. } => return None,
            Operation::Claim { .. } => (PendingKind::Claim, None),
            Operation::Release { .. } => (PendingKind::Release, None),
            Operation::Transfer { .. } => (PendingKind::Transfer, None),
            Operation::Close { .. } => (PendingKind::Close, None),
            Operation::SetMode { .. } => (PendingKind::SetMode, None),
            Operation::Send(send) => {
                let text = send.messages.iter().find_map(|m| match &m.body {
                    MessageBody::Text { text, .. } => Some(text.clone()),
                    _ => None,
                });
                (PendingKind::Send, text)
            }
            _ => (PendingKind::Other, None),
        };
        Some(PendingAction {
            op_id: pending.op_id.to_string(),
            kind,
            text,
            created_at: pending.created_at,
            last_error: pending.last_error.clone(),
            refused: pending.refused,
        })
    }
}

/// A handoff control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HandoffRequest {
    Claim,
    Release,
    Close,
    ToBot,
    ToPeople,
    Transfer { to: String },
}

/// What an operator sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outgoing {
    /// Text, quoting a message when `quote_token` is given.
    Text {
        text: String,
        quote_token: Option<String>,
    },
    /// One of the stickers LINE lets bots send.
    Sticker {
        package_id: String,
        sticker_id: String,
    },
    /// An image handed to the relay to keep for LINE.
    Image {
        original_content_url: String,
        preview_image_url: String,
    },
    /// A consent asked for: `question` with two buttons (`yes`, `no`) whose tap records
    /// the patient's answer to this version (`wording`) of it.
    Consent {
        consent: ConsentKind,
        wording: String,
        question: String,
        yes: String,
        no: String,
    },
}

impl From<Outgoing> for Message {
    fn from(outgoing: Outgoing) -> Self {
        let body = match outgoing {
            Outgoing::Text { text, quote_token } => MessageBody::Text {
                text,
                emojis: Vec::new(),
                quote_token: quote_token.map(QuoteToken::new),
            },
            Outgoing::Sticker {
                package_id,
                sticker_id,
            } => MessageBody::Sticker {
                package_id,
                sticker_id,
                quote_token: None,
            },
            Outgoing::Image {
                original_content_url,
                preview_image_url,
            } => MessageBody::Image {
                original_content_url,
                preview_image_url,
            },
            Outgoing::Consent {
                consent,
                wording,
                question,
                yes,
                no,
            } => {
                let button = |label: String, given: bool| Action::Postback {
                    display_text: Some(label.clone()),
                    label: Some(label),
                    data: tsunagi_domain::consent::postback(consent, &wording, given),
                };
                MessageBody::Template {
                    alt_text: question.clone(),
                    template: Box::new(Template::Confirm {
                        text: question,
                        actions: vec![button(yes, true), button(no, false)],
                    }),
                }
            }
        };
        Message::from(body)
    }
}

impl Joined {
    /// What the conversation pane shows at first; opened to read, the chat is marked read
    /// (LINE shows the patient "Read" for what came in since this desk last looked, as the
    /// clinic set).
    pub async fn open(&self, id: &ConversationId, look: Look) -> Result<ConversationView> {
        let store = self.sync.store();
        let Some(item) = store.conversation(id).await? else {
            return Err(Error::NotFound(format!(
                "this desk has no conversation {id}"
            )));
        };
        if look == Look::Read
            && item.kind == ChatKind::User
            && let Some(token) = store.read_token(id, Seen::Opened).await?
        {
            self.queue(&Operation::MarkRead {
                conversation: id.clone(),
                token,
            })
            .await?;
        }
        let now = UnixMillis::now();
        let (messages, handoffs, pending, contact, sessions, free_reply_until) = tokio::try_join!(
            store.messages(id, MessagesPage::Newest, FIRST_PAGE),
            store.handoffs(id),
            store.pending_in(id),
            store.contact(id.as_str()),
            store.sessions(id),
            store.free_reply_until(id, now),
        )?;
        let unread = match look {
            Look::Read => 0,
            Look::Glance => item.unread,
        };
        Ok(ConversationView {
            item: InboxItem { unread, ..item },
            has_older: messages.len() as u32 == FIRST_PAGE,
            messages,
            handoffs,
            pending: pending.iter().filter_map(PendingAction::shown).collect(),
            contact,
            sessions,
            free_reply_until,
        })
    }

    /// Queues a handoff control on `conversation`; the log decides (the first claim wins).
    pub async fn handoff(
        &self,
        conversation: ConversationId,
        request: HandoffRequest,
    ) -> Result<OpId> {
        let op = match request {
            HandoffRequest::Claim => Operation::Claim { conversation },
            HandoffRequest::Release => Operation::Release { conversation },
            HandoffRequest::Close => Operation::Close { conversation },
            HandoffRequest::ToBot => Operation::SetMode {
                conversation,
                mode: ConversationMode::Bot,
            },
            HandoffRequest::ToPeople => Operation::SetMode {
                conversation,
                mode: ConversationMode::Human,
            },
            HandoffRequest::Transfer { to } => Operation::Transfer {
                conversation,
                to: OperatorId::new(to),
            },
        };
        self.queue(&op).await
    }

    /// Queues an answer to `conversation`, which must be this operator's (as this desk's
    /// store knows: a claim made just before is settled before the answer goes out). A
    /// clinic that shows "Read" once staff answer has it shown now.
    pub async fn send(&self, conversation: ConversationId, outgoing: Outgoing) -> Result<OpId> {
        let me = self.profile.me();
        let held = (self.sync.store().conversation(&conversation).await?)
            .and_then(|item| item.session)
            .is_some_and(|s| s.status == SessionStatus::Active && s.operator.as_ref() == Some(&me));
        if !held {
            return Err(Error::NotYours(conversation));
        }
        let sent = self
            .queue(&Operation::Send(SendOp {
                conversation: conversation.clone(),
                messages: vec![Message::from(outgoing)],
                retry_key: RetryKey::new(),
                prefer_reply_token: true,
            }))
            .await?;
        if conversation.is_one_to_one()
            && let Some(token) = (self.sync.store())
                .read_token(&conversation, Seen::Answered)
                .await?
        {
            self.queue(&Operation::MarkRead {
                conversation,
                token,
            })
            .await?;
        }
        Ok(sent)
    }

    /// The operator is writing in a 1:1 chat: LINE shows the patient the loading animation.
    /// Worth something only now: straight to the relay, and dropped if it cannot reach it.
    pub async fn typing(&self, conversation: ConversationId) -> Result<()> {
        if !conversation.is_one_to_one() {
            return Ok(());
        }
        self.sync
            .append_now(&Operation::Typing {
                conversation,
                seconds: TYPING_SECONDS,
            })
            .await?;
        Ok(())
    }
}
