//! One patient's data, whole: what a clinic hands a patient who asks for it (Japan's APPI,
//! Thailand's PDPA s.30–31, Taiwan's PDPA). An archive (zip) holds `patient.json`, read
//! against `schema.json` beside it (the schema is made from the types below, and kept in
//! the repository as `docs/patient-archive.schema.json`), and under `media/` every file the
//! patient sent and the team sent them, as far as the relay still keeps it.
//!
//! The archive is written beside where it goes and only put in place once it is whole and
//! the log has taken the export (an owner's op, so the audit keeps who took a copy); a
//! refusal or a failure half way leaves nothing behind.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;
use sqlx::Row as _;
use tsunagi_line::{MessageId, UserId};
use tsunagi_proto::{ConversationId, UnixMillis};

use crate::columns::{Direction, SendStatus, SentVia};
use crate::detail::{FriendEvent, HandoffAction};
use crate::media::{self, MediaCache};
use crate::profile::Joined;
use crate::query::{FriendStatus, MediaState, MessageView, MessagesPage};
use crate::{Error, Result, Store};

/// The version of `patient.json`'s layout; a reader checks it before anything else.
pub const ARCHIVE_VERSION: u32 = 1;

/// Everything Tsunagi holds about one LINE user of a channel.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(title = "Tsunagi patient archive", deny_unknown_fields)]
pub struct PatientArchive {
    /// The version of this layout (1).
    pub version: u32,
    /// When the copy was taken, in ms since 1970 (UTC).
    pub exported_at: i64,
    /// The LINE channel (Official Account) the patient wrote to.
    pub channel: String,
    pub contact: ArchivedContact,
    /// Every message of the 1:1 chat, both ways, oldest first.
    pub messages: Vec<ArchivedMessage>,
    /// Each time the patient waited for the team, and how it went.
    pub sessions: Vec<ArchivedSession>,
    /// Who took, passed on and closed the chat, oldest first.
    pub handoffs: Vec<ArchivedHandoff>,
    /// Reminders sent, or to be sent, to the patient.
    pub reminders: Vec<ArchivedReminder>,
}

