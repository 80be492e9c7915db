//! Patients' consents and opt-outs: what a tap on a consent button the clinic sent says,
//! and whether a patient may be sent a reminder. The relay's bot and every desk decide it
//! here, so they agree.

use tsunagi_proto::{ConsentKind, OptOut};

/// How a consent button's postback data begins.
const PREFIX: &str = "tsunagi:consent:";

/// What a patient answered by tapping a consent button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub kind: ConsentKind,
    /// The version of the wording they answered.
    pub wording: String,
    pub given: bool,
}

/// The postback data of a button that answers `kind` (to `wording`'s version) with `given`.
pub fn postback(kind: ConsentKind, wording: &str, given: bool) -> String {
    let answer = if given { "yes" } else { "no" };
    format!("{PREFIX}{}:{answer}:{wording}", kind.as_str())
}

/// The answer a consent button's postback data carries, if it is one.
pub fn answer(data: &str) -> Option<Answer> {
    let rest = data.strip_prefix(PREFIX)?;
    let mut parts = rest.splitn(3, ':');
    let kind = match parts.next()? {
        "reminders" => ConsentKind::Reminders,
        "health_on_line" => ConsentKind::HealthOnLine,
        _ => return None,
    };
    let given = match parts.next()? {
        "yes" => true,
        "no" => false,
        _ => return None,
    };
    let wording = parts.next().filter(|w| !w.is_empty())?.to_owned();
    Some(Answer {
        kind,
        wording,
        given,
    })
}

/// Why a patient may not be sent a reminder, if they may not: they wrote a stop word
/// (`stopped`), withdrew their consent to reminders, or never gave it where the clinic
/// asks for it first (`consent`: their newest answer, if any).
pub fn reminder_opt_out(
    stopped: Option<&str>,
    consent: Option<bool>,
    need_consent: bool,
) -> Option<OptOut> {
    if let Some(word) = stopped {
        return Some(OptOut::StopWord {
            word: word.to_owned(),
        });
    }
    match consent {
        Some(false) => Some(OptOut::Withdrew),
        None if need_consent => Some(OptOut::NoConsent),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_consent_buttons_data_says_what_was_answered_and_nothing_else_passes_for_one() {
        for (kind, given) in [
            (ConsentKind::Reminders, true),
            (ConsentKind::HealthOnLine, false),
        ] {
            let data = postback(kind, "2026-12 v2", given);
            assert_eq!(
                answer(&data),
                Some(Answer {
                    kind,
                    wording: "2026-12 v2".into(),
                    given
                })
            );
        }
        for other in [
            "action=reschedule",
            "tsunagi:consent:reminders:yes:",
            "tsunagi:consent:marketing:yes:v1",
            "tsunagi:consent:reminders:maybe:v1",
            "tsunagi:handoff",
        ] {
            assert_eq!(answer(other), None, "{other}");
        }
    }

    #[test]
    fn a_stop_word_outranks_consent_and_a_clinic_that_asks_first_needs_a_yes() {
        let stopped = Some("配信停止");
        assert_eq!(
            reminder_opt_out(stopped, Some(true), false),
            Some(OptOut::StopWord {
                word: "配信停止".into()
            })
        );
        assert_eq!(
            reminder_opt_out(None, Some(false), false),
            Some(OptOut::Withdrew)
        );
        assert_eq!(reminder_opt_out(None, None, true), Some(OptOut::NoConsent));
        assert_eq!(reminder_opt_out(None, None, false), None);
        assert_eq!(reminder_opt_out(None, Some(true), true), None);
    }
}
