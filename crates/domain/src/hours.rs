//! Business hours: whether the clinic is open at an instant, when it opens next, and which
//! local day an instant falls on, in the clinic's time zone.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan as _, Zoned};
use tsunagi_proto::{BusinessHours, UnixMillis};

/// Business hours, read once from their setting.
#[derive(Debug, Clone)]
pub struct Hours {
    zone: TimeZone,
    /// Opening spans per weekday (index 0 = Monday), in local time.
    open: [Vec<(Time, Time)>; 7],
    holidays: Vec<Date>,
}

/// Why business hours could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("unknown time zone {0:?}")]
    Zone(String),
    #[error("{0:?} is not a time of day (HH:MM)")]
    Time(String),
    #[error("{0:?} is not a date (YYYY-MM-DD)")]
    Date(String),
    #[error("weekday {0} is not 1 (Monday) to 7 (Sunday)")]
    Weekday(u8),
}

impl Hours {
    pub fn new(hours: &BusinessHours) -> Result<Self, HoursError> {
        let zone =
            zone(&hours.time_zone).ok_or_else(|| HoursError::Zone(hours.time_zone.clone()))?;
        let mut open: [Vec<(Time, Time)>; 7] = Default::default();
        for span in &hours.open {
            let day = usize::from(span.weekday)
                .checked_sub(1)
                .filter(|d| *d < 7)
                .ok_or(HoursError::Weekday(span.weekday))?;
            open[day].push((time(&span.from)?, time(&span.to)?));
        }
        for spans in &mut open {
            spans.sort();
        }
        let holidays = hours
            .holidays
            .iter()
            .map(|d| date(d).ok_or_else(|| HoursError::Date(d.clone())))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            zone,
            open,
            holidays,
        })
    }

    /// The clinic's wall-clock time at `at`.
    pub fn local(&self, at: UnixMillis) -> Zoned {
        Timestamp::from_millisecond(at.0)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(self.zone.clone())
    }

    /// The clinic's calendar day at `at`.
    pub fn day(&self, at: UnixMillis) -> Date {
        self.local(at).date()
    }

    fn spans(&self, date: Date) -> &[(Time, Time)] {
        if self.holidays.contains(&date) {
            return &[];
        }
        let weekday = date.weekday().to_monday_zero_offset();
        &self.open[usize::try_from(weekday).unwrap_or(0)]
    }

    /// Whether the clinic is open at `at`.
    pub fn is_open(&self, at: UnixMillis) -> bool {
        let local = self.local(at);
        let now = local.time();
        self.spans(local.date())
            .iter()
            .any(|(from, to)| *from <= now && now < *to)
    }

    /// The first instant at or after `at` when the clinic is open; `None` if it never opens
    /// in the coming year.
    pub fn next_opening(&self, at: UnixMillis) -> Option<UnixMillis> {
        if self.is_open(at) {
            return Some(at);
        }
        let local = self.local(at);
        let mut date = local.date();
        for _ in 0..=366 {
            for (from, _) in self.spans(date) {
                let opening = date.to_datetime(*from).to_zoned(self.zone.clone()).ok()?;
                let opening = UnixMillis(opening.timestamp().as_millisecond());
                if opening >= at {
                    return Some(opening);
                }
            }
            date = date.checked_add(1.day()).ok()?;
        }
        None
    }
}

fn time(text: &str) -> Result<Time, HoursError> {
    let minutes = minutes(text).ok_or_else(|| HoursError::Time(text.to_owned()))?;
    // 24:00 closes at the end of the day.
    if minutes == 24 * 60 {
        return Ok(Time::MAX);
    }
    let (h, m) = (minutes / 60, minutes % 60);
    Time::new(h as i8, m as i8, 0, 0).map_err(|_| HoursError::Time(text.to_owned()))
}

