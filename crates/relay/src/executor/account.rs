//! What the executor knows of the LINE Official Account itself: its Chat and mark-as-read
//! modes, read from LINE's bot info when the executor starts (before it acts on anything)
//! and every hour after (by the relay's clock), and logged only when they differ from the
//! last ones in the log. The
//! last ones logged are kept beside the bot's state in the executor's snapshot, so that a
//! restart from a snapshot knows them without reading the log from its start.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tsunagi_domain::automation::Bot;
use tsunagi_proto::{Entry, EntryBody, LineAccount, LoggedOp, Operation, UnixMillis};

use super::{Executor, Failure};
use crate::line_account;
use crate::store::LogStore;

/// How often LINE is asked for the account's modes: an owner who switches Chat off in
/// LINE's console sees the desks follow within the hour.
const EVERY_MS: i64 = 60 * 60 * 1000;
/// When LINE could not be asked, the next try.
const RETRY_MS: i64 = 5 * 60 * 1000;

/// The executor's snapshot: the bot's, with what the executor knows beside it.
#[derive(Serialize)]
struct SnapshotOut<'a> {
    /// Tells this shape from a bot's snapshot on its own (written before the account was
    /// kept), which is still read.
    executor: u32,
    line_account: Option<LineAccount>,
    bot: &'a RawValue,
}

#[derive(Deserialize)]
struct SnapshotIn {
    #[allow(dead_code)]
    executor: u32,
    line_account: Option<LineAccount>,
    bot: Box<RawValue>,
}

/// The state to save: the bot's snapshot, and the account's modes as last logged.
pub(super) fn snapshot(bot: &Bot, account: Option<LineAccount>) -> Vec<u8> {
    let state = bot.snapshot();
    let Some(raw) = std::str::from_utf8(&state)
        .ok()
        .and_then(|json| serde_json::from_str::<&RawValue>(json).ok())
    else {
        return state;
    };
    serde_json::to_vec(&SnapshotOut {
        executor: 1,
        line_account: account,
        bot: raw,
    })
    .unwrap_or(state)
}

/// The bot's snapshot within a saved state, and the account's modes if it kept them.
pub(super) fn resumed(state: &[u8]) -> (std::borrow::Cow<'_, [u8]>, Option<LineAccount>) {
    match serde_json::from_slice::<SnapshotIn>(state) {
        Ok(read) => (
            std::borrow::Cow::Owned(read.bot.get().as_bytes().to_vec()),
            read.line_account,
        ),
        Err(_) => (std::borrow::Cow::Borrowed(state), None),
    }
}

/// The account's modes an entry logs, if it logs them.
pub(super) fn logged(entry: &Entry) -> Option<LineAccount> {
    match &entry.body {
        EntryBody::Op {
            op: LoggedOp::Known(Operation::LineAccount(account)),
            ..
        } => Some(*account),
        _ => None,
    }
}

impl<S: LogStore> Executor<S> {
    /// Notes the account's modes the entry logs, if any: the newest in the log are those
    /// compared with LINE's.
    pub(super) fn saw(&mut self, entry: &Entry) {
        if let Some(account) = logged(entry) {
            self.account = Some(account);
        }
    }

    /// Whether it is time to ask LINE for the account's modes.
    pub(super) fn account_due(&self, now: UnixMillis) -> bool {
        now >= self.account_due
    }

    /// Asks LINE for the account's modes and logs them if they differ from the last ones
    /// logged. LINE out of reach only puts it off: the sends do not wait for it.
    pub(super) async fn read_account(&mut self) -> Result<(), Failure> {
        let now = self.now();
        let info = match self.client().await {
            Ok(client) => client.bot_info().await,
            Err(Failure::Token(error)) => Err(error),
            Err(failure) => return Err(failure),
        };
        let account = match info {
            Ok(info) => line_account::of(&info),
            Err(error) => {
                self.refused(&error);
                tracing::warn!(channel = %self.channel, %error, "LINE did not say the account's modes; asking again later");
                self.account_due = UnixMillis(now.0 + RETRY_MS);
                return Ok(());
            }
        };
        if self.account != Some(account) {
            let entry = line_account::entry(account, self.bot.seq(), now)?;
            self.relay
                .store
                .append_fenced(&self.channel, self.fence(), vec![entry])
                .await?;
            tracing::info!(channel = %self.channel, ?account, "the account's modes changed in LINE");
            self.account = Some(account);
        }
        self.account_due = UnixMillis(now.0 + EVERY_MS);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_keeps_the_accounts_modes_and_a_bots_own_snapshot_is_still_read() {
        let bot = Bot::new();
        let account = LineAccount {
            chat: false,
            marks_read_itself: true,
        };
        let state = snapshot(&bot, Some(account));
        let (read, kept) = resumed(&state);
        assert_eq!(kept, Some(account));
        assert_eq!(
            Bot::from_snapshot(&read).map(|b| b.seq()).ok(),
            Some(bot.seq())
        );

        let older = bot.snapshot();
        let (read, kept) = resumed(&older);
        assert_eq!(kept, None);
        assert!(Bot::from_snapshot(&read).is_ok());

        let (read, kept) = resumed(&[0x00, 0xff]);
        assert_eq!((kept, &*read), (None, &[0x00, 0xff][..]));
    }
}
