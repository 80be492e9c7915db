//! Everything that crosses the IPC boundary. TypeScript for these types, the desk's types
//! the UI sees, and the table of commands and events is generated into
//! `ui/src/lib/bindings.ts` (see the `bindings` test); the UI never guesses a shape.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use tsunagi_desk::alerts::{AlertKind, Day, KindSetting, Notice, Preferences, Privacy, QuietHours};
use tsunagi_desk::analytics::{DayCount, Figures, OperatorFigures, Report};
use tsunagi_desk::detail::{
    ContactDetail, FriendChange, FriendEvent, HandoffAction, HandoffEvent, Note, Operator,
};
use tsunagi_desk::outreach::{
    AudienceKind, FollowerSync, RecipientState, RecipientView, ReminderView, SyncEnd,
};
use tsunagi_desk::profile::{ConnectError, JoinError, Profile};
use tsunagi_desk::query::{
    AuditFilter, AuditRecord, ChatKind, ContactCounts, ContactFilter, ContactView, Direction,
    FriendStatus, InboxCounts, InboxItem, InboxList, MediaState, MediaView, MessageView,
    PageCursor, QuotedView, SendStatus, SentVia, SessionStatus, SessionSummary, Speaker,
};
use tsunagi_desk::relay_url::Problem;
use tsunagi_desk::search::{Hit, HitKind, Piece};
use tsunagi_desk::settings::{CredentialState, CredentialsView};
use tsunagi_desk::settings::{SettingList, SettingProblem, SettingText};
use tsunagi_desk::sync::{Connection, SyncStatus};
use tsunagi_line::message::{Message, MessageBody};
use tsunagi_proto::api::{Role, SetupProblem};
use tsunagi_proto::{
    AiSettings, BusinessHours, CannedResponse, ContactField, Credential, Greetings,
    HandoffSettings, KeywordMatch, KeywordRule, LineAccount, OpeningHours, ReadMode, ReadReceipts,
    RedFlagSettings, Setting, TelegramSettings, TelegramTrouble,
};

/// What the UI can act on when a command fails: each has its own words in every language.
/// Add a variant only when the UI handles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Something the user typed or chose cannot be used; `message` says what (in English).
    InvalidInput,
    AddressEmpty,
    /// Not an address the desk can use (no host, a scheme other than https, a password …).
    AddressInvalid,
    /// Plain http:// to another computer.
    AddressInsecure,
    NameEmpty,
    CodeEmpty,
    CodeUnknown,
    CodeUsed,
    CodeExpired,
    /// An owner withdrew the code, or shut out whoever made it.
    CodeWithdrawn,
    RelayUnreachable,
    /// The relay said no; `message` has its reason.
    RelayRefused,
    /// The OS keyring cannot keep the device token.
    NoKeyring,
    /// The relay has no LINE channel yet.
    NoChannel,
    /// Connecting a channel: no channel ID, no secret.
    ChannelIdEmpty,
    ChannelSecretEmpty,
    /// LINE refused the channel ID and secret; nothing was stored.
    LineRefused,
    /// LINE could not be reached to check them; nothing was stored.
    LineUnavailable,
    /// Only an owner may do this.
    OwnerOnly,
    /// The desk has not joined a relay (or has left it).
    NotJoined,
    AlreadyJoined,
    /// The conversation, contact or op asked for is not in this desk's store.
    NotFound,
    /// An answer to a chat this operator does not hold: claim it first (someone else may).
    NotYours,
    /// A file could not be written where the user chose; `message` says why.
    SaveFailed,
    /// Alert settings out of bounds; `message` says which (in English).
    SettingsInvalid,
    /// Updates: no update address is set on this computer.
    UpdateOff,
    /// Updates: not an address to look for updates at (https://, or http:// on this
    /// computer).
    UpdateAddressInvalid,
    /// Updates: this build has no public key to check them with.
    UpdateUnverifiable,
    /// Updates: the update address or the download could not be reached, or stopped short.
    UpdateUnreachable,
    /// Updates: the update address answered with something that is not an update for
    /// this computer.
    UpdateManifestInvalid,
    /// Updates: the download's signature is not Tsunagi's, or was made for another
    /// version than the one offered. Nothing was installed.
    UpdateSignatureRefused,
    /// Updates: this copy was not installed from a package, so it cannot update itself.
    UpdateNotInstallable,
    /// Updates: the system did not install the verified update; `message` says why.
    UpdateInstallFailed,
    /// Telegram does not know the bot token given; nothing was kept.
    TelegramRefused,
    /// Telegram could not be reached to check the token or send the test.
    TelegramUnavailable,
    /// The relay keeps no Telegram bot token yet.
    NoCredential,
    /// Something went wrong inside the app; details are in the log.
    Internal,
}

/// A failed command, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct IpcError {
    pub code: ErrorCode,
    /// For the log and for details; the UI shows its own words for `code`.
    pub message: String,
}

impl IpcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "a command failed");
        Self::new(ErrorCode::Internal, error.to_string())
    }
}

impl From<Problem> for IpcError {
    fn from(problem: Problem) -> Self {
        let code = match problem {
            Problem::Empty => ErrorCode::AddressEmpty,
            Problem::PlainHttp => ErrorCode::AddressInsecure,
            Problem::NotAnAddress { .. }
            | Problem::NoHost
            | Problem::Scheme { .. }
            | Problem::Credentials
            | Problem::QueryOrFragment => ErrorCode::AddressInvalid,
        };
        Self::new(code, problem.to_string())
    }
}

