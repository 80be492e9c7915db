//! Texts with `{{variables}}`: greetings, the queue message, reminders.

/// Part of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    /// A variable's name, trimmed.
    Variable(&'a str),
}

/// A `{{` without its `}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a `{{{{` is never closed")]
pub struct Unclosed;

/// The template's text and variables, in order.
pub fn pieces(text: &str) -> Result<Vec<Piece<'_>>, Unclosed> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(Unclosed)?;
        if start > 0 {
            pieces.push(Piece::Text(&rest[..start]));
        }
        pieces.push(Piece::Variable(after[..end].trim()));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// The template with each variable replaced by its value; a variable without a value, or
/// a template that does not parse, is left as written.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let Ok(pieces) = pieces(text) else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(text.len());
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Variable(name) => match values.iter().find(|(n, _)| *n == name) {
                Some((_, value)) => out.push_str(value),
                None => {
                    out.push_str("{{");
                    out.push_str(name);
                    out.push_str("}}");
                }
            },
        }
    }
    out
}

/// A reminder's text as one patient reads it: their name, and the reminder's date, time
/// and clinic (what is not given is left empty).
pub fn reminder_text(reminder: &tsunagi_proto::Reminder, name: &str) -> String {
    fill(
        &reminder.text,
        &[
            ("name", name),
            ("date", reminder.date.as_deref().unwrap_or("")),
            ("time", reminder.time.as_deref().unwrap_or("")),
            ("clinic", reminder.clinic.as_deref().unwrap_or("")),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_filled_and_unknown_ones_left_as_written() {
        assert_eq!(
            fill(
                "คุณ{{ name }} คิวที่ {{position}} ({{wait}} นาที) {{clinic}}",
                &[("name", "สมชาย"), ("position", "3"), ("wait", "15")]
            ),
            "คุณสมชาย คิวที่ 3 (15 นาที) {{clinic}}"
        );
    }

    #[test]
    fn an_unclosed_variable_is_an_error_and_is_not_filled() {
        assert_eq!(pieces("hello {{name"), Err(Unclosed));
        assert_eq!(fill("hello {{name", &[("name", "x")]), "hello {{name");
    }
}
