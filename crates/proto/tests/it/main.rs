//! The log's JSON is a contract between relay and desktops of different versions: these
//! tests pin its shape and prove it survives a round trip.

use pretty_assertions::assert_eq;
use proptest::prelude::*;
use serde_json::json;
use serde_json::value::RawValue;
use tsunagi_line::UserId;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;
use tsunagi_proto::api::{AppendOp, Enrolled, LogPage, Role};
use tsunagi_proto::{
    ChannelId, ConversationId, ConversationMode, DeviceId, Entry, EntryBody, LoggedOp, OpId,
    Operation, OperatorId, SendOp, Seq, UnixMillis,
};
use uuid::Uuid;

fn raw(json: &str) -> Box<RawValue> {
    RawValue::from_string(json.to_owned()).expect("valid JSON")
}

#[test]
fn a_line_entry_has_the_documented_shape_and_keeps_the_event_bytes() {
    // Odd spacing and escapes: the event must come back exactly as written.
    let event = r#"{"type":"message",  "message":{"type":"text","id":"1","text":"\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35"},"timestamp":1}"#;
    let entry = Entry {
        seq: Seq(7),
        at: UnixMillis(1_767_225_600_123),
        body: EntryBody::Line {
            destination: UserId::from("Uf0a1b2c3d4e5f60718293a4b5c6d7e8f"),
            event: raw(event),
        },
    };
    let text = serde_json::to_string(&entry).expect("serializes");
    assert_eq!(
        text,
        format!(
            r#"{{"seq":7,"at":1767225600123,"kind":"line","destination":"Uf0a1b2c3d4e5f60718293a4b5c6d7e8f","event":{event}}}"#
        )
    );
    let back: Entry = serde_json::from_str(&text).expect("deserializes");
    assert_eq!(back, entry);
    let EntryBody::Line { event: kept, .. } = back.body else {
        panic!()
    };
    assert_eq!(kept.get(), event);
}

#[test]
fn an_op_entry_has_the_documented_shape() {
    let op_id = OpId(Uuid::parse_str("0b0e2a4c-5d4e-4f5a-9e2b-0c1d2e3f4a5b").expect("uuid"));
    let entry = Entry {
        seq: Seq(8),
        at: UnixMillis(1_767_225_601_000),
        body: EntryBody::Op {
            op_id,
            device: DeviceId::from("dev-front-desk"),
            role: Some(Role::Staff),
            op: Operation::Claim {
                conversation: ConversationId::from("U4af4980629a1b2c3d4e5f60718293a4b"),
            }
            .into(),
        },
    };
    let value = serde_json::to_value(&entry).expect("serializes");
    assert_eq!(
        value,
        json!({
            "seq": 8, "at": 1767225601000u64, "kind": "op",
            "op_id": "0b0e2a4c-5d4e-4f5a-9e2b-0c1d2e3f4a5b",
            "device": "dev-front-desk",
            "role": "staff",
            "op": {"type": "claim", "conversation": "U4af4980629a1b2c3d4e5f60718293a4b"}
        })
    );
    let back: Entry = serde_json::from_value(value).expect("deserializes");
    assert_eq!(back, entry);
}

#[test]
fn an_op_logged_before_roles_were_recorded_reads_without_one() {
    let entry: Entry = serde_json::from_value(json!({
        "seq": 3, "at": 1767225601000u64, "kind": "op",
        "op_id": "0b0e2a4c-5d4e-4f5a-9e2b-0c1d2e3f4a5b",
        "device": "dev-front-desk",
        "op": {"type": "claim", "conversation": "U4af4980629a1b2c3d4e5f60718293a4b"}
    }))
    .expect("deserializes");
    assert!(matches!(entry.body, EntryBody::Op { role: None, .. }));
    assert!(
        !serde_json::to_string(&entry)
            .expect("serializes")
            .contains("role"),
        "no role is written where none was recorded"
    );
}