impl From<JoinError> for IpcError {
    fn from(error: JoinError) -> Self {
        let code = match &error {
            JoinError::Address(problem) => return problem.clone().into(),
            JoinError::NoName => ErrorCode::NameEmpty,
            JoinError::NoCode => ErrorCode::CodeEmpty,
            JoinError::UnknownCode => ErrorCode::CodeUnknown,
            JoinError::UsedCode => ErrorCode::CodeUsed,
            JoinError::ExpiredCode => ErrorCode::CodeExpired,
            JoinError::WithdrawnCode => ErrorCode::CodeWithdrawn,
            JoinError::Unreachable(_) => ErrorCode::RelayUnreachable,
            JoinError::Refused(_) | JoinError::Suspect(_) => ErrorCode::RelayRefused,
            JoinError::NoKeyring(_) => ErrorCode::NoKeyring,
            JoinError::NoChannel | JoinError::ChooseChannel(_) => ErrorCode::NoChannel,
            JoinError::AlreadyJoined => ErrorCode::AlreadyJoined,
            JoinError::Store(_) => return IpcError::internal(error),
        };
        Self::new(code, error.to_string())
    }
}

impl From<ConnectError> for IpcError {
    fn from(error: ConnectError) -> Self {
        let code = match &error {
            ConnectError::NotJoined => ErrorCode::NotJoined,
            ConnectError::Connected => ErrorCode::AlreadyJoined,
            ConnectError::NotOwner => ErrorCode::OwnerOnly,
            ConnectError::NoChannelId => ErrorCode::ChannelIdEmpty,
            ConnectError::NoSecret => ErrorCode::ChannelSecretEmpty,
            ConnectError::Refused(_) => ErrorCode::LineRefused,
            ConnectError::LineUnavailable(_) => ErrorCode::LineUnavailable,
            ConnectError::Unreachable(_) => ErrorCode::RelayUnreachable,
            ConnectError::Relay(_) | ConnectError::Suspect(_) => ErrorCode::RelayRefused,
            ConnectError::Store(_) => return IpcError::internal(error),
        };
        Self::new(code, error.to_string())
    }
}

impl From<tsunagi_desk::relay::Error> for IpcError {
    /// A call to the relay made directly (not through the outbox), worded as the desk's.
    fn from(error: tsunagi_desk::relay::Error) -> Self {
        tsunagi_desk::Error::from(error).into()
    }
}

impl From<tsunagi_desk::Error> for IpcError {
    fn from(error: tsunagi_desk::Error) -> Self {
        match error {
            tsunagi_desk::Error::Invalid(message) => Self::new(ErrorCode::InvalidInput, message),
            tsunagi_desk::Error::Relay(tsunagi_desk::relay::Error::Refused {
                code:
                    tsunagi_proto::api::ErrorCode::Forbidden | tsunagi_proto::api::ErrorCode::OwnerOnly,
                message,
                ..
            }) => Self::new(ErrorCode::OwnerOnly, message),
            tsunagi_desk::Error::Relay(error) if error.is_transient() => {
                Self::new(ErrorCode::RelayUnreachable, error.to_string())
            }
            tsunagi_desk::Error::Relay(error) => {
                Self::new(ErrorCode::RelayRefused, error.to_string())
            }
            other => IpcError::internal(other),
        }
    }
}

/// Where the OS keyring stands, for keeping the device token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyringStatus {
    Available,
    /// No keyring could be reached; `reason` is the system's own words, for details.
    Unavailable {
        reason: String,
    },
}

/// Who this desk is, once joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ProfileView {
    pub relay: String,
    /// None while the relay has no LINE channel yet: its owner connects one.
    pub channel_id: Option<String>,
    pub operator_id: String,
    pub operator: String,
    #[ts(type = "\"owner\" | \"staff\"")]
    pub role: Role,
}

impl From<&Profile> for ProfileView {
    fn from(profile: &Profile) -> Self {
        Self {
            relay: profile.relay.as_str().trim_end_matches('/').to_owned(),
            channel_id: profile.channel_id.as_ref().map(ToString::to_string),
            operator_id: profile.device_id.to_string(),
            operator: profile.operator.clone(),
            role: profile.role,
        }
    }
}

/// `app_info`: about this copy of the app, and whether it has joined a relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AppInfo {
    pub version: String,
    /// `linux`, `macos` or `windows`.
    pub os: String,
    pub keyring: KeyringStatus,
    pub profile: Option<ProfileView>,
    /// This launch found the desk's store unusable and set it aside for a fresh copy from
    /// the relay.
    pub set_aside: Option<SetAsideView>,
    /// When this computer learned that an owner removed it from the clinic, and deleted its
    /// copy of patients' conversations and files (ms since the epoch); until it joins again.
    #[ts(type = "number | null")]
    pub removed_at: Option<i64>,
}

/// A desk store set aside at launch: why, and where the old one is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SetAsideView {
    /// `damaged` or `newer`.
    pub reason: String,
    pub kept_as: String,
}

impl From<&tsunagi_desk::store::SetAside> for SetAsideView {
    fn from(set_aside: &tsunagi_desk::store::SetAside) -> Self {
        use tsunagi_desk::store::Unusable;
        Self {
            reason: match set_aside.why {
                Unusable::Damaged(_) => "damaged",
                Unusable::Newer { .. } => "newer",
            }
            .to_owned(),
            kept_as: set_aside.kept_as.display().to_string(),
        }
    }
}

/// `relay_url_check`: is this a relay address the desk can use?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RelayUrlCheckRequest {
    pub url: String,
}

/// A usable relay address, normalized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RelayUrlChecked {
    pub relay_url: String,
    /// The address LINE will call for a channel, with `{channel_id}` to fill in.
    pub webhook_url_template: String,
    /// False only for a relay on this machine over plain HTTP (the demo).
    pub encrypted: bool,
}

/// `desk_join`: join a relay with an invite code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DeskJoinRequest {
    pub relay: String,
    pub code: String,
    pub name: String,
}

/// `channel_connect`: the LINE channel's ID and secret, from the LINE Developers Console.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChannelConnectRequest {
    pub channel_id: String,
    pub channel_secret: String,
}

