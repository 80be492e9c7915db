//! What makes an operation acceptable beyond its shape: the relay refuses anything else at
//! the edge (400, naming every problem), so nothing downstream has to cope with it.

use tsunagi_line::message::{self, Message};
use tsunagi_proto::{
    AiSettings, Audience, BusinessHours, ContactField, Greetings, HandoffSettings, KeywordMatch,
    KeywordRule, MessageTemplate, Operation, RedFlagSettings, Setting, TelegramSettings,
};

pub use crate::hours::minutes;
use crate::template::{self, Piece};

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

/// Whether only a channel's owners may log `op`: what changes how the bot answers
/// everyone (settings), what reaches many patients at once (a reminder to a tag or to
/// every follower), and a follower sync (thousands of LINE calls). Staff answer chats,
/// tag, note, and remind one patient.
pub fn owner_only(op: &Operation) -> bool {
    match op {
        Operation::Settings(_) | Operation::SyncFollowers => true,
        Operation::ScheduleReminder(reminder) => !matches!(reminder.to, Audience::Contact { .. }),
        _ => false,
    }
}

/// Whether someone may cancel `reminder`: what only owners may schedule (a reminder to
/// many patients), only those who oversee the channel (owners) may cancel; a reminder to one
/// patient, anyone at a desk. (`oversees` as [`crate::session::Actor`] says it.)
pub fn may_cancel(reminder: &tsunagi_proto::Reminder, oversees: bool) -> bool {
    oversees || matches!(reminder.to, Audience::Contact { .. })
}

/// Who may log an op: people at desks, or only the relay's executor (it reports what LINE
/// did; a desk must not claim a message was sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Desk,
    Executor,
}

pub fn author(op: &Operation) -> Author {
    match op {
        Operation::Sent { .. }
        | Operation::SendFailed { .. }
        | Operation::Profiles { .. }
        | Operation::Sending { .. }
        | Operation::NotSent { .. }
        | Operation::Unanswered { .. }
        | Operation::Alert { .. }
        | Operation::Media { .. }
        | Operation::FollowerIds { .. }
        | Operation::FollowerSyncProgress { .. }
        | Operation::FollowerSyncDone { .. }
        | Operation::ReminderRecipients { .. }
        | Operation::ReminderDelivered { .. }
        // The relay logs these itself: a credential it now keeps, what the model
        // answered, what became of a Telegram alert.
        | Operation::CredentialSet { .. }
        | Operation::AiAnswered { .. }
        | Operation::TelegramSending { .. }
        | Operation::TelegramSent { .. }
        | Operation::LineAccount(_) => Author::Executor,
        _ => Author::Desk,
    }
}

