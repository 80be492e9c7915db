//! Webhook callbacks: LINE's POST body turned into typed events.
//!
//! Every [`Event`] keeps the exact JSON text LINE sent for it (a copy of its slice of the body),
//! so whatever we do not model yet is still there, byte for byte. Event and message types we do
//! not know become [`EventKind::Unknown`] and [`MessageContent::Unknown`], never an error.

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

/// Reads a field kept raw, if it is there (`null` counts as absent).
fn optional<T: DeserializeOwned>(
    field: Option<&RawValue>,
    name: &str,
) -> Result<Option<T>, String> {
    field
        .map(|raw| serde_json::from_str(raw.get()).map_err(|e| format!("`{name}`: {e}")))
        .transpose()
}

/// Reads a field kept raw that must be there.
fn required<T: DeserializeOwned>(field: Option<&RawValue>, name: &str) -> Result<T, String> {
    optional(field, name)?.ok_or_else(|| format!("`{name}` is missing"))
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
    /// `userId` is optional in LINE's specification, as in groups and rooms.
    #[serde(rename_all = "camelCase")]
    User { user_id: Option<UserId> },
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
            Source::User { user_id } => user_id.clone().map(Chat::User),
            Source::Group { group_id, .. } => Some(Chat::Group(group_id.clone())),
            Source::Room { room_id, .. } => Some(Chat::Room(room_id.clone())),
            Source::Unknown => None,
        }
    }

    /// The person who acted, when LINE says (in groups and rooms only if they consented).
    pub fn user_id(&self) -> Option<&UserId> {
        match self {
            Source::User { user_id }
            | Source::Group { user_id, .. }
            | Source::Room { user_id, .. } => user_id.as_ref(),
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

/// The message object inside a `message` or `messageEdited` event.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingMessage {
    pub id: MessageId,
    pub mark_as_read_token: Option<MarkAsReadToken>,
    pub quote_token: Option<QuoteToken>,
    /// The past message this one quotes (a text or a sticker can quote one).
    pub quoted_message_id: Option<MessageId>,
    pub content: MessageContent,
}

/// What a user sent, by message type.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageContent {
    Text {
        text: String,
        emojis: Vec<Emoji>,
        mention: Option<Mention>,
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
    /// A message of a known type whose fields this version cannot read, read by
    /// [`Event::read`]: still a patient writing, whose words no one has seen.
    Unreadable {
        message_type: String,
        reason: String,
    },
}

/// The most bytes a user's image may have as LINE serves it (rounded up: LINE's app
/// shrinks photos well below this).
pub const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;
/// The most a user's video or audio may have (LINE's app sends up to five minutes).
pub const MAX_VIDEO_BYTES: u64 = 300 * 1024 * 1024;
/// The most a user's file may have: LINE's app sends files up to 1 GB.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;

impl MessageContent {
    /// The most bytes LINE's download of this message's content may have: a file's own
    /// declared size, else the limit of its kind; `None` for what has no content.
    pub fn content_limit(&self) -> Option<u64> {
        match self {
            MessageContent::Image { .. } => Some(MAX_IMAGE_BYTES),
            MessageContent::Video { .. } | MessageContent::Audio { .. } => Some(MAX_VIDEO_BYTES),
            MessageContent::File { file_size, .. } => Some((*file_size).min(MAX_FILE_BYTES)),
            _ => None,
        }
    }

    /// The words the patient wrote: a text's, or what they typed on a message sticker.
    /// What handoff words, keyword replies, red flags, the AI and search read.
    pub fn words(&self) -> Option<&str> {
        match self {
            MessageContent::Text { text, .. } => Some(text),
            MessageContent::Sticker { text, .. } => text.as_deref().filter(|t| !t.is_empty()),
            _ => None,
        }
    }

    /// Where the sender keeps media hosted outside LINE (`contentProvider: external`):
    /// the original's address and the preview's, when LINE gave them.
    pub fn external_media(&self) -> Option<(&str, Option<&str>)> {
        match self {
            MessageContent::Image {
                content_provider, ..
            }
            | MessageContent::Video {
                content_provider, ..
            }
            | MessageContent::Audio {
                content_provider, ..
            } if content_provider.kind == ContentProviderKind::External => Some((
                content_provider.original_content_url.as_deref()?,
                content_provider.preview_image_url.as_deref(),
            )),
            _ => None,
        }
    }

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

/// A message object as it is on the wire: what every type has, typed; each type's own
/// fields still raw, so that a type this version does not know cannot fail to read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMessage<'a> {
    #[serde(rename = "type")]
    message_type: String,
    id: MessageId,
    mark_as_read_token: Option<MarkAsReadToken>,
    quote_token: Option<QuoteToken>,
    #[serde(borrow)]
    text: Option<&'a RawValue>,
    #[serde(borrow)]
    emojis: Option<&'a RawValue>,
    #[serde(borrow)]
    mention: Option<&'a RawValue>,
    #[serde(borrow)]
    quoted_message_id: Option<&'a RawValue>,
    #[serde(borrow)]
    content_provider: Option<&'a RawValue>,
    #[serde(borrow)]
    image_set: Option<&'a RawValue>,
    #[serde(borrow)]
    duration: Option<&'a RawValue>,
    #[serde(borrow)]
    file_name: Option<&'a RawValue>,
    #[serde(borrow)]
    file_size: Option<&'a RawValue>,
    #[serde(borrow)]
    title: Option<&'a RawValue>,
    #[serde(borrow)]
    address: Option<&'a RawValue>,
    #[serde(borrow)]
    latitude: Option<&'a RawValue>,
    #[serde(borrow)]
    longitude: Option<&'a RawValue>,
    #[serde(borrow)]
    package_id: Option<&'a RawValue>,
    #[serde(borrow)]
    sticker_id: Option<&'a RawValue>,
    #[serde(borrow)]
    sticker_resource_type: Option<&'a RawValue>,
    #[serde(borrow)]
    keywords: Option<&'a RawValue>,
}

impl IncomingMessage {
    /// Reads the message object of a `message` or `messageEdited` event.
    fn read(raw: Option<&RawValue>) -> Result<Self, String> {
        let raw = raw.ok_or("`message` is missing")?;
        Self::from_wire(raw).map_err(|reason| format!("message {reason}"))
    }

    fn from_wire(raw: &RawValue) -> Result<Self, String> {
        let m: WireMessage<'_> = serde_json::from_str(raw.get()).map_err(|e| e.to_string())?;
        let content = match m.message_type.as_str() {
            "text" => MessageContent::Text {
                text: required(m.text, "text")?,
                emojis: optional(m.emojis, "emojis")?.unwrap_or_default(),
                mention: optional(m.mention, "mention")?,
            },
            "image" => MessageContent::Image {
                content_provider: optional(m.content_provider, "contentProvider")?
                    .unwrap_or_default(),
                image_set: optional(m.image_set, "imageSet")?,
            },
            "video" => MessageContent::Video {
                duration: optional(m.duration, "duration")?,
                content_provider: optional(m.content_provider, "contentProvider")?
                    .unwrap_or_default(),
            },
            "audio" => MessageContent::Audio {
                duration: optional(m.duration, "duration")?,
                content_provider: optional(m.content_provider, "contentProvider")?
                    .unwrap_or_default(),
            },
            "file" => MessageContent::File {
                file_name: required(m.file_name, "fileName")?,
                file_size: required(m.file_size, "fileSize")?,
            },
            "location" => MessageContent::Location {
                title: optional(m.title, "title")?,
                address: optional(m.address, "address")?,
                latitude: required(m.latitude, "latitude")?,
                longitude: required(m.longitude, "longitude")?,
            },
            "sticker" => MessageContent::Sticker {
                package_id: required(m.package_id, "packageId")?,
                sticker_id: required(m.sticker_id, "stickerId")?,
                sticker_resource_type: optional(m.sticker_resource_type, "stickerResourceType")?,
                keywords: optional(m.keywords, "keywords")?.unwrap_or_default(),
                text: optional(m.text, "text")?,
            },
            _ => MessageContent::Unknown {
                message_type: m.message_type,
                raw: raw.get().to_owned(),
            },
        };
        Ok(IncomingMessage {
            id: m.id,
            mark_as_read_token: m.mark_as_read_token,
            quote_token: m.quote_token,
            quoted_message_id: optional(m.quoted_message_id, "quotedMessageId")?,
            content,
        })
    }
}

impl<'de> Deserialize<'de> for IncomingMessage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Self::from_wire(&raw).map_err(|reason| D::Error::custom(format!("message {reason}")))
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

/// Who holds a medium's bytes. Without one (as webhooks from before LINE added it), LINE
/// does.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentProvider {
    #[serde(rename = "type")]
    pub kind: ContentProviderKind,
    pub original_content_url: Option<String>,
    pub preview_image_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentProviderKind {
    /// LINE holds the bytes: fetch them from the content endpoint.
    #[default]
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
