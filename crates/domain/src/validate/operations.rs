//! Every problem with an operation, as data, in the words the relay refuses it with.

use std::fmt;

use tsunagi_line::message::{self, Message};
use tsunagi_proto::{Audience, Operation};

use super::limits::{
    CONSENT_WORDING_MAX_CHARS, CONTACT_FIELD_KEY_MAX, CONTACT_FIELD_VALUE_MAX,
    HOLD_REASON_MAX_CHARS, MAX_NOTE_CHARS, MAX_SEND_MESSAGES, MAX_TAG_CHARS, contact_field_key,
};
use super::problems::{SettingProblem, SettingText};
use super::settings::{self, variables};

/// What can be wrong with an operation. Its `Display` is the relay's English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpProblem {
    /// A send carries 1 to [`MAX_SEND_MESSAGES`] messages.
    SendCount {
        count: usize,
    },
    /// Message `message` (from 1) of a send, as LINE would refuse it, in LINE's words.
    MessageRefused {
        message: usize,
        error: String,
    },
    TransferToNobody,
    NoteLength,
    ContactFieldCount,
    ContactFieldKey {
        key: String,
    },
    ContactFieldValue {
        key: String,
    },
    TagLength,
    /// A team setting's problem, or a reminder text's.
    Setting(SettingProblem),
    MarkReadNotOneToOne,
    /// Only a patient (a LINE user id, `U…`) is erased.
    EraseNotAUser,
    /// A hold says why, in 1 to `max` characters.
    HoldReason {
        max: usize,
    },
    MarkReadTokenEmpty,
    TypingNotOneToOne,
    TypingSeconds {
        seconds: u32,
    },
    ReminderTextEmpty,
    ReminderTagEmpty,
    /// A consent's wording version is blank or longer than 40 characters.
    ConsentWording,
}

impl fmt::Display for OpProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpProblem::SendCount { count } => {
                write!(f, "send: 1 to {MAX_SEND_MESSAGES} messages, not {count}")
            }
            OpProblem::MessageRefused { message, error } => {
                write!(f, "send: message {message}: {error}")
            }
            OpProblem::TransferToNobody => f.write_str("transfer: `to` names no operator"),
            OpProblem::ConsentWording => write!(
                f,
                "consent: the wording's version is 1 to {CONSENT_WORDING_MAX_CHARS} characters"
            ),
            OpProblem::NoteLength => {
                write!(f, "note: the text must be 1 to {MAX_NOTE_CHARS} characters")
            }
            OpProblem::ContactFieldCount => f.write_str("contact fields: 1 to 20 fields at once"),
            OpProblem::ContactFieldKey { key } => write!(
                f,
                "contact fields: {key:?} is not a field's key (a-z, 0-9, _; up to {CONTACT_FIELD_KEY_MAX})"
            ),
            OpProblem::ContactFieldValue { key } => write!(
                f,
                "contact fields: {key} is at most {CONTACT_FIELD_VALUE_MAX} characters on one line"
            ),
            OpProblem::TagLength => {
                write!(f, "tag: a tag is 1 to {MAX_TAG_CHARS} characters")
            }
            OpProblem::Setting(problem) => problem.fmt(f),
            OpProblem::HoldReason { max } => {
                write!(f, "hold: say why, in 1 to {max} characters")
            }
            OpProblem::EraseNotAUser => f.write_str(
                "erase: only a patient is erased, by their whole LINE user id (U and 32 \
                     hexadecimal digits)",
            ),
            OpProblem::MarkReadNotOneToOne => {
                f.write_str("mark read: only 1:1 chats are marked read")
            }
            OpProblem::MarkReadTokenEmpty => f.write_str("mark read: the token is empty"),
            OpProblem::TypingNotOneToOne => {
                f.write_str("typing: LINE shows the loading animation in 1:1 chats only")
            }
            OpProblem::TypingSeconds { seconds } => write!(
                f,
                "typing: LINE shows the animation for 5 to 60 seconds in fives, not {seconds}"
            ),
            OpProblem::ReminderTextEmpty => f.write_str("a reminder needs a text"),
            OpProblem::ReminderTagEmpty => f.write_str("a reminder to a tag needs the tag's name"),
        }
    }
}

/// Every problem with an operation: never empty. Its `Display` names each, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpProblems(Vec<OpProblem>);

impl OpProblems {
    pub fn iter(&self) -> std::slice::Iter<'_, OpProblem> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true: a list of no problems is no refusal.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::ops::Index<usize> for OpProblems {
    type Output = OpProblem;

