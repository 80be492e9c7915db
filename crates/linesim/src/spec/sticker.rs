//! The stickers a bot may send: LINE's "List of available stickers"
//! (developers.line.biz/en/docs/messaging-api/sticker-list/). A sticker message naming any
//! other is refused; what users send can be any sticker.

/// Each package with the first and last of its sticker ids (each package's ids are a run).
const PACKAGES: &[(u32, u32, u32)] = &[
    (446, 1_988, 2_027),
    (789, 10_855, 10_894),
    (1_070, 17_839, 17_878),
    (6_136, 10_551_376, 10_551_399),
    (6_325, 10_979_904, 10_979_927),
    (6_359, 11_069_848, 11_069_871),
    (6_362, 11_087_920, 11_087_943),
    (6_370, 11_088_016, 11_088_039),
    (6_632, 11_825_374, 11_825_397),
    (8_515, 16_581_242, 16_581_265),
    (8_522, 16_581_266, 16_581_289),
    (8_525, 16_581_290, 16_581_313),
    (11_537, 52_002_734, 52_002_773),
    (11_538, 51_626_494, 51_626_533),
    (11_539, 52_114_110, 52_114_149),
];

pub(super) fn sendable(package_id: &str, sticker_id: &str) -> bool {
    let (Ok(package_id), Ok(sticker_id)) = (package_id.parse::<u32>(), sticker_id.parse::<u32>())
    else {
        return false;
    };
    PACKAGES.iter().any(|&(package, first, last)| {
        package == package_id && (first..=last).contains(&sticker_id)
    })
}
