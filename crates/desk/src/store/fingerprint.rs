//! A store's fingerprint: everything the projection wrote, as text.

use super::Store;
use crate::Result;

/// The tables the projection writes, each with the order that makes its dump canonical.
const PROJECTED: &[(&str, &str)] = &[
    ("cursor", "id"),
    ("contacts", "id"),
    ("contact_tags", "user_id, tag"),
    ("contact_notes", "seq"),
    ("contact_fields", "user_id, field"),
    ("friend_history", "seq"),
    ("conversations", "id"),
    ("inbox_tallies", "list"),
    ("sessions", "id"),
    ("messages", "id"),
    ("media", "message_id"),
    ("settings", "name"),
    ("consents", "seq"),
    ("reminders", "id"),
    ("reminder_recipients", "reminder, user_id"),
    ("search_progress", "id"),
    ("audit", "seq"),
    ("messages_grams", "rowid"),
    ("contacts_grams", "rowid"),
];

impl Store {
    /// Everything the projection wrote, as text: two stores that applied the same log
    /// have the same fingerprint. (The search indexes, brought up to date first,
    /// contribute which rows they hold.)
    pub async fn fingerprint(&self) -> Result<String> {
        self.index_search().await?;
        use sqlx::{Column as _, Row as _, ValueRef as _};
        let mut out = String::new();
        for (table, order) in PROJECTED {
            out.push_str(table);
            out.push('\n');
            let columns = if table.ends_with("_grams") {
                "rowid"
            } else {
                "*"
            };
            let rows = sqlx::query(&format!("SELECT {columns} FROM {table} ORDER BY {order}"))
                .fetch_all(&self.readers)
                .await?;
            for row in rows {
                for (i, column) in row.columns().iter().enumerate() {
                    let raw = row.try_get_raw(i)?;
                    let value = if raw.is_null() {
                        "NULL".to_owned()
                    } else if let Ok(n) = row.try_get::<i64, _>(i) {
                        n.to_string()
                    } else {
                        format!("{:?}", row.try_get::<String, _>(i)?)
                    };
                    out.push_str(&format!("{}={value} ", column.name()));
                }
                out.push('\n');
            }
        }
        Ok(out)
    }
}