impl std::fmt::Debug for ChannelConnectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelConnectRequest")
            .field("channel_id", &self.channel_id)
            .finish_non_exhaustive()
    }
}

/// One step of connecting a channel, as the relay reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SetupStepView {
    /// `credentials`, `bot info`, `stored`, `webhook URL` or `webhook test`.
    pub name: String,
    pub ok: bool,
    /// LINE's or the relay's own words: the bot's name, the webhook address, LINE's answer.
    pub detail: String,
    /// What went wrong, when the relay knows: the window says it in the owner's language.
    pub problem: Option<SetupProblem>,
}

/// The channel is stored by the relay and this desk follows it; how each step went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChannelConnected {
    pub profile: ProfileView,
    pub steps: Vec<SetupStepView>,
}

/// A device of the clinic, as its owners see it in the team list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TeamDevice {
    pub device_id: String,
    pub operator: String,
    /// The computer, as it named itself when it joined.
    pub device_name: String,
    #[ts(type = "\"owner\" | \"staff\"")]
    pub role: Role,
    #[ts(type = "number")]
    pub joined_at: i64,
    #[ts(type = "number | null")]
    pub revoked_at: Option<i64>,
    /// When it last reached the relay, to the minute.
    #[ts(type = "number | null")]
    pub last_seen_at: Option<i64>,
    /// This desk.
    pub me: bool,
}

/// `team_invite`: a code for one more desk, with this role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TeamInviteRequest {
    #[ts(type = "\"owner\" | \"staff\"")]
    pub role: Role,
}

/// A one-time invite code to hand over, and until when it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TeamInvite {
    pub id: String,
    pub code: String,
    #[ts(type = "\"owner\" | \"staff\"")]
    pub role: Role,
    #[ts(type = "number")]
    pub expires_at: i64,
}

/// A code handed out that still works, as owners see it in Team (never the code itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TeamCode {
    pub id: String,
    #[ts(type = "\"owner\" | \"staff\"")]
    pub role: Role,
    /// The device that asked for it (`null`: the relay's operator).
    pub created_by: Option<String>,
    #[ts(type = "number")]
    pub created_at: i64,
    #[ts(type = "number")]
    pub expires_at: i64,
}

/// `team_withdraw`: the code to withdraw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TeamWithdrawRequest {
    pub id: String,
}

/// `team_revoke`: the device to shut out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TeamRevokeRequest {
    pub device_id: String,
}

/// `inbox_list`: a page of one of the inbox's lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct InboxListRequest {
    pub list: InboxList,
    /// Only the chats of contacts with this tag.
    #[serde(default)]
    pub tag: Option<String>,
    pub before: Option<PageCursor>,
    pub limit: u32,
}

/// Names one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConversationRequest {
    pub conversation: String,
}

/// `conversation_open`: everything the conversation pane shows at first. Opening marks it
/// read for this desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
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
    #[ts(type = "number | null")]
    pub free_reply_until: Option<i64>,
}

/// An action of this desk not yet in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct PendingAction {
    pub op_id: String,
    pub kind: PendingKind,
    /// A send's text.
    pub text: Option<String>,
    #[ts(type = "number")]
    pub created_at: i64,
    pub last_error: Option<String>,
    /// The relay refused it: it will not go out unless retried.
    pub refused: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
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

/// `conversation_messages`: messages before a position (scrolling up), or after it
/// (scrolling down from a search hit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MessagesRequest {
    pub conversation: String,
    pub seq: u32,
    pub part: u32,
    /// After the position instead of before it.
    pub newer: bool,
    pub limit: u32,
}

/// `conversation_act`: a handoff control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ActRequest {
    pub conversation: String,
    pub action: HandoffRequest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HandoffRequest {
    Claim,
    Release,
    Close,
    ToBot,
    ToPeople,
    Transfer { to: String },
}

/// `message_send`: a message to the patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SendRequest {
    pub conversation: String,
    pub message: Outgoing,
}

/// What an operator sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outgoing {
    /// Text, quoting a message when `quote_token` is given.
    Text {
        text: String,
        quote_token: Option<String>,
    },
    /// One of the stickers LINE lets bots send (`stickers_list`).
    Sticker {
        package_id: String,
        sticker_id: String,
    },
    /// An image `image_upload` handed to the relay.
    Image {
        original_content_url: String,
        preview_image_url: String,
    },
}

/// The bytes of a JPEG or PNG, sent as the command's raw body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ImageBytes(#[ts(type = "Uint8Array")] pub Vec<u8>);

/// `image_upload`: where the relay keeps the image for LINE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UploadedImage {
    pub original_content_url: String,
    pub preview_image_url: String,
}

/// A package of the stickers LINE lets bots send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StickerPackage {
    pub package_id: String,
    pub sticker_ids: Vec<String>,
}

/// The id of an op this desk made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OpRequest {
    pub op_id: String,
}

/// What an action became: queued under this id (the log settles it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Submitted {
    pub op_id: String,
}

/// `link_open`: a web address to open in the system's browser (a shared location's map).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LinkRequest {
    pub url: String,
}

/// `media_save`: a message's file (a photo, video, voice message or file a patient sent),
/// to save where the user chooses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MediaSaveRequest {
    /// LINE's message id.
    pub message: String,
    /// The name the patient gave the file, if any (the desk keeps only a safe name of it).
    pub file_name: Option<String>,
    /// The dialog's title, in the user's language.
    pub title: String,
}

/// `search_run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct SearchRequest {
    pub query: String,
    pub limit: u32,
}

/// `contact_tag`: add or remove a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TagRequest {
    pub contact: String,
    pub tag: String,
    pub added: bool,
}

/// `contact_fields_set`: the clinic's own facts about a contact, by field; an empty value
/// clears the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ContactFieldsRequest {
    pub contact: String,
    pub fields: std::collections::BTreeMap<String, String>,
}

/// Names one contact (a LINE user id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ContactRequest {
    pub contact: String,
}