#[test]
fn every_operation_round_trips() {
    let conversation = ConversationId::from("U4af4980629a1b2c3d4e5f60718293a4b");
    let ops = vec![
        Operation::Claim {
            conversation: conversation.clone(),
        },
        Operation::Release {
            conversation: conversation.clone(),
        },
        Operation::Transfer {
            conversation: conversation.clone(),
            to: OperatorId::from("Yuki"),
        },
        Operation::Close {
            conversation: conversation.clone(),
        },
        Operation::SetMode {
            conversation: conversation.clone(),
            mode: ConversationMode::Human,
        },
        Operation::Send(SendOp {
            conversation: conversation.clone(),
            messages: vec![Message::text("明日10時でお待ちしています")],
            retry_key: RetryKey::new(),
            prefer_reply_token: true,
        }),
        Operation::Note {
            contact: UserId::from("U4af4980629a1b2c3d4e5f60718293a4b"),
            text: "แพ้ยาเพนนิซิลลิน".into(),
        },
        Operation::Tag {
            contact: UserId::from("U4af4980629a1b2c3d4e5f60718293a4b"),
            tag: "vip".into(),
            added: true,
        },
    ];
    for op in ops {
        let text = serde_json::to_string(&op).expect("serializes");
        let back: Operation = serde_json::from_str(&text).expect("deserializes");
        assert_eq!(back, op, "{text}");
        let request: AppendOp =
            serde_json::from_str(&format!(r#"{{"op":{text}}}"#)).expect("append body");
        assert_eq!(request.op, op);
    }
}

#[test]
fn a_send_defaults_to_preferring_the_reply_token() {
    let op: Operation = serde_json::from_value(json!({
        "type": "send", "conversation": "U1",
        "messages": [{"type": "text", "text": "hi"}],
        "retry_key": "0b0e2a4c-5d4e-4f5a-9e2b-0c1d2e3f4a5b"
    }))
    .expect("parses");
    let Operation::Send(send) = op else { panic!() };
    assert!(send.prefer_reply_token);
}

#[test]
fn an_append_with_a_bad_op_says_what_is_wrong() {
    let cases = [
        (json!({"op": {"type": "claim"}}), "conversation"),
        (json!({"op": {"type": "launch_rockets"}}), "launch_rockets"),
        (
            json!({"op": {"type": "set_mode", "conversation": "U1", "mode": "robot"}}),
            "robot",
        ),
        (
            json!({"op": {"type": "claim", "conversation": "U1", "extra": 1}}),
            "extra",
        ),
    ];
    for (body, named) in cases {
        let error = serde_json::from_value::<AppendOp>(body.clone())
            .expect_err("must be refused")
            .to_string();
        assert!(error.contains(named), "{body}: {error}");
    }
}

#[test]
fn an_operation_from_a_newer_version_is_kept_as_unsupported() {
    let text = r#"{"seq":9,"at":1,"kind":"op","op_id":"0b0e2a4c-5d4e-4f5a-9e2b-0c1d2e3f4a5b","device":"d","op":{"type":"schedule_reminder","at":"2026-12-01T09:00:00+09:00"}}"#;
    let entry: Entry = serde_json::from_str(text).expect("never an error");
    let EntryBody::Op { op, .. } = &entry.body else {
        panic!()
    };
    assert!(matches!(op, LoggedOp::Unsupported(_)));
    assert_eq!(op.known(), None);
    assert_eq!(serde_json::to_string(&entry).expect("serializes"), text);
}

#[test]
fn an_entry_missing_its_kinds_fields_is_an_error_naming_them() {
    let error = serde_json::from_str::<Entry>(r#"{"seq":3,"at":1,"kind":"line","event":{}}"#)
        .expect_err("no destination")
        .to_string();
    assert!(error.contains("destination"), "{error}");
    let error = serde_json::from_str::<Entry>(r#"{"seq":3,"at":1,"kind":"gossip"}"#)
        .expect_err("unknown kind")
        .to_string();
    assert!(error.contains("gossip"), "{error}");
}

#[test]
fn a_null_event_or_op_is_kept_not_taken_for_missing() {
    // Found by the property test below: `null` is a value, and the log keeps values.
    for text in [
        r#"{"seq":1,"at":2,"kind":"line","destination":"U0","event":null}"#,
        r#"{"seq":1,"at":2,"kind":"op","op_id":"0b0e2a4c-5d4e-4f5a-9e2b-0c1d2e3f4a5b","device":"d","op":null}"#,
    ] {
        let entry: Entry = serde_json::from_str(text).expect(text);
        assert_eq!(serde_json::to_string(&entry).expect("serializes"), text);
    }
}

#[test]
fn a_log_page_round_trips() {
    let page = LogPage {
        entries: vec![Entry {
            seq: Seq(1),
            at: UnixMillis(5),
            body: EntryBody::Line {
                destination: UserId::from("U0"),
                event: raw(r#"{"type":"follow"}"#),
            },
        }],
        head: Seq(1),
    };
    let text = serde_json::to_string(&page).expect("serializes");
    assert_eq!(serde_json::from_str::<LogPage>(&text).expect("reads"), page);
}

#[test]
fn an_enrollment_never_shows_its_token_in_debug_output() {
    let enrolled = Enrolled {
        device_id: DeviceId::from("d1"),
        token: "secret-device-token".into(),
        channel_id: Some(ChannelId::from("1656789012")),
        role: Role::Staff,
    };
    assert!(!format!("{enrolled:?}").contains("secret-device-token"));
    assert_eq!(
        serde_json::to_value(&enrolled).expect("serializes")["role"],
        "staff"
    );
}

fn any_json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[ -~ก-๙あ-ん]{0,12}".prop_map(|s| serde_json::to_string(&s).expect("string")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec(("[a-zA-Z]{1,8}", inner), 0..4).prop_map(|fields| {
                let fields: Vec<String> = fields
                    .into_iter()
                    .map(|(k, v)| format!("{:?} :{v}", k))
                    .collect();
                format!("{{ {} }}", fields.join(","))
            }),
        ]
    })
}