/// Every problem with `op`, or nothing.
pub fn operation(op: &Operation) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    match op {
        Operation::Send(send) => messages(&send.messages, &mut problems),
        Operation::Transfer { to, .. } if to.as_str().trim().is_empty() => {
            problems.push("transfer: `to` names no operator".into());
        }
        Operation::Note { text, .. } => {
            let chars = text.trim().chars().count();
            if chars == 0 || chars > MAX_NOTE_CHARS {
                problems.push(format!(
                    "note: the text must be 1 to {MAX_NOTE_CHARS} characters"
                ));
            }
        }
        Operation::ContactFields { fields, .. } => {
            if fields.is_empty() || fields.len() > 20 {
                problems.push("contact fields: 1 to 20 fields at once".into());
            }
            for (key, value) in fields {
                if !contact_field_key(key) {
                    problems.push(format!(
                        "contact fields: {key:?} is not a field's key (a-z, 0-9, _; up to {CONTACT_FIELD_KEY_MAX})"
                    ));
                }
                if value.chars().count() > CONTACT_FIELD_VALUE_MAX
                    || value.chars().any(char::is_control)
                {
                    problems.push(format!(
                        "contact fields: {key} is at most {CONTACT_FIELD_VALUE_MAX} characters on one line"
                    ));
                }
            }
        }
        Operation::Tag { tag, .. } => {
            let chars = tag.trim().chars().count();
            if chars == 0 || chars > MAX_TAG_CHARS {
                problems.push(format!("tag: a tag is 1 to {MAX_TAG_CHARS} characters"));
            }
        }
        Operation::Settings(setting) => {
            problems.extend(self::setting(setting).iter().map(ToString::to_string));
        }
        Operation::MarkRead {
            conversation,
            token,
        } => {
            if !conversation.is_one_to_one() {
                problems.push("mark read: only 1:1 chats are marked read".into());
            }
            if token.as_str().trim().is_empty() {
                problems.push("mark read: the token is empty".into());
            }
        }
        Operation::Typing {
            conversation,
            seconds,
        } => {
            if !conversation.is_one_to_one() {
                problems.push("typing: LINE shows the loading animation in 1:1 chats only".into());
            }
            if !(5..=60).contains(seconds) || seconds % 5 != 0 {
                problems.push(format!(
                    "typing: LINE shows the animation for 5 to 60 seconds in fives, not {seconds}"
                ));
            }
        }
        Operation::ScheduleReminder(reminder) => {
            if reminder.text.trim().is_empty() {
                problems.push("a reminder needs a text".into());
            }
            let mut unknown = Vec::new();
            variables(SettingText::Reminder, &reminder.text, &[], &mut unknown);
            problems.extend(unknown.iter().map(ToString::to_string));
            if let Audience::Tag { tag } = &reminder.to
                && tag.trim().is_empty()
            {
                problems.push("a reminder to a tag needs the tag's name".into());
            }
        }
        _ => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn messages(messages: &[Message], problems: &mut Vec<String>) {
    if messages.is_empty() || messages.len() > MAX_SEND_MESSAGES {
        problems.push(format!(
            "send: 1 to {MAX_SEND_MESSAGES} messages, not {}",
            messages.len()
        ));
    }
    for (i, one) in messages.iter().enumerate() {
        if let Err(error) = message::validate(std::slice::from_ref(one)) {
            problems.push(format!("send: message {}: {error}", i + 1));
        }
    }
}

/// What is wrong with a team setting. The relay refuses the op naming each in English
/// (their `Display`); the app's editors show each in the operator's language, as it is
/// typed, from the same checks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum SettingProblem {
    /// More than [`MAX_SETTING_ITEMS`] entries in a list.
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

impl std::fmt::Display for SettingList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SettingList::KeywordRules => "keyword rules",
            SettingList::CannedResponses => "canned responses",
            SettingList::Templates => "templates",
            SettingList::HandoffKeywords => "handoff keywords",
            SettingList::RedFlagPhrases => "red-flag phrases",
            SettingList::ContactFields => "contact fields",
        })
    }
}

impl std::fmt::Display for SettingText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SettingText::AwayMessage => f.write_str("the away message"),
            SettingText::FollowGreeting => f.write_str("the follow greeting"),
            SettingText::RefollowGreeting => f.write_str("the refollow greeting"),
            SettingText::HandoffGreeting => f.write_str("the handoff greeting"),
            SettingText::Reminder => f.write_str("the reminder"),
            SettingText::Template { name } => write!(f, "template {name:?}"),
            SettingText::RedFlagMessage { language } => {
                write!(f, "the urgent-care message ({language})")
            }
        }
    }
}

