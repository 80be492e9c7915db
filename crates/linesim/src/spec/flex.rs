//! Flex Messages (spec: `FlexMessage`, `FlexContainer`, `FlexBubble`, `FlexCarousel`,
//! `FlexBubbleStyles`, `FlexBlockStyle`, `FlexComponent` and its mapping, the keyword enums
//! `FlexBoxSpacing` … `FlexOffset`; reference: #flex-message and its component sections).

use serde_json::Value;

use super::action::{self, Place};
use super::message::MAX_ALT_TEXT;
use super::{Check, Str, field, one_of_message, path, text};

/// spec: `FlexComponent.discriminator.mapping`.
const COMPONENTS: &[&str] = &[
    "box",
    "button",
    "image",
    "video",
    "icon",
    "text",
    "span",
    "separator",
    "filler",
];
/// reference: #box: a horizontal or vertical box holds boxes, buttons, images, texts,
/// separators and fillers.
const IN_BOX: &[&str] = &["box", "button", "image", "text", "separator", "filler"];
/// reference: #box: a baseline box holds icons, texts and fillers only (#icon: "can only
/// be used in a baseline box").
const IN_BASELINE: &[&str] = &["icon", "text", "filler"];
/// spec: `FlexBubble.hero` (reference: #bubble: a box, image or video).
const IN_HERO: &[&str] = &["box", "image", "video"];
/// reference: #f-video `altContent`: a box or image.
const ALT_CONTENT: &[&str] = &["box", "image"];

/// spec: `FlexMargin`, `FlexBoxSpacing`, `FlexBoxPadding`, `FlexOffset`, `FlexBoxCornerRadius`.
const SPACES: &[&str] = &["none", "xs", "sm", "md", "lg", "xl", "xxl"];
/// spec: `FlexBoxBorderWidth`.
const BORDER_WIDTHS: &[&str] = &["none", "light", "normal", "medium", "semi-bold", "bold"];
/// spec: `FlexImageSize`.
const IMAGE_SIZES: &[&str] = &[
    "xxs", "xs", "sm", "md", "lg", "xl", "xxl", "3xl", "4xl", "5xl", "full",
];
/// spec: `FlexIconSize`, `FlexTextFontSize`, `FlexSpanSize`.
const FONT_SIZES: &[&str] = &[
    "xxs", "xs", "sm", "md", "lg", "xl", "xxl", "3xl", "4xl", "5xl",
];
const POSITIONS: &[&str] = &["relative", "absolute"];
const ALIGNS: &[&str] = &["start", "end", "center"];
const GRAVITIES: &[&str] = &["top", "bottom", "center"];
const WEIGHTS: &[&str] = &["regular", "bold"];
const STYLES: &[&str] = &["normal", "italic"];
const DECORATIONS: &[&str] = &["none", "underline", "line-through"];

/// reference: #f-carousel "Max bubbles: 12".
const MAX_BUBBLES: usize = 12;
/// reference: #bubble and #f-carousel: a bubble's JSON may be at most 30 KB, a carousel's
/// at most 50 KB.
const MAX_BUBBLE_BYTES: usize = 30 * 1024;
const MAX_CAROUSEL_BYTES: usize = 50 * 1024;
/// spec: `FlexImage.animated`: "You can specify a value of true up to 10 images in a
/// single message."
const MAX_ANIMATED: usize = 10;

/// The state of a walk through one Flex Message.
struct Walk<'c> {
    check: &'c mut Check,
    animated: usize,
}

/// spec: `FlexMessage` (required `altText`, `contents`).
pub(super) fn check(check: &mut Check, at: &str, message: &Value) {
    check.string(message, at, "altText", Str::required(MAX_ALT_TEXT));
    let Some(contents) = check.required(message, at, "contents") else {
        return;
    };
    let mut walk = Walk { check, animated: 0 };
    walk.container(&path(at, "contents"), contents);
}

fn json_len(value: &Value) -> usize {
    serde_json::to_vec(value).map_or(0, |bytes| bytes.len())
}

