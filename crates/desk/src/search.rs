//! Full-text search over message text and contact names that finds substrings in any
//! script: Thai and CJK are written without spaces between words, so words cannot be the
//! unit. The index (FTS5, `detail = none`) holds the characters of each text and each pair
//! of neighbouring characters as its words (`grams`); a search looks up the query's pairs
//! (or its one character) and then reads each text the index names for the query itself.
//!
//! That is all the index needs to hold: a pair or a character names the texts that can
//! hold a query, and reading them says which do. It replaced a trigram index beside a
//! pair index with positions (250 bytes a message, together, against 50), and answers a
//! one-character search by one word instead of every pair that starts with it.
//!
//! Messages are indexed by their log entry (the row id is the entry's seq, and the
//! document is the words of all its messages' texts): seqs follow one another, where
//! message ids (seq × 1024 + part) leave gaps that cost each word two bytes more.

use std::collections::BTreeSet;

use futures_util::TryStreamExt as _;
use serde::Serialize;
use sqlx::Row as _;
use tsunagi_proto::ConversationId;

use crate::columns::MESSAGES_PER_ENTRY;
use crate::store::Store;
use crate::{Error, Result};

/// Characters of context on each side of a hit in a snippet.
const CONTEXT: usize = 24;
const MAX_RESULTS: u32 = 200;

/// The words the index keeps of `texts` (lowercased, space-separated, each once): every
/// character of a run of neighbours, and every pair of neighbours in it. Characters FTS5's
/// `ascii` tokenizer splits on (ASCII other than letters and digits) end a run and are
/// not words.
pub(crate) fn grams<'t>(texts: impl IntoIterator<Item = &'t str>) -> String {
    let mut words = BTreeSet::new();
    for text in texts {
        let mut previous: Option<char> = None;
        for c in text.to_lowercase().chars() {
            if !joins(c) {
                previous = None;
                continue;
            }
            words.insert(c.to_string());
            if let Some(p) = previous {
                words.insert([p, c].iter().collect::<String>());
            }
            previous = Some(c);
        }
    }
    words.into_iter().collect::<Vec<_>>().join(" ")
}

/// Messages indexed per transaction when catching up.
const INDEX_BATCH: i64 = 5_000;

/// The newest message id in the search index.
pub(crate) fn indexed_up_to(db: &rusqlite::Connection) -> Result<i64> {
    Ok(db
        .prepare_cached("SELECT message_id FROM search_progress")?
        .query_row([], |row| row.get(0))?)
}

/// The messages search reads: those with text, neither unsent nor a system note.
const SEARCHABLE: &str = "text IS NOT NULL AND unsent = 0 AND direction <> 'system'";

