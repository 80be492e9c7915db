//! Log entries for tests, as the relay would hand them out (feature `testing`).

#![allow(clippy::unwrap_used)]

use crate::{DeviceId, Entry, EntryBody, LoggedOp, OpId, Operation, Seq, UnixMillis};
use serde_json::json;
use serde_json::value::RawValue;

pub const BOT: &str = "Uf0a1b2c3d4e5f60718293a4b5c6d7e8f";
/// When the first test entry arrived; each next one a second later.
pub const START: i64 = 1_767_225_600_000;

pub fn at(seq: u64) -> UnixMillis {
    UnixMillis(START + seq as i64 * 1000)
}

pub fn line(seq: u64, event: serde_json::Value) -> Entry {
    Entry {
        seq: Seq(seq),
        at: at(seq),
        body: EntryBody::Line {
            destination: tsunagi_line::UserId::from(BOT),
            event: RawValue::from_string(event.to_string()).unwrap(),
        },
    }
}

pub fn op(seq: u64, device: &str, op: Operation) -> Entry {
    op_with_id(
        seq,
        device,
        OpId(uuid::Uuid::from_u128(u128::from(seq))),
        op,
    )
}

pub fn op_with_id(seq: u64, device: &str, op_id: OpId, op: Operation) -> Entry {
    Entry {
        seq: Seq(seq),
        at: at(seq),
        body: EntryBody::Op {
            op_id,
            device: DeviceId::from(device),
            op: LoggedOp::Known(op),
        },
    }
}

/// An op from a newer version, which this one keeps as unsupported.
pub fn unsupported_op(seq: u64, device: &str) -> Entry {
    Entry {
        seq: Seq(seq),
        at: at(seq),
        body: EntryBody::Op {
            op_id: OpId(uuid::Uuid::from_u128(u128::from(seq))),
            device: DeviceId::from(device),
            op: LoggedOp::Unsupported(
                RawValue::from_string(r#"{"type":"teleport","to":"mars"}"#.into()).unwrap(),
            ),
        },
    }
}

/// A webhook event of `kind` from `user` at `seq`, with LINE's common fields, a reply token
/// when `replyable`, and `fields` on top.
fn event(seq: u64, user: &str, kind: &str, replyable: bool, fields: serde_json::Value) -> Entry {
    let mut event = json!({
        "type": kind, "mode": "active", "timestamp": at(seq).0 - 200,
        "webhookEventId": format!("01W{seq}"), "deliveryContext": {"isRedelivery": false},
        "source": {"type": "user", "userId": user}
    });
    if replyable {
        event["replyToken"] = json!(format!("r{seq}"));
    }
    if let (Some(event), serde_json::Value::Object(fields)) = (event.as_object_mut(), fields) {
        event.extend(fields);
    }
    line(seq, event)
}

pub fn text(seq: u64, user: &str, message_id: &str, text: &str) -> Entry {
    let message =
        json!({"type": "text", "id": message_id, "quoteToken": format!("q{seq}"), "text": text});
    event(seq, user, "message", true, json!({ "message": message }))
}

pub fn edited(seq: u64, user: &str, message_id: &str, text: &str, timestamp: i64) -> Entry {
    let message = json!({"type": "text", "id": message_id, "text": text});
    event(
        seq,
        user,
        "messageEdited",
        false,
        json!({ "message": message, "timestamp": timestamp }),
    )
}

pub fn unsend(seq: u64, user: &str, message_id: &str) -> Entry {
    event(
        seq,
        user,
        "unsend",
        false,
        json!({"unsend": {"messageId": message_id}}),
    )
}

pub fn follow(seq: u64, user: &str, is_unblocked: bool) -> Entry {
    event(
        seq,
        user,
        "follow",
        true,
        json!({"follow": {"isUnblocked": is_unblocked}}),
    )
}

pub fn unfollow(seq: u64, user: &str) -> Entry {
    event(seq, user, "unfollow", false, json!({}))
}

pub fn unknown_event(seq: u64, user: &str) -> Entry {
    event(
        seq,
        user,
        "hologram",
        false,
        json!({"hologram": {"depth": 3}}),
    )
}

pub fn image(seq: u64, user: &str, message_id: &str) -> Entry {
    let message = json!({"type": "image", "id": message_id, "contentProvider": {"type": "line"}});
    event(seq, user, "message", true, json!({ "message": message }))
}

pub fn postback(seq: u64, user: &str, data: &str) -> Entry {
    event(
        seq,
        user,
        "postback",
        true,
        json!({"postback": {"data": data}}),
    )
}