impl std::fmt::Display for SettingProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use SettingProblem as P;
        match self {
            P::TooMany { list, count, max } => write!(f, "{list}: at most {max}, not {count}"),
            P::PatternEmpty { rule } => write!(f, "keyword rule {rule}: the pattern is empty"),
            P::PatternTooLong { rule, max } => {
                write!(
                    f,
                    "keyword rule {rule}: the pattern is at most {max} characters"
                )
            }
            P::PatternInvalid { rule, error } => {
                write!(
                    f,
                    "keyword rule {rule}: the pattern is not a valid regex: {error}"
                )
            }
            P::ReplyCount { rule, max } => {
                write!(f, "keyword rule {rule}: the reply is 1 to {max} messages")
            }
            P::ReplyInvalid { rule, error } => write!(f, "keyword rule {rule}: {error}"),
            P::CannedIncomplete { item } => {
                write!(f, "canned response {item}: needs a title and a text")
            }
            P::TemplateUnnamed => f.write_str("a template needs a name"),
            P::ZoneUnknown { zone } => write!(
                f,
                "business hours: {zone:?} is not a time zone such as Asia/Tokyo"
            ),
            P::WeekdayInvalid { weekday } => write!(
                f,
                "business hours: weekday {weekday} is not 1 (Monday) to 7 (Sunday)"
            ),
            P::ClosesBeforeOpens { from, to } => {
                write!(f, "business hours: {from}–{to} closes before it opens")
            }
            P::TimeInvalid { from, to } => {
                write!(f, "business hours: {from:?}–{to:?} are not times as HH:MM")
            }
            P::HolidayInvalid { day } => write!(
                f,
                "business hours: holiday {day:?} is not a date as YYYY-MM-DD"
            ),
            P::HandoffKeywordBlank => f.write_str("handoff: a keyword cannot be blank"),
            P::HandoffKeywordTooLong { max } => {
                write!(f, "handoff: a keyword is at most {max} characters")
            }
            P::AutoCloseZero => f.write_str("handoff: auto-close needs at least 1 minute"),
            P::HandoffPostbackInvalid { max } => write!(
                f,
                "handoff: a button's postback data is 1 to {max} characters"
            ),
            P::AiAddressInvalid { address } => write!(
                f,
                "AI responder: {address:?} is not an address as https://…"
            ),
            P::AiModelMissing => f.write_str("AI responder: name the model to ask"),
            P::AiPromptTooLong { max } => {
                write!(
                    f,
                    "AI responder: the clinic's prompt is at most {max} characters"
                )
            }
            P::AiHistoryTooLong { max } => write!(
                f,
                "AI responder: at most {max} earlier messages go with a question"
            ),
            P::AiTimeoutInvalid { min, max } => {
                write!(f, "AI responder: the timeout is {min} to {max} seconds")
            }
            P::TelegramNoChat => f.write_str("Telegram alerts: give at least one chat id"),
            P::TelegramChatsInvalid { max } => {
                write!(f, "Telegram alerts: at most {max} chats, each once")
            }
            P::TelegramLanguageUnknown { language } => write!(
                f,
                "Telegram alerts: {language:?} is not en, ja, th or zh-TW"
            ),
            P::RedFlagPhraseBlank => f.write_str("red flags: a phrase cannot be blank"),
            P::RedFlagPhraseTooLong { max } => {
                write!(f, "red flags: a phrase is at most {max} characters")
            }
            P::RedFlagNumberInvalid { number } => write!(
                f,
                "red flags: {number:?} is not a number to call, such as 119"
            ),
            P::RedFlagMessageMissing => {
                f.write_str("red flags: write the urgent-care message patients get")
            }
            P::ContactFieldInvalid { field, max } => write!(
                f,
                "contact field {field}: a name of up to {max} characters and a key of its own"
            ),
            P::VariableUnclosed { text } => write!(f, "{text}: {}", template::Unclosed),
            P::VariableUnknown { text, name, known } => write!(
                f,
                "{text}: unknown variable {{{{{name}}}}} (known: {})",
                known.join(", ")
            ),
        }
    }
}

