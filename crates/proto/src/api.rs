//! Request and response bodies of the relay's HTTP API (`/v1/…`).

use serde::{Deserialize, Serialize};
use tsunagi_line::ChannelId;

use crate::entry::{Entry, Seq};
pub use crate::ids::Role;
use crate::op::{DeviceId, Operation, OperatorId};

/// `GET /v1/channels/{id}/log?after=N&limit=M[&wait=S]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    pub entries: Vec<Entry>,
    /// The newest seq in the log when the page was read.
    pub head: Seq,
}

/// `POST /v1/channels/{id}/ops` with header `Idempotency-Key: <uuid>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppendOp {
    pub op: Operation,
}

/// Where an appended operation landed (the original seq when the key was seen before).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appended {
    pub seq: Seq,
}

/// `POST /v1/enroll`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enroll {
    pub code: String,
    pub device_name: String,
    pub operator_name: String,
}

/// What a device gets when it enrolls. The token is shown once and stored only as a hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    pub device_id: DeviceId,
    pub token: String,
    /// The channel the device belongs to; `null` for an owner of the whole relay, who
    /// reaches every channel (`GET /v1/channels` lists them).
    pub channel_id: Option<ChannelId>,
    pub role: Role,
}

impl std::fmt::Debug for Enrolled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolled")
            .field("device_id", &self.device_id)
            .field("token", &"…")
            .field("channel_id", &self.channel_id)
            .field("role", &self.role)
            .finish()
    }
}

/// Why the relay refused a request: one closed list, shared by the relay (which answers
/// with it) and the desk (which tells people what to do about it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or breaks a rule; the message names what.
    BadRequest,
    /// The body is larger than the relay takes.
    TooLarge,
    /// A webhook whose `x-line-signature` does not match the channel's secret.
    BadSignature,
    /// An upload that is not an image the relay can read.
    BadImage,
    /// No device token, an unknown one, or one whose device was revoked.
    Unauthorized,
    /// The device may not do this (another channel, or not an owner of the relay).
    Forbidden,
    /// Only the channel's owners may log this op; the device is staff.
    OwnerOnly,
    /// No such channel, device, media or upload.
    NotFound,
    /// It exists already, or an idempotency key was used for something else.
    Conflict,
    /// An enrollment code the relay never issued.
    InvalidCode,
    /// An enrollment code already used.
    UsedCode,
    /// An enrollment code past its 24 hours.
    ExpiredCode,
    /// An enrollment code an owner withdrew, whose maker was shut out, or a setup code a
    /// newer one replaced.
    WithdrawnCode,
    /// LINE refused the channel's credentials.
    LineRefused,
    /// LINE could not be reached to check them; nothing was stored.
    LineUnavailable,
    /// The relay keeps no media (it was started without a media directory).
    NoMedia,
    /// The relay takes no uploads (it has no public address for LINE).
    NoUploads,
    /// The relay was started without what this needs (LINE's address).
    NotConfigured,
    /// The user unsent the message before its media was kept.
    Unsent,
    /// The relay's storage is unavailable; try again.
    Unavailable,
    /// Too many requests from this address (enrollment attempts); wait and try again.
    RateLimited,
    /// The device has as many log streams open as the relay allows.
    TooManyStreams,
    /// Telegram does not know the bot token given.
    TelegramRefused,
    /// Telegram could not be reached to check the token or send; nothing was stored.
    TelegramUnavailable,
    /// The relay keeps no such credential for the channel yet.
    NoCredential,
    /// A code this version does not know (from a newer relay), or an answer that was not
    /// the relay's.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The code as it is written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::BadImage => "bad_image",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::OwnerOnly => "owner_only",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::InvalidCode => "invalid_code",
            ErrorCode::UsedCode => "used_code",
            ErrorCode::ExpiredCode => "expired_code",
            ErrorCode::WithdrawnCode => "withdrawn_code",
            ErrorCode::LineRefused => "line_refused",
            ErrorCode::LineUnavailable => "line_unavailable",
            ErrorCode::NoMedia => "no_media",
            ErrorCode::NoUploads => "no_uploads",
            ErrorCode::NotConfigured => "not_configured",
            ErrorCode::Unsent => "unsent",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooManyStreams => "too_many_streams",
            ErrorCode::TelegramRefused => "telegram_refused",
            ErrorCode::TelegramUnavailable => "telegram_unavailable",
            ErrorCode::NoCredential => "no_credential",
            ErrorCode::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every error answer of the relay's API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// What was wrong, for people.
    pub message: String,
}

/// `POST /v1/channels/{id}/invites` (owners only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInvite {
    pub role: Role,
}

/// A one-time enrollment code, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invited {
    /// What the code is listed and withdrawn by (`GET`, `DELETE /v1/channels/{id}/invites`).
    #[serde(default)]
    pub id: String,
    pub code: String,
    /// Unix milliseconds after which the code no longer works.
    pub expires_at: i64,
}

