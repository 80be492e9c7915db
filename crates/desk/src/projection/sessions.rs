//! A conversation's sessions and who holds it: the handoff ops (claim, release, transfer,
//! close, mode), the executor's alerts, and the changes the handoff decisions make, which
//! a patient's message makes too.

use rusqlite::OptionalExtension as _;
use tsunagi_domain::session::{self, Action, Change, Rejection, Status};
use tsunagi_proto::{AlertReason, ConversationId, Entry, OperatorId};

use super::Changes;
use super::ops::Outcome;
use crate::Result;
use crate::alerts::Happened;
use crate::columns::{mode_from, mode_text};

/// A conversation as the handoff decisions see it, and its open session's id.
struct State {
    decision: session::Conversation,
    session: Option<i64>,
}

fn conversation_state(
    db: &rusqlite::Connection,
    conversation: &ConversationId,
) -> Result<Option<State>> {
    let row = db
        .prepare_cached(
            "SELECT c.mode, c.session_id, s.status, s.operator
             FROM conversations c LEFT JOIN sessions s ON s.id = c.session_id
             WHERE c.id = ?",
        )?
        .query_row([conversation.as_str()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<i64>>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<String>>(3)?,
            ))
        })
        .optional()?;
    let Some((mode, session, status, operator)) = row else {
        return Ok(None);
    };
    let mode = mode_from(&mode)?;
    let open = match (session, status.as_deref()) {
        (Some(_), Some("waiting")) => Some(session::Open {
            status: Status::Waiting,
            operator: None,
        }),
        (Some(_), Some("active")) => Some(session::Open {
            status: Status::Active,
            operator: operator.map(OperatorId::new),
        }),
        _ => None,
    };
    Ok(Some(State {
        decision: session::Conversation { mode, open },
        session,
    }))
}

pub(super) fn handoff(
    db: &rusqlite::Connection,
    entry: &Entry,
    conversation: &ConversationId,
    action: &Action,
    by: &session::Actor,
    changes: &mut Changes,
) -> Result<Outcome> {
    let state = conversation_state(db, conversation)?;
    let decided = session::decide(state.as_ref().map(|s| &s.decision), action, by);
    match decided {
        Ok(decided) => {
            let session = state.and_then(|s| s.session);
            apply_changes(
                db,
                entry,
                conversation,
                session,
                &decided,
                Some(&by.operator),
            )?;
            changes.conversations.insert(conversation.clone());
            Ok(Outcome::Applied)
        }
        Err(rejection) => {
            if !matches!(rejection, Rejection::UnknownConversation) {
                changes.conversations.insert(conversation.clone());
            }
            Ok(Outcome::Rejected(rejection.to_string()))
        }
    }
}

/// A transfer is a handoff that the operator it goes to hears of.
pub(super) fn transfer(
    db: &rusqlite::Connection,
    entry: &Entry,
    conversation: &ConversationId,
    to: &OperatorId,
    by: &session::Actor,
    changes: &mut Changes,
) -> Result<Outcome> {
    let outcome = handoff(
        db,
        entry,
        conversation,
        &Action::Transfer { to: to.clone() },
        by,
        changes,
    )?;
    if matches!(outcome, Outcome::Applied) {
        changes.happened.push(Happened::Transferred {
            conversation: conversation.clone(),
            to: to.clone(),
            by: by.operator.clone(),
        });
    }
    Ok(outcome)
}

/// An alert the executor raised: news for the desks, and a red flag puts the open session
/// at the head of the queue.
pub(super) fn alert(
    db: &rusqlite::Connection,
    entry: &Entry,
    conversation: &ConversationId,
    reason: AlertReason,
    changes: &mut Changes,
) -> Result<Outcome> {
    changes.conversations.insert(conversation.clone());
    changes.alerts.push((conversation.clone(), reason));
    changes.happened.push(match reason {
        AlertReason::Handoff => Happened::Handoff {
            conversation: conversation.clone(),
        },
        AlertReason::Escalated => Happened::Escalated {
            conversation: conversation.clone(),
        },
        AlertReason::RedFlag => Happened::RedFlag {
            conversation: conversation.clone(),
        },
    });
    if reason == AlertReason::RedFlag {
        // The open session leads the queue from now on; the audit keeps each case.
        db.prepare_cached(
            "UPDATE sessions SET urgent_at = COALESCE(urgent_at, ?2)
             WHERE id = (SELECT session_id FROM conversations WHERE id = ?1)
               AND status <> 'closed'",
        )?
        .execute(rusqlite::params![conversation.as_str(), entry.at.0])?;
    }
    Ok(Outcome::Applied)
}

