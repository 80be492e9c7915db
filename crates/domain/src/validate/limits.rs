//! How much an operation or a setting may hold, and the names it may use.

/// Most messages one send may carry; the executor sends them five at a time.
pub const MAX_SEND_MESSAGES: usize = 25;
pub const MAX_NOTE_CHARS: usize = 5_000;
pub const MAX_TAG_CHARS: usize = 50;
/// Most entries in one list setting: keyword rules, canned responses, templates, handoff
/// keywords. The bot checks every rule against every patient message.
pub const MAX_SETTING_ITEMS: usize = 500;
/// Longest keyword pattern (plain or regex) or handoff keyword, in characters.
pub const MAX_PATTERN_CHARS: usize = 1_000;

/// The variables templates may use.
pub const TEMPLATE_VARIABLES: [&str; 4] = ["name", "date", "time", "clinic"];
/// The variables a handoff greeting may use, besides the template ones.
pub const HANDOFF_VARIABLES: [&str; 2] = ["position", "wait"];

/// The longest postback data LINE sends (an action's `data` is at most 300 characters).
pub const MAX_POSTBACK_DATA_CHARS: usize = 300;

/// The AI responder's limits.
pub const AI_PROMPT_MAX_CHARS: usize = 8_000;
pub const AI_HISTORY_MAX: u32 = 50;
pub const AI_TIMEOUT_SECONDS: std::ops::RangeInclusive<u32> = 5..=60;
/// Most stop words, and the longest one, in characters.
pub const STOP_WORDS_MAX: usize = 50;
pub const STOP_WORD_MAX_CHARS: usize = 40;
/// The longest version name of a consent's wording.
pub const CONSENT_WORDING_MAX_CHARS: usize = 40;
/// How long a window may sit unused before it locks, in minutes.
pub const LOCK_AFTER_MINUTES: std::ops::RangeInclusive<u32> = 1..=240;
/// How many days a kind of patient data may be kept, when not forever: a day to ten years.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=3_650;
/// A hold's reason, in characters.
pub const HOLD_REASON_MAX_CHARS: usize = 200;
/// Telegram chats alerted at most.
pub const TELEGRAM_CHATS_MAX: usize = 10;
/// The languages alerts are written in.
pub const ALERT_LANGUAGES: [&str; 4] = ["en", "ja", "th", "zh-TW"];

/// A contact field's key, name and value, at most (in characters).
pub const CONTACT_FIELD_KEY_MAX: usize = 40;
pub const CONTACT_FIELD_LABEL_MAX: usize = 40;
pub const CONTACT_FIELD_VALUE_MAX: usize = 200;

/// Whether `key` can name a contact field: `a-z`, `0-9` and `_`, 1 to 40 of them.
pub fn contact_field_key(key: &str) -> bool {
    (1..=CONTACT_FIELD_KEY_MAX).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Longest emergency number, in characters.
pub const EMERGENCY_NUMBER_MAX_CHARS: usize = 20;
