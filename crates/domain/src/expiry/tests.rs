use super::*;

const ANA: &str = "U0123456789abcdef0123456789abcdef";
const HELD: &str = "Ufedcba9876543210fedcba9876543210";
const DAY: i64 = 86_400_000;

fn op_id(n: u8) -> OpId {
    OpId(uuid::Uuid::from_bytes([n; 16]))
}

fn message(user: &str, id: &str, kind: &str) -> String {
    serde_json::json!({
        "type": "message", "source": {"type": "user", "userId": user},
        "message": {"type": kind, "id": id}
    })
    .to_string()
}

fn judge_op(expiry: &mut Expiry, seq: u64, day: i64, id: u8, json: serde_json::Value) -> Verdict {
    expiry.op(
        Seq(seq),
        UnixMillis(day * DAY),
        op_id(id),
        &json.to_string(),
    )
}

#[test]
fn messages_past_their_time_go_with_what_followed_and_a_held_patients_stay() {
    // Messages kept 30 days, files 7, the audit 90; it is day 100.
    let before = Cutoffs {
        messages: Some(UnixMillis(70 * DAY)),
        media: Some(UnixMillis(93 * DAY)),
        audit: Some(UnixMillis(10 * DAY)),
        ..Cutoffs::default()
    };
    let mut expiry = Expiry::new(before, &[UserId::new(HELD)]);
    let at = |day: i64| UnixMillis(day * DAY);
    // Day 5: Ana's photo and the held patient's text; an export of Ana.
    assert_eq!(
        expiry.event(Seq(1), at(5), &message(ANA, "M1", "image")),
        Verdict::Erase
    );
    assert_eq!(
        expiry.event(Seq(2), at(5), &message(HELD, "M2", "text")),
        Verdict::Keep
    );
    let export = serde_json::json!({"type": "export", "contact": ANA});
    assert_eq!(judge_op(&mut expiry, 3, 5, 3, export), Verdict::Erase);
    // An erase stays whatever its age: a desk that meets it late must still purge.
    let erase = serde_json::json!({"type": "erase", "contact": ANA});
    assert_eq!(judge_op(&mut expiry, 3, 5, 31, erase), Verdict::Keep);
    // Day 6: the reply to Ana, and its outcome on day 6 too; the photo's media op.
    let reply = serde_json::json!({
        "type": "send", "conversation": ANA, "retry_key": uuid::Uuid::from_bytes([9; 16]),
        "messages": [{"type": "text", "text": "see you"}]
    });
    assert_eq!(judge_op(&mut expiry, 4, 6, 4, reply), Verdict::Erase);
    let sent = serde_json::json!({"type": "sent", "send": op_id(4), "via": "reply", "message_ids": ["M9"]});
    assert_eq!(judge_op(&mut expiry, 5, 6, 5, sent), Verdict::Erase);
    let media =
        serde_json::json!({"type": "media", "message": "M1", "outcome": {"result": "gone"}});
    assert_eq!(judge_op(&mut expiry, 6, 6, 6, media), Verdict::Erase);
    // Day 80: a photo past its files' time but not its message's: the message stays, its
    // media op says gone.
    assert_eq!(
        expiry.event(Seq(7), at(80), &message(ANA, "M7", "image")),
        Verdict::Keep
    );
    let stored = serde_json::json!({
        "type": "media", "message": "M7",
        "outcome": {"result": "stored", "content_type": "image/jpeg", "size": 3, "preview": true}
    });
    assert_eq!(
        judge_op(&mut expiry, 8, 80, 8, stored),
        Verdict::Rewrite(Operation::Media {
            message: MessageId::new("M7"),
            outcome: MediaOutcome::Gone
        })
    );
    // Day 99: nothing is old enough.
    assert_eq!(
        expiry.event(Seq(9), at(99), &message(ANA, "M10", "image")),
        Verdict::Keep
    );
    // What the patient did besides writing stays: their follow.
    let follow = serde_json::json!({"type": "follow", "source": {"type": "user", "userId": ANA}});
    assert_eq!(
        expiry.event(Seq(10), at(1), &follow.to_string()),
        Verdict::Keep
    );
    assert_eq!(
        expiry
            .media_gone()
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>(),
        ["M1", "M7", "M9"]
    );
}