/// Every problem with a team setting, or nothing: what the relay refuses it for.
pub fn setting(setting: &Setting) -> Vec<SettingProblem> {
    let mut problems = Vec::new();
    // Thousands of items are refused as a whole, not checked one by one.
    let (list, len) = match setting {
        Setting::KeywordRules { rules } => (SettingList::KeywordRules, rules.len()),
        Setting::CannedResponses { responses } => (SettingList::CannedResponses, responses.len()),
        Setting::Templates { templates } => (SettingList::Templates, templates.len()),
        Setting::Handoff(handoff) => (
            SettingList::HandoffKeywords,
            handoff.all_keywords().count() + handoff.postbacks.len(),
        ),
        Setting::RedFlags(flags) => (SettingList::RedFlagPhrases, flags.all_phrases().count()),
        Setting::ContactFields { fields } => (SettingList::ContactFields, fields.len()),
        Setting::BusinessHours(_)
        | Setting::Greetings(_)
        | Setting::ReadReceipts(_)
        | Setting::Ai(_)
        | Setting::Telegram(_) => (SettingList::KeywordRules, 0),
    };
    if len > MAX_SETTING_ITEMS {
        problems.push(SettingProblem::TooMany {
            list,
            count: len,
            max: MAX_SETTING_ITEMS,
        });
        return problems;
    }
    match setting {
        Setting::KeywordRules { rules } => {
            for (i, rule) in rules.iter().enumerate() {
                keyword_rule(i + 1, rule, &mut problems);
            }
        }
        Setting::CannedResponses { responses } => {
            for (i, response) in responses.iter().enumerate() {
                if response.title.trim().is_empty() || response.text.trim().is_empty() {
                    problems.push(SettingProblem::CannedIncomplete { item: i + 1 });
                }
            }
        }
        Setting::BusinessHours(hours) => business_hours(hours, &mut problems),
        Setting::Greetings(greetings) => greeting_texts(greetings, &mut problems),
        Setting::ReadReceipts(_) => {}
        Setting::Ai(ai) => ai_settings(ai, &mut problems),
        Setting::Telegram(telegram) => telegram_settings(telegram, &mut problems),
        Setting::RedFlags(flags) => red_flags(flags, &mut problems),
        Setting::ContactFields { fields } => contact_fields(fields, &mut problems),
        Setting::Templates { templates } => {
            for MessageTemplate { name, text } in templates {
                if name.trim().is_empty() {
                    problems.push(SettingProblem::TemplateUnnamed);
                }
                let field = SettingText::Template { name: name.clone() };
                variables(field, text, &[], &mut problems);
            }
        }
        Setting::Handoff(handoff) => {
            let HandoffSettings {
                auto_close_minutes, ..
            } = handoff;
            if handoff.all_keywords().any(|k| k.trim().is_empty()) {
                problems.push(SettingProblem::HandoffKeywordBlank);
            }
            if handoff
                .all_keywords()
                .any(|k| k.chars().count() > MAX_PATTERN_CHARS)
            {
                problems.push(SettingProblem::HandoffKeywordTooLong {
                    max: MAX_PATTERN_CHARS,
                });
            }
            if *auto_close_minutes == Some(0) {
                problems.push(SettingProblem::AutoCloseZero);
            }
            if handoff.postbacks.iter().any(|data| {
                data.trim().is_empty() || data.chars().count() > MAX_POSTBACK_DATA_CHARS
            }) {
                problems.push(SettingProblem::HandoffPostbackInvalid {
                    max: MAX_POSTBACK_DATA_CHARS,
                });
            }
        }
    }
    problems
}

/// The longest postback data LINE sends (an action's `data` is at most 300 characters).
pub const MAX_POSTBACK_DATA_CHARS: usize = 300;

/// The AI responder's limits.
pub const AI_PROMPT_MAX_CHARS: usize = 8_000;
pub const AI_HISTORY_MAX: u32 = 50;
pub const AI_TIMEOUT_SECONDS: std::ops::RangeInclusive<u32> = 5..=60;
/// Telegram chats alerted at most.
pub const TELEGRAM_CHATS_MAX: usize = 10;
/// The languages alerts are written in.
pub const ALERT_LANGUAGES: [&str; 4] = ["en", "ja", "th", "zh-TW"];

