//! Full-text search over message text and contact names that finds substrings in any
//! script: Thai and CJK are written without spaces between words, so words cannot be the
//! unit. Three characters or more are looked up in an FTS5 trigram index; one or two (予約,
//! 掛號) in an index of neighbouring character pairs this module writes.

use serde::Serialize;
use sqlx::Row as _;
use tsunagi_proto::ConversationId;

use crate::store::Store;
use crate::{Error, Result};

/// Characters of context on each side of a hit in a snippet.
const CONTEXT: usize = 24;
const MAX_RESULTS: u32 = 200;

/// The text as pairs of neighbouring characters, space-separated and lowercased, plus the
/// last character of each run on its own (so a one-character search is a prefix search).
/// Characters FTS5's `ascii` tokenizer splits on (ASCII other than letters and digits) end
/// a run.
pub(crate) fn bigrams(text: &str) -> String {
    let lower = text.to_lowercase();
    let mut out = String::with_capacity(lower.len() * 3);
    let mut previous: Option<char> = None;
    for c in lower.chars() {
        let joins = joins(c);
        match (previous, joins) {
            (Some(p), true) => {
                out.push(p);
                out.push(c);
                out.push(' ');
            }
            (Some(p), false) => {
                out.push(p);
                out.push(' ');
            }
            _ => {}
        }
        previous = joins.then_some(c);
    }
    if let Some(p) = previous {
        out.push(p);
    }
    out
}

/// Messages indexed per transaction when catching up.
const INDEX_BATCH: i64 = 5_000;

/// The newest message id in the search index.
pub(crate) fn indexed_up_to(db: &rusqlite::Connection) -> Result<i64> {
    Ok(db
        .prepare_cached("SELECT message_id FROM search_progress")?
        .query_row([], |row| row.get(0))?)
}

