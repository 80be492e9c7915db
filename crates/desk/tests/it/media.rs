//! Media from the relay, cached on the desk.

use pretty_assertions::assert_eq;
use tsunagi_desk::media::MediaCache;
use tsunagi_line::{ChannelId, MessageId};
use tsunagi_relay::http::Options;
use tsunagi_relay::media::Part;

use crate::{CHANNEL, Network, Proxy, TestRelay, client_at, url_of};

async fn store() -> (tsunagi_desk::Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = tsunagi_desk::Store::open(&dir.path().join("desk.db"))
        .await
        .unwrap();
    (store, dir)
}

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
    let (store, _db) = store().await;
    let client = (&client, &store);
    let photo = cache.get(client, &channel, &message, false).await.unwrap();
    let thumb = cache.get(client, &channel, &message, true).await.unwrap();
    assert_eq!(photo.content_type, "image/jpeg");
    assert_eq!(std::fs::read(&photo.path).unwrap(), b"\xff\xd8 a photo");
    assert_eq!(std::fs::read(&thumb.path).unwrap(), b"\xff\xd8 thumb");

    // The relay out of reach: the cache still has both.
    proxy.set(Network::Down);
    assert_eq!(
        cache.get(client, &channel, &message, false).await.unwrap(),
        photo
    );
    assert_eq!(
        cache.get(client, &channel, &message, true).await.unwrap(),
        thumb
    );
    // What was never fetched is not there offline, and says why.
    let missing = cache
        .get(client, &channel, &MessageId::from("513"), false)
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
    let (store, _db) = store().await;
    let client = (&client, &store);
    let channel = ChannelId::from(CHANNEL);
    let missing = cache
        .get(client, &channel, &MessageId::from("404"), false)
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
        .get(client, &channel, &MessageId::from("../secret"), false)
        .await;
    assert!(
        matches!(bad, Err(tsunagi_desk::Error::Invalid(_))),
        "{bad:?}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn media_the_log_says_is_gone_is_not_asked_of_the_relay() {
    let relay = TestRelay::start(Options::default()).await;
    let proxy = Proxy::start(&url_of(&relay)).await;
    let client = client_at(&relay, &proxy.url).await;
    let (store, _db) = store().await;
    let message = MessageId::from("600");
    store
        .apply(&[crate::log::op(
            1,
            tsunagi_proto::EXECUTOR_DEVICE,
            tsunagi_proto::Operation::Media {
                message: message.clone(),
                outcome: tsunagi_proto::MediaOutcome::Gone,
            },
        )])
        .await
        .unwrap();
    // Were the relay asked, the answer would be that it is out of reach.
    proxy.set(Network::Down);
    let dir = tempfile::tempdir().unwrap();
    let gone = MediaCache::new(dir.path())
        .get(
            (&client, &store),
            &ChannelId::from(CHANNEL),
            &message,
            false,
        )
        .await;
    assert!(
        matches!(gone, Err(tsunagi_desk::Error::Unavailable(_))),
        "{gone:?}"
    );
}

#[tokio::test]
async fn fetches_of_one_file_at_once_each_end_with_it_whole() {
    let relay = TestRelay::start(Options::default()).await;
    let client = client_at(&relay, &url_of(&relay)).await;
    let (store, _db) = store().await;
    let channel = ChannelId::from(CHANNEL);
    let message = MessageId::from("601");
    let video: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();
    relay
        .relay
        .media()
        .unwrap()
        .save(&channel, &message, Part::Content, "video/mp4", &video)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cache = MediaCache::new(dir.path());
    let fetches = (0..8).map(|_| cache.get((&client, &store), &channel, &message, false));
    for fetched in futures_util::future::join_all(fetches).await {
        let fetched = fetched.unwrap();
        assert_eq!(std::fs::read(&fetched.path).unwrap(), video);
    }
    let names: Vec<String> = std::fs::read_dir(dir.path().join(CHANNEL))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");
}