fn ai_settings(ai: &AiSettings, problems: &mut Vec<SettingProblem>) {
    let address = ai.base_url.trim();
    let parsed = url::Url::parse(address);
    if !parsed.is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some()) {
        problems.push(SettingProblem::AiAddressInvalid {
            address: ai.base_url.clone(),
        });
    }
    if ai.model.trim().is_empty() {
        problems.push(SettingProblem::AiModelMissing);
    }
    if ai.prompt.chars().count() > AI_PROMPT_MAX_CHARS {
        problems.push(SettingProblem::AiPromptTooLong {
            max: AI_PROMPT_MAX_CHARS,
        });
    }
    if ai.history > AI_HISTORY_MAX {
        problems.push(SettingProblem::AiHistoryTooLong {
            max: AI_HISTORY_MAX,
        });
    }
    if !AI_TIMEOUT_SECONDS.contains(&ai.timeout_seconds) {
        problems.push(SettingProblem::AiTimeoutInvalid {
            min: *AI_TIMEOUT_SECONDS.start(),
            max: *AI_TIMEOUT_SECONDS.end(),
        });
    }
}

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

fn contact_fields(fields: &[ContactField], problems: &mut Vec<SettingProblem>) {
    let mut keys = std::collections::BTreeSet::new();
    for (i, field) in fields.iter().enumerate() {
        let label = field.label.trim().chars().count();
        let fresh = keys.insert(field.key.as_str())
            && !tsunagi_proto::BUILT_IN_CONTACT_FIELDS.contains(&field.key.as_str());
        if !contact_field_key(&field.key) || !fresh || label == 0 || label > CONTACT_FIELD_LABEL_MAX
        {
            problems.push(SettingProblem::ContactFieldInvalid {
                field: i + 1,
                max: CONTACT_FIELD_LABEL_MAX,
            });
        }
    }
}

/// Longest emergency number, in characters.
pub const EMERGENCY_NUMBER_MAX_CHARS: usize = 20;

fn red_flags(flags: &RedFlagSettings, problems: &mut Vec<SettingProblem>) {
    if flags.all_phrases().any(|p| p.trim().is_empty()) {
        problems.push(SettingProblem::RedFlagPhraseBlank);
    }
    if flags
        .all_phrases()
        .any(|p| p.chars().count() > MAX_PATTERN_CHARS)
    {
        problems.push(SettingProblem::RedFlagPhraseTooLong {
            max: MAX_PATTERN_CHARS,
        });
    }
    let number = flags.emergency_number.trim();
    let dialable = |c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ');
    if !number.chars().any(|c| c.is_ascii_digit())
        || !number.chars().all(dialable)
        || number.chars().count() > EMERGENCY_NUMBER_MAX_CHARS
    {
        problems.push(SettingProblem::RedFlagNumberInvalid {
            number: flags.emergency_number.clone(),
        });
    }
    let written = flags.messages.values().any(|m| !m.trim().is_empty());
    if flags.all_phrases().next().is_some() && !written {
        problems.push(SettingProblem::RedFlagMessageMissing);
    }
    for (language, text) in &flags.messages {
        let field = SettingText::RedFlagMessage {
            language: language.clone(),
        };
        variables(field, text, &[crate::red_flag::NUMBER_VARIABLE], problems);
    }
}

fn telegram_settings(telegram: &TelegramSettings, problems: &mut Vec<SettingProblem>) {
    let alerts = telegram.on_handoff || telegram.on_escalation || telegram.on_reminder_failed;
    if telegram.chats.is_empty() && alerts {
        problems.push(SettingProblem::TelegramNoChat);
    }
    let distinct: std::collections::BTreeSet<i64> = telegram.chats.iter().copied().collect();
    if distinct.len() != telegram.chats.len() || telegram.chats.len() > TELEGRAM_CHATS_MAX {
        problems.push(SettingProblem::TelegramChatsInvalid {
            max: TELEGRAM_CHATS_MAX,
        });
    }
    if !ALERT_LANGUAGES.contains(&telegram.language.as_str()) {
        problems.push(SettingProblem::TelegramLanguageUnknown {
            language: telegram.language.clone(),
        });
    }
}

