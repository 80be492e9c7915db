//! The time as the relay judges it: when a webhook or an op arrived, whether a reply
//! token is still fresh, when a lease lapses, when a reminder or an idle close is due. The
//! HTTP side and the executor read the one clock their [`Relay`](crate::Relay) holds.

use tsunagi_proto::UnixMillis;

/// A source of the current time, in Unix milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Clock(fn() -> UnixMillis);

impl Clock {
    /// The system's clock.
    pub const SYSTEM: Clock = Clock(UnixMillis::now);

    /// A clock that reads `now` (a test's, ahead of the system's by some minutes, say).
    pub const fn new(now: fn() -> UnixMillis) -> Clock {
        Clock(now)
    }

    pub fn now(&self) -> UnixMillis {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::SYSTEM
    }
}
