//! Native alerts from the real window: a D-Bus notification server the test plays sees
//! every notification the app shows.

use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use tsunagi_e2e::app::{App, By, WAIT};
use tsunagi_e2e::clinic::Clinic;
use tsunagi_proto::api::Role;
use tsunagi_proto::{BusinessHours, HandoffSettings, Operation, Setting};

use crate::desktop::{self, Desktop};
use crate::notifications::Notifications;
use crate::operator::{join, join_as, patient_waits, skip};

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
    notifications.until(1, Duration::from_secs(20)).await?;
    // The message and its handoff come in separate batches: still one alert.
    let shown = notifications
        .no_more_than(1, Duration::from_secs(2))
        .await?;
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

    // A click on it opens the patient's chat.
    app.find(By::Text("Choose a conversation on the left."))
        .await?;
    notifications.click(1).await?;
    app.find(By::Button("Claim")).await?;
    app.find(By::XPath(&format!(
        "//section//h2[normalize-space(.)='{name}']"
    )))
    .await?;
    app.close().await
}

/// Saves the settings dialog and closes it.
async fn save_settings(app: &App) -> Result<()> {
    app.click(By::Button("Save")).await?;
    app.find(By::XPath(
        "//*[@role='dialog']//*[@role='status'][normalize-space(.)='Saved']",
    ))
    .await
    .context("the settings were not saved")?;
    app.click(By::Button("Close")).await
}

