//! Log entries for tests, as the relay would hand them out.

use serde_json::json;
use serde_json::value::RawValue;
use tsunagi_proto::{DeviceId, Entry, EntryBody, LoggedOp, OpId, Operation, Seq, UnixMillis};

pub(crate) const BOT: &str = "Uf0a1b2c3d4e5f60718293a4b5c6d7e8f";
/// When the first test entry arrived; each next one a second later.
pub(crate) const START: i64 = 1_767_225_600_000;

pub(crate) fn at(seq: u64) -> UnixMillis {
    UnixMillis(START + seq as i64 * 1000)
}

pub(crate) fn line(seq: u64, event: serde_json::Value) -> Entry {
    Entry {
        seq: Seq(seq),
        at: at(seq),
        body: EntryBody::Line {
            destination: tsunagi_line::UserId::from(BOT),
            event: RawValue::from_string(event.to_string()).unwrap(),
        },
    }
}

pub(crate) fn op(seq: u64, device: &str, op: Operation) -> Entry {
    op_with_id(
        seq,
        device,
        OpId(uuid::Uuid::from_u128(u128::from(seq))),
        op,
    )
}

pub(crate) fn op_with_id(seq: u64, device: &str, op_id: OpId, op: Operation) -> Entry {
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
pub(crate) fn unsupported_op(seq: u64, device: &str) -> Entry {
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

fn source(user: &str) -> serde_json::Value {
    json!({"type": "user", "userId": user})
}

pub(crate) fn text(seq: u64, user: &str, message_id: &str, text: &str) -> Entry {
    line(
        seq,
        json!({
            "type": "message", "mode": "active", "timestamp": at(seq).0 - 200,
            "webhookEventId": format!("01W{seq}"), "deliveryContext": {"isRedelivery": false},
            "source": source(user), "replyToken": format!("r{seq}"),
            "message": {"type": "text", "id": message_id, "quoteToken": format!("q{seq}"), "text": text}
        }),
    )
}

pub(crate) fn edited(seq: u64, user: &str, message_id: &str, text: &str, timestamp: i64) -> Entry {
    line(
        seq,
        json!({
            "type": "messageEdited", "mode": "active", "timestamp": timestamp,
            "webhookEventId": format!("01W{seq}"), "deliveryContext": {"isRedelivery": false},
            "source": source(user),
            "message": {"type": "text", "id": message_id, "text": text}
        }),
    )
}

pub(crate) fn unsend(seq: u64, user: &str, message_id: &str) -> Entry {
    line(
        seq,
        json!({
            "type": "unsend", "mode": "active", "timestamp": at(seq).0 - 200,
            "webhookEventId": format!("01W{seq}"), "deliveryContext": {"isRedelivery": false},
            "source": source(user), "unsend": {"messageId": message_id}
        }),
    )
}

pub(crate) fn follow(seq: u64, user: &str, is_unblocked: bool) -> Entry {
    line(
        seq,
        json!({
            "type": "follow", "mode": "active", "timestamp": at(seq).0 - 200,
            "webhookEventId": format!("01W{seq}"), "deliveryContext": {"isRedelivery": false},
            "source": source(user), "replyToken": format!("r{seq}"),
            "follow": {"isUnblocked": is_unblocked}
        }),
    )
}

pub(crate) fn unfollow(seq: u64, user: &str) -> Entry {
    line(
        seq,
        json!({
            "type": "unfollow", "mode": "active", "timestamp": at(seq).0 - 200,
            "webhookEventId": format!("01W{seq}"), "deliveryContext": {"isRedelivery": false},
            "source": source(user)
        }),
    )
}

pub(crate) fn unknown_event(seq: u64, user: &str) -> Entry {
    line(
        seq,
        json!({
            "type": "hologram", "mode": "active", "timestamp": at(seq).0 - 200,
            "webhookEventId": format!("01W{seq}"), "deliveryContext": {"isRedelivery": false},
            "source": source(user), "hologram": {"depth": 3}
        }),
    )
}

pub(crate) fn image(seq: u64, user: &str, message_id: &str) -> Entry {
    line(
        seq,
        json!({
            "type": "message", "mode": "active", "timestamp": at(seq).0 - 200,
            "webhookEventId": format!("01W{seq}"), "deliveryContext": {"isRedelivery": false},
            "source": source(user), "replyToken": format!("r{seq}"),
            "message": {"type": "image", "id": message_id, "contentProvider": {"type": "line"}}
        }),
    )
}

pub(crate) fn postback(seq: u64, user: &str, data: &str) -> Entry {
    line(
        seq,
        json!({
            "type": "postback", "mode": "active", "timestamp": at(seq).0 - 200,
            "webhookEventId": format!("01W{seq}"), "deliveryContext": {"isRedelivery": false},
            "source": source(user), "replyToken": format!("r{seq}"),
            "postback": {"data": data}
        }),
    )
}
