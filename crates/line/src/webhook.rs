//! Webhook callbacks: LINE's POST body turned into typed events.
//!
//! Every [`Event`] keeps the exact JSON text LINE sent for it (a copy of its slice of the body),
//! so whatever we do not model yet is still there, byte for byte. Event and message types we do
//! not know become [`EventKind::Unknown`] and [`MessageContent::Unknown`], never an error.

use std::collections::HashMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::id::{
    GroupId, MarkAsReadToken, MessageId, QuoteToken, ReplyToken, RoomId, UserId, WebhookEventId,
};

/// Why a callback body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook body is not a LINE callback: {0}")]
    Body(#[source] serde_json::Error),
    #[error("event {index} ({event_type}): {reason}")]
    Event {
        index: usize,
        event_type: String,
        reason: String,
    },
}

/// A callback body with its events still as raw JSON. Reading this never looks inside an
/// event, so it succeeds for any well-formed body, whatever LINE adds in the future.
#[derive(Debug, Deserialize)]
pub struct RawCallback {
    /// The bot's user id: which channel the events are for.
    pub destination: UserId,
    pub events: Vec<Box<RawValue>>,
}

impl RawCallback {
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        serde_json::from_slice(body).map_err(WebhookError::Body)
    }
}

/// A callback body with every event typed.
#[derive(Debug)]
pub struct Callback {
    pub destination: UserId,
    pub events: Vec<Event>,
}

impl Callback {
    /// Parses a callback body. Check its signature first (see [`crate::signature`]).
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        let raw = RawCallback::parse(body)?;
        let events = raw
            .events
            .into_iter()
            .enumerate()
            .map(|(index, raw)| {
                Event::from_raw(raw).map_err(|e| WebhookError::Event {
                    index,
                    event_type: e.event_type,
                    reason: e.reason,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            destination: raw.destination,
            events,
        })
    }
}

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
        let common: Common = serde_json::from_str(raw.get()).map_err(|e| MalformedEvent {
            event_type: String::new(),
            reason: e.to_string(),
        })?;
        let kind = Fields::read(&raw)
            .and_then(|fields| EventKind::read(&common.event_type, &fields))
            .map_err(|reason| MalformedEvent {
                event_type: common.event_type.clone(),
                reason,
            })?;
        Ok(Event {
            raw,
            event_type: common.event_type,
            webhook_event_id: common.webhook_event_id,
            timestamp: common.timestamp,
            mode: common.mode.unwrap_or(Mode::Active),
            is_redelivery: common.delivery_context.is_some_and(|d| d.is_redelivery),
            source: common.source,
            reply_token: common.reply_token,
            kind,
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

/// The fields every event type shares.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Common {
    #[serde(rename = "type")]
    event_type: String,
    webhook_event_id: WebhookEventId,
    timestamp: i64,
    mode: Option<Mode>,
    delivery_context: Option<DeliveryContext>,
    source: Option<Source>,
    reply_token: Option<ReplyToken>,
}

/// The top-level fields of one event, each still raw, so that each is read only if its
/// event type is known.
struct Fields<'a>(HashMap<String, &'a RawValue>);

impl<'a> Fields<'a> {
    fn read(raw: &'a RawValue) -> Result<Self, String> {
        serde_json::from_str(raw.get())
            .map(Fields)
            .map_err(|e| format!("not a JSON object: {e}"))
    }

    fn optional<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, String> {
        match self.0.get(name) {
            None => Ok(None),
            Some(raw) if raw.get() == "null" => Ok(None),
            Some(raw) => serde_json::from_str(raw.get())
                .map(Some)
                .map_err(|e| format!("`{name}`: {e}")),
        }
    }

    fn required<T: DeserializeOwned>(&self, name: &str) -> Result<T, String> {
        self.optional(name)?
            .ok_or_else(|| format!("`{name}` is missing"))
    }
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

/// Where an event came from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Source {
    #[serde(rename_all = "camelCase")]
    User { user_id: UserId },
    #[serde(rename_all = "camelCase")]
    Group {
        group_id: GroupId,
        user_id: Option<UserId>,
    },
    #[serde(rename_all = "camelCase")]
    Room {
        room_id: RoomId,
        user_id: Option<UserId>,
    },
    #[serde(other)]
    Unknown,
}

/// A chat the bot is in: the place replies and pushes go.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Chat {
    User(UserId),
    Group(GroupId),
    Room(RoomId),
}

