//! Tsunagi's relay: the only place LINE's webhooks land. Each is verified, written to a
//! durable, ordered log per channel, and only then acknowledged; desks read the log.

pub mod assistant;
pub mod backup;
pub mod clock;
pub mod egress;
pub mod erased;
pub mod executor;
mod files;
pub mod http;
mod line_account;
pub mod line_setup;
pub mod media;
pub mod metrics;
pub mod relay;
pub mod secret;
pub mod store;
pub mod sweep;
pub mod telegram;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token;
pub mod upload;

pub use relay::Relay;