pub(super) fn apply_changes(
    db: &rusqlite::Connection,
    entry: &Entry,
    conversation: &ConversationId,
    mut session: Option<i64>,
    decided: &[Change],
    by: Option<&OperatorId>,
) -> Result<()> {
    let at = entry.at.0;
    for change in decided {
        match change {
            Change::Mode(mode) => {
                db.prepare_cached("UPDATE conversations SET mode = ? WHERE id = ?")?
                    .execute(rusqlite::params![mode_text(*mode), conversation.as_str()])?;
            }
            Change::Open { status, operator } => {
                let id = entry.seq.0 as i64;
                let active = *status == Status::Active;
                db.prepare_cached(
                    "INSERT INTO sessions
                         (id, conversation_id, status, operator, started_at, claimed_at,
                          queued_seq, queued_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?1, ?5)",
                )?
                .execute(rusqlite::params![
                    id,
                    conversation.as_str(),
                    if active { "active" } else { "waiting" },
                    operator.as_ref().map(OperatorId::as_str),
                    at,
                    active.then_some(at)
                ])?;
                db.prepare_cached(
                    "UPDATE conversations SET session_id = ?, state = ?, operator = ? WHERE id = ?",
                )?
                .execute(rusqlite::params![
                    id,
                    if active { "active" } else { "waiting" },
                    operator.as_ref().map(OperatorId::as_str),
                    conversation.as_str()
                ])?;
                session = Some(id);
            }
            Change::Assign { operator, transfer } => {
                db.prepare_cached(
                    "UPDATE sessions SET status = 'active', operator = ?,
                         claimed_at = COALESCE(claimed_at, ?), transfers = transfers + ?
                     WHERE id = ?",
                )?
                .execute(rusqlite::params![
                    operator.as_str(),
                    at,
                    i64::from(*transfer),
                    session
                ])?;
                set_state(db, conversation, "active", Some(operator))?;
            }
            Change::Unassign => {
                // Back to the end of the queue, waiting from now.
                db.prepare_cached(
                    "UPDATE sessions SET status = 'waiting', operator = NULL,
                         queued_seq = ?, queued_at = ?
                     WHERE id = ?",
                )?
                .execute(rusqlite::params![entry.seq.0 as i64, at, session])?;
                set_state(db, conversation, "waiting", None)?;
            }
            Change::Close => {
                db.prepare_cached("UPDATE sessions SET status = 'closed', closed_at = ?, closed_by = ? WHERE id = ?")?
        .execute(rusqlite::params![at, by.map(OperatorId::as_str), session])?;
                db.prepare_cached("UPDATE conversations SET session_id = NULL WHERE id = ?")?
                    .execute(rusqlite::params![conversation.as_str()])?;
                set_state(db, conversation, "closed", None)?;
                session = None;
            }
        }
    }
    Ok(())
}

/// The conversation's copy of its newest session's state and operator.
fn set_state(
    db: &rusqlite::Connection,
    conversation: &ConversationId,
    state: &str,
    operator: Option<&OperatorId>,
) -> Result<()> {
    // A closed chat waits for nobody: the patient's next message starts a new wait.
    db.prepare_cached(
        "UPDATE conversations SET state = ?1, operator = ?2,
             awaiting_since = CASE WHEN ?1 = 'closed' THEN NULL ELSE awaiting_since END
         WHERE id = ?3",
    )?
    .execute(rusqlite::params![
        state,
        operator.map(OperatorId::as_str),
        conversation.as_str()
    ])?;
    Ok(())
}