/// `contact_note`: a private note about a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NoteRequest {
    pub contact: String,
    pub text: String,
}

/// `clinic_settings`: what the window needs of the team's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ClinicSettings {
    /// The clinic's IANA time zone (from its business hours); dates and times are shown in
    /// it. `null`: not set, so the computer's own.
    pub time_zone: Option<String>,
    /// Ready-made answers for the composer's "/" picker.
    pub canned: Vec<Canned>,
    /// A chat nobody answers this long is escalated to the owners (0: never): an inbox
    /// row's wait turns amber at half of it and red at it.
    pub escalate_seconds: u32,
    /// The fields owners added to every contact, besides the built-in ones.
    pub contact_fields: Vec<ContactField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Canned {
    pub title: String,
    pub text: String,
    /// For patients whose LINE is in this language; any if null.
    pub language: Option<String>,
}

/// `settings_get`: every team setting the owner's editors change, as in force now, and
/// the limits the relay enforces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct TeamSettingsView {
    /// None until an owner sets opening hours: the bot takes the clinic as always open.
    pub business_hours: Option<BusinessHours>,
    pub greetings: Greetings,
    pub handoff: HandoffSettings,
    pub keyword_rules: Vec<KeywordRuleView>,
    pub canned_responses: Vec<CannedResponse>,
    pub read_receipts: ReadReceipts,
    /// How the account is set up in LINE's console, once the relay has read it: whether
    /// LINE marks messages read itself (then `read_receipts` does nothing).
    pub line_account: Option<LineAccount>,
    /// The AI responder, if an owner set it up.
    pub ai: Option<AiSettings>,
    /// Telegram alerts, if an owner set them up.
    pub telegram: Option<TelegramSettings>,
    /// Words of an emergency, as seeded until an owner sets them.
    pub red_flags: RedFlagSettings,
    /// An owner has set the red flags.
    pub red_flags_set: bool,
    /// The fields owners added to every contact.
    pub contact_fields: Vec<ContactField>,
    /// What the relay keeps for them (never the values).
    pub credentials: CredentialsView,
    /// Most entries in a list (rules, canned responses, handoff keywords).
    pub max_items: u32,
    /// Longest pattern or handoff keyword, in characters.
    pub max_pattern_chars: u32,
}

/// A keyword rule as the editor shows it: its reply's plain texts to edit, any other
/// message (a sticker, an image, text with emoji …) kept as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct KeywordRuleView {
    pub pattern: String,
    #[serde(rename = "match")]
    #[ts(rename = "match")]
    pub matching: KeywordMatch,
    /// Only for patients whose LINE is in this language; any if null.
    pub language: Option<String>,
    pub reply: Vec<ReplyPart>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReplyPart {
    Text {
        text: String,
    },
    /// A message the editor does not change, as LINE takes it; `type` names it.
    Kept {
        #[ts(type = "unknown")]
        message: serde_json::Value,
        #[serde(rename = "type")]
        #[ts(rename = "type")]
        message_type: String,
    },
}

impl From<&Message> for ReplyPart {
    fn from(message: &Message) -> Self {
        let value = serde_json::to_value(message).unwrap_or_default();
        if let MessageBody::Text { text, .. } = &message.body
            && serde_json::to_value(Message::text(text.clone())).ok() == Some(value.clone())
        {
            return ReplyPart::Text { text: text.clone() };
        }
        let message_type = value["type"].as_str().unwrap_or("unknown").to_owned();
        ReplyPart::Kept {
            message: value,
            message_type,
        }
    }
}

impl TryFrom<ReplyPart> for Message {
    type Error = IpcError;

    fn try_from(part: ReplyPart) -> Result<Self, IpcError> {
        match part {
            ReplyPart::Text { text } => Ok(Message::text(text)),
            ReplyPart::Kept { message, .. } => serde_json::from_value(message)
                .map_err(|e| IpcError::new(ErrorCode::InvalidInput, format!("a kept reply: {e}"))),
        }
    }
}

impl From<&KeywordRule> for KeywordRuleView {
    fn from(rule: &KeywordRule) -> Self {
        Self {
            pattern: rule.pattern.clone(),
            matching: rule.matching,
            language: rule.language.clone(),
            reply: rule.reply.iter().map(ReplyPart::from).collect(),
        }
    }
}

impl TryFrom<KeywordRuleView> for KeywordRule {
    type Error = IpcError;

