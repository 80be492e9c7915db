use super::*;

const ANA: &str = "U0123456789abcdef0123456789abcdef";
const BEN: &str = "Ufedcba9876543210fedcba9876543210";

fn op_id(n: u8) -> OpId {
    OpId(uuid::Uuid::from_bytes([n; 16]))
}

fn judge_op(erasure: &mut Erasure, seq: u64, id: u8, json: serde_json::Value) -> Verdict {
    erasure.op(Seq(seq), op_id(id), &json.to_string())
}

#[test]
fn the_patients_events_and_what_followed_from_them_go() {
    let mut erasure = Erasure::new(UserId::new(ANA));
    let said = serde_json::json!({
        "type": "message", "source": {"type": "user", "userId": ANA},
        "message": {"type": "image", "id": "M1"}, "timestamp": 1
    });
    assert_eq!(erasure.event(Seq(1), &said.to_string()), Verdict::Erase);
    let bens = serde_json::json!({
        "type": "message", "source": {"type": "user", "userId": BEN},
        "message": {"type": "text", "id": "M2", "text": "hello"}
    });
    assert_eq!(erasure.event(Seq(2), &bens.to_string()), Verdict::Keep);
    let media =
        serde_json::json!({"type": "media", "message": "M1", "outcome": {"result": "gone"}});
    assert_eq!(judge_op(&mut erasure, 3, 3, media), Verdict::Erase);
    let ai = serde_json::json!({
        "type": "ai_answered", "conversation": ANA, "question": 1, "model": "m",
        "outcome": {"kind": "handed_over", "reason": "asked"}
    });
    assert_eq!(judge_op(&mut erasure, 4, 4, ai), Verdict::Erase);
    let upload = "0123456789abcdef0123456789abcdef";
    let reply = serde_json::json!({
        "type": "send", "conversation": ANA, "retry_key": uuid::Uuid::from_bytes([9; 16]),
        "messages": [{
            "type": "image",
            "originalContentUrl": format!("https://relay.example/public/uploads/{upload}"),
            "previewImageUrl": format!("https://relay.example/public/uploads/{upload}/preview")
        }]
    });
    assert_eq!(judge_op(&mut erasure, 5, 5, reply), Verdict::Erase);
    let sent = serde_json::json!({
        "type": "sent", "send": op_id(5), "via": "reply", "message_ids": ["M9"]
    });
    assert_eq!(judge_op(&mut erasure, 6, 6, sent), Verdict::Erase);
    let telegram = serde_json::json!({"type": "telegram_sending", "cause": 1});
    assert_eq!(judge_op(&mut erasure, 7, 7, telegram), Verdict::Erase);
    let others_sent = serde_json::json!({"type": "sent", "send": op_id(99), "via": "push"});
    assert_eq!(judge_op(&mut erasure, 8, 8, others_sent), Verdict::Keep);

    assert_eq!(
        erasure
            .messages()
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>(),
        ["M1", "M9"]
    );
    assert_eq!(erasure.uploads().iter().collect::<Vec<_>>(), [upload]);
}