/// A code handed out that still works (`GET /v1/channels/{id}/invites`, owners only): the
/// code itself is never shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteInfo {
    pub id: String,
    pub role: Role,
    /// The device that asked for it.
    pub created_by: Option<DeviceId>,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A device as owners see it (`GET /v1/channels/{id}/devices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub device_id: DeviceId,
    /// `null`: an owner of the whole relay.
    pub channel_id: Option<ChannelId>,
    pub device_name: String,
    pub operator_name: String,
    pub role: Role,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// When it last called the relay, to the minute; null if never since this was kept.
    #[serde(default)]
    pub last_seen_at: Option<i64>,
}

/// `GET /v1/channels/{id}/quota`: how many push and multicast messages LINE lets the
/// account send this month, and how many it sent so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageQuota {
    /// `null`: no limit (a paid plan without one).
    pub limit: Option<u64>,
    pub used: u64,
}

/// `POST /v1/channels` (owners of the whole relay): connect a LINE channel.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddChannel {
    pub channel_id: ChannelId,
    pub channel_secret: String,
}

impl std::fmt::Debug for AddChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddChannel")
            .field("channel_id", &self.channel_id)
            .field("channel_secret", &"…")
            .finish()
    }
}

/// `PUT /v1/channels/{id}/credentials/{ai_key|telegram_token}` (the channel's owners): a
/// credential for the relay to keep sealed. Never logged, never shown again.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetCredential {
    pub value: String,
}

impl std::fmt::Debug for SetCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetCredential")
            .field("value", &"…")
            .finish()
    }
}

/// The answer to setting or removing a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialKept {
    pub credential: crate::Credential,
    /// Whether the relay keeps one now.
    pub set: bool,
    /// For a Telegram token: the bot's `@username`, as Telegram told it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<String>,
}

/// `POST /v1/channels/{id}/telegram/test` (the channel's owners): send a test message to
/// these chats now, with the token the relay keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramTest {
    pub chats: Vec<i64>,
    /// The language of the test message (`en`, `ja`, `th`, `zh-TW`).
    #[serde(default)]
    pub language: Option<String>,
}

/// What became of a test message, per chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelegramTested {
    pub results: Vec<TelegramChatResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelegramChatResult {
    pub chat: i64,
    pub ok: bool,
    /// Telegram's reason, when it was not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `PUT /v1/channels/{id}/secret` (the channel's owners): LINE issued a new channel secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaceSecret {
    pub channel_secret: String,
}

impl std::fmt::Debug for ReplaceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplaceSecret")
            .field("channel_secret", &"…")
            .finish()
    }
}

/// One step of connecting a channel to LINE, as the owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupStep {
    /// `credentials`, `bot info`, `stored`, `webhook URL` or `webhook test`.
    pub name: String,
    pub ok: bool,
    /// What happened, for people: the bot's name, the webhook URL, LINE's answer.
    pub detail: String,
    /// What went wrong, when the relay knows: for a window to say in the owner's language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<SetupProblem>,
}

/// A setup step's failure the owner can mend, as the window words it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum SetupProblem {
    /// LINE keeps the webhook URL but its "Use webhook" switch is off: nothing is sent.
    WebhookOff { endpoint: String },
    /// LINE kept another URL than the one set.
    WebhookElsewhere { endpoint: String, found: String },
    /// LINE's test got no answer from the URL (a status of zero or less).
    WebhookUnreached {
        endpoint: String,
        reason: String,
        detail: String,
    },
    /// LINE's test reached the URL, which answered with an error status.
    WebhookRefused {
        endpoint: String,
        status: i32,
        reason: String,
        detail: String,
    },
}

/// The answer to `POST /v1/channels`: the channel is stored; each step says how far the
/// connection with LINE got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelConnected {
    pub channel_id: ChannelId,
    pub steps: Vec<SetupStep>,
}

/// A channel as its devices see it (`GET /v1/channels`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelInfo {
    pub channel_id: ChannelId,
    /// The newest seq in its log.
    pub head: Seq,
    /// Unix milliseconds.
    pub added_at: i64,
}

/// An operator as every device of the channel sees them (`GET /v1/channels/{id}/operators`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorInfo {
    pub operator: OperatorId,
    pub name: String,
    pub role: Role,
    /// False once their device was revoked.
    pub active: bool,
}

/// `POST /v1/channels/{id}/uploads` (an image's bytes, JPEG or PNG): where LINE will fetch
/// it, and the thumbnail the relay made, for an image message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    pub original_content_url: String,
    pub preview_image_url: String,
}

/// `GET /v1/channels/{id}/uploads/check` (the channel's devices): whether LINE could fetch
/// the images operators send from the relay's public address when the relay last looked;
/// `POST` (owners) looks again now. The relay fetches a small image of its own through its
/// public address, as LINE would: over HTTPS with a certificate LINE trusts, following no
/// redirect, and it must answer 200 with that JPEG or PNG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoDelivery {
    pub ok: bool,
    /// The address fetched.
    pub url: String,
    /// Why LINE could not fetch from there; `None` when it could.
    pub problem: Option<PhotoProblem>,
    /// What the relay saw, in its own (English) words: `answered 404 Not Found`, the TLS
    /// error.
    pub detail: Option<String>,
    /// Unix milliseconds, by the relay's clock.
    pub checked_at: i64,
}

/// Why LINE cannot fetch images from the relay's public address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoProblem {
    /// Not `https://` (plain http is for this machine only, in tests and the demo).
    NotHttps,
    /// An address inside a private network (or reserved), which LINE cannot reach.
    PrivateAddress,
    /// The certificate is not one LINE trusts: self-signed, expired, or for another name.
    Certificate,
    /// No answer: nothing listens there, the name does not resolve, or it took too long.
    Unreachable,
    /// A redirect elsewhere (a login page, another address).
    Redirected,
    /// An answer other than 200.
    Status,
    /// 200, but not a JPEG or PNG (a proxy's login page, an error page).
    NotAnImage,
    /// An image, but not the relay's: something else answers at this address.
    NotThisRelay,
    /// A reason this version does not know (from a newer relay).
    #[serde(other)]
    Unknown,
}