    fn try_from(view: KeywordRuleView) -> Result<Self, IpcError> {
        Ok(KeywordRule {
            pattern: view.pattern,
            matching: view.matching,
            language: view.language.filter(|l| !l.trim().is_empty()),
            reply: view
                .reply
                .into_iter()
                .map(Message::try_from)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// `settings_check` and `settings_save`: one setting, whole, as an editor has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "setting", rename_all = "snake_case")]
pub enum SettingEdit {
    BusinessHours(BusinessHours),
    Greetings(Greetings),
    Handoff(HandoffSettings),
    KeywordRules { rules: Vec<KeywordRuleView> },
    CannedResponses { responses: Vec<CannedResponse> },
    ReadReceipts(ReadReceipts),
    Ai(AiSettings),
    Telegram(TelegramSettings),
    RedFlags(RedFlagSettings),
    ContactFields { fields: Vec<ContactField> },
}

impl TryFrom<SettingEdit> for Setting {
    type Error = IpcError;

    fn try_from(edit: SettingEdit) -> Result<Self, IpcError> {
        Ok(match edit {
            SettingEdit::BusinessHours(hours) => Setting::BusinessHours(hours),
            SettingEdit::Greetings(greetings) => Setting::Greetings(greetings),
            SettingEdit::Handoff(handoff) => Setting::Handoff(handoff),
            SettingEdit::KeywordRules { rules } => Setting::KeywordRules {
                rules: keyword_rules(rules)?,
            },
            SettingEdit::CannedResponses { responses } => Setting::CannedResponses { responses },
            SettingEdit::ReadReceipts(receipts) => Setting::ReadReceipts(receipts),
            SettingEdit::Ai(ai) => Setting::Ai(ai),
            SettingEdit::Telegram(telegram) => Setting::Telegram(telegram),
            SettingEdit::RedFlags(flags) => Setting::RedFlags(flags),
            SettingEdit::ContactFields { fields } => Setting::ContactFields { fields },
        })
    }
}

pub fn keyword_rules(rules: Vec<KeywordRuleView>) -> Result<Vec<KeywordRule>, IpcError> {
    rules.into_iter().map(KeywordRule::try_from).collect()
}

/// `keyword_try`: which of these rules would answer this sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct KeywordTryRequest {
    pub rules: Vec<KeywordRuleView>,
    pub text: String,
    /// The patient's LINE language; null: not known.
    pub language: Option<String>,
}

/// `contacts_list`: a page of the follower list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ContactsRequest {
    pub filter: ContactFilter,
    pub before: Option<PageCursor>,
    pub limit: u32,
}

/// `contacts_export`: the contacts a list shows, and the save dialog's title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportRequest {
    pub filter: ContactFilter,
    pub title: String,
}

/// `follower_sync_status`: the newest follower sync, and when it should end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FollowerSyncView {
    #[serde(flatten)]
    #[ts(flatten)]
    pub sync: FollowerSync,
    /// When it should end, from how fast it went so far.
    #[ts(type = "number | null")]
    pub eta: Option<i64>,
}

/// A reminder as the form has it, before it is scheduled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReminderDraft {
    /// With `{{name}}`, `{{date}}`, `{{time}}` and `{{clinic}}`.
    pub text: String,
    /// The appointment's date and time as the message says them (free text).
    pub date: Option<String>,
    pub time: Option<String>,
    pub clinic: Option<String>,
    /// When it goes out, on the clinic's clock: `YYYY-MM-DD` and `HH:MM`.
    pub send_on: String,
    pub send_at: String,
    pub audience: AudienceKind,
    /// The patient's user id, or the tag.
    pub target: Option<String>,
}

/// `reminder_preview`: whom a draft reaches and what it costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReminderPreview {
    /// Following patients it reaches now (the relay fixes the list when it goes out).
    pub recipients: u32,
    /// Patients it names (a tag's, or the one) who blocked the clinic: reported blocked.
    pub blocked: u32,
    /// Whom the preview is written for; null when it reaches nobody.
    pub sample: Option<String>,
    /// The text as that patient reads it.
    pub text: String,
    /// The month's quota as LINE tells it; null when LINE could not be asked.
    pub quota: Option<QuotaView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct QuotaView {
    /// Null: no limit.
    #[ts(type = "number | null")]
    pub limit: Option<u64>,
    #[ts(type = "number")]
    pub used: u64,
}

/// Whether LINE can fetch the photos operators send from the relay's public address, as
/// the relay last found (`photo_delivery_get`) or found now (`photo_delivery_check`,
/// owners). The relay fetches an image of its own through that address, as LINE would.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PhotoDeliveryView {
    pub ok: bool,
    /// The address the relay fetched.
    pub url: String,
    /// Why LINE cannot fetch from there; null when it can.
    pub problem: Option<PhotoProblem>,
    /// What the relay saw, in English (`answered 404 Not Found`, the TLS error).
    pub detail: Option<String>,
    /// Unix milliseconds.
    #[ts(type = "number")]
    pub checked_at: i64,
}

/// Why LINE cannot fetch photos from the relay: each has its own words in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum PhotoProblem {
    NotHttps,
    PrivateAddress,
    Certificate,
    Unreachable,
    Redirected,
    Status,
    NotAnImage,
    NotThisRelay,
    /// From a newer relay: the detail says what.
    Unknown,
}

impl From<tsunagi_proto::api::PhotoDelivery> for PhotoDeliveryView {
    fn from(found: tsunagi_proto::api::PhotoDelivery) -> Self {
        use tsunagi_proto::api::PhotoProblem as Relay;
        PhotoDeliveryView {
            ok: found.ok,
            url: found.url,
            problem: found.problem.map(|problem| match problem {
                Relay::NotHttps => PhotoProblem::NotHttps,
                Relay::PrivateAddress => PhotoProblem::PrivateAddress,
                Relay::Certificate => PhotoProblem::Certificate,
                Relay::Unreachable => PhotoProblem::Unreachable,
                Relay::Redirected => PhotoProblem::Redirected,
                Relay::Status => PhotoProblem::Status,
                Relay::NotAnImage => PhotoProblem::NotAnImage,
                Relay::NotThisRelay => PhotoProblem::NotThisRelay,
                Relay::Unknown => PhotoProblem::Unknown,
            }),
            detail: found.detail,
            checked_at: found.checked_at,
        }
    }
}

/// Names one reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReminderRequest {
    pub id: String,
}

/// `analytics_report`: the days to report on, first and last included, as `YYYY-MM-DD`
/// on the clinic's calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReportRequest {
    pub from_day: String,
    pub to_day: String,
}

/// `analytics_export`: the report as a file where the operator chooses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ReportExportRequest {
    pub range: ReportRequest,
    pub format: ExportFormat,
    /// The save dialog's title.
    pub title: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

/// `audit_list`: a page of operators' actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditRequest {
    pub filter: AuditFilter,
    /// Older than this seq; null for the newest.
    #[ts(type = "number | null")]
    pub before: Option<u64>,
    pub limit: u32,
}

/// `audit_export`: the actions a filter lets through, as CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AuditExportRequest {
    pub filter: AuditFilter,
    pub title: String,
}

