//! The team's settings as the owner's editors have them, the keyword rules' replies, and the
//! credentials the relay keeps sealed.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use tsunagi_desk::settings::CredentialsView;
use tsunagi_line::message::{Message, MessageBody};
use tsunagi_proto::{
    AiSettings, BusinessHours, CannedResponse, ContactField, Credential, Greetings,
    HandoffSettings, KeywordMatch, KeywordRule, LineAccount, PatientData, ReadReceipts,
    RedFlagSettings, Setting, TelegramSettings,
};

use super::{ErrorCode, IpcError};

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
    /// A window nobody used for this long locks.
    pub lock_after_minutes: u32,
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
    /// How the clinic keeps patients' data on its desks.
    pub patient_data: PatientData,
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
    PatientData(PatientData),
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
            SettingEdit::PatientData(data) => Setting::PatientData(data),
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