fn keyword_rule(rule: usize, keyword: &KeywordRule, problems: &mut Vec<SettingProblem>) {
    if keyword.pattern.trim().is_empty() {
        problems.push(SettingProblem::PatternEmpty { rule });
    } else if keyword.pattern.chars().count() > MAX_PATTERN_CHARS {
        problems.push(SettingProblem::PatternTooLong {
            rule,
            max: MAX_PATTERN_CHARS,
        });
    } else if keyword.matching == KeywordMatch::Regex
        && let Err(error) = crate::handoff::keyword_regex(&keyword.pattern)
    {
        problems.push(SettingProblem::PatternInvalid {
            rule,
            error: error.to_string(),
        });
    }
    if keyword.reply.is_empty() || keyword.reply.len() > message::MAX_MESSAGES {
        problems.push(SettingProblem::ReplyCount {
            rule,
            max: message::MAX_MESSAGES,
        });
    } else if let Err(error) = message::validate(&keyword.reply) {
        problems.push(SettingProblem::ReplyInvalid {
            rule,
            error: error.to_string(),
        });
    }
}

fn business_hours(hours: &BusinessHours, problems: &mut Vec<SettingProblem>) {
    if crate::hours::zone(&hours.time_zone).is_none() {
        problems.push(SettingProblem::ZoneUnknown {
            zone: hours.time_zone.clone(),
        });
    }
    for open in &hours.open {
        if !(1..=7).contains(&open.weekday) {
            problems.push(SettingProblem::WeekdayInvalid {
                weekday: open.weekday,
            });
        }
        let (from, to) = (open.from.clone(), open.to.clone());
        match (minutes(&open.from), minutes(&open.to)) {
            (Some(opens), Some(closes)) if opens < closes => {}
            (Some(_), Some(_)) => problems.push(SettingProblem::ClosesBeforeOpens { from, to }),
            _ => problems.push(SettingProblem::TimeInvalid { from, to }),
        }
    }
    for day in &hours.holidays {
        if crate::hours::date(day).is_none() {
            problems.push(SettingProblem::HolidayInvalid { day: day.clone() });
        }
    }
    if let Some(away) = &hours.away_message {
        variables(SettingText::AwayMessage, away, &[], problems);
    }
}

fn greeting_texts(greetings: &Greetings, problems: &mut Vec<SettingProblem>) {
    for (field, text, extra) in [
        (SettingText::FollowGreeting, &greetings.follow, &[][..]),
        (SettingText::RefollowGreeting, &greetings.refollow, &[][..]),
        (
            SettingText::HandoffGreeting,
            &greetings.handoff,
            &HANDOFF_VARIABLES[..],
        ),
    ] {
        if let Some(text) = text {
            variables(field, text, extra, problems);
        }
    }
}

