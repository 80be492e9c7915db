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

/// Keyword rules compiled for matching, in their order: the bot answers with the first
/// that matches, and the settings editor's test box asks the same question.
#[derive(Debug, Clone, Default)]
pub struct KeywordRules {
    rules: Vec<CompiledRule>,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    /// The rule's place in the list it was compiled from.
    index: usize,
    matcher: Matcher,
    language: Option<String>,
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact(String),
    Contains(String),
    Regex(regex::Regex),
}

impl KeywordRules {
    /// Rules whose regex does not compile match nothing (the relay refuses them when they
    /// are logged, so only an older log holds one).
    pub fn new(rules: &[tsunagi_proto::KeywordRule]) -> Self {
        use tsunagi_proto::KeywordMatch;
        let rules = rules
            .iter()
            .enumerate()
            .filter_map(|(index, rule)| {
                let matcher = match rule.matching {
                    KeywordMatch::Exact => Matcher::Exact(normalize(&rule.pattern)),
                    KeywordMatch::Contains => Matcher::Contains(normalize(&rule.pattern)),
                    KeywordMatch::Regex => Matcher::Regex(keyword_regex(&rule.pattern).ok()?),
                };
                Some(CompiledRule {
                    index,
                    matcher,
                    language: rule.language.clone(),
                })
            })
            .collect();
        Self { rules }
    }

    /// The place of the first rule that answers `text` from a patient whose LINE app is in
    /// `language` (a rule for one language never answers a patient of unknown language).
    pub fn first_match(&self, text: &str, language: Option<&str>) -> Option<usize> {
        let normalized = normalize(text);
        self.rules
            .iter()
            .filter(|rule| match (&rule.language, language) {
                (None, _) => true,
                (Some(wanted), Some(language)) => language_matches(wanted, language),
                (Some(_), None) => false,
            })
            .find(|rule| match &rule.matcher {
                Matcher::Exact(pattern) => normalized == *pattern,
                Matcher::Contains(pattern) => normalized.contains(pattern.as_str()),
                Matcher::Regex(regex) => regex.is_match(&normalized),
            })
            .map(|rule| rule.index)
    }
}

/// Whether a rule for `wanted` (`zh`, `zh-TW`) is for a patient whose app is in `language`.
fn language_matches(wanted: &str, language: &str) -> bool {
    let wanted = wanted.to_ascii_lowercase();
    let language = language.to_ascii_lowercase();
    language == wanted || language.starts_with(&format!("{wanted}-"))
}

/// The most memory one compiled keyword regex may take.
const MAX_REGEX_BYTES: usize = 1 << 20;

/// A regex keyword rule as the bot matches it: against the message normalized as for plain
/// rules ([`normalize`]), so its pattern is taken in NFKC (full-width letters and digits as
/// their plain forms) and without regard to case. White space in the message is folded,
/// so `\s+` and a single space match alike.
pub fn keyword_regex(pattern: &str) -> Result<regex::Regex, regex::Error> {
    let pattern: String = pattern.nfkc().collect();
    regex::RegexBuilder::new(&pattern)
        .case_insensitive(true)
        .size_limit(MAX_REGEX_BYTES)
        .build()
}

/// NFKC, lower case, and runs of white space folded to one space: what every keyword rule
/// and handoff phrase is matched against.
pub fn normalize(text: &str) -> String {
    let folded: String = text.nfkc().flat_map(char::to_lowercase).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A regex rule and a plain one see the same message: full-width digits, capitals and
    /// doubled spaces are no reason for one to match and the other not.
    #[test]
    fn regex_and_plain_rules_see_the_same_normalized_text() {
        let message = normalize("予約は ２月３日  ＡＭ で");
        assert!(message.contains(&normalize("2月3日 am")));
        let regex = keyword_regex(r"(\d+)月(\d+)日 AM").unwrap();
        assert!(regex.is_match(&message), "{message}");
        let full_width = keyword_regex(r"２月").unwrap();
        assert!(full_width.is_match(&message));
        assert!(
            keyword_regex(r"(\w{1,50}){1,20}").is_err(),
            "bounded in size"
        );
    }

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
