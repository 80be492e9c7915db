//! Handoff triggers: the words with which a patient asks for a person instead of the bot.

use unicode_normalization::UnicodeNormalization as _;

/// The phrases that hand a conversation to people, matched anywhere in a message.
///
/// Matching ignores case and Unicode width and compatibility forms (NFKC), so `ＳＴＡＦＦ`,
/// `Staff` and `staff` are the same, as are half- and full-width katakana.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffKeywords {
    normalized: Vec<String>,
}

impl Default for HandoffKeywords {
    /// Phrases clinic patients use in Thai, Traditional Chinese, Japanese and English.
    fn default() -> Self {
        Self::new([
            "ติดต่อเจ้าหน้าที่",
            "คุยกับเจ้าหน้าที่",
            "人工客服",
            "真人客服",
            "スタッフと話したい",
            "担当者",
            "talk to a human",
            "talk to staff",
        ])
    }
}

impl HandoffKeywords {
    /// Empty and blank phrases are ignored: they would match every message.
    pub fn new<I, S>(phrases: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let normalized = phrases
            .into_iter()
            .map(|p| normalize(p.as_ref()))
            .filter(|p| !p.is_empty())
            .collect();
        Self { normalized }
    }

    /// Whether `text` asks for a person.
    pub fn matches(&self, text: &str) -> bool {
        let text = normalize(text);
        self.normalized.iter().any(|k| text.contains(k.as_str()))
    }
}

/// NFKC, lower case, and runs of white space folded to one space.
pub(crate) fn normalize(text: &str) -> String {
    let folded: String = text.nfkc().flat_map(char::to_lowercase).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_languages_phrase_triggers_a_handoff_inside_a_longer_message() {
        let keywords = HandoffKeywords::default();
        for text in [
            "ขอติดต่อเจ้าหน้าที่หน่อยค่ะ",
            "請幫我轉人工客服",
            "予約の件でスタッフと話したいです",
            "Can I talk to a human please?",
        ] {
            assert!(keywords.matches(text), "{text}");
        }
    }

    #[test]
    fn ordinary_questions_do_not_trigger_a_handoff() {
        let keywords = HandoffKeywords::default();
        for text in [
            "สวัสดีค่ะ",
            "明日の予約は何時ですか",
            "週六有門診嗎",
            "what time do you open?",
        ] {
            assert!(!keywords.matches(text), "{text}");
        }
    }

    #[test]
    fn case_width_and_spacing_do_not_matter() {
        let keywords = HandoffKeywords::default();
        assert!(keywords.matches("TALK   TO a HUMAN"));
        assert!(keywords.matches("ｔａｌｋ ｔｏ ａ ｈｕｍａｎ"));
        // Half-width katakana as typed on some phones.
        assert!(keywords.matches("ｽﾀｯﾌと話したい"));
    }

    #[test]
    fn blank_phrases_never_match_everything() {
        let keywords = HandoffKeywords::new(["", "   "]);
        assert!(!keywords.matches("anything"));
    }
}
