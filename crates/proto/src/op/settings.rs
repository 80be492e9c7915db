//! Team settings, carried by `settings` ops, and what the relay keeps or reads for them:
//! the account's setup in LINE's console and the credentials it keeps sealed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tsunagi_line::message::Message;

// For the doc links only: their text goes into the TypeScript bindings as it is written.
#[cfg(doc)]
use super::Operation;

/// The settings of a LINE Official Account that change what a desk can do.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineAccount {
    /// LINE's Chat is on (`chatMode: chat`); off (`bot`), LINE's own console cannot
    /// answer, and patients never see "Read".
    pub chat: bool,
    /// LINE marks every message read the moment it arrives (`markAsReadMode: auto`):
    /// when the desks tell LINE makes no difference.
    pub marks_read_itself: bool,
}

/// A credential the relay keeps sealed for a channel.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// The AI endpoint's API key.
    AiKey,
    /// The Telegram bot's token.
    TelegramToken,
}

impl Credential {
    pub fn name(self) -> &'static str {
        match self {
            Credential::AiKey => "ai_key",
            Credential::TelegramToken => "telegram_token",
        }
    }

    /// The credential kept under `name`, if it is one.
    pub fn named(name: &str) -> Option<Credential> {
        [Credential::AiKey, Credential::TelegramToken]
            .into_iter()
            .find(|c| c.name() == name)
    }
}

/// A team setting, carried by a [`Operation::Settings`] op.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "setting", rename_all = "snake_case", deny_unknown_fields)]
pub enum Setting {
    /// Automatic replies to keywords, in BOT mode; the first match wins.
    KeywordRules { rules: Vec<KeywordRule> },
    /// Ready-made answers operators pick from.
    CannedResponses { responses: Vec<CannedResponse> },
    /// Opening hours per weekday, holidays, and the away reply outside them.
    BusinessHours(BusinessHours),
    /// What the bot says on follow, refollow and handoff.
    Greetings(Greetings),
    /// Reminder and message templates with `{{name}}`-style variables.
    Templates { templates: Vec<MessageTemplate> },
    /// When a chat goes to people, and when an idle one closes.
    Handoff(HandoffSettings),
    /// When desks tell LINE the patient's messages were read.
    ReadReceipts(ReadReceipts),
    /// The AI responder: which endpoint and model, what it knows of the clinic, and when
    /// it answers. Its API key is a [`Credential`], never here.
    Ai(AiSettings),
    /// Alerts to the owners' Telegram chats. The bot's token is a [`Credential`].
    Telegram(TelegramSettings),
    /// Words of an emergency: a patient who writes one gets the urgent-care message, not
    /// the bot, and every desk is alerted.
    RedFlags(RedFlagSettings),
    /// Fields the clinic keeps on every contact besides the built-in ones.
    ContactFields { fields: Vec<ContactField> },
    /// How the clinic keeps patients' data on its desks.
    PatientData(PatientData),
}