/// `HH:MM`, 00:00 to 24:00, as minutes since midnight.
pub fn minutes(text: &str) -> Option<u32> {
    let (hours, minutes) = text.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let (hours, minutes): (u32, u32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (minutes < 60 && (hours < 24 || (hours == 24 && minutes == 0))).then_some(hours * 60 + minutes)
}

/// An IANA time zone by name, such as `Asia/Tokyo`.
pub(crate) fn zone(name: &str) -> Option<TimeZone> {
    TimeZone::get(name).ok()
}

/// A calendar date as `YYYY-MM-DD`.
pub(crate) fn date(text: &str) -> Option<Date> {
    (text.len() == 10).then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use tsunagi_proto::OpeningHours;

    use super::*;

    fn at(text: &str) -> UnixMillis {
        let zoned: Zoned = text.parse().expect("a zoned time");
        UnixMillis(zoned.timestamp().as_millisecond())
    }

    /// Weekdays 09:00–12:00 and 14:00–18:00, Saturday mornings, in Bangkok.
    fn clinic() -> Hours {
        let mut open = Vec::new();
        for weekday in 1..=5 {
            open.push(OpeningHours {
                weekday,
                from: "14:00".into(),
                to: "18:00".into(),
            });
            open.push(OpeningHours {
                weekday,
                from: "09:00".into(),
                to: "12:00".into(),
            });
        }
        open.push(OpeningHours {
            weekday: 6,
            from: "09:00".into(),
            to: "12:00".into(),
        });
        Hours::new(&BusinessHours {
            time_zone: "Asia/Bangkok".into(),
            open,
            holidays: vec!["2026-12-07".into()],
            away_message: None,
        })
        .expect("valid hours")
    }

    #[test]
    fn open_inside_a_span_and_closed_at_lunch_at_night_on_sundays_and_holidays() {
        let hours = clinic();
        // 2026-12-01 is a Tuesday.
        assert!(hours.is_open(at("2026-12-01T09:00[Asia/Bangkok]")));
        assert!(hours.is_open(at("2026-12-01T17:59[Asia/Bangkok]")));
        assert!(!hours.is_open(at("2026-12-01T12:30[Asia/Bangkok]")));
        assert!(!hours.is_open(at("2026-12-01T18:00[Asia/Bangkok]")));
        assert!(
            !hours.is_open(at("2026-12-06T10:00[Asia/Bangkok]")),
            "Sunday"
        );
        assert!(
            !hours.is_open(at("2026-12-07T10:00[Asia/Bangkok]")),
            "a holiday"
        );
        // The same instant seen from Tokyo is still judged in Bangkok.
        assert!(hours.is_open(at("2026-12-01T11:30[Asia/Tokyo]")));
    }

    #[test]
    fn the_next_opening_skips_lunch_nights_sundays_and_holidays() {
        let hours = clinic();
        assert_eq!(
            hours.next_opening(at("2026-12-01T12:30[Asia/Bangkok]")),
            Some(at("2026-12-01T14:00[Asia/Bangkok]"))
        );
        // Saturday after closing: Sunday is closed, Monday the 7th a holiday.
        assert_eq!(
            hours.next_opening(at("2026-12-05T13:00[Asia/Bangkok]")),
            Some(at("2026-12-08T09:00[Asia/Bangkok]"))
        );
        let open = at("2026-12-01T10:00[Asia/Bangkok]");
        assert_eq!(hours.next_opening(open), Some(open));
    }

    #[test]
    fn the_day_is_the_clinics_local_day() {
        let hours = clinic();
        // 23:30 UTC on the 1st is already the 2nd in Bangkok.
        assert_eq!(
            hours.day(at("2026-12-01T23:30[UTC]")),
            "2026-12-02".parse().expect("date")
        );
    }

    #[test]
    fn times_are_hours_and_minutes_up_to_midnight() {
        assert_eq!(minutes("09:30"), Some(570));
        assert_eq!(minutes("24:00"), Some(1440));
        assert_eq!(minutes("24:01"), None);
        assert_eq!(minutes("9:30"), None);
        assert_eq!(minutes("09:60"), None);
    }

    #[test]
    fn bad_hours_are_refused_with_what_is_wrong() {
        let bad = |zone: &str, from: &str, weekday: u8| {
            Hours::new(&BusinessHours {
                time_zone: zone.into(),
                open: vec![OpeningHours {
                    weekday,
                    from: from.into(),
                    to: "12:00".into(),
                }],
                holidays: vec![],
                away_message: None,
            })
            .expect_err("refused")
        };
        assert_eq!(
            bad("Mars/Olympus", "09:00", 1),
            HoursError::Zone("Mars/Olympus".into())
        );
        assert_eq!(bad("Asia/Tokyo", "9am", 1), HoursError::Time("9am".into()));
        assert_eq!(bad("Asia/Tokyo", "09:00", 8), HoursError::Weekday(8));
    }
}
