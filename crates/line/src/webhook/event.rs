//! One webhook event: its fields every type shares, what happened by event type, and how
//! it is read, strictly ([`Event::from_raw`]) or leniently ([`Event::read`]).

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::id::{MarkAsReadToken, MessageId, QuoteToken, ReplyToken, WebhookEventId};

use super::{IncomingMessage, MessageContent, Source, optional, required};

/// One webhook event.
#[derive(Debug)]
pub struct Event {
    raw: Box<RawValue>,
    /// The `type` field as LINE sent it.
    pub event_type: String,
    pub webhook_event_id: WebhookEventId,
    /// When it happened, in milliseconds since the Unix epoch.
    pub timestamp: i64,
    pub mode: Mode,
    pub is_redelivery: bool,
    /// Absent only on a failed account link.
    pub source: Option<Source>,
    /// Present on events that can be replied to, never in standby mode.
    pub reply_token: Option<ReplyToken>,
    pub kind: EventKind,
}

/// A known event type whose fields did not match LINE's specification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event_type}: {reason}")]
pub struct MalformedEvent {
    pub event_type: String,
    pub reason: String,
}

impl Event {
    /// Types one event from its raw JSON, keeping that JSON.
    pub fn from_raw(raw: Box<RawValue>) -> Result<Self, MalformedEvent> {
        let wire: Wire<'_> = serde_json::from_str(raw.get()).map_err(|e| MalformedEvent {
            event_type: String::new(),
            reason: e.to_string(),
        })?;
        let kind = EventKind::read(&wire).map_err(|reason| MalformedEvent {
            event_type: wire.event_type.clone(),
            reason,
        })?;
        let Wire {
            event_type,
            webhook_event_id,
            timestamp,
            mode,
            delivery_context,
            source,
            reply_token,
            ..
        } = wire;
        Ok(Event {
            event_type,
            webhook_event_id,
            timestamp,
            mode: mode.unwrap_or(Mode::Active),
            is_redelivery: delivery_context.is_some_and(|d| d.is_redelivery),
            source,
            reply_token,
            kind,
            raw,
        })
    }

    /// Types one event as [`Event::from_raw`] does, but reads what it can of an event whose
    /// fields do not match LINE's specification rather than refusing it: the fields every
    /// event has (a missing or odd one empty), and its kind [`EventKind::Unreadable`], or
    /// for a message event whose message has an id, a message with
    /// [`MessageContent::Unreadable`]. Only JSON that is not an object is refused.
    pub fn read(raw: Box<RawValue>) -> Result<Self, MalformedEvent> {
        let reason = match Self::from_raw(raw.clone()) {
            Ok(event) => return Ok(event),
            Err(malformed) => malformed.reason,
        };
        let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(raw.get()) else {
            return Err(MalformedEvent {
                event_type: String::new(),
                reason: "an event is not a JSON object".into(),
            });
        };
        let text = |field: &str| fields.get(field).and_then(|v| v.as_str());
        let lenient = |field: &str| fields.get(field).cloned().unwrap_or_default();
        let event_type = text("type").unwrap_or_default().to_owned();
        let message = fields.get("message");
        let message_id = message
            .and_then(|m| m.get("id"))
            .and_then(|id| id.as_str())
            .filter(|id| !id.is_empty());
        let kind = match (event_type.as_str(), message_id) {
            ("message", Some(id)) => {
                let field = |name: &str| message.and_then(|m| m.get(name)).and_then(|v| v.as_str());
                EventKind::Message(IncomingMessage {
                    id: MessageId::from(id),
                    mark_as_read_token: field("markAsReadToken").map(MarkAsReadToken::from),
                    quote_token: field("quoteToken").map(QuoteToken::from),
                    quoted_message_id: field("quotedMessageId").map(MessageId::from),
                    content: MessageContent::Unreadable {
                        message_type: field("type").unwrap_or_default().to_owned(),
                        reason,
                    },
                })
            }
            _ => EventKind::Unreadable { reason },
        };
        Ok(Event {
            webhook_event_id: WebhookEventId::from(text("webhookEventId").unwrap_or_default()),
            timestamp: fields
                .get("timestamp")
                .and_then(|t| t.as_i64())
                .unwrap_or(0),
            mode: serde_json::from_value(lenient("mode")).unwrap_or(Mode::Active),
            is_redelivery: fields
                .get("deliveryContext")
                .and_then(|d| d.get("isRedelivery"))
                .and_then(|r| r.as_bool())
                .unwrap_or(false),
            source: serde_json::from_value(lenient("source")).ok(),
            reply_token: serde_json::from_value(lenient("replyToken")).ok(),
            event_type,
            kind,
            raw,
        })
    }

    /// The event's JSON exactly as LINE sent it.
    pub fn raw(&self) -> &str {
        self.raw.get()
    }

    /// The event's JSON, exactly as LINE sent it, by value.
    pub fn into_raw(self) -> Box<RawValue> {
        self.raw
    }

    /// Whether this event may be answered at all: standby channels must stay silent.
    pub fn is_replyable(&self) -> bool {
        self.mode == Mode::Active && self.reply_token.is_some()
    }
}

fn no_event_id() -> WebhookEventId {
    WebhookEventId::from("")
}

