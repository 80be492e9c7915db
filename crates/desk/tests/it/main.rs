//! The desk against a real relay, in process, on a fresh database.

// Test helpers fail by panicking at the line that broke, like the tests they serve.
#![allow(clippy::unwrap_used)]

mod analytics;
mod app;
mod line_fixtures;
mod local_copy;
use tsunagi_proto::testing as log;
mod media;
mod projection;
mod retention;
mod stream;
mod sync;
mod untrusted_relay;

use tsunagi_desk::relay::{DeviceToken, RelayClient};
use tsunagi_line::{ChannelId, UserId};
use tsunagi_proto::api::Role;
use tsunagi_proto::{OpId, Operation, Seq};
use url::Url;

pub(crate) use tsunagi_relay::testing::{CHANNEL, Network, Proxy, TestRelay};

/// The relay's address, parsed.
pub(crate) fn url_of(relay: &TestRelay) -> Url {
    Url::parse(&relay.url).unwrap()
}

/// A new device's client of the relay, reached at `url` (the relay, or a proxy in front).
pub(crate) async fn client_at(relay: &TestRelay, url: &Url) -> RelayClient {
    let enrolled = relay.enroll("Yuki", Role::Owner).await;
    RelayClient::new(url.clone(), DeviceToken::new(enrolled.token)).unwrap()
}

/// Appends a note op; its seq.
pub(crate) async fn note(client: &RelayClient, text: &str) -> Seq {
    let op = Operation::Note {
        contact: UserId::from("U4af4980629a1b2c3d4e5f60718293a4b"),
        text: text.into(),
    };
    client
        .append(&ChannelId::from(CHANNEL), OpId::new(), &op)
        .await
        .unwrap()
}