#[tokio::test]
async fn repeats_stop_when_another_desk_claims_quiet_hours_keep_the_desk_silent_and_a_test_alert_shows()
-> Result<()> {
    if skip() {
        return Ok(());
    }
    let notifications = Notifications::serve().await?;
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join(&app, &clinic, "Aiko").await?;

    // Every ten seconds while nobody takes a chat (sooner is refused, in words); a test
    // alert to hear it.
    app.click(By::Button("Alerts")).await?;
    app.find(By::Region("Alert settings")).await?;
    app.type_into(
        "Alert again while nobody takes a chat, every (seconds)",
        "3",
    )
    .await?;
    app.click(By::Button("Save")).await?;
    let refused = app.find(By::Alert).await?.text().await?;
    ensure!(
        refused.contains("10 seconds at the soonest"),
        "the refusal says: {refused}"
    );
    app.type_into(
        "Alert again while nobody takes a chat, every (seconds)",
        "10",
    )
    .await?;
    app.screenshot("alert-settings").await?;
    app.click(By::Button("Send a test alert")).await?;
    let shown = notifications.until(1, Duration::from_secs(10)).await?;
    ensure!(
        shown[0].summary == "Tsunagi" && shown[0].body == "Asks for a person",
        "{shown:?}"
    );
    save_settings(&app).await?;

    // Unclaimed, the handoff is alerted again; claimed on another desk, never more.
    let patient = patient_waits(&clinic, 2).await?;
    notifications.until(3, Duration::from_secs(25)).await?;
    clinic.claim_as("d-somchai", &patient).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let claimed_at = notifications.shown().len();
    notifications
        .no_more_than(claimed_at, Duration::from_secs(13))
        .await
        .context("alerted after the claim")?;

    // Quiet all day: a patient who asks is not alerted.
    app.click(By::Button("Alerts")).await?;
    app.click(By::Choice("Quiet hours (in the clinic’s time zone)"))
        .await?;
    app.type_into("Quiet from", "00:01").await?;
    app.type_into("Quiet until", "00:00").await?;
    app.screenshot("alert-settings-quiet").await?;
    save_settings(&app).await?;
    patient_waits(&clinic, 5).await?;
    notifications
        .no_more_than(claimed_at, Duration::from_secs(5))
        .await
        .context("alerted in quiet hours")?;

    // Quiet hours off again: the next one is.
    app.click(By::Button("Alerts")).await?;
    app.click(By::Choice("Quiet hours (in the clinic’s time zone)"))
        .await?;
    save_settings(&app).await?;
    patient_waits(&clinic, 7).await?;
    notifications
        .until(claimed_at + 1, Duration::from_secs(20))
        .await?;

    // Starting at login: the OS's autostart entry appears, and goes again.
    let autostart = app.autostart_dir();
    let entries = |count: usize| {
        let autostart = autostart.clone();
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                let now = std::fs::read_dir(&autostart)
                    .map(|dir| dir.filter_map(|e| e.ok()).count())
                    .unwrap_or(0);
                if now == count {
                    return true;
                }
                if tokio::time::Instant::now() > deadline {
                    return false;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    app.click(By::Button("Alerts")).await?;
    let start_at_login = By::Choice("Start Tsunagi when I sign in to this computer");
    app.click(start_at_login).await?;
    ensure!(
        entries(1).await,
        "no autostart entry in {}",
        autostart.display()
    );
    app.click(start_at_login).await?;
    ensure!(entries(0).await, "the autostart entry stayed");
    app.click(By::Button("Close")).await?;

    // The settings in Thai (the language picker's menu takes the next click: last).
    app.speak("ไทย").await?;
    app.click(By::Button("การแจ้งเตือน")).await?;
    app.find(By::Region("ตั้งค่าการแจ้งเตือน")).await?;
    app.screenshot("alert-settings-th").await?;
    app.close().await
}

#[tokio::test]
async fn the_tray_and_the_dock_count_who_waits_and_the_trays_menu_pauses_alerts() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let notifications = Notifications::serve().await?;
    let desktop = Desktop::serve().await?;
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join(&app, &clinic, "Aiko").await?;
    let tray = desktop.tray_icon(WAIT).await?;
    let english = [
        "Open Tsunagi",
        "Pause alerts for 30 minutes",
        "Pause alerts for 1 hour",
        "Resume alerts",
        "Quit",
    ];
    tray.until_menu(&english, WAIT).await?;
    // The items the desktop knows stay the same ones while the count and the words change:
    // a menu replaced under the operator's pointer closes, and a click on it goes nowhere.
    let ids = || async {
        Ok::<_, anyhow::Error>(
            tray.menu()
                .await?
                .into_iter()
                .map(|(id, _)| id)
                .collect::<Vec<_>>(),
        )
    };
    let items = ids().await?;
    ensure!(
        tray.label().await?.is_empty(),
        "a count with nobody waiting"
    );

    patient_waits(&clinic, 4).await?;
    notifications.until(1, WAIT).await?;
    tray.until_label("1", WAIT).await?;
    desktop.until_badge(Some(1), WAIT).await?;
    ensure!(
        ids().await? == items,
        "a patient waiting rebuilt the tray's menu"
    );

    // Paused from the tray, a second patient waits in silence, but is counted.
    tray.choose("Pause alerts for 30 minutes").await?;
    patient_waits(&clinic, 5).await?;
    tray.until_label("2", WAIT).await?;
    desktop.until_badge(Some(2), WAIT).await?;
    notifications
        .no_more_than(1, Duration::from_secs(3))
        .await
        .context("alerts paused from the tray still sounded")?;
    // The window says so, and resumes them.
    let paused =
        |words: &str| format!("//*[@role='status'][starts-with(normalize-space(.), '{words}')]");
    app.find(By::XPath(&paused("Alerts paused until"))).await?;
    app.screenshot("alerts-paused").await?;
    app.click(By::Button("Resume alerts")).await?;
    app.gone(By::XPath(&paused("Alerts paused until"))).await?;
    patient_waits(&clinic, 6).await?;
    let shown = notifications.until(2, WAIT).await?;
    let name = &clinic.patients()[6].display_name;
    ensure!(&shown[1].summary == name, "{shown:?}");

    // The menu speaks the operator's language.
    app.speak("ไทย").await?;
    tray.until_menu(
        &[
            "เปิด Tsunagi",
            "หยุดแจ้งเตือน 30 นาที",
            "หยุดแจ้งเตือน 1 ชั่วโมง",
            "แจ้งเตือนต่อ",
            "ออก",
        ],
        WAIT,
    )
    .await?;
    ensure!(ids().await? == items, "new words rebuilt the tray's menu");
    // Paused and resumed from the tray in Thai, the window following.
    tray.choose("หยุดแจ้งเตือน 30 นาที").await?;
    app.find(By::XPath(&paused("หยุดแจ้งเตือนถึง"))).await?;
    app.screenshot("alerts-paused-th").await?;
    tray.choose("แจ้งเตือนต่อ").await?;
    app.gone(By::XPath(&paused("หยุดแจ้งเตือนถึง"))).await?;

    // Claimed, a chat leaves the count; with nobody waiting, the badge goes.
    for n in [4, 5, 6] {
        let patient = clinic.patients()[n].user_id.clone();
        clinic.claim_as("d-somchai", &patient).await?;
    }
    tray.until_label("", WAIT).await?;
    desktop.until_badge(None, WAIT).await?;
    app.close().await
}

#[tokio::test]
async fn a_chat_nobody_takes_reaches_the_owners_desk_with_every_staff_desk_closed() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let notifications = Notifications::serve().await?;
    let clinic = Clinic::start(12).await?;
    // The clinic escalates after four seconds of waiting (five minutes unless set).
    clinic
        .act_as(
            "d-owner-setup",
            Operation::Settings(Setting::Handoff(HandoffSettings {
                escalate_seconds: 4,
                ..HandoffSettings::default()
            })),
        )
        .await?;
    // The front desk joined once, and is closed now.
    let front = App::launch(true).await?;
    join(&front, &clinic, "Aiko").await?;
    front.close().await?;
    let owner = App::launch(true).await?;
    join_as(&owner, &clinic, "Dr. Tanaka", Role::Owner).await?;

    patient_waits(&clinic, 8).await?;
    let name = clinic.patients()[8].display_name.clone();
    let shown = notifications.until(2, Duration::from_secs(20)).await?;
    let kinds: Vec<(&str, &str)> = shown
        .iter()
        .map(|n| (n.summary.as_str(), n.body.as_str()))
        .collect();
    ensure!(
        kinds
            == [
                (name.as_str(), "Asks for a person"),
                (name.as_str(), "Still waiting: nobody has taken this chat"),
            ],
        "{kinds:?}"
    );
    owner.close().await
}

