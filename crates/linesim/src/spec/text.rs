//! Counting and recognizing text as LINE does.

/// Length in UTF-16 code units: how LINE counts message text (reference: "Character
/// counting in a text": "🍎 is two characters long, not one").
pub(super) fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Length in grapheme clusters (what a reader sees as one character), which LINE uses for
/// action objects and template texts (the same page's table of exceptions).
///
/// An approximation of Unicode's extended grapheme clusters (UAX #29) good for the scripts
/// a clinic writes in: a combining mark, variation selector, emoji modifier or tag joins the
/// character before it; a zero-width joiner joins the characters on both sides; two
/// regional indicators make one flag; CR LF is one. Thai's above and below vowels and tone
/// marks, Latin diacritics and Japanese (semi-)voiced marks are combining marks here.
pub(super) fn graphemes(text: &str) -> usize {
    let mut count = 0;
    let mut previous: Option<char> = None;
    let mut join_next = false;
    let mut flag_half = false;
    for c in text.chars() {
        let extends = is_extending(c) || join_next || (previous == Some('\r') && c == '\n');
        let pairs_flag = is_regional_indicator(c) && flag_half;
        if previous.is_none() || !(extends || pairs_flag) {
            count += 1;
            flag_half = is_regional_indicator(c);
        } else if pairs_flag {
            flag_half = false;
        }
        join_next = c == '\u{200D}';
        previous = Some(c);
    }
    count
}

fn is_regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

fn is_extending(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}' // combining diacritical marks
        | '\u{0483}'..='\u{0489}'
        | '\u{0591}'..='\u{05BD}'
        | '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0900}'..='\u{0903}'
        | '\u{093A}'..='\u{094F}'
        | '\u{0E31}' | '\u{0E34}'..='\u{0E3A}' | '\u{0E47}'..='\u{0E4E}' // Thai
        | '\u{0EB1}' | '\u{0EB4}'..='\u{0EBC}' | '\u{0EC8}'..='\u{0ECD}' // Lao
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{200C}' | '\u{200D}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{3099}' | '\u{309A}' // Japanese combining (semi-)voiced marks
        | '\u{FE00}'..='\u{FE0F}' // variation selectors
        | '\u{FE20}'..='\u{FE2F}'
        | '\u{1F3FB}'..='\u{1F3FF}' // emoji skin tones
        | '\u{E0020}'..='\u{E007F}' // tags
        | '\u{E0100}'..='\u{E01EF}'
    )
}

/// Whether `uri` starts with one of `schemes` and `:` (schemes compare case-insensitively,
/// RFC 3986 §3.1), and has something after it.
pub(super) fn has_scheme(uri: &str, schemes: &[&str]) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    !rest.is_empty() && schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme))
}

/// `#RRGGBB`, or with `alpha` also `#RRGGBBAA`.
pub(super) fn is_color(color: &str, alpha: bool) -> bool {
    let Some(hex) = color.strip_prefix('#') else {
        return false;
    };
    (hex.len() == 6 || (alpha && hex.len() == 8)) && hex.chars().all(|c| c.is_ascii_hexdigit())
}

/// `12px`, `12.5px`.
pub(super) fn is_pixels(value: &str) -> bool {
    value.strip_suffix("px").is_some_and(is_decimal)
}

/// `50%`, `12.5%`.
pub(super) fn is_percent(value: &str) -> bool {
    value.strip_suffix('%').is_some_and(is_decimal)
}

fn is_decimal(number: &str) -> bool {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && fraction.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphemes_count_what_a_reader_sees() {
        assert_eq!(graphemes("abc"), 3);
        assert_eq!(
            graphemes("ที่นี่"),
            2,
            "Thai vowels and tone marks join their consonant"
        );
        assert_eq!(graphemes("🍎🍎"), 2);
        assert_eq!(graphemes("👍🏽"), 1);
        assert_eq!(
            graphemes("👩‍⚕️"),
            1,
            "a ZWJ sequence with a variation selector"
        );
        assert_eq!(graphemes("🇯🇵🇹🇭"), 2);
        assert_eq!(graphemes("か\u{3099}"), 1);
        assert_eq!(graphemes(""), 0);
    }

    #[test]
    fn schemes_colors_and_sizes_are_recognized() {
        assert!(has_scheme("https://example.com", &["https"]));
        assert!(has_scheme("HTTPS://example.com", &["https"]));
        assert!(!has_scheme("http://example.com", &["https"]));
        assert!(!has_scheme("https://", &["https"]));
        assert!(has_scheme("tel:0123", &["tel"]));
        assert!(is_color("#00ff00", false));
        assert!(!is_color("#00ff0080", false));
        assert!(is_color("#00ff0080", true));
        assert!(!is_color("green", true));
        assert!(is_pixels("12.5px") && is_pixels("0px") && !is_pixels("px") && !is_pixels("1.px"));
        assert!(is_percent("50%") && !is_percent("50"));
    }
}