#[test]
fn what_is_about_many_patients_is_kept_without_them() {
    let mut erasure = Erasure::new(UserId::new(ANA));
    let profiles = serde_json::json!({"type": "profiles", "profiles": [
        {"user_id": ANA, "display_name": "Ana"},
        {"user_id": BEN, "display_name": "Ben"}
    ]});
    let Verdict::Rewrite(Operation::Profiles { profiles }) = judge_op(&mut erasure, 1, 1, profiles)
    else {
        panic!("a batch of profiles is rewritten");
    };
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].display_name, "Ben");

    let recipients = serde_json::json!({
        "type": "reminder_recipients", "reminder": op_id(2), "recipients": [ANA, BEN]
    });
    assert_eq!(
        judge_op(&mut erasure, 3, 3, recipients),
        Verdict::Rewrite(Operation::ReminderRecipients {
            reminder: op_id(2),
            recipients: vec![UserId::new(BEN)],
        })
    );
    let delivered = serde_json::json!({
        "type": "reminder_delivered", "reminder": op_id(2), "part": 0,
        "results": [{"user": ANA, "outcome": "sent"}, {"user": BEN, "outcome": "blocked"}]
    });
    let Verdict::Rewrite(Operation::ReminderDelivered { results, .. }) =
        judge_op(&mut erasure, 4, 4, delivered)
    else {
        panic!("a reminder's results are rewritten");
    };
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].user.as_str(), BEN);

    // Their own batch of one goes whole; a reminder only to them and its cancellation go.
    let alone = serde_json::json!({"type": "profiles", "profiles": [
        {"user_id": ANA, "display_name": "Ana"}
    ]});
    assert_eq!(judge_op(&mut erasure, 5, 5, alone), Verdict::Erase);
    let theirs = serde_json::json!({
        "type": "schedule_reminder", "text": "see you", "at": 1,
        "to": {"audience": "contact", "user": ANA}
    });
    assert_eq!(judge_op(&mut erasure, 6, 6, theirs), Verdict::Erase);
    let cancel = serde_json::json!({"type": "cancel_reminder", "reminder": op_id(6)});
    assert_eq!(judge_op(&mut erasure, 7, 7, cancel), Verdict::Erase);
    let everyone = serde_json::json!({
        "type": "schedule_reminder", "text": "closed on Monday", "at": 1,
        "to": {"audience": "following"}
    });
    assert_eq!(judge_op(&mut erasure, 8, 8, everyone), Verdict::Keep);
}

#[test]
fn the_erase_stays_and_nothing_else_that_names_them_does() {
    let mut erasure = Erasure::new(UserId::new(ANA));
    let erase = serde_json::json!({"type": "erase", "contact": ANA});
    assert_eq!(judge_op(&mut erasure, 1, 1, erase), Verdict::Keep);
    let note = serde_json::json!({"type": "note", "contact": ANA, "text": "allergic"});
    assert_eq!(judge_op(&mut erasure, 2, 2, note), Verdict::Erase);
    let bens_note = serde_json::json!({"type": "note", "contact": BEN, "text": "fine"});
    assert_eq!(judge_op(&mut erasure, 3, 3, bens_note), Verdict::Keep);
    // An op of a newer version that names them, and a known one with their id where this
    // version does not look for it.
    let newer = serde_json::json!({"type": "appointment", "patient": ANA});
    assert_eq!(judge_op(&mut erasure, 4, 4, newer), Verdict::Erase);
    let newer_other = serde_json::json!({"type": "appointment", "patient": BEN});
    assert_eq!(judge_op(&mut erasure, 5, 5, newer_other), Verdict::Keep);
    let claim = serde_json::json!({"type": "claim", "conversation": ANA});
    assert_eq!(judge_op(&mut erasure, 6, 6, claim), Verdict::Erase);
    let tombstone = serde_json::from_str::<serde_json::Value>(ERASED).unwrap();
    assert_eq!(judge_op(&mut erasure, 7, 7, tombstone), Verdict::Keep);
}

#[test]
fn only_a_whole_line_user_id_is_erased_and_a_nights_purge_forgets_them_on_hold() {
    let erase = |id: &str| {
        crate::validate::operation(&Operation::Erase {
            contact: UserId::new(id),
        })
    };
    assert!(erase(ANA).is_ok());
    // A part of an id would match every patient it begins.
    for part in [
        "U",
        "U0123",
        &ANA[..32],
        "C0123456789abcdef0123456789abcdef",
    ] {
        assert!(erase(part).is_err(), "{part}");
    }
    let mut erasure = Erasure::new(UserId::new(ANA));
    let purge =
        serde_json::json!({"type": "expire", "before": {"messages": 5}, "held": [ANA, BEN]});
    assert_eq!(
        judge_op(&mut erasure, 1, 1, purge),
        Verdict::Rewrite(Operation::Expire {
            before: tsunagi_proto::Cutoffs {
                messages: Some(tsunagi_proto::UnixMillis(5)),
                ..tsunagi_proto::Cutoffs::default()
            },
            held: vec![UserId::new(BEN)],
        })
    );
}