#[tokio::test]
async fn a_second_launch_brings_the_first_window_forward_and_exits() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let app = App::launch(true).await?;
    app.find(By::Text("Join your clinic's relay")).await?;
    // The operator has gone to another program, which has the keyboard.
    let _elsewhere = desktop::focus_elsewhere()?;
    until_focused(&app, false).await?;

    let second = app.launch_again(Duration::from_secs(30)).await?;
    ensure!(second.success(), "the second launch ended with {second}");
    // The first is still there, answers, and has the keyboard.
    until_focused(&app, true)
        .await
        .context("the second launch did not bring the first window forward")?;
    app.find(By::Text("Join your clinic's relay")).await?;
    app.close().await
}

/// Waits until the window has the keyboard (`focused`) or has lost it.
async fn until_focused(app: &App, focused: bool) -> Result<()> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let has = app
            .client
            .execute("return document.hasFocus();", vec![])
            .await?;
        if has.as_bool() == Some(focused) {
            return Ok(());
        }
        ensure!(
            std::time::Instant::now() < deadline,
            "the window's focus stayed {has}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn words_of_an_emergency_at_night_skip_the_ai_lead_the_queue_and_alert_the_owner_in_quiet_hours()
-> Result<()> {
    if skip() {
        return Ok(());
    }
    let notifications = Notifications::serve().await?;
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Yuki", Role::Owner).await?;
    // Two patients wait already; then the clinic closes for the night, the AI responder
    // answering at any hour, and Telegram alerts on.
    patient_waits(&clinic, 2).await?;
    patient_waits(&clinic, 3).await?;
    clinic.automations_on().await?;
    let closed = BusinessHours {
        time_zone: "Asia/Bangkok".into(),
        open: vec![],
        holidays: vec![],
        away_message: Some("คลินิกปิดแล้วค่ะ".into()),
    };
    clinic
        .act_as(
            "d-owner",
            Operation::Settings(Setting::BusinessHours(closed)),
        )
        .await?;
    // The owner's desk is quiet all night (all day, here).
    app.click(By::Button("Alerts")).await?;
    app.click(By::Choice("Quiet hours (in the clinic’s time zone)"))
        .await?;
    app.type_into("Quiet from", "00:01").await?;
    app.type_into("Quiet until", "00:00").await?;
    save_settings(&app).await?;
    let before = notifications.shown().len();

    let patient = clinic.patients()[4].user_id.clone();
    let name = clinic.patients()[4].display_name.clone();
    clinic.says(&patient, "หายใจไม่ออก").await?;
    // The urgent-care message, with Thailand's emergency number, within seconds.
    let received = clinic
        .received_within(&patient, 1, Duration::from_secs(5))
        .await?;
    ensure!(
        received.len() == 1
            && received[0].message["text"]
                .as_str()
                .is_some_and(|t| t.contains("1669")),
        "{received:?}"
    );
    // The owner is alerted through the quiet hours, by name, and on Telegram.
    let shown = notifications
        .until(before + 1, Duration::from_secs(20))
        .await?;
    let alert = &shown[before];
    ensure!(
        alert.summary == name && alert.body == "URGENT: words of an emergency",
        "{alert:?}"
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    while !clinic
        .sim
        .telegram_messages()
        .iter()
        .any(|m| m.text.starts_with(&format!("URGENT: {name}")))
    {
        ensure!(
            tokio::time::Instant::now() < deadline,
            "no Telegram alert: {:?}",
            clinic.sim.telegram_messages()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // First in Waiting, ahead of those who asked before, marked urgent.
    app.click(By::Tab("Waiting")).await?;
    app.until_text(By::Tab("Waiting"), "three waiting", |t| t.ends_with('3'))
        .await?;
    let first = "(//*[@role='listbox']//*[@role='option'])[1]";
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        // All of the row's words (WebKit's driver leaves out text an ellipsis clips).
        let text = app
            .find(By::XPath(first))
            .await?
            .prop("textContent")
            .await?
            .unwrap_or_default();
        if text.contains(&name) && text.contains("Urgent") && text.contains("No. 1 in line") {
            break;
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the first row: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.screenshot("red-flag-waiting").await?;
    // Nobody asked the model, and the patient was told once: no away reply, no queue line.
    ensure!(
        clinic.sim.ai_calls().is_empty(),
        "{:?}",
        clinic.sim.ai_calls()
    );
    ensure!(
        clinic.received(&patient).len() == 1,
        "{:?}",
        clinic.received(&patient)
    );
    app.close().await
}

#[tokio::test]
async fn an_owner_edits_the_red_flags_and_the_patient_gets_the_clinics_words() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Yuki", Role::Owner).await?;
    app.choose("Clinic", "Settings").await?;
    app.click(By::Tab("Red flags")).await?;
    // Seeded for the clinic: the Japanese phrases are there to start from.
    let phrases = app
        .find(By::Textbox("Phrases in Japanese, one per line"))
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    ensure!(phrases.contains("息苦しい"), "{phrases}");
    app.type_into("Emergency number", "1669").await?;
    app.type_into("Phrases in English, one per line", "fainted")
        .await?;
    app.type_into(
        "Urgent-care message in English",
        "Please call {{number}} now. A nurse will call you back.",
    )
    .await?;
    app.screenshot("settings-red-flags").await?;
    app.click(By::Button("Save")).await?;
    app.find(By::XPath(
        "//*[@role='dialog']//*[@role='status'][starts-with(normalize-space(.), 'Saved')]",
    ))
    .await
    .context("the red flags were not saved")?;
    app.click(By::Button("Close")).await?;

    let patient = clinic.patients()[6].user_id.clone();
    clinic
        .says(&patient, "My father FAINTED in the bathroom")
        .await?;
    let received = clinic.until_received(&patient, 1).await?;
    let text = received[0].message["text"].as_str().unwrap_or_default();
    // The patient's LINE may be in any language; the clinic wrote this one in English only
    // where it has no other (and the seeded ones name the new number too).
    ensure!(text.contains("1669"), "{text}");
    app.find(By::XPath("//*[@role='option'][contains(., 'Urgent')]"))
        .await?;

    // The settings in Thai.
    app.speak("ไทย").await?;
    app.choose("คลินิก", "ตั้งค่า").await?;
    app.click(By::Tab("คำฉุกเฉิน")).await?;
    app.screenshot("settings-red-flags-th").await?;
    app.close().await
}
