//! Every problem with an operation, in the words the relay refuses it with.

use tsunagi_line::message::{self, Message};
use tsunagi_proto::{Audience, Operation};

use super::limits::{
    CONTACT_FIELD_KEY_MAX, CONTACT_FIELD_VALUE_MAX, MAX_NOTE_CHARS, MAX_SEND_MESSAGES,
    MAX_TAG_CHARS, contact_field_key,
};
use super::problems::SettingText;
use super::settings::{self, variables};

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
            problems.extend(settings::setting(setting).iter().map(ToString::to_string));
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
