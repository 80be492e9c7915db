//! The stickers a bot may send: LINE's sticker list (developers.line.biz, Messaging API,
//! "List of available stickers"). Any other package is refused with 400. What users send
//! can be any sticker.

use serde::Serialize;

/// One package of sendable stickers: its id and its stickers' ids (a run of numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StickerPackage {
    pub package_id: u32,
    pub first: u32,
    pub last: u32,
}

impl StickerPackage {
    pub fn sticker_ids(&self) -> impl Iterator<Item = u32> {
        self.first..=self.last
    }
}

const fn package(package_id: u32, first: u32, last: u32) -> StickerPackage {
    StickerPackage {
        package_id,
        first,
        last,
    }
}

/// Every package LINE lets bots send, in the list's order.
pub const SENDABLE: &[StickerPackage] = &[
    package(446, 1988, 2027),
    package(789, 10855, 10894),
    package(1070, 17839, 17878),
    package(6136, 10551376, 10551399),
    package(6325, 10979904, 10979927),
    package(6359, 11069848, 11069871),
    package(6362, 11087920, 11087943),
    package(6370, 11088016, 11088039),
    package(6632, 11825374, 11825397),
    package(8515, 16581242, 16581265),
    package(8522, 16581266, 16581289),
    package(8525, 16581290, 16581313),
    package(11537, 52002734, 52002773),
    package(11538, 51626494, 51626533),
    package(11539, 52114110, 52114149),
];

/// Whether a bot may send this sticker.
pub fn sendable(package_id: &str, sticker_id: &str) -> bool {
    let (Ok(package_id), Ok(sticker_id)) = (package_id.parse::<u32>(), sticker_id.parse::<u32>())
    else {
        return false;
    };
    SENDABLE
        .iter()
        .any(|p| p.package_id == package_id && (p.first..=p.last).contains(&sticker_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_stickers_are_sendable() {
        assert!(sendable("8515", "16581254"));
        assert!(sendable("446", "1988"));
        assert!(sendable("11539", "52114149"));
        assert!(!sendable("8515", "16581266"), "8522's sticker in 8515");
        assert!(!sendable("1", "1"));
        assert!(!sendable("446", "x"));
        assert_eq!(SENDABLE.len(), 15);
    }
}
