//! Log entries for tests, as the relay would hand them out (feature `testing`).

#![allow(clippy::unwrap_used)]

use crate::{
    ContactProfile, ConversationId, DeviceId, Entry, EntryBody, LoggedOp, OpId, Operation, SendOp,
    Seq, UnixMillis,
};
use serde_json::json;
use serde_json::value::RawValue;
use tsunagi_line::UserId;
use tsunagi_line::client::RetryKey;
use tsunagi_line::message::Message;

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
            role: None,
            op: LoggedOp::Known(op),
        },
    }
}

/// An op by a device whose role the relay recorded.
pub fn op_by(seq: u64, device: &str, role: crate::api::Role, op: Operation) -> Entry {
    let mut entry = self::op(seq, device, op);
    if let EntryBody::Op { role: recorded, .. } = &mut entry.body {
        *recorded = Some(role);
    }
    entry
}

/// An op from a newer version, which this one keeps as unsupported.
pub fn unsupported_op(seq: u64, device: &str) -> Entry {
    Entry {
        seq: Seq(seq),
        at: at(seq),
        body: EntryBody::Op {
            op_id: OpId(uuid::Uuid::from_u128(u128::from(seq))),
            device: DeviceId::from(device),
            role: None,
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

/// A text message whose `text` is not a string: a shape a later LINE may send, which this
/// version cannot read.
pub fn unreadable_text(seq: u64, user: &str, message_id: &str) -> Entry {
    let message = json!({"type": "text", "id": message_id, "text": {"rich": [1, 2]}});
    event(seq, user, "message", true, json!({ "message": message }))
}

/// An `unsend` event without the message it unsends.
pub fn unreadable_unsend(seq: u64, user: &str) -> Entry {
    event(seq, user, "unsend", false, json!({}))
}

/// A text message that LINE sent with a read token (`markAsReadToken`), as it does in 1:1
/// chats when the account's chat is on.
pub fn text_to_mark(seq: u64, user: &str, message_id: &str, text: &str) -> Entry {
    let message = json!({"type": "text", "id": message_id, "quoteToken": format!("q{seq}"),
        "markAsReadToken": format!("m{seq}"), "text": text});
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

/// A message sticker: a sticker the patient typed `text` on.
pub fn message_sticker(seq: u64, user: &str, message_id: &str, text: &str) -> Entry {
    let message = json!({"type": "sticker", "id": message_id, "quoteToken": format!("q{seq}"),
        "packageId": "11539", "stickerId": "52114110", "stickerResourceType": "MESSAGE",
        "keywords": ["hello"], "text": text});
    event(seq, user, "message", true, json!({ "message": message }))
}

/// A text that quotes an earlier message of the chat (LINE's `quotedMessageId`).
pub fn quoting(seq: u64, user: &str, message_id: &str, text: &str, quoted: &str) -> Entry {
    let message = json!({"type": "text", "id": message_id, "quoteToken": format!("q{seq}"),
        "text": text, "quotedMessageId": quoted});
    event(seq, user, "message", true, json!({ "message": message }))
}

/// A postback from a date-and-time picker: the data, and what the patient picked.
pub fn picked(seq: u64, user: &str, data: &str, datetime: &str) -> Entry {
    event(
        seq,
        user,
        "postback",
        true,
        json!({"postback": {"data": data, "params": {"datetime": datetime}}}),
    )
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

/// A benchmark's scale from the environment (`TSUNAGI_BENCH_MESSAGES` and the like), else
/// `default`.
pub fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What patients write in a [`ClinicLog`].
pub const PHRASES: [&str; 8] = [
    "สวัสดีค่ะ ขอเลื่อนนัดวันพรุ่งนี้ได้ไหมคะ",
    "明日の予約を変更したいです",
    "請問今天還可以掛號嗎",
    "Can I book a check-up for Tuesday morning?",
    "ยาหมดแล้วค่ะ ต้องมารับที่คลินิกไหมคะ",
    "診察券を忘れてしまいました",
    "我的檢查報告出來了嗎",
    "Thank you, see you then",
];
const NAMES: [&str; 6] = ["สมชาย", "ゆき", "美玲", "Mali", "たかし", "Chen"];

/// A clinic's log at scale, for benchmarks: every contact follows and is profiled, then
/// messages arrive round-robin in four languages, with an operator's claim and answer every
/// so often.
#[derive(Debug)]
pub struct ClinicLog {
    contacts: usize,
    seq: u64,
}

/// The `i`-th contact of a [`ClinicLog`].
pub fn user(i: usize) -> String {
    format!("U{i:032x}")
}

impl ClinicLog {
    pub fn new(contacts: usize) -> Self {
        Self { contacts, seq: 0 }
    }

    /// When the newest entry so far happened.
    pub fn now(&self) -> UnixMillis {
        UnixMillis(1_767_225_600_000 + self.seq as i64 * 50)
    }

    fn entry(&mut self, body: EntryBody) -> Entry {
        self.seq += 1;
        Entry {
            seq: Seq(self.seq),
            at: UnixMillis(1_767_225_600_000 + self.seq as i64 * 50),
            body,
        }
    }

    fn line(&mut self, event: String) -> Entry {
        self.entry(EntryBody::Line {
            destination: UserId::from("Uf0a1b2c3d4e5f60718293a4b5c6d7e8f"),
            event: RawValue::from_string(event).unwrap(),
        })
    }

    fn op(&mut self, op: Operation) -> Entry {
        let id = OpId(uuid::Uuid::from_u128(u128::from(self.seq + 1)));
        self.entry(EntryBody::Op {
            op_id: id,
            device: DeviceId::from("d-yuki"),
            role: None,
            op: LoggedOp::Known(op),
        })
    }

    /// Contacts `from..to` follow, then their profiles arrive.
    pub fn follows(&mut self, from: usize, to: usize) -> Vec<Entry> {
        let mut entries: Vec<Entry> = (from..to)
            .map(|i| {
                let event = format!(
                    r#"{{"type":"follow","mode":"active","timestamp":{},"webhookEventId":"01F{i}","deliveryContext":{{"isRedelivery":false}},"source":{{"type":"user","userId":"{}"}},"replyToken":"rf{i}","follow":{{"isUnblocked":false}}}}"#,
                    1_767_225_600_000_i64 + i as i64,
                    user(i)
                );
                self.line(event)
            })
            .collect();
        let profiles = (from..to)
            .map(|i| ContactProfile {
                user_id: UserId::new(user(i)),
                display_name: format!("{} {i}", NAMES[i % NAMES.len()]),
                picture_url: None,
                status_message: None,
                language: Some(["th", "ja", "zh-TW", "en"][i % 4].into()),
                follower: true,
            })
            .collect();
        entries.push(self.op(Operation::Profiles { profiles }));
        entries
    }

    /// The `n`-th message of the day (or the claim or answer due then).
    pub fn message(&mut self, n: usize) -> Entry {
        let i = n % self.contacts;
        // Every 50th message an operator claims the chat and answers.
        if n % 50 == 25 {
            return self.op(Operation::Send(SendOp {
                conversation: ConversationId::new(user(i)),
                messages: vec![Message::text("ได้ค่ะ / 承知しました / 好的")],
                retry_key: RetryKey::new(),
                prefer_reply_token: true,
            }));
        }
        if n % 50 == 10 {
            return self.op(Operation::Claim {
                conversation: ConversationId::new(user(i)),
            });
        }
        let event = format!(
            r#"{{"type":"message","mode":"active","timestamp":{},"webhookEventId":"01M{n}","deliveryContext":{{"isRedelivery":false}},"source":{{"type":"user","userId":"{}"}},"replyToken":"r{n}","message":{{"type":"text","id":"{n}","quoteToken":"q{n}","text":"{} #{n}"}}}}"#,
            1_767_225_600_000_i64 + n as i64,
            user(i),
            PHRASES[n % PHRASES.len()]
        );
        self.line(event)
    }
}