fn any_entry() -> impl Strategy<Value = Entry> {
    let line =
        (any_json_text(), "U[0-9a-f]{32}").prop_map(|(event, destination)| EntryBody::Line {
            destination: UserId::from(destination),
            event: raw(&event),
        });
    let op = (
        any::<u128>(),
        "[a-z0-9-]{1,16}",
        "[A-Za-z]{1,10}",
        "\\PC{0,40}",
        prop_oneof![Just(None), Just(Some(Role::Owner)), Just(Some(Role::Staff))],
    )
        .prop_map(|(id, device, who, text, role)| EntryBody::Op {
            op_id: OpId(Uuid::from_u128(id)),
            device: DeviceId::from(device),
            role,
            op: Operation::Transfer {
                conversation: ConversationId::from(text),
                to: OperatorId::from(who),
            }
            .into(),
        });
    (any::<u64>(), any::<i64>(), prop_oneof![line, op]).prop_map(|(seq, at, body)| Entry {
        seq: Seq(seq),
        at: UnixMillis(at),
        body,
    })
}

proptest! {
    #[test]
    fn any_entry_survives_a_json_round_trip_unchanged(entry in any_entry()) {
        let text = serde_json::to_string(&entry).expect("serializes");
        let back: Entry = serde_json::from_str(&text).expect("deserializes");
        prop_assert_eq!(&back, &entry);
        // Serializing again gives the same bytes: nothing is re-encoded along the way.
        prop_assert_eq!(serde_json::to_string(&back).expect("serializes"), text);
    }
}

#[test]
fn channel_secrets_never_show_in_debug_output() {
    let add = tsunagi_proto::api::AddChannel {
        channel_id: ChannelId::from("1656789012"),
        channel_secret: "8c570fa6dd201bb328f1c1eac23a96d8".into(),
    };
    let replace = tsunagi_proto::api::ReplaceSecret {
        channel_secret: "8c570fa6dd201bb328f1c1eac23a96d8".into(),
    };
    for debug in [format!("{add:?}"), format!("{replace:?}")] {
        assert!(!debug.contains("8c570fa6"), "{debug}");
    }
    assert!(format!("{add:?}").contains("1656789012"));
}

#[test]
fn an_error_code_a_newer_relay_adds_reads_as_unknown_and_known_ones_keep_their_names() {
    use tsunagi_proto::api::{ErrorBody, ErrorCode};
    let body: ErrorBody =
        serde_json::from_value(json!({"code": "owner_only", "message": "staff"})).expect("reads");
    assert_eq!(body.code, ErrorCode::OwnerOnly);
    assert_eq!(
        serde_json::to_value(&body).expect("writes")["code"],
        json!(ErrorCode::OwnerOnly.as_str())
    );
    let newer: ErrorBody =
        serde_json::from_value(json!({"code": "quantum_flux", "message": "?"})).expect("reads");
    assert_eq!(newer.code, ErrorCode::Unknown);
}

#[test]
fn a_telegram_trouble_is_named_as_logged_and_an_alert_logged_before_troubles_reads_as_other() {
    use tsunagi_proto::{TelegramOutcome, TelegramTrouble};
    for trouble in TelegramTrouble::ALL {
        assert_eq!(
            serde_json::to_value(trouble).unwrap(),
            json!(trouble.name())
        );
        assert_eq!(TelegramTrouble::named(trouble.name()), trouble);
    }
    assert_eq!(TelegramTrouble::named("quota"), TelegramTrouble::Other);
    let old: TelegramOutcome =
        serde_json::from_value(json!({ "kind": "failed", "reason": "Telegram said no" })).unwrap();
    assert_eq!(
        old,
        TelegramOutcome::Failed {
            reason: "Telegram said no".into(),
            trouble: TelegramTrouble::Other
        }
    );
    let partly: TelegramOutcome =
        serde_json::from_value(json!({ "kind": "sent", "chats": 1, "failed": ["chat 7"] }))
            .unwrap();
    assert_eq!(
        partly,
        TelegramOutcome::Sent {
            chats: 1,
            failed: vec!["chat 7".into()],
            trouble: None
        }
    );
}
