//! When and how long to wait before trying a LINE call again.

use std::time::Duration;

use rand::Rng as _;

/// Exponential backoff with jitter and a cap.
///
/// Attempt `n` (0-based, after the first failure) waits a random time between half and all of
/// `min(max_delay, initial_delay * 2^n)`, so clients that failed together do not retry in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total tries, the first included. `1` means never retry.
    pub max_attempts: u32,
    pub initial_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before retry number `retry` (0 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        let ceiling = self
            .initial_delay
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_delay);
        let floor = ceiling / 2;
        if ceiling <= floor {
            return ceiling;
        }
        rand::rng().random_range(floor..=ceiling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_within_jitter_bounds_and_stop_at_the_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        for _ in 0..200 {
            let d0 = policy.delay(0);
            assert!((50..=100).contains(&d0.as_millis()), "{d0:?}");
            let d2 = policy.delay(2);
            assert!((200..=400).contains(&d2.as_millis()), "{d2:?}");
            let d9 = policy.delay(9);
            assert!((500..=1000).contains(&d9.as_millis()), "{d9:?}");
        }
    }

    #[test]
    fn jitter_spreads_the_delays() {
        let policy = RetryPolicy::default();
        let distinct: std::collections::HashSet<_> = (0..50).map(|_| policy.delay(3)).collect();
        assert!(distinct.len() > 1, "every delay was the same: {distinct:?}");
    }

    #[test]
    fn huge_retry_counts_do_not_overflow() {
        let policy = RetryPolicy::default();
        assert!(policy.delay(u32::MAX) <= policy.max_delay);
    }
}
