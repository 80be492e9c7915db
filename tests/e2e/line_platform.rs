//! What LINE adds to a patient's messages, drawn in the window: the words typed on a
//! message sticker, the message a reply quotes, the date picked in a picker, photos sent
//! together, and a photo hosted outside LINE.

use anyhow::{Context as _, Result, ensure};
use tsunagi_e2e::app::{App, By};
use tsunagi_e2e::clinic::Clinic;
use tsunagi_linesim::{PhotoSet, UserAction};

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
    scroll_to(&app, "//article[@data-type='postback']").await?;
    shots(&app, "line-adds").await?;
    app.close().await
}