    fn index(&self, index: usize) -> &OpProblem {
        &self.0[index]
    }
}

impl fmt::Display for OpProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            problem.fmt(f)?;
        }
        Ok(())
    }
}

impl std::error::Error for OpProblems {}

/// Whether `id` is a LINE user id as LINE gives them: `U` and 32 hexadecimal digits. An
/// erase matches the log by the id: a part of one would erase every patient it begins.
pub fn is_line_user_id(id: &str) -> bool {
    id.len() == 33 && id.starts_with('U') && id[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Every problem with `op`, or nothing.
pub fn operation(op: &Operation) -> Result<(), OpProblems> {
    let mut problems = Vec::new();
    match op {
        Operation::Send(send) => messages(&send.messages, &mut problems),
        Operation::Transfer { to, .. } if to.as_str().trim().is_empty() => {
            problems.push(OpProblem::TransferToNobody);
        }
        Operation::Consent { wording, .. } => {
            let chars = wording.trim().chars().count();
            if chars == 0 || chars > CONSENT_WORDING_MAX_CHARS {
                problems.push(OpProblem::ConsentWording);
            }
        }
        Operation::Note { text, .. } => {
            let chars = text.trim().chars().count();
            if chars == 0 || chars > MAX_NOTE_CHARS {
                problems.push(OpProblem::NoteLength);
            }
        }
        Operation::ContactFields { fields, .. } => {
            if fields.is_empty() || fields.len() > 20 {
                problems.push(OpProblem::ContactFieldCount);
            }
            for (key, value) in fields {
                if !contact_field_key(key) {
                    problems.push(OpProblem::ContactFieldKey { key: key.clone() });
                }
                if value.chars().count() > CONTACT_FIELD_VALUE_MAX
                    || value.chars().any(char::is_control)
                {
                    problems.push(OpProblem::ContactFieldValue { key: key.clone() });
                }
            }
        }
        Operation::Tag { tag, .. } => {
            let chars = tag.trim().chars().count();
            if chars == 0 || chars > MAX_TAG_CHARS {
                problems.push(OpProblem::TagLength);
            }
        }
        Operation::Settings(setting) => {
            problems.extend(
                settings::setting(setting)
                    .into_iter()
                    .map(OpProblem::Setting),
            );
        }
        Operation::Hold {
            held: true, reason, ..
        } => {
            let chars = reason.trim().chars().count();
            if chars == 0 || chars > HOLD_REASON_MAX_CHARS {
                problems.push(OpProblem::HoldReason {
                    max: HOLD_REASON_MAX_CHARS,
                });
            }
        }
        Operation::Erase { contact } if !is_line_user_id(contact.as_str()) => {
            problems.push(OpProblem::EraseNotAUser);
        }
        Operation::MarkRead {
            conversation,
            token,
        } => {
            if !conversation.is_one_to_one() {
                problems.push(OpProblem::MarkReadNotOneToOne);
            }
            if token.as_str().trim().is_empty() {
                problems.push(OpProblem::MarkReadTokenEmpty);
            }
        }
        Operation::Typing {
            conversation,
            seconds,
        } => {
            if !conversation.is_one_to_one() {
                problems.push(OpProblem::TypingNotOneToOne);
            }
            if !(5..=60).contains(seconds) || seconds % 5 != 0 {
                problems.push(OpProblem::TypingSeconds { seconds: *seconds });
            }
        }
        Operation::ScheduleReminder(reminder) => {
            if reminder.text.trim().is_empty() {
                problems.push(OpProblem::ReminderTextEmpty);
            }
            let mut unknown = Vec::new();
            variables(SettingText::Reminder, &reminder.text, &[], &mut unknown);
            problems.extend(unknown.into_iter().map(OpProblem::Setting));
            if let Audience::Tag { tag } = &reminder.to
                && tag.trim().is_empty()
            {
                problems.push(OpProblem::ReminderTagEmpty);
            }
        }
        _ => {}
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(OpProblems(problems))
    }
}

fn messages(messages: &[Message], problems: &mut Vec<OpProblem>) {
    if messages.is_empty() || messages.len() > MAX_SEND_MESSAGES {
        problems.push(OpProblem::SendCount {
            count: messages.len(),
        });
    }
    for (i, one) in messages.iter().enumerate() {
        if let Err(error) = message::validate(std::slice::from_ref(one)) {
            problems.push(OpProblem::MessageRefused {
                message: i + 1,
                error: error.to_string(),
            });
        }
    }
}