/// The patient as LINE and the clinic know them.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ArchivedContact {
    /// LINE's id of the user, for this channel.
    pub user_id: String,
    pub display_name: Option<String>,
    pub picture_url: Option<String>,
    pub status_message: Option<String>,
    /// The language of their LINE app.
    pub language: Option<String>,
    pub friend_status: FriendStatus,
    /// When the channel first heard from them, in ms.
    pub first_seen_at: i64,
    pub tags: Vec<String>,
    /// The clinic's own facts about them (a chart number, a phone number …), by field.
    pub fields: BTreeMap<String, String>,
    /// The team's private notes, oldest first.
    pub notes: Vec<ArchivedNote>,
    /// When they followed, blocked and followed again, oldest first.
    pub friend_history: Vec<ArchivedFriendChange>,
    /// The stop word they wrote: reminders stopped for it.
    pub stopped: Option<ArchivedStop>,
    /// Every answer they gave to a consent, oldest first.
    pub consents: Vec<ArchivedConsent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ArchivedStop {
    pub word: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ArchivedConsent {
    /// `reminders`, or `health_on_line` (health questions handled on LINE).
    pub kind: String,
    pub given: bool,
    /// The version of the wording they answered.
    pub wording: String,
    /// `operator` (an operator recorded it) or `button` (they tapped a consent button).
    pub how: String,
    /// The operator who recorded it.
    pub by: Option<String>,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ArchivedNote {
    pub text: String,
    /// The operator who wrote it.
    pub author: Option<String>,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ArchivedFriendChange {
    pub event: FriendEvent,
    pub at: i64,
}

/// A message, as it was sent or received, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ArchivedMessage {
    /// Its place in the channel's log (with `part`, for an entry of several messages).
    pub seq: u64,
    pub part: u32,
    /// `in` from the patient, `out` from the team or the bot, `system` a note of what
    /// happened.
    pub direction: Direction,
    /// The operator (out) or the patient (in), by name where known.
    pub author_name: Option<String>,
    /// LINE's id of the message.
    pub line_message_id: Option<String>,
    /// LINE's message type (`text`, `image`, `sticker`, `location` …).
    #[serde(rename = "type")]
    pub message_type: String,
    pub text: Option<String>,
    /// The message object as LINE's Messaging API defines it.
    pub content: serde_json::Value,
    /// When it was sent or received, in ms.
    pub at: i64,
    /// When the patient last edited it, in ms.
    pub edited_at: Option<i64>,
    /// The patient took it back: LINE asked that its content be forgotten.
    pub unsent: bool,
    /// How an outgoing message went (none for the patient's).
    pub delivery: Option<ArchivedDelivery>,
    /// The AI model that wrote it, when the AI responder answered.
    pub ai_model: Option<String>,
    /// Its file's path inside this archive (under `media/`).
    pub file: Option<String>,
    /// Why a message with a file has none here (unsent before it was kept, or no longer
    /// kept by the relay).
    pub file_missing: Option<String>,
}

/// What became of an outgoing message.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ArchivedDelivery {
    pub status: SendStatus,
    pub via: Option<SentVia>,
    /// Why it failed, as LINE or the relay said.
    pub failure: Option<String>,
    /// LINE's id of its request, to quote to LINE's support.
    pub line_request_id: Option<String>,
}

/// A stretch of the chat from the patient's first word to its close.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ArchivedSession {
    pub started_at: i64,
    pub claimed_at: Option<i64>,
    pub first_response_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// The operator who held it, by name where known.
    pub operator: Option<String>,
    pub messages: i64,
    pub transfers: i64,
    /// The patient's rating of it (1–5), when they gave one.
    pub csat: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ArchivedHandoff {
    pub action: HandoffAction,
    /// Who did it, by name where known.
    pub by: Option<String>,
    /// A transfer's new holder.
    pub to: Option<String>,
    /// False when another operator was first.
    pub applied: bool,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ArchivedReminder {
    pub text: String,
    /// When it was due, in ms.
    pub due_at: i64,
    pub created_at: i64,
    pub cancelled_at: Option<i64>,
    /// `sent`, `failed` or `blocked` once LINE answered; none before.
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub delivered_at: Option<i64>,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub messages: usize,
    pub files: usize,
    /// Messages whose file could not be had.
    pub files_missing: usize,
}

/// The JSON Schema of `patient.json`, as the archive carries it.
pub fn schema() -> String {
    let schema = schemars::schema_for!(PatientArchive);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// A file to put in the archive: one the media cache holds, or bytes the relay gave.
enum Source {
    Cached(PathBuf),
    Bytes(Vec<u8>),
}

/// A patient's archive, gathered and not yet written: its JSON and its files.
pub(crate) struct Gathered {
    json: Vec<u8>,
    files: Vec<(String, Source)>,
    exported: Exported,
}

impl Gathered {
    /// Writes the archive beside `out`, then has `taken` log the export, and only then puts
    /// it at `out`: a refusal or a failure leaves nothing behind.
    pub(crate) async fn write<F>(self, out: &Path, taken: F) -> Result<Exported>
    where
        F: std::future::Future<Output = Result<tsunagi_proto::OpId>>,
    {
        let Gathered {
            json,
            files,
            exported,
        } = self;
        media::whole_or_nothing(out, |partial| async move {
            tokio::task::spawn_blocking(move || write_zip(&partial, &json, files))
                .await
                .map_err(|error| Error::encoding("the patient's archive", error))??;
            // Whole on disk: now the log keeps that it was taken, or refuses it.
            taken.await.map(drop)
        })
        .await?;
        Ok(exported)
    }
}

impl Joined {
    /// Everything this desk and the relay hold about `contact`: the contact, their chat's
    /// messages (with the files, from the media cache or the relay), sessions, handoffs and
    /// reminders.
    pub(crate) async fn gather(&self, contact: &UserId) -> Result<Gathered> {
        let store = self.store();
        let chat = ConversationId::new(contact.as_str());
        if !chat.is_one_to_one() {
            return Err(Error::Invalid(format!("{contact} is not a LINE user's id")));
        }
        let Some(detail) = store.contact(contact.as_str()).await? else {
            return Err(Error::NotFound(format!(
                "no contact {contact} on this desk"
            )));
        };
        let mut notes: Vec<ArchivedNote> = detail
            .notes
            .into_iter()
            .map(|note| ArchivedNote {
                text: note.text,
                author: note.author_name,
                at: note.at,
            })
            .collect();
        notes.reverse();
        let contact_part = ArchivedContact {
            user_id: detail.user_id,
            display_name: detail.display_name,
            picture_url: detail.picture_url,
            status_message: detail.status_message,
            language: detail.language,
            friend_status: detail.friend_status,
            first_seen_at: detail.first_seen_at,
            tags: detail.tags,
            fields: detail.fields,
            notes,
            friend_history: (detail.friend_history.iter())
                .map(|change| ArchivedFriendChange {
                    event: change.event,
                    at: change.at,
                })
                .collect(),
            stopped: (detail.stopped).map(|s| ArchivedStop {
                word: s.word,
                at: s.at,
            }),
            consents: (detail.consents.into_iter().rev())
                .map(|c| ArchivedConsent {
                    kind: c.kind,
                    given: c.given,
                    wording: c.wording,
                    how: c.how,
                    by: c.by_name,
                    at: c.at,
                })
                .collect(),
        };

        let mut files: Vec<(String, Source)> = Vec::new();
        let mut messages = Vec::new();
        let mut files_missing = 0;
        let mut named = std::collections::HashSet::new();
        for view in every_message(store, &chat).await? {
            let mut message = archived(view.clone());
            match self.file_of(&view).await {
                Ok(Some((name, source))) => {
                    message.file = Some(name.clone());
                    // The same upload sent twice (a greeting's photo) is one file.
                    if named.insert(name.clone()) {
                        files.push((name, source));
                    }
                }
                Ok(None) => {}
                Err(reason) => {
                    files_missing += 1;
                    message.file_missing = Some(reason);
                }
            }
            messages.push(message);
        }
        let archive = PatientArchive {
            version: ARCHIVE_VERSION,
            exported_at: UnixMillis::now().0,
            channel: self.sync.channel().as_str().to_owned(),
            contact: contact_part,
            messages,
            sessions: sessions(store, &chat).await?,
            handoffs: (store.handoffs(&chat).await?.into_iter())
                .map(|event| ArchivedHandoff {
                    action: event.action,
                    by: event.by_name.or(Some(event.by.as_str().to_owned())),
                    to: event.to_name,
                    applied: event.applied,
                    at: event.at,
                })
                .collect(),
            reminders: reminders(store, contact).await?,
        };
        let exported = Exported {
            messages: archive.messages.len(),
            files: files.len(),
            files_missing,
        };
        let json = serde_json::to_vec_pretty(&archive)
            .map_err(|error| Error::encoding("the patient's archive", error))?;
        Ok(Gathered {
            json,
            files,
            exported,
        })
    }

    /// The file `message` carries, named for the archive: what the patient sent from the
    /// media cache (or the relay into it), what the team sent from the relay's uploads.
    /// `Err` says why a message that had a file has none to give.
    async fn file_of(
        &self,
        message: &MessageView,
    ) -> std::result::Result<Option<(String, Source)>, String> {
        // What the patient took back is not handed out again, its file included.
        if message.unsent {
            return Ok(None);
        }
        let content: serde_json::Value = serde_json::from_str(&message.body).unwrap_or_default();
        if message.direction == Direction::Out {
            let Some(name) = content["originalContentUrl"].as_str().and_then(upload_name) else {
                return Ok(None);
            };
            let (content_type, bytes) = (self.sync.client().uploaded(name, false).await)
                .map_err(|error| error.to_string())?;
            let file = media::file_name(&MessageId::new(name), None, &content_type);
            return Ok(Some((format!("media/{file}"), Source::Bytes(bytes))));
        }
        // What LINE keeps the content of (not a photo the patient's app linked to elsewhere).
        let carries_file = matches!(
            message.message_type.as_str(),
            "image" | "video" | "audio" | "file"
        ) && content["contentProvider"]["type"] != "external";
        let Some(id) = message.line_message_id.as_ref().filter(|_| carries_file) else {
            return Ok(None);
        };
        if let Some(media) = &message.media
            && media.state != MediaState::Stored
        {
            return Err(media
                .reason
                .clone()
                .unwrap_or_else(|| format!("the relay has no file ({})", media.state)));
        }
        let id = MessageId::new(id.as_str());
        let sync = &self.sync;
        let cached = MediaCache::new(&self.media)
            .get((sync.client(), sync.store()), sync.channel(), &id, false)
            .await
            .map_err(|error| error.to_string())?;
        let given = content["fileName"].as_str();
        let mut file = media::file_name(&id, given, &cached.content_type);
        if !file.starts_with(id.as_str()) {
            file = format!("{id}-{file}");
        }
        Ok(Some((format!("media/{file}"), Source::Cached(cached.path))))
    }
}

/// The name the relay gave an upload, from its public address (`…/public/uploads/<name>`).
fn upload_name(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next()?;
    let (_, name) = path.rsplit_once("/public/uploads/")?;
    (name.len() == 32 && name.bytes().all(|b| b.is_ascii_hexdigit())).then_some(name)
}

fn archived(view: MessageView) -> ArchivedMessage {
    let content = serde_json::from_str(&view.body).unwrap_or(serde_json::Value::Null);
    let delivery = view.send_status.map(|status| ArchivedDelivery {
        status,
        via: view.sent_via,
        failure: view.failure.clone(),
        line_request_id: view.line_request_id.clone(),
    });
    ArchivedMessage {
        seq: view.seq,
        part: view.part,
        direction: view.direction,
        author_name: view.author_name.or(view.author),
        line_message_id: view.line_message_id,
        message_type: view.message_type,
        text: view.text,
        content,
        at: view.at,
        edited_at: view.edited_at,
        unsent: view.unsent,
        delivery,
        ai_model: view.ai_model,
        file: None,
        file_missing: None,
    }
}

/// Every message of `chat`, oldest first, a page at a time.
async fn every_message(store: &Store, chat: &ConversationId) -> Result<Vec<MessageView>> {
    let limit = crate::columns::MAX_PAGE;
    let mut all: Vec<MessageView> = Vec::new();
    let mut page = MessagesPage::After { seq: 0, part: 0 };
    loop {
        let got = store.messages(chat, page, limit).await?;
        let Some(last) = got.last() else { break };
        page = MessagesPage::After {
            seq: last.seq,
            part: last.part,
        };
        let whole = got.len() < limit as usize;
        all.extend(got);
        if whole {
            break;
        }
    }
    Ok(all)
}

async fn sessions(store: &Store, chat: &ConversationId) -> Result<Vec<ArchivedSession>> {
    let rows = sqlx::query(
        "SELECT s.started_at, s.claimed_at, s.first_response_at, s.closed_at,
             COALESCE(o.name, s.operator), s.message_count, s.transfers, s.csat
         FROM sessions s LEFT JOIN operators o ON o.id = s.operator
         WHERE s.conversation_id = ? ORDER BY s.id",
    )
    .bind(chat.as_str())
    .fetch_all(&store.readers)
    .await?;
    Ok(rows
        .iter()
        .map(|row| ArchivedSession {
            started_at: row.get(0),
            claimed_at: row.get(1),
            first_response_at: row.get(2),
            closed_at: row.get(3),
            operator: row.get(4),
            messages: row.get(5),
            transfers: row.get(6),
            csat: row.get(7),
        })
        .collect())
}

async fn reminders(store: &Store, contact: &UserId) -> Result<Vec<ArchivedReminder>> {
    let rows = sqlx::query(
        "SELECT r.text, r.due_at, r.created_at, r.cancelled_at, rr.outcome, rr.reason, rr.at
         FROM reminders r
         LEFT JOIN reminder_recipients rr ON rr.reminder = r.id AND rr.user_id = ?1
         WHERE (r.audience = 'contact' AND r.target = ?1) OR rr.user_id IS NOT NULL
         ORDER BY r.due_at, r.id",
    )
    .bind(contact.as_str())
    .fetch_all(&store.readers)
    .await?;
    Ok(rows
        .iter()
        .map(|row| ArchivedReminder {
            text: row.get(0),
            due_at: row.get(1),
            created_at: row.get(2),
            cancelled_at: row.get(3),
            outcome: row.get(4),
            reason: row.get(5),
            delivered_at: row.get(6),
        })
        .collect())
}

/// Writes the archive to `path`: `patient.json`, `schema.json`, and the files.
fn write_zip(path: &Path, json: &[u8], files: Vec<(String, Source)>) -> Result<()> {
    use zip::write::SimpleFileOptions;
    let fail = |error: zip::result::ZipError| Error::encoding("the patient's archive", error);
    let io = |error: std::io::Error| Error::file("writing the patient's archive", error);
    let file = crate::private::file_options().open(path).map_err(io)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o600);
    for (name, bytes) in [("patient.json", json), ("schema.json", schema().as_bytes())] {
        zip.start_file(name, options).map_err(fail)?;
        zip.write_all(bytes).map_err(io)?;
    }
    // Photos and videos are compressed already.
    let stored = options.compression_method(zip::CompressionMethod::Stored);
    for (name, source) in files {
        zip.start_file(name, stored).map_err(fail)?;
        match source {
            Source::Bytes(bytes) => zip.write_all(&bytes).map_err(io)?,
            Source::Cached(cached) => {
                let mut file = std::fs::File::open(cached).map_err(io)?;
                std::io::copy(&mut file, &mut zip).map_err(io)?;
            }
        }
    }
    let mut out = zip.finish().map_err(fail)?;
    out.flush().map_err(io)?;
    out.get_ref().sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_is_named_from_its_public_address_and_nothing_else_is() {
        let name = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            upload_name(&format!("https://relay.example/public/uploads/{name}")),
            Some(name)
        );
        assert_eq!(
            upload_name(&format!(
                "https://relay.example/base/public/uploads/{name}?x=1"
            )),
            Some(name)
        );
        for other in [
            "https://cdn.example/photo.jpg".to_owned(),
            format!("https://relay.example/public/uploads/{name}/preview"),
            "https://relay.example/public/uploads/../../etc/passwd".to_owned(),
            "https://relay.example/public/uploads/0123".to_owned(),
        ] {
            assert_eq!(upload_name(&other), None, "{other}");
        }
    }

    /// `cargo xtask bindings` writes it afresh (`TSUNAGI_WRITE_BINDINGS`).
    #[test]
    fn the_documented_schema_is_the_one_the_archive_carries() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/patient-archive.schema.json");
        if std::env::var_os("TSUNAGI_WRITE_BINDINGS").is_some() {
            std::fs::write(&path, schema()).expect("the schema is written");
        }
        let documented = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            documented == schema(),
            "docs/patient-archive.schema.json is stale: run `cargo xtask bindings`"
        );
    }
}