/// Indexes every message applied since the last call, in transactions of a few thousand;
/// how many messages it went through.
pub(crate) fn index_pending(db: &mut rusqlite::Connection) -> Result<usize> {
    let mut total = reindex_contacts(db)?;
    loop {
        let tx = db.transaction()?;
        let from = indexed_up_to(&tx)?;
        let rows = tx
            .prepare_cached(
                "SELECT id, text FROM messages
                 WHERE id > ? AND text IS NOT NULL AND unsent = 0 AND direction <> 'system'
                 ORDER BY id LIMIT ?",
            )?
            .query_map(rusqlite::params![from, INDEX_BATCH], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (id, text) in &rows {
            index_message(&tx, *id, text)?;
        }
        // Up to the newest message there is, indexable or not, once all are done.
        let last = match rows.last() {
            Some((id, _)) if rows.len() as i64 == INDEX_BATCH => *id,
            _ => tx.query_row("SELECT COALESCE(MAX(id), 0) FROM messages", [], |row| {
                row.get(0)
            })?,
        };
        if last > from {
            tx.prepare_cached("UPDATE search_progress SET message_id = ?")?
                .execute([last])?;
        }
        tx.commit()?;
        total += rows.len();
        if (rows.len() as i64) < INDEX_BATCH {
            return Ok(total);
        }
    }
}

/// Writes the search text again of the contacts an upgrade asked for
/// (`contacts_to_index`), in transactions of a few thousand; how many.
fn reindex_contacts(db: &mut rusqlite::Connection) -> Result<usize> {
    let mut total = 0;
    loop {
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
        total += users.len();
        if (users.len() as i64) < INDEX_BATCH {
            return Ok(total);
        }
    }
}

pub(crate) fn index_message(db: &rusqlite::Connection, id: i64, text: &str) -> Result<()> {
    db.prepare_cached("INSERT INTO messages_trigram (rowid, text) VALUES (?, ?)")?
        .execute(rusqlite::params![id, text])?;
    db.prepare_cached("INSERT INTO messages_bigram (rowid, grams) VALUES (?, ?)")?
        .execute(rusqlite::params![id, bigrams(text)])?;
    Ok(())
}

pub(crate) fn unindex_message(db: &rusqlite::Connection, id: i64) -> Result<()> {
    db.prepare_cached("DELETE FROM messages_trigram WHERE rowid = ?")?
        .execute([id])?;
    db.prepare_cached("DELETE FROM messages_bigram WHERE rowid = ?")?
        .execute([id])?;
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
    db.prepare_cached("DELETE FROM contacts_trigram WHERE rowid = ?")?
        .execute([id])?;
    db.prepare_cached("DELETE FROM contacts_bigram WHERE rowid = ?")?
        .execute([id])?;
    if text.is_empty() {
        return Ok(());
    }
    db.prepare_cached("INSERT INTO contacts_trigram (rowid, name) VALUES (?, ?)")?
        .execute(rusqlite::params![id, text])?;
    db.prepare_cached("INSERT INTO contacts_bigram (rowid, grams) VALUES (?, ?)")?
        .execute(rusqlite::params![id, bigrams(&text)])?;
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

/// How the query is looked up.
enum Lookup {
    Trigram(String),
    Bigram(String),
}

fn lookup(query: &str) -> Option<Lookup> {
    let query = query.trim();
    let chars = query.chars().count();
    if chars == 0 {
        return None;
    }
    let quoted = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    if chars >= 3 {
        return Some(Lookup::Trigram(quoted(query)));
    }
    let joining: Vec<String> = query
        .chars()
        .filter(|c| joins(*c))
        .map(|c| c.to_lowercase().collect())
        .collect();
    match joining.as_slice() {
        [] => None,
        // Two neighbours: the pair itself.
        [first, second] if chars == 2 => Some(Lookup::Bigram(quoted(&format!("{first}{second}")))),
        // One character: every pair it starts, and a run it ends.
        [first, ..] => Some(Lookup::Bigram(format!("{}*", quoted(first)))),
    }
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
    /// Brings the search index up to every message applied; how many messages it indexed.
    pub async fn index_search(&self) -> Result<usize> {
        self.writer.run(index_pending).await
    }

    /// Contacts whose name, then messages whose text, contain `query`, newest messages
    /// first; at most `limit`. Only readers answer it, so it never waits behind a batch
    /// the sync is applying: what is searchable is what [`Store::index_search`] indexed,
    /// which the sync runs after every batch.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<Hit>> {
        let Some(lookup) = lookup(query) else {
            return Err(Error::Invalid("search for at least one character".into()));
        };
        let limit = i64::from(limit.clamp(1, MAX_RESULTS));
        // The trigram and pair indexes have the same shape: `<table>_trigram` or `_bigram`.
        let (index, pattern) = match &lookup {
            Lookup::Trigram(pattern) => ("trigram", pattern),
            Lookup::Bigram(pattern) => ("bigram", pattern),
        };
        // A contact's searchable text: their LINE name and the clinic's fields, as indexed.
        let words = contact_words("c.user_id");
        let contacts_sql = format!(
            "SELECT c.user_id, COALESCE(tn.value, c.display_name), c.display_name, {words}
             FROM contacts_{index} f
             JOIN contacts c ON c.id = f.rowid
             LEFT JOIN contact_fields tn ON tn.user_id = c.user_id AND tn.field = 'team_name'
             WHERE contacts_{index} MATCH ? ORDER BY c.id LIMIT ?"
        );
        let messages_sql = format!(
            "SELECT m.conversation_id, m.author, m.seq, m.at, m.text,
                 COALESCE(tn.value, ct.display_name)
             FROM messages_{index} f
             JOIN messages m ON m.id = f.rowid
             LEFT JOIN contacts ct ON ct.user_id = m.conversation_id
             LEFT JOIN contact_fields tn ON tn.user_id = m.conversation_id AND tn.field = 'team_name'
             WHERE messages_{index} MATCH ? ORDER BY f.rowid DESC LIMIT ?"
        );
        let mut hits = Vec::new();
        for row in sqlx::query(&contacts_sql)
            .bind(pattern)
            .bind(limit)
            .fetch_all(&self.readers)
            .await?
        {
            let text = searchable(row.get(2), row.get(3));
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
        let left = limit - hits.len() as i64;
        if left > 0 {
            for row in sqlx::query(&messages_sql)
                .bind(pattern)
                .bind(left)
                .fetch_all(&self.readers)
                .await?
            {
                let text: Option<String> = row.get(4);
                hits.push(Hit {
                    kind: HitKind::Message,
                    conversation: Some(ConversationId::new(row.get::<String, _>(0))),
                    name: row.get(5),
                    user_id: row.get(1),
                    seq: Some(row.get::<i64, _>(2) as u64),
                    at: Some(row.get(3)),
                    snippet: snippet(text.as_deref().unwrap_or_default(), query),
                });
            }
        }
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
    fn bigrams_pair_neighbours_within_runs_and_keep_each_runs_last_character() {
        assert_eq!(bigrams("予約します"), "予約 約し しま ます す");
        assert_eq!(bigrams("Hi, 掛號"), "hi i 掛號 號");
        assert_eq!(bigrams("a"), "a");
        assert_eq!(bigrams("  "), "");
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
    fn queries_pick_the_index_that_can_answer_them() {
        assert!(matches!(lookup("นัด"), Some(Lookup::Trigram(_))));
        assert!(matches!(lookup("予約"), Some(Lookup::Bigram(p)) if p == "\"予約\""));
        assert!(matches!(lookup("予"), Some(Lookup::Bigram(p)) if p == "\"予\"*"));
        assert!(matches!(lookup("OK"), Some(Lookup::Bigram(p)) if p == "\"ok\""));
        assert!(lookup(" ").is_none());
        assert!(
            matches!(lookup("say \"hi\""), Some(Lookup::Trigram(p)) if p == "\"say \"\"hi\"\"\"")
        );
    }
}
