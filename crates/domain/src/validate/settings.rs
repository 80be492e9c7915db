//! Every problem with a team setting: its lists, hours, greetings, AI responder,
//! Telegram alerts, red flags and contact fields.

use tsunagi_line::message;
use tsunagi_proto::{
    AiSettings, BusinessHours, ContactField, Greetings, HandoffSettings, KeywordMatch, KeywordRule,
    MessageTemplate, RedFlagSettings, Setting, TelegramSettings,
};

use super::limits::{
    AI_HISTORY_MAX, AI_PROMPT_MAX_CHARS, AI_TIMEOUT_SECONDS, ALERT_LANGUAGES,
    CONTACT_FIELD_LABEL_MAX, EMERGENCY_NUMBER_MAX_CHARS, HANDOFF_VARIABLES, LOCK_AFTER_MINUTES,
    MAX_PATTERN_CHARS, MAX_POSTBACK_DATA_CHARS, MAX_SETTING_ITEMS, RETENTION_DAYS,
    STOP_WORD_MAX_CHARS, STOP_WORDS_MAX, TELEGRAM_CHATS_MAX, TEMPLATE_VARIABLES, contact_field_key,
};
use super::problems::{SettingList, SettingProblem, SettingText};
use crate::hours::minutes;
use crate::template::{self, Piece};

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
        | Setting::Telegram(_)
        | Setting::PatientData(_) => (SettingList::KeywordRules, 0),
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
        Setting::PatientData(data) => {
            if !LOCK_AFTER_MINUTES.contains(&data.lock_after_minutes) {
                problems.push(SettingProblem::LockAfterInvalid {
                    min: *LOCK_AFTER_MINUTES.start(),
                    max: *LOCK_AFTER_MINUTES.end(),
                });
            }
            let (words, chars) = (STOP_WORDS_MAX, STOP_WORD_MAX_CHARS);
            if data.stop_words.len() > words
                || (data.stop_words.iter())
                    .any(|w| w.trim().is_empty() || w.chars().count() > chars)
            {
                problems.push(SettingProblem::StopWordsInvalid { words, chars });
            }
            let kept = &data.retention;
            let days = [
                kept.messages_days,
                kept.media_days,
                kept.uploads_days,
                kept.ai_days,
                kept.audit_days,
            ];
            if days
                .into_iter()
                .flatten()
                .any(|d| !RETENTION_DAYS.contains(&d))
            {
                problems.push(SettingProblem::RetentionInvalid {
                    min: *RETENTION_DAYS.start(),
                    max: *RETENTION_DAYS.end(),
                });
            }
        }
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
pub(super) fn variables(
    field: SettingText,
    text: &str,
    extra: &[&str],
    problems: &mut Vec<SettingProblem>,
) {
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
