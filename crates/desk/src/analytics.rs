//! How the team did over a date range: sessions, response and resolution times, messages
//! per session, CSAT, first-contact resolution, overall and per operator; and as CSV.

use serde::Serialize;
use sqlx::Row as _;
use tsunagi_proto::UnixMillis;

use crate::store::Store;
use crate::{Error, Result};

/// A closed session counts as resolved at first contact when its conversation opens no new
/// session within this long after it closed (and it was never transferred).
pub const FIRST_CONTACT_WINDOW_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Figures for the sessions that started in a range, overall or for one operator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub sessions: u32,
    pub closed: u32,
    /// From the session's start to the team's first answer, on average.
    pub first_response_ms: Option<f64>,
    /// From the session's start to its close, on average.
    pub resolution_ms: Option<f64>,
    pub messages_per_session: Option<f64>,
    pub csat_average: Option<f64>,
    pub csat_answers: u32,
    /// Share of closed sessions resolved at first contact, 0 to 1.
    pub first_contact_resolution: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperatorFigures {
    pub operator: String,
    pub name: Option<String>,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: i64,
    pub to: i64,
    pub overall: Figures,
    /// By the operator who had each session last, busiest first.
    pub operators: Vec<OperatorFigures>,
}

/// One row per session in the range with what the figures need.
const SESSIONS: &str = "
    WITH ranged AS (
        SELECT s.*,
            (SELECT MIN(n.started_at) FROM sessions n
              WHERE n.conversation_id = s.conversation_id AND n.id > s.id) AS next_started
        FROM sessions s
        WHERE s.started_at >= ?1 AND s.started_at < ?2
    )
    SELECT
        COALESCE(r.operator, '') AS operator,
        o.name,
        COUNT(*),
        COUNT(*) FILTER (WHERE r.status = 'closed'),
        AVG(r.first_response_at - r.started_at),
        AVG(r.closed_at - r.started_at) FILTER (WHERE r.status = 'closed'),
        AVG(r.message_count),
        AVG(r.csat),
        COUNT(r.csat),
        AVG(CASE
            WHEN r.status <> 'closed' THEN NULL
            WHEN r.transfers = 0 AND (r.next_started IS NULL
                 OR r.next_started > r.closed_at + ?3) THEN 1.0
            ELSE 0.0 END)
    FROM ranged r LEFT JOIN operators o ON o.id = r.operator";

fn figures(row: &sqlx::sqlite::SqliteRow, at: usize) -> Figures {
    Figures {
        sessions: row.get::<i64, _>(at) as u32,
        closed: row.get::<i64, _>(at + 1) as u32,
        first_response_ms: row.get(at + 2),
        resolution_ms: row.get(at + 3),
        messages_per_session: row.get(at + 4),
        csat_average: row.get(at + 5),
        csat_answers: row.get::<i64, _>(at + 6) as u32,
        first_contact_resolution: row.get(at + 7),
    }
}

impl Store {
    /// The report for sessions that started in `[from, to)`.
    pub async fn analytics(&self, from: UnixMillis, to: UnixMillis) -> Result<Report> {
        if to.0 <= from.0 {
            return Err(Error::Invalid("the range must end after it starts".into()));
        }
        let overall = sqlx::query(SESSIONS)
            .bind(from.0)
            .bind(to.0)
            .bind(FIRST_CONTACT_WINDOW_MS)
            .fetch_one(&self.readers)
            .await?;
        let per_operator = sqlx::query(&format!(
            "{SESSIONS} WHERE r.operator IS NOT NULL GROUP BY r.operator ORDER BY COUNT(*) DESC, r.operator"
        ))
        .bind(from.0)
        .bind(to.0)
        .bind(FIRST_CONTACT_WINDOW_MS)
        .fetch_all(&self.readers)
        .await?;
        Ok(Report {
            from: from.0,
            to: to.0,
            overall: figures(&overall, 2),
            operators: per_operator
                .iter()
                .map(|row| OperatorFigures {
                    operator: row.get(0),
                    name: row.get(1),
                    figures: figures(row, 2),
                })
                .collect(),
        })
    }
}

impl Report {
    /// One line per operator and one for everyone, for a spreadsheet.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "operator,name,sessions,closed,first_response_seconds,resolution_seconds,messages_per_session,csat_average,csat_answers,first_contact_resolution\n",
        );
        let seconds = |ms: Option<f64>| {
            ms.map(|ms| format!("{:.1}", ms / 1000.0))
                .unwrap_or_default()
        };
        let number = |n: Option<f64>| n.map(|n| format!("{n:.2}")).unwrap_or_default();
        let mut line = |operator: &str, name: &str, f: &Figures| {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                csv_field(operator),
                csv_field(name),
                f.sessions,
                f.closed,
                seconds(f.first_response_ms),
                seconds(f.resolution_ms),
                number(f.messages_per_session),
                number(f.csat_average),
                f.csat_answers,
                number(f.first_contact_resolution),
            ));
        };
        for operator in &self.operators {
            line(
                &operator.operator,
                operator.name.as_deref().unwrap_or_default(),
                &operator.figures,
            );
        }
        line("", "everyone", &self.overall);
        out
    }
}

/// A CSV field, quoted when it must be; a leading `=`, `+`, `-` or `@` is defused so a
/// spreadsheet does not run a name as a formula.
fn csv_field(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("Yuki"), "Yuki");
        assert_eq!(csv_field("Chen, Mei"), "\"Chen, Mei\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
