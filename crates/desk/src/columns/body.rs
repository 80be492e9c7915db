//! A message's body (the message object as JSON) without what its own columns hold.
//!
//! A text from LINE came as `{"id", "type", "quoteToken", "markAsReadToken", "text"}` and
//! each of those is a column of its row as well: the body held them a second time, about
//! 110 bytes a message, a third of the row. So a member whose value is its column's, as a
//! string, is left out of the stored body, and `body_omits` says which were (a bit each):
//! the body a query hands out is the stored one with them put back first.
//!
//! The projection and the migration that compacted the stores before this write the same
//! SQL ([`omits`] and [`stored`]), so both store what the other would.

/// Each member that may be left out: its bit in `body_omits`, and its name in the body.
pub(crate) const MEMBERS: [(i64, &str); 5] = [
    (1, "type"),
    (2, "id"),
    (4, "text"),
    (8, "quoteToken"),
    (16, "markAsReadToken"),
];

/// SQL for `body_omits` of the body `body` (an SQL expression) in a row whose columns for
/// [`MEMBERS`] are `columns` (SQL expressions, in that order): a member is left out when
/// it is a string equal to its column.
pub(crate) fn omits(body: &str, columns: [&str; 5]) -> String {
    let bits: Vec<String> = MEMBERS
        .iter()
        .zip(columns)
        .map(|((bit, member), column)| {
            format!(
                "{bit} * (json_type({body}, '$.{member}') IS 'text' \
                 AND json_extract({body}, '$.{member}') IS {column})"
            )
        })
        .collect();
    format!(
        "CASE WHEN json_valid({body}) THEN {} ELSE 0 END",
        bits.join(" + ")
    )
}

/// SQL for the body to store: `body` without the members `omits` (an SQL expression of
/// [`omits`]) names, or `body` as it is when it names none.
pub(crate) fn stored(body: &str, omits: &str) -> String {
    let removals: Vec<String> = MEMBERS
        .iter()
        .map(|(bit, member)| format!("IIF({omits} & {bit}, '\"{member}\":null,', '')"))
        .collect();
    format!(
        "IIF({omits} = 0, {body}, json_patch({body}, '{{' || rtrim({}, ',') || '}}'))",
        removals.join(" || ")
    )
}

/// The body as it was written, from the stored one, `omits`, and the row's columns for
/// [`MEMBERS`] (`type`, `line_message_id`, `text`, `quote_token`, `mark_as_read_token`).
pub(crate) fn whole(stored: &str, omits: i64, columns: [Option<&str>; 5]) -> String {
    if omits == 0 {
        return stored.to_owned();
    }
    let mut members: Vec<String> = MEMBERS
        .iter()
        .zip(columns)
        .filter(|((bit, _), _)| omits & bit != 0)
        .filter_map(|((_, member), value)| {
            let value = serde_json::to_string(value?).ok()?;
            Some(format!("\"{member}\":{value}"))
        })
        .collect();
    // What is left of the body, as SQLite wrote it: an object, without spaces.
    let rest = stored
        .trim()
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
        .unwrap_or_default();
    if !rest.is_empty() {
        members.push(rest.to_owned());
    }
    format!("{{{}}}", members.join(","))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// The stored body and `body_omits` SQLite makes of `body` in a row whose columns are
    /// `columns`.
    fn store(body: &str, columns: [Option<&str>; 5]) -> (String, i64) {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        let params = ["?1", "?2", "?3", "?4", "?5"];
        let sql = format!(
            "SELECT {}, o FROM (SELECT {} AS o)",
            stored("?6", "o"),
            omits("?6", params)
        );
        let [a, b, c, d, e] = columns;
        db.query_row(&sql, rusqlite::params![a, b, c, d, e, body], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap()
    }

    fn same_json(a: &str, b: &str) -> bool {
        serde_json::from_str::<serde_json::Value>(a).unwrap()
            == serde_json::from_str::<serde_json::Value>(b).unwrap()
    }

    #[test]
    fn a_text_from_line_is_stored_as_nothing_but_its_columns_and_comes_back_whole() {
        let body = r#"{"id":"7001","type":"text","quoteToken":"q7","markAsReadToken":"m7","text":"明日の\"予約\""}"#;
        let columns = [
            Some("text"),
            Some("7001"),
            Some("明日の\"予約\""),
            Some("q7"),
            Some("m7"),
        ];
        let (kept, omitted) = store(body, columns);
        assert_eq!((kept.as_str(), omitted), ("{}", 31));
        assert!(same_json(&whole(&kept, omitted, columns), body));
    }

    #[test]
    fn members_the_columns_do_not_hold_as_they_are_stay_in_the_body() {
        // A file: its text column is its name; an unreadable text keeps its own type.
        for (body, columns, left) in [
            (
                r#"{"type":"file","id":"7","fileName":"a.pdf","fileSize":3}"#,
                [Some("file"), Some("7"), Some("a.pdf"), None, None],
                r#"{"fileName":"a.pdf","fileSize":3}"#,
            ),
            (
                r#"{"id":"8","text":{"rich":[1,2]},"type":"text"}"#,
                [Some("unreadable"), Some("8"), None, None, None],
                r#"{"text":{"rich":[1,2]},"type":"text"}"#,
            ),
            (
                r#"{"type": "text", "id": 9, "emojis": [{"index": 0}]}"#,
                [Some("text"), Some("9"), None, None, None],
                r#"{"id":9,"emojis":[{"index":0}]}"#,
            ),
            ("{}", [Some("system"), None, Some("note"), None, None], "{}"),
            ("[1, 2]", [Some("text"), None, None, None, None], "[1, 2]"),
        ] {
            let (kept, omitted) = store(body, columns);
            assert_eq!(kept, left, "{body}");
            assert!(same_json(&whole(&kept, omitted, columns), body), "{body}");
        }
    }
}
