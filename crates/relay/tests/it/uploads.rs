//! Images operators upload to send: kept with a thumbnail, served to LINE at the relay's
//! public address without authentication, refused when LINE would refuse them.

use std::sync::Arc;

use pretty_assertions::assert_eq;
use tsunagi_line::ChannelId;
use tsunagi_proto::api::{Role, Uploaded};
use tsunagi_relay::Relay;
use tsunagi_relay::line_setup::LineSetup;
use tsunagi_relay::media::MediaStore;
use tsunagi_relay::secret::{ChannelSecret, RelayKey};
use tsunagi_relay::store::SqliteStore;

use crate::{CHANNEL, SECRET, enroll};

fn jpeg() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([x as u8, y as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

#[tokio::test]
async fn an_uploaded_image_is_served_publicly_at_the_relays_https_address_for_line() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let relay = Arc::new(
        Relay::new(
            SqliteStore::open(&dir.path().join("relay.db"))
                .await
                .unwrap(),
            RelayKey::generate(),
        )
        .with_line(LineSetup {
            api_base: "http://127.0.0.1:9".into(),
            data_base: "http://127.0.0.1:9".into(),
            public_url: "https://relay.clinic.example".into(),
        })
        .with_media(MediaStore::new(dir.path().join("media"))),
    );
    relay
        .add_channel(&ChannelId::from(CHANNEL), ChannelSecret::new(SECRET))
        .await
        .unwrap();
    tokio::spawn(tsunagi_relay::http::serve(
        listener,
        relay.clone(),
        tsunagi_relay::http::Options::default(),
        std::future::pending(),
    ));
    let http = reqwest::Client::new();
    let token = enroll(&http, &base, &relay, CHANNEL, Role::Staff).await;
    let upload = |body: Vec<u8>, token: Option<&str>| {
        let mut request = http
            .post(format!("{base}/v1/channels/{CHANNEL}/uploads"))
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    let original = jpeg();
    let answer = upload(original.clone(), Some(&token)).await.unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    let uploaded: Uploaded = answer.json().await.unwrap();
    let path = uploaded
        .original_content_url
        .strip_prefix("https://relay.clinic.example")
        .expect("at the public address");
    assert!(path.starts_with("/public/uploads/"), "{path}");
    assert_eq!(
        uploaded.preview_image_url,
        format!("{}/preview", uploaded.original_content_url)
    );

    // LINE fetches both without a token.
    let served = http.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    assert_eq!(served.bytes().await.unwrap().to_vec(), original);
    let preview = http
        .get(format!("{base}{path}/preview"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let small = image::load_from_memory(&preview).unwrap();
    assert_eq!((small.width(), small.height()), (240, 180));

    // Refused: no token, not an image; an unknown name is not found.
    assert_eq!(upload(jpeg(), None).await.unwrap().status().as_u16(), 401);
    let refused = upload(b"%PDF-1.7".to_vec(), Some(&token)).await.unwrap();
    assert_eq!(refused.status().as_u16(), 422);
    let missing = http
        .get(format!("{base}/public/uploads/{}", "0".repeat(32)))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}
