//! Images operators upload to send: kept with a thumbnail, served to LINE at the relay's
//! public address without authentication, refused when LINE would refuse them.

use pretty_assertions::assert_eq;
use tsunagi_proto::api::{Role, Uploaded};
use tsunagi_relay::testing::TestRelay;

use crate::{CHANNEL, enroll};

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
    let test = TestRelay::builder()
        .line("http://127.0.0.1:9")
        .public_url("https://relay.clinic.example")
        .start()
        .await;
    let (base, relay) = (test.url.clone(), test.relay.clone());
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