/// The event `desk-changed`: what an applied batch of the log changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DeskChanged {
    pub conversations: Vec<String>,
    pub contacts: Vec<String>,
    pub settings: bool,
    /// A follower sync began, moved on or ended.
    pub followers: bool,
    /// A reminder was scheduled, cancelled or (partly) delivered.
    pub reminders: bool,
    /// Happened now, not caught up on.
    pub live: bool,
}

/// The tray menu in the operator's words, and its tooltip ("3 waiting").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TrayWords {
    pub open: String,
    pub pause_30: String,
    pub pause_60: String,
    pub resume: String,
    pub quit: String,
    pub waiting: String,
}

/// `presence_update`: how many wait, for the tray and the badge, and the tray's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PresenceRequest {
    pub waiting: u32,
    pub words: TrayWords,
}

/// `alert_show`: a notice in the operator's words, to show as a native notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AlertShowRequest {
    pub title: String,
    pub body: String,
    /// The chat a click on the notification opens.
    pub conversation: Option<String>,
}

/// `credential_set`: a credential for the relay to keep (`value`), or to forget (null).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CredentialRequest {
    pub credential: Credential,
    pub value: Option<String>,
}

impl std::fmt::Debug for CredentialRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialRequest")
            .field("credential", &self.credential)
            .field("value", &self.value.as_ref().map(|_| "…"))
            .finish()
    }
}

/// `telegram_test`: a test message to these chats, in this language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TelegramTestRequest {
    #[ts(type = "Array<number>")]
    pub chats: Vec<i64>,
    pub language: String,
}

/// What became of a test message in one chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TelegramChatView {
    #[ts(type = "number")]
    pub chat: i64,
    pub ok: bool,
    /// Telegram's reason, when it was not sent.
    pub error: Option<String>,
}

/// `alert-open`: the operator clicked a notification, or followed a `tsunagi://` link to a
/// chat; the window opens the chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AlertOpened {
    pub conversation: String,
    /// A link asked for it: anyone can make one, so the window only shows the chat
    /// (`conversation_show`), and nothing is marked read until the operator opens it.
    pub linked: bool,
}

/// `desk-removed`: the relay said an owner removed this computer from the clinic; its copy
/// of patients' conversations and files was deleted, and it has left the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DeskRemoved {
    /// When (ms since the epoch).
    #[ts(type = "number")]
    pub at: i64,
}

/// `alerts-paused`, `alert_paused`, `alert_pause`: until when alerts are paused (ms since
/// the epoch), or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AlertsPaused {
    #[ts(type = "number | null")]
    pub until: Option<i64>,
}

/// `update_settings`: how this computer looks for updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UpdateSettings {
    pub current_version: String,
    /// The update address set on this computer, if any.
    pub address: Option<String>,
    /// The address this build came with, used when none is set here.
    pub built_in_address: Option<String>,
    /// False for a build with no key to check updates with: it never looks.
    pub can_verify: bool,
    /// False when this copy was not installed from a package (a developer's build).
    pub installable: bool,
    /// The version "Later" was said to, while it is not offered.
    pub postponed: Option<String>,
}

/// `update_settings_set`: this computer's update address; empty or none goes back to the
/// built-in one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct UpdateSettingsRequest {
    pub address: Option<String>,
}

/// `update_check`, `update_download`, `update-available`: a newer version on offer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UpdateOffer {
    pub version: String,
    /// What is new, as the release wrote it.
    pub notes: Option<String>,
    /// When it was published (ms since the epoch).
    pub published: Option<f64>,
}

/// `update-progress`: bytes of the update downloaded so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UpdateProgress {
    pub received: f64,
    pub total: Option<f64>,
}

/// Declares the command table once: the handler, the names build.rs and the capability
/// must list, and its TypeScript (`Commands`: request and response per command).
macro_rules! commands {
    ($($name:ident: $request:ty => $response:ty),* $(,)?) => {
        /// Every command's name, as the UI invokes it.
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        pub(crate) fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(crate::commands::$name),*]
        }

        fn command_table() -> String {
            let mut out = String::from("export type Commands = {\n");
            $(
                out.push_str(&format!(
                    "  {}: {{ request: {}; response: {} }}\n",
                    stringify!($name),
                    <$request as TS>::name(),
                    <$response as TS>::name(),
                ));
            )*
            out.push_str("}\n");
            out
        }
    };
}