/// Every `{{variable}}` in `text` must be known.
fn variables(field: SettingText, text: &str, extra: &[&str], problems: &mut Vec<SettingProblem>) {
    let Ok(pieces) = template::pieces(text) else {
        problems.push(SettingProblem::VariableUnclosed { text: field });
        return;
    };
    for piece in pieces {
        if let Piece::Variable(name) = piece
            && !TEMPLATE_VARIABLES.contains(&name)
            && !extra.contains(&name)
        {
            let known = TEMPLATE_VARIABLES.iter().chain(extra);
            problems.push(SettingProblem::VariableUnknown {
                text: field.clone(),
                name: name.to_owned(),
                known: known.map(|&k| k.to_owned()).collect(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use tsunagi_line::client::RetryKey;
    use tsunagi_proto::{ConversationId, OpeningHours, SendOp};

    use super::*;

    fn send(messages: Vec<Message>) -> Operation {
        Operation::Send(SendOp {
            conversation: ConversationId::from("U1"),
            messages,
            retry_key: RetryKey::new(),
            prefer_reply_token: true,
        })
    }

    #[test]
    fn a_send_line_would_refuse_is_refused_here_with_every_reason() {
        assert!(operation(&send(vec![Message::text("ok")])).is_ok());
        let problems = operation(&send(vec![
            Message::text(""),
            Message::text("a".repeat(5001)),
        ]))
        .unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("send: message 1"), "{problems:?}");
        assert!(operation(&send(Vec::new())).is_err());
        assert!(operation(&send(vec![Message::text("x"); 26])).is_err());
    }

    #[test]
    fn settings_are_checked_for_regexes_times_dates_and_variables() {
        let rule = |pattern: &str, matching| KeywordRule {
            pattern: pattern.into(),
            matching,
            language: None,
            reply: vec![Message::text("受付時間は9時からです")],
        };
        let rules = Setting::KeywordRules {
            rules: vec![
                rule("予約", KeywordMatch::Contains),
                rule("(unclosed", KeywordMatch::Regex),
            ],
        };
        let problems = operation(&Operation::Settings(rules)).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("keyword rule 2"), "{problems:?}");

        let hours = Setting::BusinessHours(BusinessHours {
            time_zone: "Asia/Bangkok".into(),
            open: vec![
                OpeningHours {
                    weekday: 1,
                    from: "09:00".into(),
                    to: "17:30".into(),
                },
                OpeningHours {
                    weekday: 8,
                    from: "18:00".into(),
                    to: "09:00".into(),
                },
                OpeningHours {
                    weekday: 2,
                    from: "9am".into(),
                    to: "25:00".into(),
                },
            ],
            holidays: vec!["2026-12-31".into(), "31/12/2026".into()],
            away_message: Some("เปิดทำการ {{time}} ค่ะ".into()),
        });
        let problems = operation(&Operation::Settings(hours)).unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");

        let greetings = Setting::Greetings(Greetings {
            follow: Some("ようこそ{{name}}さん".into()),
            refollow: Some("{{position}}".into()),
            handoff: Some("あと{{position}}番目、約{{wait}}です".into()),
            clinic: None,
        });
        let problems = operation(&Operation::Settings(greetings)).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("refollow"), "{problems:?}");
    }

    #[test]
    fn a_settings_op_holds_at_most_500_rules_of_at_most_1000_characters() {
        let rule = |pattern: String| KeywordRule {
            pattern,
            matching: KeywordMatch::Contains,
            language: None,
            reply: vec![Message::text("ok")],
        };
        let rules = |n: usize, chars: usize| {
            Operation::Settings(Setting::KeywordRules {
                rules: (0..n).map(|_| rule("予".repeat(chars))).collect(),
            })
        };
        assert!(operation(&rules(MAX_SETTING_ITEMS, MAX_PATTERN_CHARS)).is_ok());
        let too_many = operation(&rules(MAX_SETTING_ITEMS + 1, 1)).unwrap_err();
        assert_eq!(too_many, ["keyword rules: at most 500, not 501"]);
        let too_long = operation(&rules(1, MAX_PATTERN_CHARS + 1)).unwrap_err();
        assert!(
            too_long[0].contains("at most 1000 characters"),
            "{too_long:?}"
        );
        let huge_regex = Operation::Settings(Setting::KeywordRules {
            rules: vec![KeywordRule {
                matching: KeywordMatch::Regex,
                ..rule("(\\w{1,50}){1,20}".into())
            }],
        });
        assert!(
            operation(&huge_regex).is_err(),
            "a regex that compiles huge"
        );
    }

    #[test]
    fn only_the_executor_reports_what_line_did() {
        let sent = Operation::Sent {
            send: tsunagi_proto::OpId::new(),
            via: tsunagi_proto::Delivery::Push,
            message_ids: Vec::new(),
        };
        assert_eq!(author(&sent), Author::Executor);
        assert_eq!(author(&send(vec![Message::text("hi")])), Author::Desk);
    }
}
