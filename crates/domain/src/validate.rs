//! What makes an operation acceptable beyond its shape: the relay refuses anything else at
//! the edge (400, naming every problem), so nothing downstream has to cope with it.
//!
//! Its rooms: who may log what (`permissions`), the checks of an operation (`operations`)
//! and of a team setting (`settings`), what can be wrong with a setting (`problems`) and
//! its English words (`wording`), and the limits both keep to (`limits`).

mod limits;
mod operations;
mod permissions;
mod problems;
mod settings;
mod wording;

pub use self::limits::{
    AI_HISTORY_MAX, AI_PROMPT_MAX_CHARS, AI_TIMEOUT_SECONDS, ALERT_LANGUAGES,
    CONSENT_WORDING_MAX_CHARS, CONTACT_FIELD_KEY_MAX, CONTACT_FIELD_LABEL_MAX,
    CONTACT_FIELD_VALUE_MAX, EMERGENCY_NUMBER_MAX_CHARS, HANDOFF_VARIABLES, HOLD_REASON_MAX_CHARS,
    LOCK_AFTER_MINUTES, MAX_NOTE_CHARS, MAX_PATTERN_CHARS, MAX_POSTBACK_DATA_CHARS,
    MAX_SEND_MESSAGES, MAX_SETTING_ITEMS, MAX_TAG_CHARS, RETENTION_DAYS, STOP_WORD_MAX_CHARS,
    STOP_WORDS_MAX, TELEGRAM_CHATS_MAX, TEMPLATE_VARIABLES, contact_field_key,
};
pub use self::operations::{OpProblem, OpProblems, is_line_user_id, operation};
pub use self::permissions::{Author, author, may_cancel, owner_only};
pub use self::problems::{SettingList, SettingProblem, SettingText};
pub use self::settings::setting;
pub use crate::hours::minutes;

#[cfg(test)]
mod tests;