commands! {
    app_info: () => AppInfo,
    relay_url_check: RelayUrlCheckRequest => RelayUrlChecked,
    desk_join: DeskJoinRequest => ProfileView,
    desk_leave: () => (),
    channel_connect: ChannelConnectRequest => ChannelConnected,
    team_list: () => Vec<TeamDevice>,
    team_invite: TeamInviteRequest => TeamInvite,
    team_revoke: TeamRevokeRequest => (),
    team_codes: () => Vec<TeamCode>,
    team_withdraw: TeamWithdrawRequest => (),
    desk_status: () => SyncStatus,
    inbox_list: InboxListRequest => Vec<InboxItem>,
    inbox_counts: () => InboxCounts,
    conversation_open: ConversationRequest => ConversationView,
    conversation_show: ConversationRequest => ConversationView,
    conversation_messages: MessagesRequest => Vec<MessageView>,
    conversation_act: ActRequest => Submitted,
    conversation_typing: ConversationRequest => (),
    message_send: SendRequest => Submitted,
    image_upload: ImageBytes => UploadedImage,
    stickers_list: () => Vec<StickerPackage>,
    op_retry: OpRequest => (),
    op_discard: OpRequest => (),
    operators_list: () => Vec<Operator>,
    search_run: SearchRequest => Vec<Hit>,
    contact_tag: TagRequest => Submitted,
    contact_note: NoteRequest => Submitted,
    contact_fields_set: ContactFieldsRequest => Submitted,
    contact_get: ContactRequest => ContactDetail,
    clinic_settings: () => ClinicSettings,
    settings_get: () => TeamSettingsView,
    settings_check: SettingEdit => Vec<SettingProblem>,
    settings_save: SettingEdit => (),
    credential_set: CredentialRequest => (),
    link_at_start: () => Option<String>,
    telegram_test: TelegramTestRequest => Vec<TelegramChatView>,
    keyword_try: KeywordTryRequest => Option<u32>,
    contacts_list: ContactsRequest => Vec<ContactView>,
    contact_counts: () => ContactCounts,
    contacts_export: ExportRequest => bool,
    tags_list: () => Vec<String>,
    followers_sync: () => (),
    follower_sync_status: () => Option<FollowerSyncView>,
    reminders_list: () => Vec<ReminderView>,
    reminder_recipients: ReminderRequest => Vec<RecipientView>,
    reminder_preview: ReminderDraft => ReminderPreview,
    quota_get: () => Option<QuotaView>,
    photo_delivery_get: () => PhotoDeliveryView,
    photo_delivery_check: () => PhotoDeliveryView,
    reminder_schedule: ReminderDraft => (),
    reminder_cancel: ReminderRequest => (),
    analytics_report: ReportRequest => Report,
    analytics_export: ReportExportRequest => bool,
    audit_list: AuditRequest => Vec<AuditRecord>,
    audit_export: AuditExportRequest => bool,
    link_open: LinkRequest => (),
    media_save: MediaSaveRequest => bool,
    alert_preferences: () => Preferences,
    alert_preferences_set: Preferences => (),
    alert_show: AlertShowRequest => (),
    alert_test: () => (),
    alert_paused: () => AlertsPaused,
    alert_pause: Option<u32> => AlertsPaused,
    presence_update: PresenceRequest => (),
    autostart_get: () => bool,
    autostart_set: bool => (),
    update_settings: () => UpdateSettings,
    update_settings_set: UpdateSettingsRequest => UpdateSettings,
    update_check: () => Option<UpdateOffer>,
    update_download: () => UpdateOffer,
    update_install: () => (),
    update_postpone: () => (),
}

/// The events the app emits, by name, with their payloads.
pub const EVENT_CHANGED: &str = "desk-changed";
pub const EVENT_STATUS: &str = "desk-status";
/// Something to alert the operator to: the window words it and plays its sound.
pub const EVENT_ALERT: &str = "desk-alert";
/// A notification was clicked: the window opens its chat.
pub const EVENT_ALERT_OPEN: &str = "alert-open";
/// Alerts were paused or resumed (from the tray or the window).
pub const EVENT_ALERTS_PAUSED: &str = "alerts-paused";
/// The background look found a newer version.
pub const EVENT_UPDATE_AVAILABLE: &str = "update-available";
/// An update's download goes on.
pub const EVENT_UPDATE_PROGRESS: &str = "update-progress";
/// An owner removed this computer from the clinic, and its copy was deleted.
pub const EVENT_REMOVED: &str = "desk-removed";

fn event_table() -> String {
    format!(
        "export type Events = {{\n  '{EVENT_CHANGED}': {}\n  '{EVENT_STATUS}': {}\n  '{EVENT_ALERT}': {}\n  '{EVENT_ALERT_OPEN}': {}\n  '{EVENT_ALERTS_PAUSED}': {}\n  '{EVENT_UPDATE_AVAILABLE}': {}\n  '{EVENT_UPDATE_PROGRESS}': {}\n  '{EVENT_REMOVED}': {}\n}}\n",
        DeskChanged::name(),
        SyncStatus::name(),
        Notice::name(),
        AlertOpened::name(),
        AlertsPaused::name(),
        UpdateOffer::name(),
        UpdateProgress::name(),
        DeskRemoved::name()
    )
}