impl Chat {
    /// The id to use as `to` when pushing.
    pub fn id(&self) -> &str {
        match self {
            Chat::User(id) => id.as_str(),
            Chat::Group(id) => id.as_str(),
            Chat::Room(id) => id.as_str(),
        }
    }
}

impl Source {
    /// The chat this source belongs to: the group or room if any, else the user.
    pub fn chat(&self) -> Option<Chat> {
        match self {
            Source::User { user_id } => Some(Chat::User(user_id.clone())),
            Source::Group { group_id, .. } => Some(Chat::Group(group_id.clone())),
            Source::Room { room_id, .. } => Some(Chat::Room(room_id.clone())),
            Source::Unknown => None,
        }
    }

    /// The person who acted, when LINE says (in groups and rooms only if they consented).
    pub fn user_id(&self) -> Option<&UserId> {
        match self {
            Source::User { user_id } => Some(user_id),
            Source::Group { user_id, .. } | Source::Room { user_id, .. } => user_id.as_ref(),
            Source::Unknown => None,
        }
    }
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
}

impl EventKind {
    fn read(event_type: &str, fields: &Fields<'_>) -> Result<Self, String> {
        Ok(match event_type {
            "message" => EventKind::Message(fields.required("message")?),
            "messageEdited" => EventKind::MessageEdited(fields.required("message")?),
            "unsend" => {
                let unsend: Unsend = fields.required("unsend")?;
                EventKind::Unsend {
                    message_id: unsend.message_id,
                }
            }
            "follow" => {
                let follow: Option<Follow> = fields.optional("follow")?;
                EventKind::Follow {
                    is_unblocked: follow.is_some_and(|f| f.is_unblocked),
                }
            }
            "unfollow" => EventKind::Unfollow,
            "join" => EventKind::Join,
            "leave" => EventKind::Leave,
            "memberJoined" => EventKind::MemberJoined {
                members: fields.required::<Members>("joined")?.members,
            },
            "memberLeft" => EventKind::MemberLeft {
                members: fields.required::<Members>("left")?.members,
            },
            "postback" => EventKind::Postback(fields.required("postback")?),
            "videoPlayComplete" => EventKind::VideoPlayComplete {
                tracking_id: fields
                    .required::<VideoPlayComplete>("videoPlayComplete")?
                    .tracking_id,
            },
            "beacon" => EventKind::Beacon(fields.required("beacon")?),
            "accountLink" => EventKind::AccountLink(fields.required("link")?),
            "membership" => EventKind::Membership(fields.required("membership")?),
            "module" => EventKind::Module(fields.required("module")?),
            "activated" => EventKind::Activated {
                expire_at: fields
                    .optional::<ChatControl>("chatControl")?
                    .and_then(|c| c.expire_at),
            },
            "deactivated" => EventKind::Deactivated,
            "botSuspended" => EventKind::BotSuspended,
            "botResumed" => EventKind::BotResumed,
            "delivery" => EventKind::Delivery {
                data: fields.required::<Delivery>("delivery")?.data,
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

/// The message object inside a `message` or `messageEdited` event.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingMessage {
    pub id: MessageId,
    pub mark_as_read_token: Option<MarkAsReadToken>,
    pub quote_token: Option<QuoteToken>,
    pub content: MessageContent,
}

/// What a user sent, by message type.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageContent {
    Text {
        text: String,
        emojis: Vec<Emoji>,
        mention: Option<Mention>,
        quoted_message_id: Option<MessageId>,
    },
    Image {
        content_provider: ContentProvider,
        image_set: Option<ImageSet>,
    },
    Video {
        /// Milliseconds.
        duration: Option<u64>,
        content_provider: ContentProvider,
    },
    Audio {
        /// Milliseconds.
        duration: Option<u64>,
        content_provider: ContentProvider,
    },
    File {
        file_name: String,
        file_size: u64,
    },
    Location {
        title: Option<String>,
        address: Option<String>,
        latitude: f64,
        longitude: f64,
    },
    Sticker {
        package_id: String,
        sticker_id: String,
        sticker_resource_type: Option<String>,
        keywords: Vec<String>,
        text: Option<String>,
    },
    /// A message type this version does not know, with the message object's JSON.
    Unknown {
        message_type: String,
        raw: String,
    },
}

impl MessageContent {
    /// Whether LINE holds bytes for this message that can be downloaded.
    pub fn has_line_content(&self) -> bool {
        match self {
            MessageContent::Image {
                content_provider, ..
            }
            | MessageContent::Video {
                content_provider, ..
            }
            | MessageContent::Audio {
                content_provider, ..
            } => content_provider.kind == ContentProviderKind::Line,
            MessageContent::File { .. } => true,
            _ => false,
        }
    }
}

impl<'de> Deserialize<'de> for IncomingMessage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let fields = Fields::read(&raw).map_err(D::Error::custom)?;
        let read = || -> Result<IncomingMessage, String> {
            let message_type: String = fields.required("type")?;
            let content = match message_type.as_str() {
                "text" => MessageContent::Text {
                    text: fields.required("text")?,
                    emojis: fields.optional("emojis")?.unwrap_or_default(),
                    mention: fields.optional("mention")?,
                    quoted_message_id: fields.optional("quotedMessageId")?,
                },
                "image" => MessageContent::Image {
                    content_provider: fields.required("contentProvider")?,
                    image_set: fields.optional("imageSet")?,
                },
                "video" => MessageContent::Video {
                    duration: fields.optional("duration")?,
                    content_provider: fields.required("contentProvider")?,
                },
                "audio" => MessageContent::Audio {
                    duration: fields.optional("duration")?,
                    content_provider: fields.required("contentProvider")?,
                },
                "file" => MessageContent::File {
                    file_name: fields.required("fileName")?,
                    file_size: fields.required("fileSize")?,
                },
                "location" => MessageContent::Location {
                    title: fields.optional("title")?,
                    address: fields.optional("address")?,
                    latitude: fields.required("latitude")?,
                    longitude: fields.required("longitude")?,
                },
                "sticker" => MessageContent::Sticker {
                    package_id: fields.required("packageId")?,
                    sticker_id: fields.required("stickerId")?,
                    sticker_resource_type: fields.optional("stickerResourceType")?,
                    keywords: fields.optional("keywords")?.unwrap_or_default(),
                    text: fields.optional("text")?,
                },
                _ => MessageContent::Unknown {
                    message_type,
                    raw: raw.get().to_owned(),
                },
            };
            Ok(IncomingMessage {
                id: fields.required("id")?,
                mark_as_read_token: fields.optional("markAsReadToken")?,
                quote_token: fields.optional("quoteToken")?,
                content,
            })
        };
        read().map_err(|reason| D::Error::custom(format!("message {reason}")))
    }
}

/// A LINE emoji inside a text message; `index` and `length` count UTF-16 units.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Emoji {
    pub index: u32,
    pub length: u32,
    pub product_id: String,
    pub emoji_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Mention {
    pub mentionees: Vec<Mentionee>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mentionee {
    pub index: u32,
    pub length: u32,
    /// `user` or `all`.
    #[serde(rename = "type")]
    pub kind: String,
    pub user_id: Option<UserId>,
    #[serde(default)]
    pub is_self: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentProvider {
    #[serde(rename = "type")]
    pub kind: ContentProviderKind,
    pub original_content_url: Option<String>,
    pub preview_image_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentProviderKind {
    /// LINE holds the bytes: fetch them from the content endpoint.
    Line,
    /// The sender's URLs hold them.
    External,
    #[serde(other)]
    Unknown,
}

/// Several images sent at once arrive as separate events, in any order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ImageSet {
    pub id: String,
    pub index: Option<u32>,
    pub total: Option<u32>,
}