/// One event as it is on the wire, read in one pass: the fields every event type shares,
/// typed, and each type's own field still raw, so that it is read only if its event type
/// is known.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    #[serde(rename = "type")]
    event_type: String,
    /// Empty when LINE sent none: webhooks from before LINE added it (as its SDKs' own
    /// tests still have them) are read all the same.
    #[serde(default = "no_event_id")]
    webhook_event_id: WebhookEventId,
    timestamp: i64,
    mode: Option<Mode>,
    delivery_context: Option<DeliveryContext>,
    source: Option<Source>,
    reply_token: Option<ReplyToken>,
    #[serde(borrow)]
    message: Option<&'a RawValue>,
    #[serde(borrow)]
    unsend: Option<&'a RawValue>,
    #[serde(borrow)]
    follow: Option<&'a RawValue>,
    #[serde(borrow)]
    joined: Option<&'a RawValue>,
    #[serde(borrow)]
    left: Option<&'a RawValue>,
    #[serde(borrow)]
    postback: Option<&'a RawValue>,
    #[serde(borrow)]
    video_play_complete: Option<&'a RawValue>,
    #[serde(borrow)]
    beacon: Option<&'a RawValue>,
    #[serde(borrow)]
    link: Option<&'a RawValue>,
    #[serde(borrow)]
    membership: Option<&'a RawValue>,
    #[serde(borrow)]
    module: Option<&'a RawValue>,
    #[serde(borrow)]
    chat_control: Option<&'a RawValue>,
    #[serde(borrow)]
    delivery: Option<&'a RawValue>,
}

/// `active` unless the channel is attached to a partner module and not in control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Active,
    Standby,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryContext {
    is_redelivery: bool,
}

/// What happened, by event type.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    Message(IncomingMessage),
    /// A message in a group was edited; the newest timestamp wins.
    MessageEdited(IncomingMessage),
    /// The user unsent a message: hide or delete it.
    Unsend {
        message_id: MessageId,
    },
    Follow {
        /// True when a user who had blocked the account unblocked it.
        is_unblocked: bool,
    },
    Unfollow,
    Join,
    Leave,
    MemberJoined {
        members: Vec<Source>,
    },
    MemberLeft {
        members: Vec<Source>,
    },
    Postback(Postback),
    VideoPlayComplete {
        tracking_id: String,
    },
    Beacon(Beacon),
    AccountLink(AccountLink),
    Membership(Membership),
    /// Partner module attach/detach; its fields are kept as JSON.
    Module(serde_json::Value),
    /// This channel gained chat control (partner modules).
    Activated {
        expire_at: Option<i64>,
    },
    Deactivated,
    BotSuspended,
    BotResumed,
    /// A LINE notification message was delivered.
    Delivery {
        data: String,
    },
    /// An event type this version does not know. Its JSON is in [`Event::raw`].
    Unknown,
    /// An event of a known type whose fields this version cannot read (a `message` event
    /// whose message can be told apart is a [`MessageContent::Unreadable`] instead), read by
    /// [`Event::read`]. Its JSON is in [`Event::raw`].
    Unreadable {
        reason: String,
    },
}

impl EventKind {
    fn read(wire: &Wire<'_>) -> Result<Self, String> {
        Ok(match wire.event_type.as_str() {
            "message" => EventKind::Message(IncomingMessage::read(wire.message)?),
            "messageEdited" => EventKind::MessageEdited(IncomingMessage::read(wire.message)?),
            "unsend" => EventKind::Unsend {
                message_id: required::<Unsend>(wire.unsend, "unsend")?.message_id,
            },
            "follow" => EventKind::Follow {
                is_unblocked: optional::<Follow>(wire.follow, "follow")?
                    .is_some_and(|f| f.is_unblocked),
            },
            "unfollow" => EventKind::Unfollow,
            "join" => EventKind::Join,
            "leave" => EventKind::Leave,
            "memberJoined" => EventKind::MemberJoined {
                members: required::<Members>(wire.joined, "joined")?.members,
            },
            "memberLeft" => EventKind::MemberLeft {
                members: required::<Members>(wire.left, "left")?.members,
            },
            "postback" => EventKind::Postback(required(wire.postback, "postback")?),
            "videoPlayComplete" => EventKind::VideoPlayComplete {
                tracking_id: required::<VideoPlayComplete>(
                    wire.video_play_complete,
                    "videoPlayComplete",
                )?
                .tracking_id,
            },
            "beacon" => EventKind::Beacon(required(wire.beacon, "beacon")?),
            "accountLink" => EventKind::AccountLink(required(wire.link, "link")?),
            "membership" => EventKind::Membership(required(wire.membership, "membership")?),
            "module" => EventKind::Module(required(wire.module, "module")?),
            "activated" => EventKind::Activated {
                expire_at: optional::<ChatControl>(wire.chat_control, "chatControl")?
                    .and_then(|c| c.expire_at),
            },
            "deactivated" => EventKind::Deactivated,
            "botSuspended" => EventKind::BotSuspended,
            "botResumed" => EventKind::BotResumed,
            "delivery" => EventKind::Delivery {
                data: required::<Delivery>(wire.delivery, "delivery")?.data,
            },
            _ => EventKind::Unknown,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Unsend {
    message_id: MessageId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Follow {
    #[serde(default)]
    is_unblocked: bool,
}

#[derive(Deserialize)]
struct Members {
    members: Vec<Source>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoPlayComplete {
    tracking_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChatControl {
    expire_at: Option<i64>,
}

#[derive(Deserialize)]
struct Delivery {
    data: String,
}

/// A tap on a postback action.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Postback {
    pub data: String,
    pub params: Option<PostbackParams>,
}

/// What a datetime picker or rich menu switch added to a postback.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostbackParams {
    pub date: Option<String>,
    pub time: Option<String>,
    pub datetime: Option<String>,
    pub new_rich_menu_alias_id: Option<String>,
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Beacon {
    pub hwid: String,
    /// `enter`, `banner` or `stay`.
    #[serde(rename = "type")]
    pub kind: String,
    pub dm: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AccountLink {
    /// `ok` or `failed`.
    pub result: String,
    pub nonce: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    /// `joined`, `left` or `renewed`.
    #[serde(rename = "type")]
    pub kind: String,
    pub membership_id: i64,
}
