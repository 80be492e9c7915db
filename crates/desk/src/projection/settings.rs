//! The team's settings, the LINE account's, and what the relay keeps and does for the AI
//! responder and Telegram alerts (whether a credential is set, the newest trouble).

use tsunagi_proto::{
    Credential, DeviceId, Entry, LineAccount, Setting, TelegramOutcome, TelegramTrouble,
};

use super::Changes;
use super::ops::Outcome;
use crate::{Error, Result};

/// The name under which the account's LINE settings are kept among the team's.
pub(crate) const LINE_ACCOUNT: &str = "line_account";

/// Keeps `value` as the setting `name`: the last one in the log holds.
fn keep_setting(
    db: &rusqlite::Connection,
    entry: &Entry,
    name: &str,
    value: &impl serde::Serialize,
) -> Result<()> {
    let value = serde_json::to_string(value).map_err(|e| Error::encoding("a setting", e))?;
    db.prepare_cached(
        "INSERT INTO settings (name, value, seq, at) VALUES (?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, seq = excluded.seq,
             at = excluded.at",
    )?
    .execute(rusqlite::params![
        name,
        value,
        entry.seq.0 as i64,
        entry.at.0
    ])?;
    Ok(())
}

pub(super) fn setting(
    db: &rusqlite::Connection,
    entry: &Entry,
    setting: &Setting,
    changes: &mut Changes,
) -> Result<Outcome> {
    keep_setting(db, entry, setting.name(), setting)?;
    changes.settings = true;
    Ok(Outcome::Applied)
}

/// Kept beside the team's settings: the read-receipt editor reads it.
pub(super) fn line_account(
    db: &rusqlite::Connection,
    entry: &Entry,
    account: &LineAccount,
    changes: &mut Changes,
) -> Result<Outcome> {
    keep_setting(db, entry, LINE_ACCOUNT, account)?;
    changes.settings = true;
    Ok(Outcome::Applied)
}

pub(super) fn credential_set(
    db: &rusqlite::Connection,
    entry: &Entry,
    device: &DeviceId,
    credential: Credential,
    set: bool,
    changes: &mut Changes,
) -> Result<Outcome> {
    db.prepare_cached(
        "INSERT INTO credentials (name, kept, set_at, set_by) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET kept = ?2, set_at = ?3, set_by = ?4,
             problem = NULL, problem_at = NULL, trouble = NULL",
    )?
    .execute(rusqlite::params![
        credential.name(),
        set,
        entry.at.0,
        device.as_str()
    ])?;
    changes.settings = true;
    Ok(Outcome::Applied)
}

/// The newest trouble with alerts, for the owner's settings; a success clears it.
pub(super) fn telegram_sent(
    db: &rusqlite::Connection,
    entry: &Entry,
    outcome: &TelegramOutcome,
    changes: &mut Changes,
) -> Result<Outcome> {
    let (problem, trouble) = match outcome {
        TelegramOutcome::Failed { reason, trouble } => (Some(reason.clone()), Some(*trouble)),
        TelegramOutcome::Sent {
            failed, trouble, ..
        } if !failed.is_empty() => (Some(failed.join("; ")), Some(trouble.unwrap_or_default())),
        _ => (None, None),
    };
    db.prepare_cached(
        "UPDATE credentials SET problem = ?1, problem_at = ?2, trouble = ?3
         WHERE name = ?4",
    )?
    .execute(rusqlite::params![
        problem,
        entry.at.0,
        trouble.map(TelegramTrouble::name),
        Credential::TelegramToken.name()
    ])?;
    changes.settings = true;
    Ok(Outcome::Applied)
}