impl Setting {
    /// The name under which this setting is kept: one value per name.
    pub fn name(&self) -> &'static str {
        match self {
            Setting::KeywordRules { .. } => "keyword_rules",
            Setting::CannedResponses { .. } => "canned_responses",
            Setting::BusinessHours(_) => "business_hours",
            Setting::Greetings(_) => "greetings",
            Setting::Templates { .. } => "templates",
            Setting::Handoff(_) => "handoff",
            Setting::ReadReceipts(_) => "read_receipts",
            Setting::Ai(_) => "ai",
            Setting::Telegram(_) => "telegram",
            Setting::RedFlags(_) => "red_flags",
            Setting::ContactFields { .. } => "contact_fields",
            Setting::PatientData(_) => "patient_data",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordRule {
    pub pattern: String,
    #[serde(rename = "match")]
    pub matching: KeywordMatch,
    /// Only for patients writing in this language (`th`, `ja`, `zh-TW`, `en`); any if absent.
    #[serde(default)]
    pub language: Option<String>,
    pub reply: Vec<Message>,
}

/// How a keyword rule's pattern is matched. Every kind sees the patient's message the
/// same way: in NFKC (full-width letters and digits as their plain forms), in lower case,
/// with runs of white space as one space.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeywordMatch {
    /// The whole message is the pattern (taken the same way).
    Exact,
    /// The message holds the pattern (taken the same way).
    Contains,
    /// A regular expression (Rust's `regex` syntax), taken in NFKC and matched without
    /// regard to case, at most 1,000 characters.
    Regex,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CannedResponse {
    pub title: String,
    pub text: String,
    /// For patients whose LINE is in this language (`th`, `ja`, `zh-TW`, `en`); any if
    /// absent. The composer offers a patient's own language first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// An IANA time zone, such as `Asia/Tokyo`.
    pub time_zone: String,
    /// Opening hours; a weekday without any is closed.
    pub open: Vec<OpeningHours>,
    /// Closed all day, as `YYYY-MM-DD` in the time zone.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Sent once a day per conversation to patients who write while closed.
    #[serde(default)]
    pub away_message: Option<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// `HH:MM`, local time.
    pub from: String,
    pub to: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Greetings {
    #[serde(default)]
    pub follow: Option<String>,
    /// To a patient who unblocked the account.
    #[serde(default)]
    pub refollow: Option<String>,
    /// When a chat goes to people; `{{position}}` and `{{wait}}` tell the queue.
    #[serde(default)]
    pub handoff: Option<String>,
    /// The clinic's name, as `{{clinic}}` says it in greetings and the away reply.
    #[serde(default)]
    pub clinic: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    pub name: String,
    pub text: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffSettings {
    /// Words that hand a chat to people, in any language.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// More such words, kept by language (`th`, `ja`, `zh-TW`, `en`) for the people who
    /// look after them; every patient's message is matched against all of them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keywords_by_language: BTreeMap<String, Vec<String>>,
    /// Close a session idle this long and give the chat back to the bot.
    #[serde(default)]
    pub auto_close_minutes: Option<u32>,
    /// Ask for a 1–5 rating when a session closes.
    #[serde(default)]
    pub csat: bool,
    /// A chat nobody has taken this long after it began to wait is escalated to the
    /// owners' desks (0: never).
    #[serde(default = "default_escalate_seconds")]
    pub escalate_seconds: u32,
    /// Buttons that ask for a person: a patient's postback with one of these `data`
    /// values hands the chat to people (besides Tsunagi's own handoff button).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub postbacks: Vec<String>,
}

fn default_escalate_seconds() -> u32 {
    5 * 60
}

impl HandoffSettings {
    /// Every handoff word, whatever the language it is kept under.
    pub fn all_keywords(&self) -> impl Iterator<Item = &String> {
        self.keywords
            .iter()
            .chain(self.keywords_by_language.values().flatten())
    }
}

impl Default for HandoffSettings {
    fn default() -> Self {
        HandoffSettings {
            keywords: Vec::new(),
            keywords_by_language: BTreeMap::new(),
            auto_close_minutes: None,
            csat: false,
            escalate_seconds: default_escalate_seconds(),
            postbacks: Vec::new(),
        }
    }
}

/// When the patient sees "Read" under their messages (in 1:1 chats, when the account's
/// chat is on).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadReceipts {
    pub mode: ReadMode,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadMode {
    /// As soon as someone at a desk opens the chat.
    #[default]
    Opened,
    /// Only once staff answer.
    Answered,
    /// Never: the patient never sees "Read".
    Never,
}

/// The AI responder's settings.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AiSettings {
    /// An OpenAI-compatible API, such as `https://api.openai.com/v1`: the responder
    /// calls `{base_url}/chat/completions`.
    pub base_url: String,
    pub model: String,
    /// What the model should know of the clinic: hours, address, services, tone.
    pub prompt: String,
    /// How many earlier messages of the chat go with the question (0 to 50).
    #[serde(default = "default_ai_history")]
    pub history: u32,
    /// How long to wait for an answer before the chat goes to people (5 to 60 s).
    #[serde(default = "default_ai_timeout")]
    pub timeout_seconds: u32,
    /// Answers chats in BOT mode while the clinic is open.
    #[serde(default)]
    pub when_open: bool,
    /// Answers chats in BOT mode while the clinic is closed, instead of the away reply.
    #[serde(default)]
    pub when_closed: bool,
}

fn default_ai_history() -> u32 {
    10
}

/// How the clinic keeps patients' data on its desks.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientData {
    /// A window nobody used for this long hides patients' data behind its lock (1 to 240
    /// minutes).
    #[serde(default = "default_lock_after")]
    pub lock_after_minutes: u32,
    /// A patient who writes one of these (alone) is sent no more reminders.
    #[serde(default = "default_stop_words")]
    pub stop_words: Vec<String>,
    /// No reminder goes to a patient who has not agreed to reminders.
    #[serde(default)]
    pub reminders_need_consent: bool,
    /// How long each kind of patient data is kept: every night the relay purges what is
    /// older, on every desk too, but for contacts on hold.
    #[serde(default)]
    pub retention: Retention,
}

impl Default for PatientData {
    fn default() -> Self {
        PatientData {
            lock_after_minutes: default_lock_after(),
            stop_words: default_stop_words(),
            reminders_need_consent: false,
            retention: Retention::default(),
        }
    }
}

/// Days each kind of patient data is kept (1 to 3,650); `None`: forever, as by default.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// What patients wrote and what the team sent them, their media with them.
    #[serde(default)]
    pub messages_days: Option<u32>,
    /// The files patients sent (the messages stay, saying the file is no longer kept).
    #[serde(default)]
    pub media_days: Option<u32>,
    /// The photos the team uploaded to send.
    #[serde(default)]
    pub uploads_days: Option<u32>,
    /// The AI responder's record of its decisions, and the texts it keeps to ask the model.
    #[serde(default)]
    pub ai_days: Option<u32>,
    /// The audit's records of who looked, exported, erased and read.
    #[serde(default)]
    pub audit_days: Option<u32>,
}

impl Retention {
    /// Whether anything is ever purged.
    pub fn purges(&self) -> bool {
        [
            self.messages_days,
            self.media_days,
            self.uploads_days,
            self.ai_days,
            self.audit_days,
        ]
        .iter()
        .any(Option::is_some)
    }

