//! Patients' consents and opt-outs: a stop word written in a 1:1 chat, a consent button
//! tapped, and a consent an operator recorded. The bot decides reminders from the same
//! log by the same rules (`tsunagi_domain::consent`); the desk keeps them to show.

use tsunagi_domain::consent;
use tsunagi_line::UserId;
use tsunagi_line::webhook::{Event, EventKind};
use tsunagi_proto::{ConsentKind, DeviceId, Entry, PatientData, Setting};

use super::Changes;
use super::ops::Outcome;
use crate::Result;

/// What a patient in a 1:1 chat did that bears on their consents.
pub(super) fn patient_event(
    db: &rusqlite::Connection,
    entry: &Entry,
    user: &str,
    event: &Event,
) -> Result<()> {
    match &event.kind {
        EventKind::Message(message) => {
            let Some(text) = message.content.words() else {
                return Ok(());
            };
            if let Some(word) = patient_data(db)?.stop_word(text) {
                db.prepare_cached(
                    "UPDATE contacts SET stopped_word = ?, stopped_at = ? WHERE user_id = ?",
                )?
                .execute(rusqlite::params![word, entry.at.0, user])?;
            }
        }
        EventKind::Postback(postback) => {
            if let Some(answer) = consent::answer(&postback.data) {
                let given = Given {
                    kind: answer.kind,
                    given: answer.given,
                    wording: &answer.wording,
                };
                record(db, entry, user, &given, "button", None)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A consent an operator recorded.
pub(super) fn recorded(
    db: &rusqlite::Connection,
    entry: &Entry,
    device: &DeviceId,
    contact: &UserId,
    (kind, given, wording): (ConsentKind, bool, &str),
    changes: &mut Changes,
) -> Result<Outcome> {
    let given = Given {
        kind,
        given,
        wording,
    };
    record(
        db,
        entry,
        contact.as_str(),
        &given,
        "operator",
        Some(device),
    )?;
    changes.contacts.insert(contact.clone());
    Ok(Outcome::Applied)
}

struct Given<'a> {
    kind: ConsentKind,
    given: bool,
    wording: &'a str,
}

/// Keeps an answer; agreeing to reminders again undoes a stop word.
fn record(
    db: &rusqlite::Connection,
    entry: &Entry,
    user: &str,
    answer: &Given<'_>,
    how: &str,
    device: Option<&DeviceId>,
) -> Result<()> {
    let kind = answer.kind.as_str();
    db.prepare_cached(
        "INSERT INTO consents (seq, user_id, kind, given, wording, how, device, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(rusqlite::params![
        entry.seq.0 as i64,
        user,
        kind,
        answer.given,
        answer.wording,
        how,
        device.map(DeviceId::as_str),
        entry.at.0
    ])?;
    if answer.kind == ConsentKind::Reminders && answer.given {
        db.prepare_cached(
            "UPDATE contacts SET stopped_word = NULL, stopped_at = NULL WHERE user_id = ?",
        )?
        .execute([user])?;
    }
    Ok(())
}

/// The clinic's patient data settings as the log holds them at this entry.
fn patient_data(db: &rusqlite::Connection) -> Result<PatientData> {
    use rusqlite::OptionalExtension as _;
    let value: Option<String> = db
        .prepare_cached("SELECT value FROM settings WHERE name = 'patient_data'")?
        .query_row([], |row| row.get(0))
        .optional()?;
    Ok(match value.map(|v| serde_json::from_str::<Setting>(&v)) {
        Some(Ok(Setting::PatientData(data))) => data,
        _ => PatientData::default(),
    })
}