impl Walk<'_> {
    /// spec: `FlexContainer` (required `type`: bubble | carousel), `FlexCarousel` (required
    /// `contents`: bubbles).
    fn container(&mut self, at: &str, container: &Value) {
        if self.check.object(container, at).is_none() {
            return;
        }
        match self
            .check
            .one_of(container, at, "type", &["bubble", "carousel"], true)
        {
            Some("bubble") => self.bubble(at, container),
            Some("carousel") => {
                if json_len(container) > MAX_CAROUSEL_BYTES {
                    self.check.fail(
                        at,
                        format!("must be at most {MAX_CAROUSEL_BYTES} bytes of JSON"),
                    );
                }
                let Some(bubbles) =
                    self.check
                        .array(container, at, "contents", 1, MAX_BUBBLES, true)
                else {
                    return;
                };
                for (j, bubble) in bubbles.iter().enumerate() {
                    let at = format!("{at}.contents[{j}]");
                    if self.check.object(bubble, &at).is_none() {
                        continue;
                    }
                    if self
                        .check
                        .one_of(bubble, &at, "type", &["bubble"], true)
                        .is_some()
                    {
                        self.bubble(&at, bubble);
                    }
                }
            }
            _ => {}
        }
    }

    /// spec: `FlexBubble` (`direction`, `size` enums; `header`, `body`, `footer` boxes;
    /// `hero` a component; `styles`; `action`); reference: #bubble (a video hero needs a
    /// kilo, mega or giga bubble).
    fn bubble(&mut self, at: &str, bubble: &Value) {
        if json_len(bubble) > MAX_BUBBLE_BYTES {
            self.check.fail(
                at,
                format!("must be at most {MAX_BUBBLE_BYTES} bytes of JSON"),
            );
        }
        self.check
            .one_of(bubble, at, "direction", &["ltr", "rtl"], false);
        let size = self.check.one_of(
            bubble,
            at,
            "size",
            &["nano", "micro", "deca", "hecto", "kilo", "mega", "giga"],
            false,
        );
        for block in ["header", "body", "footer"] {
            if let Some(component) = field(bubble, block) {
                self.component(&path(at, block), component, &["box"]);
            }
        }
        if let Some(hero) = field(bubble, "hero") {
            let kind = self.component(&path(at, "hero"), hero, IN_HERO);
            if kind == Some("video") && !matches!(size.unwrap_or("mega"), "kilo" | "mega" | "giga")
            {
                self.check.fail(
                    path(at, "size"),
                    "must be kilo, mega or giga for a bubble with a video",
                );
            }
        }
        if let Some(styles) = field(bubble, "styles") {
            let at = path(at, "styles");
            if self.check.object(styles, &at).is_some() {
                for block in ["header", "hero", "body", "footer"] {
                    let Some(style) = field(styles, block) else {
                        continue;
                    };
                    // spec: `FlexBlockStyle` (`backgroundColor`, `separator`, `separatorColor`).
                    let at = path(&at, block);
                    if self.check.object(style, &at).is_some() {
                        self.check.color(style, &at, "backgroundColor", true);
                        self.check.boolean(style, &at, "separator");
                        self.check.color(style, &at, "separatorColor", true);
                    }
                }
            }
        }
        self.action(at, bubble);
    }

    fn action(&mut self, at: &str, object: &Value) {
        if let Some(action) = field(object, "action") {
            action::check(self.check, &path(at, "action"), action, Place::Flex);
        }
    }

    /// A component of one of the types `allowed` here; its type when it has one.
    fn component<'v>(
        &mut self,
        at: &str,
        component: &'v Value,
        allowed: &[&str],
    ) -> Option<&'v str> {
        self.check.object(component, at)?;
        let kind = self.check.required(component, at, "type")?.as_str();
        let Some(kind) = kind.filter(|k| COMPONENTS.contains(k)) else {
            self.check
                .fail(path(at, "type"), one_of_message(COMPONENTS));
            return None;
        };
        if !allowed.contains(&kind) {
            self.check.fail(path(at, "type"), one_of_message(allowed));
            return Some(kind);
        }
        self.placement(at, component);
        match kind {
            "box" => self.flex_box(at, component),
            "button" => self.button(at, component),
            "image" => self.image(at, component),
            "video" => self.video(at, component),
            "icon" => self.icon(at, component),
            "text" => self.text(at, component),
            "separator" => {
                // spec: `FlexSeparator` (`margin`, `color`).
                self.check.color(component, at, "color", true);
            }
            // spec: `FlexFiller` (`flex`): nothing beyond the placement.
            _ => {}
        }
        Some(kind)
    }

    /// The properties components share: `flex` (spec: integer; not negative), `margin`
    /// (`FlexMargin` keyword or pixels), `position` and the `offset*` (`FlexOffset`
    /// keyword, pixels or percent).
    fn placement(&mut self, at: &str, component: &Value) {
        self.check
            .integer(component, at, "flex", 0, i64::from(i32::MAX), false);
        self.keyword_or(component, at, "margin", SPACES, false);
        self.check
            .one_of(component, at, "position", POSITIONS, false);
        for offset in ["offsetTop", "offsetBottom", "offsetStart", "offsetEnd"] {
            self.keyword_or(component, at, offset, SPACES, true);
        }
    }

    /// A size given by keyword or in pixels, and with `percent` also in percent.
    fn keyword_or(
        &mut self,
        object: &Value,
        at: &str,
        key: &str,
        keywords: &[&str],
        percent: bool,
    ) {
        let Some(value) = field(object, key) else {
            return;
        };
        let ok = value.as_str().is_some_and(|v| {
            keywords.contains(&v) || text::is_pixels(v) || (percent && text::is_percent(v))
        });
        if !ok {
            let mut shown: Vec<&str> = keywords.to_vec();
            shown.push("{n}px");
            if percent {
                shown.push("{n}%");
            }
            self.check.fail(path(at, key), one_of_message(&shown));
        }
    }

    /// Pixels or percent only (`width`, `height`, …).
    fn length(&mut self, object: &Value, at: &str, key: &str) {
        self.keyword_or(object, at, key, &[], true);
    }

    /// spec: `FlexBox` (required `layout`, `contents`; the enums and sizes below);
    /// reference: #box.
    fn flex_box(&mut self, at: &str, component: &Value) {
        let layout = self.check.one_of(
            component,
            at,
            "layout",
            &["horizontal", "vertical", "baseline"],
            true,
        );
        let allowed = if layout == Some("baseline") {
            IN_BASELINE
        } else {
            IN_BOX
        };
        if let Some(contents) = self
            .check
            .array(component, at, "contents", 0, usize::MAX, true)
        {
            for (k, child) in contents.iter().enumerate() {
                self.component(&format!("{at}.contents[{k}]"), child, allowed);
            }
        }
        self.keyword_or(component, at, "spacing", SPACES, false);
        self.check.color(component, at, "backgroundColor", true);
        self.check.color(component, at, "borderColor", true);
        self.keyword_or(component, at, "borderWidth", BORDER_WIDTHS, false);
        self.keyword_or(component, at, "cornerRadius", SPACES, false);
        for key in ["width", "maxWidth", "height", "maxHeight"] {
            self.length(component, at, key);
        }
        for key in [
            "paddingAll",
            "paddingTop",
            "paddingBottom",
            "paddingStart",
            "paddingEnd",
        ] {
            self.keyword_or(component, at, key, SPACES, true);
        }
        self.check.one_of(
            component,
            at,
            "justifyContent",
            &[
                "center",
                "flex-start",
                "flex-end",
                "space-between",
                "space-around",
                "space-evenly",
            ],
            false,
        );
        self.check.one_of(
            component,
            at,
            "alignItems",
            &["center", "flex-start", "flex-end"],
            false,
        );
        if let Some(background) = field(component, "background") {
            self.background(&path(at, "background"), background);
        }
        self.action(at, component);
    }

    /// spec: `FlexBoxBackground` (required `type`: linearGradient),
    /// `FlexBoxLinearGradient`; reference: #box-background: `angle` (`{n}deg`), `startColor`
    /// and `endColor` required; `centerPosition` in percent.
    fn background(&mut self, at: &str, background: &Value) {
        if self.check.object(background, at).is_none() {
            return;
        }
        self.check
            .one_of(background, at, "type", &["linearGradient"], true);
        if let Some(angle) = self
            .check
            .string(background, at, "angle", Str::required(16))
        {
            let degrees = angle
                .strip_suffix("deg")
                .and_then(|n| n.parse::<f64>().ok());
            if degrees.is_none() {
                self.check
                    .fail(path(at, "angle"), "Invalid angle: must be {n}deg");
            }
        }
        for key in ["startColor", "endColor"] {
            if self.check.required(background, at, key).is_some() {
                self.check.color(background, at, key, true);
            }
        }
        self.check.color(background, at, "centerColor", true);
        if let Some(position) = field(background, "centerPosition")
            && !position.as_str().is_some_and(text::is_percent)
        {
            self.check
                .fail(path(at, "centerPosition"), "Invalid position: must be {n}%");
        }
    }

    /// spec: `FlexButton` (required `action`; `style`, `gravity`, `height`, `adjustMode`
    /// enums; `color`); reference: #button.
    fn button(&mut self, at: &str, component: &Value) {
        if let Some(action) = self.check.required(component, at, "action") {
            action::check(self.check, &path(at, "action"), action, Place::Flex);
        }
        self.check.color(component, at, "color", true);
        self.check.one_of(
            component,
            at,
            "style",
            &["primary", "secondary", "link"],
            false,
        );
        self.check
            .one_of(component, at, "gravity", GRAVITIES, false);
        self.check
            .one_of(component, at, "height", &["md", "sm"], false);
        self.check
            .one_of(component, at, "adjustMode", &["shrink-to-fit"], false);
        self.check.boolean(component, at, "scaling");
    }

    /// spec: `FlexImage` (required `url`, HTTPS at most 2000; `size`; `aspectRatio`
    /// `{width}:{height}`, each 1 to 100000, the height at most three times the width;
    /// `aspectMode`, `align`, `gravity` enums; `animated`).
    fn image(&mut self, at: &str, component: &Value) {
        self.check.https_url(component, at, "url", true);
        self.keyword_or(component, at, "size", IMAGE_SIZES, true);
        self.aspect_ratio(component, at, true);
        self.check
            .one_of(component, at, "aspectMode", &["fit", "cover"], false);
        self.check.one_of(component, at, "align", ALIGNS, false);
        self.check
            .one_of(component, at, "gravity", GRAVITIES, false);
        self.check.color(component, at, "backgroundColor", true);
        if self.check.boolean(component, at, "animated") == Some(true) {
            self.animated += 1;
            if self.animated > MAX_ANIMATED {
                self.check.fail(
                    path(at, "animated"),
                    format!("at most {MAX_ANIMATED} animated images in a message"),
                );
            }
        }
        self.action(at, component);
    }

    fn aspect_ratio(&mut self, component: &Value, at: &str, at_most_three_tall: bool) {
        let Some(value) = field(component, "aspectRatio") else {
            return;
        };
        let parsed = value.as_str().and_then(|ratio| {
            let (width, height) = ratio.split_once(':')?;
            let parse = |n: &str| n.parse::<u32>().ok().filter(|n| (1..=100_000).contains(n));
            Some((parse(width)?, parse(height)?))
        });
        match parsed {
            None => self.check.fail(
                path(at, "aspectRatio"),
                "Invalid aspect ratio: must be {width}:{height}, each 1 to 100000",
            ),
            Some((width, height)) if at_most_three_tall && height > width * 3 => self.check.fail(
                path(at, "aspectRatio"),
                "height must be at most three times the width",
            ),
            Some(_) => {}
        }
    }

    /// spec: `FlexVideo` (required `url`, `previewUrl`, `altContent`); reference: #f-video
    /// (HTTPS; only as a bubble's hero).
    fn video(&mut self, at: &str, component: &Value) {
        self.check.https_url(component, at, "url", true);
        self.check.https_url(component, at, "previewUrl", true);
        if let Some(alt) = self.check.required(component, at, "altContent") {
            self.component(&path(at, "altContent"), alt, ALT_CONTENT);
        }
        self.aspect_ratio(component, at, false);
        self.action(at, component);
    }

    /// spec: `FlexIcon` (required `url`; `size`, `aspectRatio`, `scaling`); reference:
    /// #icon (HTTPS at most 2000).
    fn icon(&mut self, at: &str, component: &Value) {
        self.check.https_url(component, at, "url", true);
        self.keyword_or(component, at, "size", FONT_SIZES, false);
        self.aspect_ratio(component, at, false);
        self.check.boolean(component, at, "scaling");
    }

    /// spec: `FlexText`, `FlexSpan`; reference: #f-text: `text` or `contents` (spans) must
    /// be set; `maxLines` not negative; `lineSpacing` in pixels; #span: `text` required.
    fn text(&mut self, at: &str, component: &Value) {
        let spans = field(component, "contents");
        if spans.is_none() {
            self.check.string(
                component,
                at,
                "text",
                Str::required(usize::MAX).may_be_empty(),
            );
        } else {
            self.check.string(
                component,
                at,
                "text",
                Str::optional(usize::MAX).may_be_empty(),
            );
        }
        if let Some(spans) = self
            .check
            .array(component, at, "contents", 0, usize::MAX, false)
        {
            for (k, span) in spans.iter().enumerate() {
                let at = format!("{at}.contents[{k}]");
                if self.check.object(span, &at).is_none() {
                    continue;
                }
                if self
                    .check
                    .one_of(span, &at, "type", &["span"], true)
                    .is_some()
                {
                    self.span(&at, span);
                }
            }
        }
        self.keyword_or(component, at, "size", FONT_SIZES, false);
        self.check.one_of(component, at, "align", ALIGNS, false);
        self.check
            .one_of(component, at, "gravity", GRAVITIES, false);
        self.check.color(component, at, "color", true);
        self.check.one_of(component, at, "weight", WEIGHTS, false);
        self.check.one_of(component, at, "style", STYLES, false);
        self.check
            .one_of(component, at, "decoration", DECORATIONS, false);
        self.check.boolean(component, at, "wrap");
        self.keyword_or(component, at, "lineSpacing", &[], false);
        self.check
            .integer(component, at, "maxLines", 0, i64::from(i32::MAX), false);
        self.check
            .one_of(component, at, "adjustMode", &["shrink-to-fit"], false);
        self.check.boolean(component, at, "scaling");
        self.action(at, component);
    }

    fn span(&mut self, at: &str, span: &Value) {
        self.check
            .string(span, at, "text", Str::required(usize::MAX).may_be_empty());
        self.keyword_or(span, at, "size", FONT_SIZES, false);
        self.check.color(span, at, "color", true);
        self.check.one_of(span, at, "weight", WEIGHTS, false);
        self.check.one_of(span, at, "style", STYLES, false);
        self.check
            .one_of(span, at, "decoration", DECORATIONS, false);
    }
}
