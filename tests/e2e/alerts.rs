//! Native alerts from the real window: a D-Bus notification server the test plays sees
//! every notification the app shows.

use std::time::Duration;

use anyhow::{Result, ensure};
use tsunagi_e2e::app::App;
use tsunagi_e2e::clinic::Clinic;

use crate::notifications::Notifications;
use crate::operator::{join, patient_waits, skip};

#[tokio::test]
async fn a_patient_asking_for_a_person_is_one_notification_with_their_name_and_not_their_words()
-> Result<()> {
    if skip() {
        return Ok(());
    }
    let notifications = Notifications::serve().await?;
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join(&app, &clinic, "Aiko").await?;
    ensure!(
        notifications.shown().is_empty(),
        "joining alerted: {:?}",
        notifications.shown()
    );

    patient_waits(&clinic, 4).await?;
    let name = clinic.patients()[4].display_name.clone();
    let shown = notifications.until(1, Duration::from_secs(20)).await?;
    // The message and its handoff come in separate batches: still one alert.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let shown = if notifications.shown().len() > shown.len() {
        notifications.shown()
    } else {
        shown
    };
    ensure!(shown.len() == 1, "more than one notification: {shown:?}");
    let notification = &shown[0];
    // Front-desk screens are seen by patients: by default the name, never the words.
    ensure!(
        notification.summary == name && notification.body == "Asks for a person",
        "{notification:?}"
    );
    let call = format!(
        "{} {} {} {}",
        notification.app_name, notification.summary, notification.body, notification.rest
    );
    ensure!(
        !call.contains("スタッフと話したい") && !call.contains("スタッフ"),
        "the patient's words are in the notification: {call}"
    );
    app.close().await
}
