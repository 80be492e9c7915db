//! Simulated LINE users and groups: patients writing in Thai, Japanese, Traditional Chinese
//! and English.

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};
use tsunagi_line::{GroupId, UserId};

/// One LINE user as the simulated account sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_id: UserId,
    pub display_name: String,
    pub picture_url: Option<String>,
    pub status_message: Option<String>,
    pub language: String,
    /// Has added the account as a friend.
    pub follows: bool,
    /// Has blocked the account.
    pub blocked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub group_id: GroupId,
    pub name: String,
    pub members: Vec<UserId>,
}

const NAMES: &[(&str, &str, &str)] = &[
    ("th", "สมชาย ใจดี", "พักผ่อนให้เพียงพอนะ"),
    ("th", "มาลี ศรีสุข", "🌸"),
    ("th", "ณัฐวุฒิ ทองคำ", ""),
    ("ja", "佐藤 花子", "今日もがんばる"),
    ("ja", "鈴木 一郎", ""),
    ("ja", "たなか ゆい", "🍵"),
    ("zh-TW", "陳 美玲", "平安喜樂"),
    ("zh-TW", "林 志明", ""),
    ("zh-TW", "王 小華", "加油"),
    ("en", "Emily Carter", "Running late, as usual"),
    ("en", "James O'Neill", ""),
    ("en", "Priya Nair", "☕ first"),
];

/// A deterministic user id (`U` + 32 hex digits) for the n-th simulated user.
pub fn user_id(n: u64) -> UserId {
    UserId::new(format!("U{:032x}", 0x7a5e_0000_u128 + u128::from(n)))
}

/// `count` users with names and languages cycling through the four languages, the same for
/// the same seed. Most follow the account; about one in ten has blocked it.
pub fn users(count: usize, seed: u64) -> Vec<User> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|i| {
            let (language, name, status) = NAMES[i % NAMES.len()];
            let round = i / NAMES.len();
            let display_name = if round == 0 {
                name.to_owned()
            } else {
                format!("{name} {}", round + 1)
            };
            let blocked = rng.random_ratio(1, 10);
            User {
                user_id: user_id(i as u64),
                display_name,
                picture_url: Some(format!("https://profile.line-scdn.net/sim/{i}")),
                status_message: (!status.is_empty()).then(|| status.to_owned()),
                language: language.to_owned(),
                follows: !blocked,
                blocked,
            }
        })
        .collect()
}

/// A user the simulation did not start with, acting for the first time: a follower if they
/// follow, else a chatter (who wrote without adding the account, whom LINE still lets the
/// account answer). Their profile is generated from the id, in one of the population's
/// languages, the same for the same id.
pub fn stranger(user_id: &UserId, follows: bool) -> User {
    let hash = user_id
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let (language, name, status) = NAMES[(hash % NAMES.len() as u64) as usize];
    User {
        user_id: user_id.clone(),
        display_name: name.to_owned(),
        picture_url: None,
        status_message: (!status.is_empty()).then(|| status.to_owned()),
        language: language.to_owned(),
        follows,
        blocked: false,
    }
}

/// Whether `id` has the shape of a LINE user id: `U` and 32 hexadecimal digits.
pub fn is_user_id(id: &str) -> bool {
    id.len() == 33
        && id.starts_with('U')
        && id[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `count` users as [`users`] makes them, every one a follower (none blocked): an account's
/// follower list, for reminders and follower syncs.
pub fn followers(count: usize, seed: u64) -> Vec<User> {
    users(count, seed)
        .into_iter()
        .map(|user| User {
            follows: true,
            blocked: false,
            ..user
        })
        .collect()
}

/// A group of the first few users, for group and mention scenarios.
pub fn waiting_room(members: &[User]) -> Group {
    Group {
        group_id: GroupId::new(format!("C{:032x}", 0x6c_0001_u128)),
        name: "Waiting room".to_owned(),
        members: members.iter().take(4).map(|u| u.user_id.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_population_is_the_same_for_the_same_seed_and_covers_four_languages() {
        let a = users(24, 7);
        assert_eq!(a, users(24, 7));
        let languages: std::collections::BTreeSet<_> =
            a.iter().map(|u| u.language.as_str()).collect();
        assert_eq!(languages, ["en", "ja", "th", "zh-TW"].into_iter().collect());
        assert!(a.iter().all(|u| u.user_id.as_str().len() == 33));
        assert!(a.iter().all(|u| u.follows != u.blocked));
    }
}