/// The TypeScript for every IPC type, as committed in `ui/src/lib/bindings.ts`.
pub fn typescript() -> String {
    let declarations = [
        ErrorCode::decl(),
        IpcError::decl(),
        KeyringStatus::decl(),
        ProfileView::decl(),
        AppInfo::decl(),
        SetAsideView::decl(),
        UpdateSettings::decl(),
        UpdateSettingsRequest::decl(),
        UpdateOffer::decl(),
        UpdateProgress::decl(),
        RelayUrlCheckRequest::decl(),
        RelayUrlChecked::decl(),
        DeskJoinRequest::decl(),
        ChannelConnectRequest::decl(),
        SetupStepView::decl(),
        SetupProblem::decl(),
        ChannelConnected::decl(),
        TeamDevice::decl(),
        TeamInviteRequest::decl(),
        TeamInvite::decl(),
        TeamRevokeRequest::decl(),
        TeamCode::decl(),
        TeamWithdrawRequest::decl(),
        Connection::decl(),
        SyncStatus::decl(),
        InboxList::decl(),
        ChatKind::decl(),
        SessionStatus::decl(),
        Speaker::decl(),
        Direction::decl(),
        SendStatus::decl(),
        SentVia::decl(),
        MediaState::decl(),
        MediaView::decl(),
        QuotedView::decl(),
        FriendStatus::decl(),
        PageCursor::decl(),
        SessionSummary::decl(),
        InboxItem::decl(),
        InboxCounts::decl(),
        InboxListRequest::decl(),
        MessageView::decl(),
        ConversationRequest::decl(),
        HandoffAction::decl(),
        HandoffEvent::decl(),
        FriendEvent::decl(),
        FriendChange::decl(),
        Note::decl(),
        ContactDetail::decl(),
        PendingKind::decl(),
        PendingAction::decl(),
        ConversationView::decl(),
        MessagesRequest::decl(),
        HandoffRequest::decl(),
        ActRequest::decl(),
        Outgoing::decl(),
        SendRequest::decl(),
        ImageBytes::decl(),
        UploadedImage::decl(),
        StickerPackage::decl(),
        OpRequest::decl(),
        Submitted::decl(),
        Operator::decl(),
        LinkRequest::decl(),
        MediaSaveRequest::decl(),
        SearchRequest::decl(),
        HitKind::decl(),
        Piece::decl(),
        Hit::decl(),
        TagRequest::decl(),
        NoteRequest::decl(),
        ContactFieldsRequest::decl(),
        ContactRequest::decl(),
        ContactField::decl(),
        Canned::decl(),
        ClinicSettings::decl(),
        KeywordMatch::decl(),
        OpeningHours::decl(),
        BusinessHours::decl(),
        Greetings::decl(),
        HandoffSettings::decl(),
        CannedResponse::decl(),
        ReadMode::decl(),
        ReadReceipts::decl(),
        LineAccount::decl(),
        AiSettings::decl(),
        TelegramSettings::decl(),
        RedFlagSettings::decl(),
        TelegramTrouble::decl(),
        Credential::decl(),
        CredentialState::decl(),
        CredentialsView::decl(),
        CredentialRequest::decl(),
        TelegramTestRequest::decl(),
        TelegramChatView::decl(),
        ReplyPart::decl(),
        KeywordRuleView::decl(),
        TeamSettingsView::decl(),
        SettingEdit::decl(),
        SettingList::decl(),
        SettingText::decl(),
        SettingProblem::decl(),
        KeywordTryRequest::decl(),
        ContactFilter::decl(),
        ContactView::decl(),
        ContactCounts::decl(),
        ContactsRequest::decl(),
        ExportRequest::decl(),
        SyncEnd::decl(),
        FollowerSync::decl(),
        FollowerSyncView::decl(),
        AudienceKind::decl(),
        ReminderView::decl(),
        RecipientState::decl(),
        RecipientView::decl(),
        ReminderDraft::decl(),
        QuotaView::decl(),
        PhotoProblem::decl(),
        PhotoDeliveryView::decl(),
        ReminderPreview::decl(),
        ReminderRequest::decl(),
        Figures::decl(),
        OperatorFigures::decl(),
        DayCount::decl(),
        Report::decl(),
        ReportRequest::decl(),
        ExportFormat::decl(),
        ReportExportRequest::decl(),
        AuditRecord::decl(),
        AuditFilter::decl(),
        AuditRequest::decl(),
        AuditExportRequest::decl(),
        DeskChanged::decl(),
        AlertKind::decl(),
        Privacy::decl(),
        KindSetting::decl(),
        Day::decl(),
        QuietHours::decl(),
        Preferences::decl(),
        Notice::decl(),
        AlertShowRequest::decl(),
        AlertOpened::decl(),
        DeskRemoved::decl(),
        AlertsPaused::decl(),
        TrayWords::decl(),
        PresenceRequest::decl(),
    ];
    let mut out = String::from(
        "// Generated from src-tauri/src/ipc.rs by `cargo xtask bindings`. Do not edit.\n",
    );
    for declaration in declarations {
        out.push_str("\nexport ");
        out.push_str(&declaration);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&command_table());
    out.push('\n');
    out.push_str(&event_table());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_bindings_match_the_rust_types() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/lib/bindings.ts");
        let generated = typescript();
        if std::env::var_os("TSUNAGI_WRITE_BINDINGS").is_some() {
            std::fs::write(path, &generated).expect("writing bindings");
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/src/lib/bindings.ts is stale: run `cargo xtask bindings` and commit the result"
        );
    }

    #[test]
    fn every_command_is_granted_to_the_window_and_listed_for_the_build() {
        let capability: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/main.json"))
                .expect("the capability is JSON");
        let granted: Vec<String> = capability["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter_map(|p| {
                p.as_str()?
                    .strip_prefix("allow-")
                    .map(|c| c.replace('-', "_"))
            })
            .collect();
        let build = include_str!("../build.rs");
        for command in COMMANDS {
            assert!(
                granted.iter().any(|g| g == command),
                "{command} is not granted in src-tauri/capabilities/main.json"
            );
            assert!(
                build.contains(&format!("\"{command}\"")),
                "{command} is not listed in src-tauri/build.rs"
            );
        }
        assert_eq!(
            granted.len(),
            COMMANDS.len(),
            "grants without commands: {granted:?}"
        );
    }

    #[test]
    fn errors_cross_ipc_as_code_and_message() {
        let error: IpcError = Problem::PlainHttp.into();
        assert_eq!(
            serde_json::to_value(&error).expect("serializes"),
            serde_json::json!({
                "code": "address_insecure",
                "message": Problem::PlainHttp.to_string(),
            })
        );
        let used: IpcError = JoinError::UsedCode.into();
        assert_eq!(used.code, ErrorCode::CodeUsed);
    }

    #[test]
    fn the_relays_refusals_reach_the_window_as_what_the_operator_can_act_on() {
        let refused = |status, code| tsunagi_desk::relay::Error::Refused {
            status,
            code,
            message: "refused".into(),
        };
        use tsunagi_proto::api::ErrorCode as Relay;
        for (status, code) in [(403, Relay::Forbidden), (403, Relay::OwnerOnly)] {
            let error: IpcError = refused(status, code).into();
            assert_eq!(error.code, ErrorCode::OwnerOnly, "{code:?}");
        }
        let error: IpcError = refused(503, Relay::Unavailable).into();
        assert_eq!(error.code, ErrorCode::RelayUnreachable);
        let error: IpcError = refused(404, Relay::NotFound).into();
        assert_eq!(error.code, ErrorCode::RelayRefused);

        // Connecting a channel: LINE's answer, and what the relay said of the owner.
        let line: IpcError = ConnectError::from(refused(400, Relay::LineRefused)).into();
        assert_eq!(line.code, ErrorCode::LineRefused);
        let down: IpcError = ConnectError::from(refused(502, Relay::LineUnavailable)).into();
        assert_eq!(down.code, ErrorCode::LineUnavailable);
        let staff: IpcError = ConnectError::from(refused(403, Relay::Forbidden)).into();
        assert_eq!(staff.code, ErrorCode::OwnerOnly);
    }
}
