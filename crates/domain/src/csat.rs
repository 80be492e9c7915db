//! The satisfaction question asked when a session closes: a quick reply of 1 to 5, each a
//! postback whose data carries the rating.

const PREFIX: &str = "tsunagi:csat:";

/// The postback data of the answer `rating` (1 to 5).
pub fn postback_data(rating: u8) -> String {
    format!("{PREFIX}{}", rating.clamp(1, 5))
}

/// The rating a postback carries, if it answers the question.
pub fn rating(data: &str) -> Option<u8> {
    let rating: u8 = data.strip_prefix(PREFIX)?.parse().ok()?;
    (1..=5).contains(&rating).then_some(rating)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_round_trips_and_anything_else_is_no_rating() {
        for n in 1..=5 {
            assert_eq!(rating(&postback_data(n)), Some(n));
        }
        assert_eq!(rating("tsunagi:csat:6"), None);
        assert_eq!(rating("tsunagi:csat:x"), None);
        assert_eq!(rating("action=book&slot=3"), None);
    }
}