    /// What is purged at `now`: each kind's oldest time kept.
    pub fn cutoffs(&self, now: crate::ids::UnixMillis) -> Cutoffs {
        let before = |days: Option<u32>| {
            days.map(|days| crate::ids::UnixMillis(now.0 - i64::from(days) * 86_400_000))
        };
        Cutoffs {
            messages: before(self.messages_days),
            media: before(self.media_days),
            uploads: before(self.uploads_days),
            ai: before(self.ai_days),
            audit: before(self.audit_days),
        }
    }
}

impl Cutoffs {
    /// Where a night's purge may start reading, the night after `previous`: what is older
    /// than every cutoff of the night before was judged then, under cutoffs as late (if
    /// every kind purged now was purged then). `None`: from the start.
    pub fn since(&self, previous: &Cutoffs) -> Option<crate::ids::UnixMillis> {
        let kinds = [
            (self.messages, previous.messages),
            (self.media, previous.media),
            (self.ai, previous.ai),
            (self.audit, previous.audit),
        ];
        if kinds
            .iter()
            .any(|(now, then)| now.is_some() && then.is_none())
        {
            return None;
        }
        kinds.iter().filter_map(|(_, then)| *then).min()
    }
}

/// What a night's purge removes: of each kind, what is older than its time; `None`:
/// nothing of that kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cutoffs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<crate::ids::UnixMillis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<crate::ids::UnixMillis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uploads: Option<crate::ids::UnixMillis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai: Option<crate::ids::UnixMillis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::ids::UnixMillis>,
}

/// "Stop" as patients write it in the clinics' four languages.
fn default_stop_words() -> Vec<String> {
    ["stop", "停止", "配信停止", "หยุด"]
        .map(str::to_owned)
        .to_vec()
}

impl PatientData {
    /// The stop word `text` is, if it is one: the whole message, ignoring case, width and
    /// the spaces and punctuation around it.
    pub fn stop_word(&self, text: &str) -> Option<&str> {
        let said = comparable(text);
        (!said.is_empty())
            .then(|| self.stop_words.iter().find(|w| comparable(w) == said))
            .flatten()
            .map(String::as_str)
    }
}

/// `text` as stop words are compared: full-width letters as ASCII, lower case, without
/// the spaces and punctuation around it.
fn comparable(text: &str) -> String {
    let narrow: String = text
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect();
    narrow
        .trim_matches(|c: char| {
            c.is_whitespace() || c.is_ascii_punctuation() || "。、！？".contains(c)
        })
        .to_lowercase()
}

fn default_lock_after() -> u32 {
    15
}

fn default_ai_timeout() -> u32 {
    20
}

/// Words of an emergency, and what a patient who writes one is told at once.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedFlagSettings {
    /// Phrases kept by language (`ja`, `th`, `zh-TW`, `en`) for the people who look after
    /// them; every patient's message is matched against all of them.
    pub phrases: BTreeMap<String, Vec<String>>,
    /// The urgent-care message by language; `{{number}}` is the emergency number. A
    /// patient whose language has none gets the English one.
    pub messages: BTreeMap<String, String>,
    /// The number patients are told to call (119 in Japan and Taiwan, 1669 in Thailand).
    pub emergency_number: String,
}

impl RedFlagSettings {
    /// Every phrase, whatever the language it is kept under.
    pub fn all_phrases(&self) -> impl Iterator<Item = &String> {
        self.phrases.values().flatten()
    }
}

/// A field the clinic keeps on its contacts, as an owner named it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactField {
    /// Its key in [`Operation::ContactFields`]: lower-case letters, digits and `_`.
    pub key: String,
    /// What the window calls it.
    pub label: String,
}

/// The fields every clinic keeps on its contacts; the window names them in the operator's
/// language. `team_name` is the name the team uses for the patient, shown in place of their
/// LINE name.
pub const BUILT_IN_CONTACT_FIELDS: [&str; 5] = [
    "team_name",
    "real_name",
    "chart_number",
    "phone",
    "birth_date",
];

/// Telegram alerts' settings.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    /// The chats alerted: a person's or a group's id.
    #[cfg_attr(feature = "ts", ts(type = "Array<number>"))]
    pub chats: Vec<i64>,
    /// Alert when a patient asks for a person.
    #[serde(default)]
    pub on_handoff: bool,
    /// Alert when a waiting chat is escalated to the owners.
    #[serde(default)]
    pub on_escalation: bool,
    /// Alert when a reminder could not reach some patients.
    #[serde(default)]
    pub on_reminder_failed: bool,
    /// Name the patient in alerts; else "a patient".
    #[serde(default)]
    pub show_names: bool,
    /// The language alerts are written in (`en`, `ja`, `th`, `zh-TW`).
    #[serde(default = "default_telegram_language")]
    pub language: String,
}

fn default_telegram_language() -> String {
    "en".to_owned()
}
