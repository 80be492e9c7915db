//! What can be wrong with a team setting, as data: the relay words it in English
//! (`wording.rs`), the app's editors in the operator's language.

/// What is wrong with a team setting. The relay refuses the op naming each in English
/// (their `Display`); the app's editors show each in the operator's language, as it is
/// typed, from the same checks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum SettingProblem {
    /// More than [`MAX_SETTING_ITEMS`](super::MAX_SETTING_ITEMS) entries in a list.
    TooMany {
        list: SettingList,
        count: usize,
        max: usize,
    },
    /// Keyword rule `rule` (from 1) has no pattern.
    PatternEmpty {
        rule: usize,
    },
    PatternTooLong {
        rule: usize,
        max: usize,
    },
    /// LINE's regex crate's own words.
    PatternInvalid {
        rule: usize,
        error: String,
    },
    /// A reply is 1 to `max` messages.
    ReplyCount {
        rule: usize,
        max: usize,
    },
    /// A reply LINE would refuse, in its words.
    ReplyInvalid {
        rule: usize,
        error: String,
    },
    /// Canned response `item` (from 1) lacks a title or a text.
    CannedIncomplete {
        item: usize,
    },
    TemplateUnnamed,
    /// Not an IANA time zone.
    ZoneUnknown {
        zone: String,
    },
    WeekdayInvalid {
        weekday: u8,
    },
    ClosesBeforeOpens {
        from: String,
        to: String,
    },
    /// Not times as `HH:MM`.
    TimeInvalid {
        from: String,
        to: String,
    },
    /// Not a date as `YYYY-MM-DD`.
    HolidayInvalid {
        day: String,
    },
    HandoffKeywordBlank,
    HandoffKeywordTooLong {
        max: usize,
    },
    AutoCloseZero,
    /// A button's postback data that asks for a person is blank or longer than LINE's
    /// postback data can be.
    HandoffPostbackInvalid {
        max: usize,
    },
    /// The AI endpoint is not an `http(s)://` address.
    AiAddressInvalid {
        address: String,
    },
    AiModelMissing,
    /// The clinic's prompt is longer than `max` characters.
    AiPromptTooLong {
        max: usize,
    },
    AiHistoryTooLong {
        max: u32,
    },
    /// The timeout is not `min` to `max` seconds.
    AiTimeoutInvalid {
        min: u32,
        max: u32,
    },
    /// The window's lock comes after `min` to `max` minutes unused.
    LockAfterInvalid {
        min: u32,
        max: u32,
    },
    /// Stop words are at most `words`, each 1 to `chars` characters.
    StopWordsInvalid {
        words: usize,
        chars: usize,
    },
    /// Data is kept `min` to `max` days, or forever.
    RetentionInvalid {
        min: u32,
        max: u32,
    },
    /// Telegram alerts need at least one chat.
    TelegramNoChat,
    /// A chat id given twice, or more than `max` chats.
    TelegramChatsInvalid {
        max: usize,
    },
    TelegramLanguageUnknown {
        language: String,
    },
    RedFlagPhraseBlank,
    RedFlagPhraseTooLong {
        max: usize,
    },
    /// Not a number to dial (digits, with `+`, `-` or spaces).
    RedFlagNumberInvalid {
        number: String,
    },
    /// Phrases, and no urgent-care message to send when one matches.
    RedFlagMessageMissing,
    /// Contact field `field` (from 1) needs a name of up to `max` characters, and a key
    /// of its own (`a-z`, `0-9`, `_`) that no other field has.
    ContactFieldInvalid {
        field: usize,
        max: usize,
    },
    /// A `{{` with no `}}` after it.
    VariableUnclosed {
        text: SettingText,
    },
    VariableUnknown {
        text: SettingText,
        name: String,
        known: Vec<String>,
    },
}

/// The list settings, as [`SettingProblem::TooMany`] names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SettingList {
    KeywordRules,
    CannedResponses,
    Templates,
    HandoffKeywords,
    RedFlagPhrases,
    ContactFields,
}

/// The texts that may hold `{{variables}}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum SettingText {
    AwayMessage,
    FollowGreeting,
    RefollowGreeting,
    HandoffGreeting,
    Reminder,
    Template { name: String },
    RedFlagMessage { language: String },
}
