//! Which conversation a LINE event belongs to.

use tsunagi_line::webhook::{Event, EventKind};
use tsunagi_proto::ConversationId;

/// The conversation an event is part of: its group or room, else its user. Events with no
/// chat (a failed account link, the bot being suspended) belong to none.
pub fn of_event(event: &Event) -> Option<ConversationId> {
    let chat = event.source.as_ref()?.chat()?;
    Some(ConversationId::from(&chat))
}

/// Whether the patient did something in the chat that asks for an answer: wrote, or
/// tapped a button (a postback: a rich menu item, a date they picked). Either opens the
/// chat to people when it is theirs. A rating of a closed chat asks for nothing.
pub fn patient_acts(event: &Event) -> bool {
    match &event.kind {
        EventKind::Message(_) => true,
        EventKind::Postback(postback) => crate::csat::rating(&postback.data).is_none(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;
    use tsunagi_line::webhook::Event;

    use super::*;

    fn event(json: &str) -> Event {
        Event::from_raw(RawValue::from_string(json.to_owned()).expect("json")).expect("event")
    }

    #[test]
    fn a_group_message_belongs_to_the_group_not_the_sender() {
        let e = event(
            r#"{"type":"join","webhookEventId":"1","timestamp":1,"source":{"type":"group","groupId":"C1","userId":"U1"}}"#,
        );
        assert_eq!(of_event(&e), Some(ConversationId::from("C1")));
    }

    #[test]
    fn a_one_to_one_event_belongs_to_the_user() {
        let e = event(
            r#"{"type":"unfollow","webhookEventId":"1","timestamp":1,"source":{"type":"user","userId":"U9"}}"#,
        );
        assert_eq!(of_event(&e), Some(ConversationId::from("U9")));
    }

    #[test]
    fn an_event_without_a_source_belongs_to_no_conversation() {
        let e = event(r#"{"type":"botSuspended","webhookEventId":"1","timestamp":1}"#);
        assert_eq!(of_event(&e), None);
    }
}
