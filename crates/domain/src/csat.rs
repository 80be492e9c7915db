//! The satisfaction question asked when a session closes: a quick reply of 1 to 5, each a
//! postback whose data carries the rating.

use tsunagi_line::message::{Action, Message, QuickReply, QuickReplyItem};

const PREFIX: &str = "tsunagi:csat:";

/// How long after its session closed (when the question went out) an answer still counts.
pub const ANSWERED_WITHIN_MS: i64 = 24 * 60 * 60 * 1000;

/// The postback data of the answer `rating` (1 to 5).
pub fn postback_data(rating: u8) -> String {
    format!("{PREFIX}{}", rating.clamp(1, 5))
}

/// The question, in the patient's language, with the five answers as quick replies.
pub fn question(language: Option<&str>) -> Message {
    let text = match language.map(|l| l.split('-').next().unwrap_or(l)) {
        Some("th") => "วันนี้เราให้บริการเป็นอย่างไรบ้างคะ ให้คะแนน 1 (ไม่พอใจ) ถึง 5 (พอใจมาก)",
        Some("ja") => "本日の対応はいかがでしたか?1(不満)〜5(大変満足)でお答えください。",
        Some("zh") => "請問今天的服務您滿意嗎?請以 1(不滿意)到 5(非常滿意)評分。",
        _ => "How did we do today? Rate us from 1 (poor) to 5 (excellent).",
    };
    let items = (1..=5)
        .map(|rating| {
            QuickReplyItem::new(Action::Postback {
                label: Some("★".repeat(usize::from(rating))),
                data: postback_data(rating),
                display_text: Some(rating.to_string()),
            })
        })
        .collect();
    Message::text(text).with_quick_reply(QuickReply { items })
}

/// The rating a postback carries, if it answers the question.
pub fn rating(data: &str) -> Option<u8> {
    let rating: u8 = data.strip_prefix(PREFIX)?.parse().ok()?;
    (1..=5).contains(&rating).then_some(rating)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_round_trips_and_anything_else_is_no_rating() {
        for n in 1..=5 {
            assert_eq!(rating(&postback_data(n)), Some(n));
        }
        assert_eq!(rating("tsunagi:csat:6"), None);
        assert_eq!(rating("tsunagi:csat:x"), None);
        assert_eq!(rating("action=book&slot=3"), None);
    }
}
