//! What LINE adds to a patient's messages, drawn in the window: the words typed on a
//! message sticker, the message a reply quotes, the date picked in a picker, photos sent
//! together, and a photo hosted outside LINE.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, ensure};
use serde_json::{Value, json};
use tsunagi_e2e::app::{App, By};
use tsunagi_e2e::clinic::{CHANNEL, Clinic, SECRET};
use tsunagi_line::UserId;
use tsunagi_line::signature::{SIGNATURE_HEADER, sign};
use tsunagi_linesim::{ExternalMedia, PhotoSet, UserAction};
use tsunagi_relay::testing::line_fixtures;

use crate::operator::{join, patient_waits, scroll_to, skip};
use crate::worklist::shots;

#[tokio::test]
async fn what_line_adds_to_a_patients_messages_is_drawn() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join(&app, &clinic, "Aiko").await?;
    let patient = patient_waits(&clinic, 4).await?;
    let name = clinic.patients()[4].display_name.clone();
    let asked = clinic
        .sim
        .say(
            &patient,
            UserAction::Text {
                text: "火曜日の10時に予約できますか".into(),
            },
        )
        .await?;
    let asked = asked.events[0]
        .message_id
        .clone()
        .context("a message has an id")?;
    let photo = |index| UserAction::Photo {
        image_set: Some(PhotoSet {
            id: "E2E-SET".into(),
            index,
            total: 2,
        }),
        external: None,
    };
    for action in [
        UserAction::MessageSticker {
            package_id: "11539".into(),
            sticker_id: "52114110".into(),
            text: "よろしくお願いします".into(),
            keywords: vec!["Please".into()],
            quoted_message_id: None,
        },
        UserAction::Quote {
            text: "やはり水曜日の午後でもいいですか".into(),
            quoted_message_id: asked,
        },
        UserAction::Postback {
            data: "action=book".into(),
            params: Some(serde_json::json!({ "datetime": "2026-09-03T15:30" })),
        },
        photo(1),
        photo(2),
        // A photo its sender keeps outside LINE: the relay fetches and keeps it.
        UserAction::Photo {
            image_set: None,
            external: Some(ExternalMedia::hosted_by(&clinic.sim_url, "outside")),
        },
    ] {
        let report = clinic.sim.say(&patient, action).await?;
        ensure!(report.attempt.status == Some(200), "{report:?}");
    }
    app.click(By::Option(&name)).await?;
    app.click(By::Button("Claim")).await?;
    app.find(By::Text("You are answering this chat.")).await?;

    // The words on the sticker are the inbox row's preview, and are under the sticker.
    scroll_to(
        &app,
        "//article[@data-type='sticker']//p[.='よろしくお願いします']",
    )
    .await?;
    // The quote names what it answers.
    scroll_to(
        &app,
        "//article[@data-type='text']//blockquote[contains(., '火曜日の10時に予約できますか')]",
    )
    .await?;
    scroll_to(
        &app,
        "//article[@data-type='postback']//p[.='Picked Sep 3, 2026, 3:30 PM']",
    )
    .await?;
    for n in [1, 2] {
        scroll_to(
            &app,
            &format!("//article[@data-type='image']//*[.='Photo {n} of 2 sent together']"),
        )
        .await?;
    }
    // The last photo came from outside LINE, through the relay, like LINE's own.
    let photos = app.all(By::XPath("//article[@data-type='image']")).await?;
    ensure!(photos.len() >= 3, "{} photos drawn", photos.len());
    scroll_to(
        &app,
        "(//article[@data-type='image'])[last()]//button[@aria-label='Open photo']",
    )
    .await?;
    app.until_image_loaded(
        r#"article[data-type="image"]:last-of-type button[aria-label="Open photo"] img"#,
        "the photo kept outside LINE never showed",
    )
    .await?;
    shots(&app, "line-adds-outside").await?;
    scroll_to(&app, "//article[@data-type='postback']").await?;
    shots(&app, "line-adds").await?;
    app.close().await
}

/// The first 1:1 message event of each message type in LINE's own fixtures, as `patient`
/// sent it: the events' own messages, their ids made unique, without reply tokens.
fn one_message_of_each_type(patient: &UserId) -> Option<BTreeMap<String, Value>> {
    let mut picked = BTreeMap::new();
    for (name, body) in line_fixtures::bodies()? {
        let Ok(body) = serde_json::from_slice::<Value>(&body) else {
            continue;
        };
        let events = body["events"].as_array().cloned().unwrap_or_default();
        for (n, mut event) in events.into_iter().enumerate() {
            let kind = event["message"]["type"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if event["type"] != "message"
                || event["source"]["type"] != "user"
                || kind.is_empty()
                || picked.contains_key(&kind)
            {
                continue;
            }
            event["source"] = json!({ "type": "user", "userId": patient });
            event["webhookEventId"] = json!(format!("e2e-{name}-{n}"));
            event["mode"] = json!("active");
            if let Some(fields) = event.as_object_mut() {
                fields.remove("replyToken");
            }
            picked.insert(kind, event);
        }
    }
    Some(picked)
}

#[tokio::test]
async fn lines_own_message_bodies_are_drawn_one_of_each_type() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(12).await?;
    let patient = clinic.patients()[5].user_id.clone();
    let Some(picked) = one_message_of_each_type(&patient) else {
        eprintln!(
            "skipped: no LINE fixtures at {} (set TSUNAGI_LINE_FIXTURES)",
            line_fixtures::dir().display()
        );
        return Ok(());
    };
    let app = App::launch(true).await?;
    join(&app, &clinic, "Aiko").await?;
    patient_waits(&clinic, 5).await?;
    let name = clinic.patients()[5].display_name.clone();
    let body = serde_json::to_vec(&json!({
        "destination": clinic.sim.config().bot_user_id,
        "events": picked.values().collect::<Vec<_>>(),
    }))?;
    let status = reqwest::Client::new()
        .post(format!("{}/webhook/line/{CHANNEL}", clinic.relay_address))
        .header(SIGNATURE_HEADER, sign(SECRET.as_bytes(), &body))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?
        .status();
    ensure!(status.is_success(), "the relay answered {status}");

    app.click(By::Option(&name)).await?;
    app.click(By::Button("Claim")).await?;
    app.find(By::Text("You are answering this chat.")).await?;
    let kinds: Vec<&String> = picked.keys().collect();
    eprintln!("LINE's fixtures give one message of each of: {kinds:?}");
    for kind in [
        "text", "image", "video", "audio", "file", "location", "sticker",
    ] {
        ensure!(
            picked.contains_key(kind),
            "LINE's fixtures have no {kind} message"
        );
    }
    for (n, kind) in kinds.iter().enumerate() {
        scroll_to(&app, &format!("//article[@data-type='{kind}']")).await?;
        if n % 2 == 0 {
            let shot = app.screenshot(&format!("line-fixtures-{kind}")).await?;
            eprintln!("screenshot: {}", shot.display());
        }
    }
    app.close().await
}