/// Indexes the messages applied since the last call, up to a few thousand in one
/// transaction, and the contacts an upgrade asked for; how many messages and contacts it
/// went through, and whether any are left.
pub(crate) fn index_some(db: &mut rusqlite::Connection) -> Result<(usize, bool)> {
    let contacts = reindex_contacts(db)?;
    if contacts == INDEX_BATCH as usize {
        return Ok((contacts, true));
    }
    let tx = db.transaction()?;
    let from = indexed_up_to(&tx)?;
    let mut rows = tx
        .prepare_cached(&format!(
            "SELECT id, text FROM messages WHERE id > ? AND {SEARCHABLE} ORDER BY id LIMIT ?"
        ))?
        .query_map(rusqlite::params![from, INDEX_BATCH], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let more = rows.len() as i64 == INDEX_BATCH;
    // A document is a whole entry: a full batch leaves its last entry for the next.
    let last = if more {
        let cut = rows.last().map_or(0, |(id, _)| id / MESSAGES_PER_ENTRY);
        rows.retain(|(id, _)| id / MESSAGES_PER_ENTRY < cut);
        cut * MESSAGES_PER_ENTRY - 1
    } else {
        // Up to the newest message there is, indexable or not.
        tx.query_row("SELECT COALESCE(MAX(id), 0) FROM messages", [], |row| {
            row.get(0)
        })?
    };
    for entry in rows.chunk_by(|(a, _), (b, _)| a / MESSAGES_PER_ENTRY == b / MESSAGES_PER_ENTRY) {
        let seq = entry[0].0 / MESSAGES_PER_ENTRY;
        write_entry(&tx, seq, entry.iter().map(|(_, text)| text.as_str()))?;
    }
    if last > from {
        tx.prepare_cached("UPDATE search_progress SET message_id = ?")?
            .execute([last])?;
    }
    tx.commit()?;
    Ok((contacts + rows.len(), more))
}

/// Writes the search text again of the contacts an upgrade asked for
/// (`contacts_to_index`), a few thousand in one transaction; how many.
fn reindex_contacts(db: &mut rusqlite::Connection) -> Result<usize> {
    let tx = db.transaction()?;
    let users = tx
        .prepare_cached("SELECT user_id FROM contacts_to_index LIMIT ?")?
        .query_map([INDEX_BATCH], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for user in &users {
        index_contact(&tx, user)?;
        tx.prepare_cached("DELETE FROM contacts_to_index WHERE user_id = ?")?
            .execute([user])?;
    }
    tx.commit()?;
    Ok(users.len())
}

fn write_entry<'t>(
    db: &rusqlite::Connection,
    seq: i64,
    texts: impl IntoIterator<Item = &'t str>,
) -> Result<()> {
    db.prepare_cached("INSERT INTO messages_grams (rowid, grams) VALUES (?, ?)")?
        .execute(rusqlite::params![seq, grams(texts)])?;
    Ok(())
}

/// Indexes again the messages of the entry `seq` (already indexed) after one of them
/// changed: edited, or unsent.
pub(crate) fn reindex_entry(db: &rusqlite::Connection, seq: i64) -> Result<()> {
    db.prepare_cached("DELETE FROM messages_grams WHERE rowid = ?")?
        .execute([seq])?;
    let texts = db
        .prepare_cached(&format!(
            "SELECT text FROM messages WHERE id BETWEEN ?1 AND ?1 + ?2 - 1 AND {SEARCHABLE}
             ORDER BY id"
        ))?
        .query_map([seq * MESSAGES_PER_ENTRY, MESSAGES_PER_ENTRY], |row| {
            row.get::<_, String>(0)
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if !texts.is_empty() {
        write_entry(db, seq, texts.iter().map(String::as_str))?;
    }
    Ok(())
}

/// Indexes a contact again: their LINE name, the values of the clinic's fields on them
/// and their tags (a chart number, a phone number or a tag finds the patient too).
pub(crate) fn index_contact(db: &rusqlite::Connection, user_id: &str) -> Result<()> {
    let (id, name): (i64, Option<String>) = db
        .prepare_cached("SELECT id, display_name FROM contacts WHERE user_id = ?")?
        .query_row([user_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let words: Option<String> = db
        .prepare_cached(&format!("SELECT {}", contact_words("?1")))?
        .query_row([user_id], |row| row.get(0))?;
    let text = searchable(name, words);
    db.prepare_cached("DELETE FROM contacts_grams WHERE rowid = ?")?
        .execute([id])?;
    if text.is_empty() {
        return Ok(());
    }
    db.prepare_cached("INSERT INTO contacts_grams (rowid, grams) VALUES (?, ?)")?
        .execute(rusqlite::params![id, grams([text.as_str()])])?;
    Ok(())
}

/// What the clinic wrote on the contact `user` (an SQL expression), as search finds it:
/// their fields' values, then their tags, as one text.
fn contact_words(user: &str) -> String {
    format!(
        "(SELECT group_concat(value, ' · ') FROM (
             SELECT 0 AS kind, field AS name, value FROM contact_fields WHERE user_id = {user}
             UNION ALL SELECT 1, tag, tag FROM contact_tags WHERE user_id = {user}
             ORDER BY kind, name))"
    )
}

/// A contact's searchable text: their LINE name, then what the clinic wrote on them.
fn searchable(name: Option<String>, fields: Option<String>) -> String {
    [name, fields]
        .into_iter()
        .flatten()
        .filter(|v| !v.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Part of a snippet: the text around a hit, and the hit itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Piece {
    pub text: String,
    pub hit: bool,
}

/// A message or contact that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Hit {
    pub kind: HitKind,
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub conversation: Option<ConversationId>,
    /// Whose chat it is: the name the team uses for the patient, else their LINE name.
    pub name: Option<String>,
    /// The contact's LINE user id (contact hits, and the author of message hits).
    pub user_id: Option<String>,
    /// The message's seq (message hits).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub seq: Option<u64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub at: Option<i64>,
    /// The matching text around the hit, the hit marked.
    pub snippet: Vec<Piece>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum HitKind {
    Contact,
    Message,
}

/// What a search looks for: the text a hit holds (lowercased), and the words of the index
/// that name every text holding it (`None`: it has no character the index keeps, so every
/// text is read).
#[derive(Debug, PartialEq, Eq)]
struct Lookup {
    needle: String,
    pattern: Option<String>,
}

impl Lookup {
    /// Whether `text` holds what is looked for.
    fn found_in(&self, text: &str) -> bool {
        text.to_lowercase().contains(&self.needle)
    }
}

/// Three characters or more are found as they are written (spaces and punctuation too), in
/// any case; one or two by the characters of them that runs are made of: a pair of
/// neighbours, or one character (`予` finds every `予`, `a,` every `a`).
fn lookup(query: &str) -> Option<Lookup> {
    let query = query.trim();
    let chars = query.chars().count();
    if chars == 0 {
        return None;
    }
    let needle = if chars >= 3 {
        query.to_lowercase()
    } else {
        let joining: String = query
            .chars()
            .filter(|c| joins(*c))
            .flat_map(char::to_lowercase)
            .collect();
        if joining.is_empty() {
            return None;
        }
        joining
    };
    // Each run of the needle by its pairs, or by its one character.
    let mut words = BTreeSet::new();
    for run in needle
        .split(|c: char| !joins(c))
        .filter(|run| !run.is_empty())
    {
        let run: Vec<char> = run.chars().collect();
        if let [one] = run.as_slice() {
            words.insert(one.to_string());
        }
        for pair in run.windows(2) {
            words.insert(pair.iter().collect::<String>());
        }
    }
    let pattern = (!words.is_empty()).then(|| {
        words
            .iter()
            .map(|word| format!("\"{word}\""))
            .collect::<Vec<_>>()
            .join(" AND ")
    });
    Some(Lookup { needle, pattern })
}

/// Whether a character belongs to a run of neighbours (FTS5's `ascii` tokenizer splits on
/// ASCII other than letters and digits).
fn joins(c: char) -> bool {
    !(c.is_whitespace() || (c.is_ascii() && !c.is_ascii_alphanumeric()))
}

/// The snippet of `text` around the first case-insensitive occurrence of `query`.
pub fn snippet(text: &str, query: &str) -> Vec<Piece> {
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = chars.iter().flat_map(|c| c.to_lowercase()).collect();
    let needle: Vec<char> = query
        .trim()
        .chars()
        .flat_map(|c| c.to_lowercase())
        .collect();
    // Lowercasing can change lengths (rarely); then show the start without a mark.
    let found = (lower.len() == chars.len() && !needle.is_empty())
        .then(|| {
            lower
                .windows(needle.len())
                .position(|w| w == needle.as_slice())
        })
        .flatten();
    let Some(start) = found else {
        return vec![Piece {
            text: chars.iter().take(CONTEXT * 2).collect(),
            hit: false,
        }];
    };
    let end = start + needle.len();
    let from = start.saturating_sub(CONTEXT);
    let to = (end + CONTEXT).min(chars.len());
    let mut pieces = Vec::new();
    let mut before: String = chars[from..start].iter().collect();
    if from > 0 {
        before.insert(0, '…');
    }
    if !before.is_empty() {
        pieces.push(Piece {
            text: before,
            hit: false,
        });
    }
    pieces.push(Piece {
        text: chars[start..end].iter().collect(),
        hit: true,
    });
    let mut after: String = chars[end..to].iter().collect();
    if to < chars.len() {
        after.push('…');
    }
    if !after.is_empty() {
        pieces.push(Piece {
            text: after,
            hit: false,
        });
    }
    pieces
}

impl Store {
    /// Brings the search index up to every message applied; how many messages (and
    /// contacts an upgrade asked for) it indexed. A few thousand at a time, each a write of
    /// its own: after an upgrade that rebuilt the index, the sync's batches take turns with
    /// the indexing instead of waiting for all of it.
    pub async fn index_search(&self) -> Result<usize> {
        let mut total = 0;
        loop {
            let (indexed, more) = self.writer.run(index_some).await?;
            total += indexed;
            if !more {
                return Ok(total);
            }
        }
    }

    /// Contacts whose name, then messages whose text, contain `query`, newest messages
    /// first; at most `limit`. Only readers answer it, so it never waits behind a batch
    /// the sync is applying: what is searchable is what [`Store::index_search`] indexed,
    /// which the sync runs after every batch.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<Hit>> {
        let Some(lookup) = lookup(query) else {
            return Err(Error::Invalid("search for at least one character".into()));
        };
        let limit = limit.clamp(1, MAX_RESULTS) as usize;
        let mut hits = self.contact_hits(&lookup, query, limit).await?;
        if hits.len() < limit {
            let left = limit - hits.len();
            hits.extend(self.message_hits(&lookup, query, left).await?);
        }
        Ok(hits)
    }

    /// Contacts whose searchable text holds what `lookup` looks for, oldest first.
    async fn contact_hits(&self, lookup: &Lookup, query: &str, limit: usize) -> Result<Vec<Hit>> {
        let (from, matching) = match lookup.pattern {
            Some(_) => (
                "contacts_grams f JOIN contacts c ON c.id = f.rowid",
                "WHERE contacts_grams MATCH ?1 ORDER BY f.rowid",
            ),
            None => ("contacts c", "ORDER BY c.id"),
        };
        // A contact's searchable text: their LINE name and the clinic's fields, as indexed.
        let words = contact_words("c.user_id");
        let sql = format!(
            "SELECT c.user_id, COALESCE(tn.value, c.display_name), c.display_name, {words}
             FROM {from}
             LEFT JOIN contact_fields tn ON tn.user_id = c.user_id AND tn.field = 'team_name'
             {matching}"
        );
        let mut statement = sqlx::query(&sql);
        if let Some(pattern) = &lookup.pattern {
            statement = statement.bind(pattern);
        }
        let mut rows = statement.fetch(&self.readers);
        let mut hits = Vec::new();
        while hits.len() < limit
            && let Some(row) = rows.try_next().await?
        {
            let text = searchable(row.get(2), row.get(3));
            if !lookup.found_in(&text) {
                continue;
            }
            let user: String = row.get(0);
            hits.push(Hit {
                kind: HitKind::Contact,
                conversation: Some(ConversationId::new(user.clone())),
                name: row.get(1),
                user_id: Some(user),
                seq: None,
                at: None,
                snippet: snippet(&text, query),
            });
        }
        Ok(hits)
    }

    /// Messages whose text holds what `lookup` looks for, newest first: of the entries the
    /// index names, newest first, the messages that hold it. (With no word to look up, every
    /// message indexed so far is read, newest first.)
    async fn message_hits(&self, lookup: &Lookup, query: &str, limit: usize) -> Result<Vec<Hit>> {
        let (from, matching) = match lookup.pattern {
            Some(_) => (
                "messages_grams f
                 JOIN messages m ON m.id BETWEEN f.rowid * ?2 AND f.rowid * ?2 + ?2 - 1",
                "messages_grams MATCH ?1",
            ),
            None => (
                "messages m",
                "m.id <= (SELECT message_id FROM search_progress)",
            ),
        };
        let order = if lookup.pattern.is_some() {
            "f.rowid DESC"
        } else {
            "m.id DESC"
        };
        let sql = format!(
            "SELECT m.id, m.seq, m.conversation_id, m.author, m.at, m.text,
                 COALESCE(tn.value, ct.display_name)
             FROM {from}
             LEFT JOIN contacts ct ON ct.user_id = m.conversation_id
             LEFT JOIN contact_fields tn ON tn.user_id = m.conversation_id AND tn.field = 'team_name'
             WHERE {matching}
               AND m.text IS NOT NULL AND m.unsent = 0 AND m.direction <> 'system'
             ORDER BY {order}"
        );
        let statement = match &lookup.pattern {
            Some(pattern) => sqlx::query(&sql).bind(pattern).bind(MESSAGES_PER_ENTRY),
            None => sqlx::query(&sql),
        };
        let mut rows = statement.fetch(&self.readers);
        let mut hits = Vec::new();
        // The hits of one entry, gathered to be put newest first.
        let mut entry: Vec<(i64, Hit)> = Vec::new();
        let flush = |entry: &mut Vec<(i64, Hit)>, hits: &mut Vec<Hit>| {
            entry.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
            hits.extend(entry.drain(..).map(|(_, hit)| hit));
        };
        while let Some(row) = rows.try_next().await? {
            let seq: i64 = row.get(1);
            if entry
                .first()
                .is_some_and(|(id, _)| id / MESSAGES_PER_ENTRY != seq)
            {
                flush(&mut entry, &mut hits);
                if hits.len() >= limit {
                    break;
                }
            }
            let text: String = row.get(5);
            if !lookup.found_in(&text) {
                continue;
            }
            entry.push((
                row.get(0),
                Hit {
                    kind: HitKind::Message,
                    conversation: Some(ConversationId::new(row.get::<String, _>(2))),
                    name: row.get(6),
                    user_id: row.get(3),
                    seq: Some(seq as u64),
                    at: Some(row.get(4)),
                    snippet: snippet(&text, query),
                },
            ));
        }
        flush(&mut entry, &mut hits);
        hits.truncate(limit);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[tokio::test]
    async fn a_search_answers_while_the_writer_is_busy_with_a_sync_batch() {
        #![allow(clippy::unwrap_used)]
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("desk.db")).await.unwrap();
        let user = "U0123456789abcdef0123456789abcdef";
        let event = serde_json::json!({
            "type": "message", "mode": "active", "timestamp": 1, "webhookEventId": "01A",
            "deliveryContext": {"isRedelivery": false},
            "source": {"type": "user", "userId": user}, "replyToken": "r1",
            "message": {"type": "text", "id": "1", "quoteToken": "q", "text": "明日の予約"}
        });
        store
            .apply(&[tsunagi_proto::testing::line(1, event)])
            .await
            .unwrap();
        store.index_search().await.unwrap();
        // A batch holds the writer until released.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started, writing) = tokio::sync::oneshot::channel();
        let writer = store.writer.clone();
        let busy = tokio::spawn(async move {
            writer
                .run(move |_| {
                    let _ = started.send(());
                    let _ = held.recv();
                    Ok(())
                })
                .await
        });
        writing.await.unwrap();
        let hits =
            tokio::time::timeout(std::time::Duration::from_secs(5), store.search("予約", 10))
                .await
                .expect("the search did not wait for the writer")
                .unwrap();
        assert_eq!(hits.len(), 1);
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
    }

    #[test]
    fn grams_are_each_character_and_each_pair_of_neighbours_within_runs() {
        assert_eq!(grams(["予約します"]), "し しま す ま ます 予 予約 約 約し");
        assert_eq!(grams(["Hi, 掛號"]), "h hi i 掛 掛號 號");
        assert_eq!(grams(["a", "ab"]), "a ab b");
        assert_eq!(grams(["  "]), "");
    }

    #[test]
    fn a_snippet_marks_the_hit_with_context_around_it() {
        let pieces = snippet("明日の予約を変更したいです", "予約");
        assert_eq!(
            pieces,
            [
                Piece {
                    text: "明日の".into(),
                    hit: false
                },
                Piece {
                    text: "予約".into(),
                    hit: true
                },
                Piece {
                    text: "を変更したいです".into(),
                    hit: false
                },
            ]
        );
        let long = format!("{}นัดหมาย{}", "ก".repeat(40), "ข".repeat(40));
        let pieces = snippet(&long, "นัด");
        assert!(pieces[0].text.starts_with('…'));
        assert!(pieces[2].text.ends_with('…'));
        assert_eq!(pieces[1].text, "นัด");
    }

    #[test]
    fn queries_look_up_their_pairs_or_their_one_character() {
        let pattern = |query: &str| lookup(query).and_then(|l| l.pattern);
        assert_eq!(pattern("予約").as_deref(), Some("\"予約\""));
        assert_eq!(pattern("予").as_deref(), Some("\"予\""));
        assert_eq!(pattern("OK").as_deref(), Some("\"ok\""));
        assert_eq!(pattern("a,").as_deref(), Some("\"a\""));
        assert_eq!(pattern("นัด").as_deref(), Some("\"นั\" AND \"ัด\""));
        assert_eq!(
            pattern("say \"hi\"").as_deref(),
            Some("\"ay\" AND \"hi\" AND \"sa\"")
        );
        assert!(lookup(" ").is_none());
        assert!(lookup(",").is_none());
        // Punctuation alone is no word of the index: every text is read for it.
        assert_eq!(
            lookup("^_^"),
            Some(Lookup {
                needle: "^_^".into(),
                pattern: None
            })
        );
    }

    #[test]
    fn three_characters_or_more_are_found_as_written_and_fewer_by_their_runs() {
        let found = |query: &str, text: &str| lookup(query).unwrap().found_in(text);
        assert!(found("TUES", "Can I book for Tuesday?"));
        assert!(found("check-up", "a check-up on Tuesday"));
        assert!(!found("check-up", "a check up on Tuesday"));
        assert!(found("a,", "Mali"));
        assert!(!found("予約", "予定を約束"));
        assert!(found("^_^", "ok ^_^"));
    }
}
