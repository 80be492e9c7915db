//! The LINE Official Account's Chat and mark-as-read modes, as the relay reads them from
//! LINE's bot info and logs them for the desks (`Operation::LineAccount`): at setup, and
//! then now and then by the executor, whenever they changed.

use serde_json::value::RawValue;
use tsunagi_line::client::BotInfo;
use tsunagi_proto::{DeviceId, EXECUTOR_DEVICE, LineAccount, OpId, Operation, Seq, UnixMillis};

use crate::store::{NewBody, NewEntry, StoreError};

/// The modes LINE's bot info says: Chat on (`chatMode: chat`), and LINE marking messages
/// read itself (`markAsReadMode: auto`). A value LINE may add later reads as off.
pub(crate) fn of(info: &BotInfo) -> LineAccount {
    LineAccount {
        chat: info.chat_mode == "chat",
        marks_read_itself: info.mark_as_read_mode == "auto",
    }
}

/// The id of the op logging `account` as read when the log ended at `after`: whoever
/// reads the same at the same place (setup and the executor, or two executors taking
/// turns) logs it once. Nothing else logs into this part of the executor's id space.
pub(crate) fn op_id(account: LineAccount, after: Seq) -> OpId {
    OpId::derived(&format!(
        "line-account/{}/{}/after/{}",
        account.chat, account.marks_read_itself, after.0
    ))
}

/// The entry logging `account`, under the executor's device (only it authors these).
pub(crate) fn entry(
    account: LineAccount,
    after: Seq,
    at: UnixMillis,
) -> Result<NewEntry, StoreError> {
    let op = serde_json::to_string(&Operation::LineAccount(account))
        .ok()
        .and_then(|json| RawValue::from_string(json).ok())
        .ok_or_else(|| StoreError::Corrupt("an op that is not JSON".into()))?;
    Ok(NewEntry {
        at,
        body: NewBody::Op {
            op_id: op_id(account, after),
            device: DeviceId::from(EXECUTOR_DEVICE),
            role: None,
            op,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(chat_mode: &str, mark_as_read_mode: &str) -> BotInfo {
        serde_json::from_value(serde_json::json!({
            "userId": "Uf0a1b2c3d4e5f60718293a4b5c6d7e8f", "basicId": "@clinic",
            "displayName": "Clinic", "chatMode": chat_mode, "markAsReadMode": mark_as_read_mode
        }))
        .expect("bot info")
    }

    #[test]
    fn the_modes_are_read_from_bot_info_and_anything_unknown_is_off() {
        let account = |chat, auto| LineAccount {
            chat,
            marks_read_itself: auto,
        };
        assert_eq!(of(&info("chat", "manual")), account(true, false));
        assert_eq!(of(&info("bot", "auto")), account(false, true));
        assert_eq!(of(&info("later", "later")), account(false, false));
    }

    #[test]
    fn the_same_modes_read_at_the_same_place_have_one_id() {
        let a = LineAccount {
            chat: true,
            marks_read_itself: false,
        };
        let b = LineAccount {
            marks_read_itself: true,
            ..a
        };
        assert_eq!(op_id(a, Seq(7)), op_id(a, Seq(7)));
        assert_ne!(op_id(a, Seq(7)), op_id(a, Seq(8)));
        assert_ne!(op_id(a, Seq(7)), op_id(b, Seq(7)));
    }
}
