//! Red flags: words of an emergency. A patient who writes one never gets the bot's queue
//! line, a keyword reply or the AI responder's answer: the chat goes to the top of the
//! queue, every desk is alerted, and the patient is told at once to call the emergency
//! number. The phrases are matched as the handoff words are (NFKC, any case), so
//! `ＣＨＥＳＴ ＰＡＩＮ` and `chest pain` are one.

use std::collections::BTreeMap;

use tsunagi_proto::RedFlagSettings;

use crate::handoff::HandoffKeywords;

/// The variable an urgent-care message names the emergency number with.
pub const NUMBER_VARIABLE: &str = "number";

/// The red flags a clinic starts with: phrases patients use in Japanese, Thai, Traditional
/// Chinese and English, the urgent-care message in each, and the emergency number of the
/// country of the clinic's time zone.
pub fn seeded(time_zone: Option<&str>) -> RedFlagSettings {
    let list = |phrases: &[&str]| phrases.iter().map(|p| (*p).to_owned()).collect::<Vec<_>>();
    let phrases = BTreeMap::from([
        (
            "ja".to_owned(),
            list(&[
                "息苦しい",
                "息ができない",
                "呼吸が苦しい",
                "胸が痛い",
                "胸の痛み",
                "血が止まらない",
                "大量に出血",
                "意識がない",
                "死にたい",
                "自殺",
            ]),
        ),
        (
            "th".to_owned(),
            list(&[
                "หายใจไม่ออก",
                "หายใจลำบาก",
                "เจ็บหน้าอก",
                "แน่นหน้าอก",
                "เลือดออกไม่หยุด",
                "เลือดออกมาก",
                "หมดสติ",
                "อยากตาย",
                "ฆ่าตัวตาย",
            ]),
        ),
        (
            "zh-TW".to_owned(),
            list(&[
                "喘不過氣",
                "呼吸困難",
                "胸痛",
                "胸口痛",
                "血流不止",
                "大量出血",
                "失去意識",
                "想死",
                "自殺",
            ]),
        ),
        (
            "en".to_owned(),
            list(&[
                "can't breathe",
                "cannot breathe",
                "chest pain",
                "bleeding heavily",
                "heavy bleeding",
                "won't stop bleeding",
                "unconscious",
                "kill myself",
                "suicide",
                "want to die",
            ]),
        ),
    ]);
    let messages = BTreeMap::from([
        (
            "ja".to_owned(),
            "緊急の症状かもしれません。今すぐ{{number}}番に電話してください。スタッフにも知らせました。"
                .to_owned(),
        ),
        (
            "th".to_owned(),
            "อาการนี้อาจเป็นเหตุฉุกเฉิน กรุณาโทร {{number}} ทันที เราแจ้งเจ้าหน้าที่แล้ว".to_owned(),
        ),
        (
            "zh-TW".to_owned(),
            "這可能是緊急狀況,請立即撥打 {{number}}。我們也已通知工作人員。".to_owned(),
        ),
        (
            "en".to_owned(),
            "This may be an emergency. Please call {{number}} now. We have also told our staff."
                .to_owned(),
        ),
    ]);
    RedFlagSettings {
        phrases,
        messages,
        emergency_number: emergency_number(time_zone).to_owned(),
    }
}

/// The emergency (ambulance) number of the country a clinic's time zone is in: 1669 in
/// Thailand, 119 in Japan and Taiwan (and wherever the zone says nothing, the owner sets
/// it).
pub fn emergency_number(time_zone: Option<&str>) -> &'static str {
    match time_zone {
        Some("Asia/Bangkok") => "1669",
        _ => "119",
    }
}

/// Red-flag phrases compiled for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedFlags {
    phrases: HandoffKeywords,
}

impl RedFlags {
    pub fn new(settings: &RedFlagSettings) -> Self {
        Self {
            phrases: HandoffKeywords::new(settings.all_phrases().map(|p| plain_quotes(p))),
        }
    }

    /// Whether `text` holds words of an emergency.
    pub fn matches(&self, text: &str) -> bool {
        self.phrases.matches(&plain_quotes(text))
    }
}

/// Typographic apostrophes as the plain one: phones type `can’t` as often as `can't`.
fn plain_quotes(text: &str) -> String {
    text.replace(['\u{2019}', '\u{2018}', '\u{02BC}'], "'")
}

/// The urgent-care message for a patient whose LINE is in `language`: theirs, else the
/// English one, else any; `{{number}}` filled in.
pub fn message(settings: &RedFlagSettings, language: Option<&str>) -> Option<String> {
    let base = |l: &str| l.split('-').next().unwrap_or(l).to_ascii_lowercase();
    let wanted = language.map(base);
    let written = || {
        settings
            .messages
            .iter()
            .filter(|(_, text)| !text.trim().is_empty())
    };
    let text = written()
        .find(|(l, _)| Some(base(l)) == wanted)
        .or_else(|| written().find(|(l, _)| l.as_str() == "en"))
        .or_else(|| written().next())
        .map(|(_, text)| text)?;
    Some(text.replace("{{number}}", settings.emergency_number.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeded_phrases_match_in_every_language_and_any_width_or_quote() {
        let flags = RedFlags::new(&seeded(Some("Asia/Tokyo")));
        for text in [
            "朝から息苦しいです",
            "หายใจไม่ออกค่ะ",
            "我喘不過氣",
            "I have CHEST PAIN since this morning",
            "I can’t breathe",
            "ｃｈｅｓｔ ｐａｉｎ",
        ] {
            assert!(flags.matches(text), "{text:?} is a red flag");
        }
        for text in [
            "予約を変更したい",
            "นัดพรุ่งนี้",
            "掛號",
            "can I book for Tuesday?",
        ] {
            assert!(!flags.matches(text), "{text:?} is not a red flag");
        }
    }

    #[test]
    fn no_phrases_flag_nothing() {
        let mut settings = seeded(None);
        settings.phrases.clear();
        assert!(!RedFlags::new(&settings).matches("chest pain"));
    }

    #[test]
    fn the_message_is_in_the_patients_language_with_the_clinics_number() {
        let bangkok = seeded(Some("Asia/Bangkok"));
        let thai = message(&bangkok, Some("th")).unwrap();
        assert!(thai.contains("1669") && thai.contains("โทร"), "{thai}");
        let tokyo = seeded(Some("Asia/Tokyo"));
        assert!(message(&tokyo, Some("ja")).unwrap().contains("119番"));
        assert!(message(&tokyo, Some("zh-TW")).unwrap().contains("撥打 119"));
        // A language the clinic wrote no message in: English.
        let english = message(&tokyo, Some("ko")).unwrap();
        assert!(english.starts_with("This may be an emergency") && english.contains("119"));
        assert_eq!(message(&tokyo, None), Some(english));
        // A blank English message is no fallback: another the clinic wrote is.
        let mut blank = seeded(Some("Asia/Bangkok"));
        blank.messages.insert("en".into(), "  ".into());
        blank.messages.remove("ja");
        let fallback = message(&blank, Some("ko")).unwrap();
        assert!(
            !fallback.trim().is_empty() && fallback.contains("1669"),
            "{fallback}"
        );
    }
}
