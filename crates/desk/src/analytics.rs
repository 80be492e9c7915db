//! How the team did over a date range: sessions, response and resolution times (average,
//! median and 90th percentile), messages per session, CSAT, first-contact resolution,
//! overall and per operator; chats per day, the busiest hours and the ratings given, on the
//! clinic's clock; and as CSV or an XLSX workbook.

use serde::Serialize;
use sqlx::Row as _;
use tsunagi_proto::UnixMillis;

use crate::sheet::Sheet;
use crate::store::Store;
use crate::{Error, Result};

/// A closed session counts as resolved at first contact when its conversation opens no new
/// session within this long after it closed (and it was never transferred).
pub const FIRST_CONTACT_WINDOW_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Figures for the sessions that started in a range, overall or for one operator.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Figures {
    pub sessions: u32,
    pub closed: u32,
    /// From the session's start to the team's first answer, on average.
    pub first_response_ms: Option<f64>,
    /// From the session's start to its close, on average.
    pub resolution_ms: Option<f64>,
    /// The middle first response and the one 90 % of sessions got within (nearest rank).
    pub first_response_median_ms: Option<f64>,
    pub first_response_p90_ms: Option<f64>,
    pub resolution_median_ms: Option<f64>,
    pub resolution_p90_ms: Option<f64>,
    pub messages_per_session: Option<f64>,
    pub csat_average: Option<f64>,
    pub csat_answers: u32,
    /// Share of closed sessions resolved at first contact, 0 to 1.
    pub first_contact_resolution: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OperatorFigures {
    pub operator: String,
    pub name: Option<String>,
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Report {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub from: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub to: i64,
    pub overall: Figures,
    /// By the operator who had each session last, busiest first.
    pub operators: Vec<OperatorFigures>,
    /// Every day of the range on the clinic's calendar, with the sessions begun that day.
    pub days: Vec<DayCount>,
    /// Sessions begun in each hour of the day (0 to 23) on the clinic's clock.
    pub hours: Vec<u32>,
    /// How many sessions were rated 1, 2, 3, 4 and 5.
    pub ratings: Vec<u32>,
    /// Chats the AI responder answered in the range.
    pub ai_answered: u32,
    /// Of those, the chats no person had to take up afterwards (no handoff within the
    /// first-contact window of the AI's last answer).
    pub ai_resolved: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DayCount {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub sessions: u32,
    pub closed: u32,
}

/// The range from the start of `first` to the end of `last` (days as `YYYY-MM-DD`) on the
/// clinic's calendar; refused if either is not a date or the range runs backwards.
pub fn days(
    zone: &jiff::tz::TimeZone,
    first: &str,
    last: &str,
) -> Result<(UnixMillis, UnixMillis)> {
    let date = |text: &str| {
        text.parse::<jiff::civil::Date>()
            .map_err(|_| Error::Invalid(format!("{text:?} is not a date as YYYY-MM-DD")))
    };
    let (first, last) = (date(first)?, date(last)?);
    if last < first {
        return Err(Error::Invalid("the range must end after it starts".into()));
    }
    let start = |day: jiff::civil::Date| {
        day.to_zoned(zone.clone())
            .map(|at| UnixMillis(at.timestamp().as_millisecond()))
            .map_err(|e| Error::Invalid(format!("{day}: {e}")))
    };
    let after = last
        .tomorrow()
        .map_err(|e| Error::Invalid(format!("{last}: {e}")))?;
    Ok((start(first)?, start(after)?))
}

/// What the distributions need of each session in the range.
struct Timing {
    operator: String,
    started_at: i64,
    first_response: Option<i64>,
    resolution: Option<i64>,
    closed: bool,
    csat: Option<i64>,
}

/// The value `share` (0 to 1) of `values` lie at or under, by nearest rank; None if empty.
fn percentile(values: &mut [i64], share: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (share * values.len() as f64).ceil().max(1.0) as usize;
    Some(values[rank.min(values.len()) - 1] as f64)
}

/// Adds the median and 90th percentile of `timings` to `figures`.
fn with_spread<'a>(mut figures: Figures, timings: impl Iterator<Item = &'a Timing>) -> Figures {
    let (mut responses, mut resolutions): (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
    for timing in timings {
        responses.extend(timing.first_response);
        resolutions.extend(timing.resolution);
    }
    figures.first_response_median_ms = percentile(&mut responses, 0.5);
    figures.first_response_p90_ms = percentile(&mut responses, 0.9);
    figures.resolution_median_ms = percentile(&mut resolutions, 0.5);
    figures.resolution_p90_ms = percentile(&mut resolutions, 0.9);
    figures
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
        first_response_median_ms: None,
        first_response_p90_ms: None,
        resolution_median_ms: None,
        resolution_p90_ms: None,
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
        let timings: Vec<Timing> = sqlx::query(
            "SELECT COALESCE(operator, ''), started_at, first_response_at - started_at,
                 CASE WHEN status = 'closed' THEN closed_at - started_at END,
                 status = 'closed', csat
             FROM sessions WHERE started_at >= ?1 AND started_at < ?2",
        )
        .bind(from.0)
        .bind(to.0)
        .fetch_all(&self.readers)
        .await?
        .iter()
        .map(|row| Timing {
            operator: row.get(0),
            started_at: row.get(1),
            first_response: row.get(2),
            resolution: row.get(3),
            closed: row.get(4),
            csat: row.get(5),
        })
        .collect();
        let zone = self.clinic_zone().await;
        let local = |at: i64| {
            jiff::Timestamp::from_millisecond(at)
                .unwrap_or_default()
                .to_zoned(zone.clone())
        };

        // Each session's day and hour on the clinic's clock, worked out once.
        let mut per_day: std::collections::BTreeMap<jiff::civil::Date, (u32, u32)> =
            std::collections::BTreeMap::new();
        let mut hours = vec![0; 24];
        for timing in &timings {
            let at = local(timing.started_at);
            let day = per_day.entry(at.date()).or_default();
            day.0 += 1;
            day.1 += u32::from(timing.closed);
            hours[at.hour() as usize] += 1;
        }
        let mut days = Vec::new();
        let last = local(to.0 - 1).date();
        let mut day = local(from.0).date();
        while day <= last {
            let (sessions, closed) = per_day.get(&day).copied().unwrap_or_default();
            days.push(DayCount {
                day: day.to_string(),
                sessions,
                closed,
            });
            day = match day.tomorrow() {
                Ok(next) => next,
                Err(_) => break,
            };
        }
        let (ai_answered, ai_resolved): (i64, i64) = sqlx::query_as(
            "WITH answered AS (
                 SELECT conversation_id, MAX(at) AS last FROM messages
                 WHERE ai_model IS NOT NULL AND at >= ?1 AND at < ?2
                 GROUP BY conversation_id
             )
             SELECT COUNT(*), COUNT(*) FILTER (WHERE NOT EXISTS (
                 SELECT 1 FROM sessions s WHERE s.conversation_id = a.conversation_id
                     AND s.started_at >= a.last AND s.started_at < a.last + ?3))
             FROM answered a",
        )
        .bind(from.0)
        .bind(to.0)
        .bind(FIRST_CONTACT_WINDOW_MS)
        .fetch_one(&self.readers)
        .await?;
        let mut ratings = vec![0; 5];
        for timing in &timings {
            if let Some(rating @ 1..=5) = timing.csat {
                ratings[rating as usize - 1] += 1;
            }
        }

        Ok(Report {
            from: from.0,
            to: to.0,
            overall: with_spread(figures(&overall, 2), timings.iter()),
            operators: per_operator
                .iter()
                .map(|row| {
                    let operator: String = row.get(0);
                    let mine = timings.iter().filter(|t| t.operator == operator);
                    OperatorFigures {
                        figures: with_spread(figures(row, 2), mine),
                        name: row.get(1),
                        operator,
                    }
                })
                .collect(),
            days,
            hours,
            ratings,
            ai_answered: ai_answered as u32,
            ai_resolved: ai_resolved as u32,
        })
    }
}

/// The summary's columns, as the CSV and the workbook head them.
const COLUMNS: [&str; 14] = [
    "operator",
    "name",
    "sessions",
    "closed",
    "first_response_seconds",
    "first_response_median_seconds",
    "first_response_p90_seconds",
    "resolution_seconds",
    "resolution_median_seconds",
    "resolution_p90_seconds",
    "messages_per_session",
    "csat_average",
    "csat_answers",
    "first_contact_resolution",
];

/// A summary cell: text, or a number (blank when there is none).
enum Cell {
    Text(String),
    Number(Option<f64>),
}

impl Report {
    /// One row per operator and one for everyone, as [`COLUMNS`] head them.
    fn summary(&self) -> Vec<Vec<Cell>> {
        let seconds = |ms: Option<f64>| Cell::Number(ms.map(|ms| (ms / 100.0).round() / 10.0));
        let rounded = |n: Option<f64>| Cell::Number(n.map(|n| (n * 100.0).round() / 100.0));
        let row = |operator: &str, name: &str, f: &Figures| {
            vec![
                Cell::Text(operator.to_owned()),
                Cell::Text(name.to_owned()),
                Cell::Number(Some(f64::from(f.sessions))),
                Cell::Number(Some(f64::from(f.closed))),
                seconds(f.first_response_ms),
                seconds(f.first_response_median_ms),
                seconds(f.first_response_p90_ms),
                seconds(f.resolution_ms),
                seconds(f.resolution_median_ms),
                seconds(f.resolution_p90_ms),
                rounded(f.messages_per_session),
                rounded(f.csat_average),
                Cell::Number(Some(f64::from(f.csat_answers))),
                rounded(f.first_contact_resolution),
            ]
        };
        let mut rows: Vec<Vec<Cell>> = self
            .operators
            .iter()
            .map(|o| {
                row(
                    &o.operator,
                    o.name.as_deref().unwrap_or_default(),
                    &o.figures,
                )
            })
            .collect();
        rows.push(row("", "everyone", &self.overall));
        rows
    }

    /// The summary as CSV, for a spreadsheet: a header, then one line per operator and
    /// one for everyone.
    pub fn to_csv(&self) -> String {
        let written = Sheet::new(Vec::new(), COLUMNS).and_then(|mut csv| {
            for row in self.summary() {
                csv.row(row.iter().map(|cell| match cell {
                    Cell::Text(text) => text.clone(),
                    Cell::Number(Some(n)) => n.to_string(),
                    Cell::Number(None) => String::new(),
                }))?;
            }
            csv.finish()
        });
        // Writing to memory fails only on a bug in the writer.
        debug_assert!(written.is_ok(), "{written:?}");
        String::from_utf8(written.unwrap_or_default()).unwrap_or_default()
    }

    /// The report as an XLSX workbook: the summary, chats per day, the busiest hours and
    /// the ratings, a sheet each; and what the AI responder did, when it answered any.
    pub fn to_xlsx(&self) -> Result<Vec<u8>> {
        use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
        let failed = |e: XlsxError| Error::encoding("writing the workbook", e);
        let mut book = Workbook::new();
        let bold = Format::new().set_bold();
        let head = |sheet: &mut Worksheet, heads: &[&str]| {
            for (column, head) in heads.iter().enumerate() {
                sheet
                    .write_with_format(0, column as u16, *head, &bold)
                    .map_err(failed)?;
            }
            Ok::<_, Error>(())
        };

        let sheet = book.add_worksheet().set_name("Summary").map_err(failed)?;
        head(sheet, &COLUMNS)?;
        for (at, row) in self.summary().iter().enumerate() {
            for (column, cell) in row.iter().enumerate() {
                let (r, c) = (at as u32 + 1, column as u16);
                match cell {
                    Cell::Text(text) => sheet.write(r, c, text.as_str()).map(drop),
                    Cell::Number(Some(n)) => sheet.write(r, c, *n).map(drop),
                    Cell::Number(None) => Ok(()),
                }
                .map_err(failed)?;
            }
        }

        let sheet = book.add_worksheet().set_name("Days").map_err(failed)?;
        head(sheet, &["day", "sessions", "closed"])?;
        for (at, day) in self.days.iter().enumerate() {
            let r = at as u32 + 1;
            sheet.write(r, 0, day.day.as_str()).map_err(failed)?;
            sheet.write(r, 1, day.sessions).map_err(failed)?;
            sheet.write(r, 2, day.closed).map_err(failed)?;
        }

        for (name, label, counts, first) in [
            ("Hours", "hour", &self.hours, 0),
            ("Ratings", "rating", &self.ratings, 1),
        ] {
            let sheet = book.add_worksheet().set_name(name).map_err(failed)?;
            head(sheet, &[label, "sessions"])?;
            for (at, count) in counts.iter().enumerate() {
                let r = at as u32 + 1;
                sheet.write(r, 0, at as u32 + first).map_err(failed)?;
                sheet.write(r, 1, *count).map_err(failed)?;
            }
        }

        if self.ai_answered > 0 {
            let sheet = book.add_worksheet().set_name("AI").map_err(failed)?;
            head(sheet, &["figure", "chats"])?;
            for (at, (figure, chats)) in [
                ("answered_by_ai", self.ai_answered),
                ("closed_without_staff", self.ai_resolved),
            ]
            .into_iter()
            .enumerate()
            {
                let r = at as u32 + 1;
                sheet.write(r, 0, figure).map_err(failed)?;
                sheet.write(r, 1, chats).map_err(failed)?;
            }
        }
        book.save_to_buffer().map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_by_nearest_rank() {
        let mut ten: Vec<i64> = (1..=10).rev().collect();
        assert_eq!(percentile(&mut ten, 0.5), Some(5.0));
        assert_eq!(percentile(&mut ten, 0.9), Some(9.0));
        assert_eq!(percentile(&mut [7], 0.9), Some(7.0));
        assert_eq!(percentile(&mut [], 0.5), None);
    }
}
