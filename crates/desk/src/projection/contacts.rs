//! What the clinic writes of a contact (notes, fields, tags) and the profiles LINE gives.

use std::collections::BTreeMap;

use rusqlite::OptionalExtension as _;
use tsunagi_line::UserId;
use tsunagi_proto::{ContactProfile, ConversationId, DeviceId, Entry};

use super::Changes;
use super::ops::Outcome;
use super::rows::{contact_exists, touch_contact};
use crate::{Error, Result, search};

pub(super) fn note(
    db: &rusqlite::Connection,
    entry: &Entry,
    device: &DeviceId,
    contact: &UserId,
    text: &str,
    changes: &mut Changes,
) -> Result<Outcome> {
    Ok(if contact_exists(db, contact.as_str())? {
        db.prepare_cached(
            "INSERT INTO contact_notes (seq, user_id, text, author, at) VALUES (?, ?, ?, ?, ?)",
        )?
        .execute(rusqlite::params![
            entry.seq.0 as i64,
            contact.as_str(),
            text,
            device.as_str(),
            entry.at.0
        ])?;
        changes.contacts.insert(contact.clone());
        Outcome::Applied
    } else {
        Outcome::Rejected("there is no such contact".into())
    })
}

pub(super) fn contact_fields(
    db: &rusqlite::Connection,
    contact: &UserId,
    fields: &BTreeMap<String, String>,
    changes: &mut Changes,
) -> Result<Outcome> {
    let unknown = unknown_contact_field(db, fields.keys())?;
    Ok(if let Some(field) = unknown {
        Outcome::Rejected(format!("the clinic keeps no contact field {field:?}"))
    } else if contact_exists(db, contact.as_str())? {
        for (field, value) in fields {
            let value = value.trim();
            if value.is_empty() {
                db.prepare_cached("DELETE FROM contact_fields WHERE user_id = ? AND field = ?")?
                    .execute(rusqlite::params![contact.as_str(), field])?;
            } else {
                db.prepare_cached(
                    "INSERT INTO contact_fields (user_id, field, value) VALUES (?, ?, ?)
                     ON CONFLICT (user_id, field) DO UPDATE SET value = excluded.value",
                )?
                .execute(rusqlite::params![contact.as_str(), field, value])?;
            }
        }
        what_the_clinic_wrote_changed(db, contact, changes)?;
        Outcome::Applied
    } else {
        Outcome::Rejected("there is no such contact".into())
    })
}

pub(super) fn tag(
    db: &rusqlite::Connection,
    contact: &UserId,
    tag: &str,
    added: bool,
    changes: &mut Changes,
) -> Result<Outcome> {
    let tag = tag.trim();
    Ok(if tag.is_empty() {
        Outcome::Rejected("a tag needs a name".into())
    } else if !contact_exists(db, contact.as_str())? {
        Outcome::Rejected("there is no such contact".into())
    } else {
        let sql = if added {
            "INSERT OR IGNORE INTO contact_tags (user_id, tag) VALUES (?, ?)"
        } else {
            "DELETE FROM contact_tags WHERE user_id = ? AND tag = ?"
        };
        db.prepare_cached(sql)?
            .execute(rusqlite::params![contact.as_str(), tag])?;
        what_the_clinic_wrote_changed(db, contact, changes)?;
        Outcome::Applied
    })
}

pub(super) fn profiles(
    db: &rusqlite::Connection,
    entry: &Entry,
    profiles: &[ContactProfile],
    changes: &mut Changes,
) -> Result<Outcome> {
    for profile in profiles {
        store_profile(db, entry, profile)?;
        changes.contacts.insert(profile.user_id.clone());
    }
    Ok(Outcome::Applied)
}

fn store_profile(db: &rusqlite::Connection, entry: &Entry, profile: &ContactProfile) -> Result<()> {
    let user = profile.user_id.as_str();
    touch_contact(db, user, entry.at.0, None)?;
    let (id, old_name): (i64, Option<String>) = db
        .prepare_cached("SELECT id, display_name FROM contacts WHERE user_id = ?")?
        .query_row([user], |row| Ok((row.get(0)?, row.get(1)?)))?;
    db.prepare_cached(
        "UPDATE contacts SET display_name = ?, picture_url = ?, status_message = ?,
             language = ?,
             friend_status = CASE WHEN ? AND friend_status = 'unknown' THEN 'following'
                                  ELSE friend_status END
         WHERE id = ?",
    )?
    .execute(rusqlite::params![
        profile.display_name,
        profile.picture_url,
        profile.status_message,
        profile.language,
        profile.follower,
        id
    ])?;
    if old_name.as_deref() != Some(profile.display_name.as_str()) {
        search::index_contact(db, user)?;
    }
    Ok(())
}

/// The clinic's words on a contact changed (a tag, a field): search finds them, and the
/// contact and their chat's row are read again.
fn what_the_clinic_wrote_changed(
    db: &rusqlite::Connection,
    contact: &UserId,
    changes: &mut Changes,
) -> Result<()> {
    search::index_contact(db, contact.as_str())?;
    changes.contacts.insert(contact.clone());
    changes
        .conversations
        .insert(ConversationId::new(contact.as_str()));
    Ok(())
}

/// The first of `keys` that is neither a built-in contact field nor one the owners added
/// (as the log has it so far).
fn unknown_contact_field<'k>(
    db: &rusqlite::Connection,
    mut keys: impl Iterator<Item = &'k String>,
) -> Result<Option<String>> {
    let added: Option<String> = db
        .prepare_cached("SELECT value FROM settings WHERE name = 'contact_fields'")?
        .query_row([], |row| row.get(0))
        .optional()?;
    let added: Vec<tsunagi_proto::ContactField> = match added
        .map(|json| serde_json::from_str::<tsunagi_proto::Setting>(&json))
        .transpose()
        .map_err(|e| Error::unreadable(format!("the contact fields setting: {e}")))?
    {
        Some(tsunagi_proto::Setting::ContactFields { fields }) => fields,
        _ => Vec::new(),
    };
    Ok(keys
        .find(|key| {
            !tsunagi_proto::BUILT_IN_CONTACT_FIELDS.contains(&key.as_str())
                && !added.iter().any(|f| &f.key == *key)
        })
        .cloned())
}
