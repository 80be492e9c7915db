//! Setting problems in English: the words the relay refuses a setting with.

use super::problems::{SettingList, SettingProblem, SettingText};
use crate::template;

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
            P::LockAfterInvalid { min, max } => {
                write!(
                    f,
                    "patient data: the screen locks after {min} to {max} minutes"
                )
            }
            P::StopWordsInvalid { words, chars } => write!(
                f,
                "patient data: at most {words} stop words, each 1 to {chars} characters"
            ),
            P::RetentionInvalid { min, max } => write!(
                f,
                "patient data: each kind is kept {min} to {max} days, or forever"
            ),
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
