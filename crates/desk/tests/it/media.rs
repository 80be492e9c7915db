//! Media from the relay, cached on the desk.

use pretty_assertions::assert_eq;
use tsunagi_desk::media::MediaCache;
use tsunagi_line::{ChannelId, MessageId};
use tsunagi_relay::http::Options;
use tsunagi_relay::media::Part;

use crate::{CHANNEL, Network, Proxy, TestRelay, client_at, url_of};

#[tokio::test]
async fn media_comes_from_the_relay_once_and_then_from_the_cache_even_offline() {
    let relay = TestRelay::start(Options::default()).await;
    let proxy = Proxy::start(&url_of(&relay)).await;
    let client = client_at(&relay, &proxy.url).await;
    let channel = ChannelId::from(CHANNEL);
    let message = MessageId::from("512");
    let kept = relay.relay.media().expect("the test relay keeps media");
    kept.save(
        &channel,
        &message,
        Part::Content,
        "image/jpeg",
        b"\xff\xd8 a photo",
    )
    .await
    .unwrap();
    kept.save(
        &channel,
        &message,
        Part::Preview,
        "image/jpeg",
        b"\xff\xd8 thumb",
    )
    .await
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let cache = MediaCache::new(dir.path());
    let photo = cache.get(&client, &channel, &message, false).await.unwrap();
    let thumb = cache.get(&client, &channel, &message, true).await.unwrap();
    assert_eq!(photo.content_type, "image/jpeg");
    assert_eq!(std::fs::read(&photo.path).unwrap(), b"\xff\xd8 a photo");
    assert_eq!(std::fs::read(&thumb.path).unwrap(), b"\xff\xd8 thumb");

    // The relay out of reach: the cache still has both.
    proxy.set(Network::Down);
    assert_eq!(
        cache.get(&client, &channel, &message, false).await.unwrap(),
        photo
    );
    assert_eq!(
        cache.get(&client, &channel, &message, true).await.unwrap(),
        thumb
    );
    // What was never fetched is not there offline, and says why.
    let missing = cache
        .get(&client, &channel, &MessageId::from("513"), false)
        .await;
    assert!(
        matches!(missing, Err(tsunagi_desk::Error::Relay(ref e)) if e.is_transient()),
        "{missing:?}"
    );
}

#[tokio::test]
async fn media_the_relay_does_not_have_is_an_error_and_nothing_is_cached() {
    let relay = TestRelay::start(Options::default()).await;
    let client = client_at(&relay, &url_of(&relay)).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = MediaCache::new(dir.path());
    let channel = ChannelId::from(CHANNEL);
    let missing = cache
        .get(&client, &channel, &MessageId::from("404"), false)
        .await;
    assert!(
        matches!(
            missing,
            Err(tsunagi_desk::Error::Relay(
                tsunagi_desk::relay::Error::Refused { status: 404, .. }
            ))
        ),
        "{missing:?}"
    );
    let bad = cache
        .get(&client, &channel, &MessageId::from("../secret"), false)
        .await;
    assert!(
        matches!(bad, Err(tsunagi_desk::Error::Invalid(_))),
        "{bad:?}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
