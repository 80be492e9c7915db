//! LINE's rules for Flex Message containers, walked over their JSON.

use super::validate::Checker;
use super::*;

/// LINE's rules for a Flex Message's container, walked over its JSON (the client keeps
/// Flex contents as JSON, so anything can be built and everything must be checked here).
pub(super) struct FlexChecker<'a> {
    pub(super) check: &'a mut Checker,
    pub(super) animated: &'a mut usize,
}

const FLEX_SPACES: &[&str] = &["none", "xs", "sm", "md", "lg", "xl", "xxl"];
const FLEX_FONT_SIZES: &[&str] = &[
    "xxs", "xs", "sm", "md", "lg", "xl", "xxl", "3xl", "4xl", "5xl",
];
const FLEX_GRAVITIES: &[&str] = &["top", "bottom", "center"];
const FLEX_ALIGNS: &[&str] = &["start", "end", "center"];

impl FlexChecker<'_> {
    pub(super) fn fail(&mut self, property: String, message: impl Into<String>) {
        self.check.fail(property, message);
    }

    pub(super) fn str_of<'v>(value: &'v serde_json::Value, key: &str) -> Option<&'v str> {
        value.get(key).and_then(serde_json::Value::as_str)
    }

    pub(super) fn has(value: &serde_json::Value, key: &str) -> bool {
        value.get(key).is_some_and(|v| !v.is_null())
    }

    /// `key`, when present, is one of `values`.
    pub(super) fn one_of(
        &mut self,
        value: &serde_json::Value,
        at: &str,
        key: &str,
        values: &[&str],
    ) {
        if Self::has(value, key) && !Self::str_of(value, key).is_some_and(|v| values.contains(&v)) {
            self.fail(
                format!("{at}.{key}"),
                format!("must be one of {}", values.join(", ")),
            );
        }
    }

    /// `key`, when present, is a keyword, `{n}px`, or with `percent` `{n}%`.
    pub(super) fn size(
        &mut self,
        value: &serde_json::Value,
        at: &str,
        key: &str,
        keywords: &[&str],
        percent: bool,
    ) {
        if !Self::has(value, key) {
            return;
        }
        let decimal = |n: &str| {
            let (whole, fraction) = n.split_once('.').unwrap_or((n, "0"));
            !whole.is_empty()
                && !fraction.is_empty()
                && whole
                    .bytes()
                    .chain(fraction.bytes())
                    .all(|b| b.is_ascii_digit())
        };
        let ok = Self::str_of(value, key).is_some_and(|v| {
            keywords.contains(&v)
                || v.strip_suffix("px").is_some_and(decimal)
                || (percent && v.strip_suffix('%').is_some_and(decimal))
        });
        if !ok {
            self.fail(
                format!("{at}.{key}"),
                "must be a keyword, pixels or (where allowed) percent",
            );
        }
    }

    pub(super) fn color(&mut self, value: &serde_json::Value, at: &str, key: &str) {
        if !Self::has(value, key) {
            return;
        }
        let ok = Self::str_of(value, key)
            .and_then(|c| c.strip_prefix('#'))
            .is_some_and(|hex| {
                (hex.len() == 6 || hex.len() == 8) && hex.chars().all(|c| c.is_ascii_hexdigit())
            });
        if !ok {
            self.fail(format!("{at}.{key}"), "must be #RRGGBB or #RRGGBBAA");
        }
    }

    pub(super) fn required(&mut self, value: &serde_json::Value, at: &str, key: &str) -> bool {
        let present = Self::has(value, key);
        if !present {
            self.fail(format!("{at}.{key}"), "must be specified");
        }
        present
    }

    pub(super) fn https(&mut self, value: &serde_json::Value, at: &str, key: &str) {
        if self.required(value, at, key) {
            let url = Self::str_of(value, key).unwrap_or_default();
            self.check.https_url(format!("{at}.{key}"), url);
        }
    }

    pub(super) fn action(&mut self, value: &serde_json::Value, at: &str) {
        let Some(action) = value.get("action").filter(|a| !a.is_null()) else {
            return;
        };
        let at = format!("{at}.action");
        match Self::str_of(action, "type") {
            Some("clipboard") => {
                let text = Self::str_of(action, "clipboardText").unwrap_or_default();
                self.check.text(format!("{at}.clipboardText"), text, 1_000);
            }
            Some("postback" | "message" | "uri" | "datetimepicker") => {
                match serde_json::from_value::<Action>(action.clone()) {
                    Ok(parsed) => self.check.action_fields(&at, &parsed),
                    Err(_) => self.fail(at, "is not a valid action"),
                }
            }
            _ => self.fail(format!("{at}.type"), "Invalid action type"),
        }
    }

    pub(super) fn container(&mut self, at: &str, contents: &serde_json::Value) {
        match Self::str_of(contents, "type") {
            Some("bubble") => self.bubble(at, contents),
            Some("carousel") => {
                if contents.to_string().len() > 50 * 1024 {
                    self.fail(at.to_owned(), "must be at most 50 KB of JSON");
                }
                let bubbles = contents
                    .get("contents")
                    .and_then(|c| c.as_array())
                    .map_or(&[][..], Vec::as_slice);
                self.check.count(
                    format!("{at}.contents"),
                    bubbles.len(),
                    1,
                    MAX_FLEX_CAROUSEL_BUBBLES,
                );
                for (j, bubble) in bubbles.iter().enumerate() {
                    let at = format!("{at}.contents[{j}]");
                    if Self::str_of(bubble, "type") == Some("bubble") {
                        self.bubble(&at, bubble);
                    } else {
                        self.fail(format!("{at}.type"), "must be bubble");
                    }
                }
            }
            _ => self.fail(format!("{at}.type"), "must be bubble or carousel"),
        }
    }

    pub(super) fn bubble(&mut self, at: &str, bubble: &serde_json::Value) {
        if bubble.to_string().len() > 30 * 1024 {
            self.fail(at.to_owned(), "must be at most 30 KB of JSON");
        }
        self.one_of(bubble, at, "direction", &["ltr", "rtl"]);
        let sizes = ["nano", "micro", "deca", "hecto", "kilo", "mega", "giga"];
        self.one_of(bubble, at, "size", &sizes);
        for block in ["header", "body", "footer"] {
            if let Some(component) = bubble.get(block).filter(|b| !b.is_null()) {
                self.component(&format!("{at}.{block}"), component, &["box"]);
            }
        }
        if let Some(hero) = bubble.get("hero").filter(|h| !h.is_null()) {
            self.component(&format!("{at}.hero"), hero, &["box", "image", "video"]);
            let size = Self::str_of(bubble, "size").unwrap_or("mega");
            if Self::str_of(hero, "type") == Some("video")
                && !matches!(size, "kilo" | "mega" | "giga")
            {
                self.fail(
                    format!("{at}.size"),
                    "must be kilo, mega or giga with a video",
                );
            }
        }
        if let Some(styles) = bubble.get("styles").and_then(|s| s.as_object()) {
            for (block, style) in styles {
                let at = format!("{at}.styles.{block}");
                self.color(style, &at, "backgroundColor");
                self.color(style, &at, "separatorColor");
            }
        }
        self.action(bubble, at);
    }

    pub(super) fn component(&mut self, at: &str, component: &serde_json::Value, allowed: &[&str]) {
        let Some(kind) = Self::str_of(component, "type") else {
            self.fail(format!("{at}.type"), "must be specified");
            return;
        };
        if !allowed.contains(&kind) {
            self.fail(
                format!("{at}.type"),
                format!("must be one of {}", allowed.join(", ")),
            );
            return;
        }
        if let Some(flex) = component.get("flex").filter(|f| !f.is_null())
            && flex.as_u64().is_none()
        {
            self.fail(format!("{at}.flex"), "must be a non-negative integer");
        }
        self.size(component, at, "margin", FLEX_SPACES, false);
        self.one_of(component, at, "position", &["relative", "absolute"]);
        for offset in ["offsetTop", "offsetBottom", "offsetStart", "offsetEnd"] {
            self.size(component, at, offset, FLEX_SPACES, true);
        }
        match kind {
            "box" => self.flex_box(at, component),
            "button" => {
                if self.required(component, at, "action") {
                    self.action(component, at);
                }
                self.one_of(component, at, "style", &["primary", "secondary", "link"]);
                self.one_of(component, at, "height", &["sm", "md"]);
                self.one_of(component, at, "gravity", FLEX_GRAVITIES);
                self.color(component, at, "color");
            }
            "image" => {
                self.https(component, at, "url");
                let mut sizes = FLEX_FONT_SIZES.to_vec();
                sizes.push("full");
                self.size(component, at, "size", &sizes, true);
                self.aspect_ratio(component, at);
                self.one_of(component, at, "aspectMode", &["fit", "cover"]);
                self.one_of(component, at, "align", FLEX_ALIGNS);
                self.one_of(component, at, "gravity", FLEX_GRAVITIES);
                self.color(component, at, "backgroundColor");
                if component
                    .get("animated")
                    .and_then(serde_json::Value::as_bool)
                    == Some(true)
                {
                    *self.animated += 1;
                    if *self.animated > 10 {
                        self.fail(
                            format!("{at}.animated"),
                            "at most 10 animated images a message",
                        );
                    }
                }
                self.action(component, at);
            }
            "video" => {
                self.https(component, at, "url");
                self.https(component, at, "previewUrl");
                if self.required(component, at, "altContent") {
                    self.component(
                        &format!("{at}.altContent"),
                        &component["altContent"],
                        &["box", "image"],
                    );
                }
                self.action(component, at);
            }
            "icon" => {
                self.https(component, at, "url");
                self.size(component, at, "size", FLEX_FONT_SIZES, false);
            }
            "text" => self.text(at, component),
            "separator" => self.color(component, at, "color"),
            _ => {}
        }
    }

    pub(super) fn flex_box(&mut self, at: &str, component: &serde_json::Value) {
        let layout = Self::str_of(component, "layout");
        if self.required(component, at, "layout") {
            self.one_of(
                component,
                at,
                "layout",
                &["horizontal", "vertical", "baseline"],
            );
        }
        let allowed: &[&str] = if layout == Some("baseline") {
            &["icon", "text", "filler"]
        } else {
            &["box", "button", "image", "text", "separator", "filler"]
        };
        if self.required(component, at, "contents") {
            let children = component["contents"]
                .as_array()
                .map_or(&[][..], Vec::as_slice);
            for (k, child) in children.iter().enumerate() {
                self.component(&format!("{at}.contents[{k}]"), child, allowed);
            }
        }
        self.size(component, at, "spacing", FLEX_SPACES, false);
        self.size(component, at, "cornerRadius", FLEX_SPACES, false);
        let borders = ["none", "light", "normal", "medium", "semi-bold", "bold"];
        self.size(component, at, "borderWidth", &borders, false);
        for key in ["width", "maxWidth", "height", "maxHeight"] {
            self.size(component, at, key, &[], true);
        }
        for key in [
            "paddingAll",
            "paddingTop",
            "paddingBottom",
            "paddingStart",
            "paddingEnd",
        ] {
            self.size(component, at, key, FLEX_SPACES, true);
        }
        self.color(component, at, "backgroundColor");
        self.color(component, at, "borderColor");
        let justify = [
            "center",
            "flex-start",
            "flex-end",
            "space-between",
            "space-around",
            "space-evenly",
        ];
        self.one_of(component, at, "justifyContent", &justify);
        self.one_of(
            component,
            at,
            "alignItems",
            &["center", "flex-start", "flex-end"],
        );
        if let Some(background) = component.get("background").filter(|b| !b.is_null()) {
            let at = format!("{at}.background");
            self.one_of(background, &at, "type", &["linearGradient"]);
            for key in ["angle", "startColor", "endColor"] {
                self.required(background, &at, key);
            }
            for key in ["startColor", "endColor", "centerColor"] {
                self.color(background, &at, key);
            }
        }
        self.action(component, at);
    }

    pub(super) fn aspect_ratio(&mut self, component: &serde_json::Value, at: &str) {
        if !Self::has(component, "aspectRatio") {
            return;
        }
        let ratio = Self::str_of(component, "aspectRatio")
            .and_then(|r| r.split_once(':'))
            .and_then(|(w, h)| Some((w.parse::<u32>().ok()?, h.parse::<u32>().ok()?)));
        let ok = ratio.is_some_and(|(w, h)| {
            (1..=100_000).contains(&w) && (1..=100_000).contains(&h) && h <= w * 3
        });
        if !ok {
            self.fail(
                format!("{at}.aspectRatio"),
                "must be {width}:{height}, each 1 to 100000, at most three times as tall as wide",
            );
        }
    }

    pub(super) fn text(&mut self, at: &str, component: &serde_json::Value) {
        match component.get("contents").filter(|c| !c.is_null()) {
            None => {
                self.required(component, at, "text");
            }
            Some(spans) => {
                let spans = spans.as_array().map_or(&[][..], Vec::as_slice);
                for (k, span) in spans.iter().enumerate() {
                    let at = format!("{at}.contents[{k}]");
                    if Self::str_of(span, "type") != Some("span") {
                        self.fail(format!("{at}.type"), "must be span");
                        continue;
                    }
                    self.required(span, &at, "text");
                    self.size(span, &at, "size", FLEX_FONT_SIZES, false);
                    self.color(span, &at, "color");
                    self.one_of(span, &at, "weight", &["regular", "bold"]);
                    self.one_of(span, &at, "style", &["normal", "italic"]);
                    self.one_of(
                        span,
                        &at,
                        "decoration",
                        &["none", "underline", "line-through"],
                    );
                }
            }
        }
        self.size(component, at, "size", FLEX_FONT_SIZES, false);
        self.color(component, at, "color");
        self.one_of(component, at, "weight", &["regular", "bold"]);
        self.one_of(component, at, "style", &["normal", "italic"]);
        self.one_of(
            component,
            at,
            "decoration",
            &["none", "underline", "line-through"],
        );
        self.one_of(component, at, "align", FLEX_ALIGNS);
        self.one_of(component, at, "gravity", FLEX_GRAVITIES);
        if let Some(lines) = component.get("maxLines").filter(|l| !l.is_null())
            && lines.as_u64().is_none()
        {
            self.fail(format!("{at}.maxLines"), "must be a non-negative integer");
        }
        self.action(component, at);
    }
}
