//! Contacts: tags, notes, the clinic's own fields, the follower list and its sync.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use tsunagi_desk::outreach::FollowerSync;
use tsunagi_desk::query::{ContactFilter, PageCursor};
use tsunagi_proto::ConsentKind;

/// `contact_tag`: add or remove a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TagRequest {
    pub contact: String,
    pub tag: String,
    pub added: bool,
}

/// `contact_fields_set`: the clinic's own facts about a contact, by field; an empty value
/// clears the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ContactFieldsRequest {
    pub contact: String,
    pub fields: std::collections::BTreeMap<String, String>,
}

/// Names one contact (a LINE user id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ContactRequest {
    pub contact: String,
}

/// `contact_export`: the patient whose data to save, and the save dialog's title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ContactExportRequest {
    pub contact: String,
    pub title: String,
}

/// `contact_erase`: the patient to erase, and what the owner typed to confirm it (the
/// word the window asked for, in their language).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ContactEraseRequest {
    pub contact: String,
    pub typed: String,
    pub expected: String,
}

/// `contact_hold`: keep a contact's data whatever the retention (with why), or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ContactHoldRequest {
    pub contact: String,
    pub held: bool,
    pub reason: String,
}

/// What a patient's archive holds, once saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ContactExported {
    pub messages: u32,
    pub files: u32,
    /// Messages whose file the relay no longer had.
    pub files_missing: u32,
}

/// `contact_consent`: a consent a patient gave or withdrew, as an operator heard it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConsentRequest {
    pub contact: String,
    pub consent: ConsentKind,
    pub given: bool,
    /// The version of the wording they answered.
    pub wording: String,
}

/// `contact_note`: a private note about a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NoteRequest {
    pub contact: String,
    pub text: String,
}

/// `contacts_list`: a page of the follower list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ContactsRequest {
    pub filter: ContactFilter,
    pub before: Option<PageCursor>,
    pub limit: u32,
}

/// `contacts_export`: the contacts a list shows, and the save dialog's title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ExportRequest {
    pub filter: ContactFilter,
    pub title: String,
}

/// `follower_sync_status`: the newest follower sync, and when it should end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FollowerSyncView {
    #[serde(flatten)]
    #[ts(flatten)]
    pub sync: FollowerSync,
    /// When it should end, from how fast it went so far.
    #[ts(type = "number | null")]
    pub eta: Option<i64>,
}
