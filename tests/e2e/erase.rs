//! Erasing a patient from the window: an owner types the word the window asks for, in
//! their language, and the patient is gone from the inbox, the relay's log and the audit's
//! words, the audit keeping only who erased which LINE account.

use anyhow::{Result, ensure};
use tsunagi_e2e::app::{App, By};
use tsunagi_e2e::clinic::{CHANNEL, Clinic};
use tsunagi_line::ChannelId;
use tsunagi_proto::Seq;
use tsunagi_proto::api::Role;
use tsunagi_relay::store::LogStore as _;

use crate::operator::{join_as, patient_waits, skip};
use crate::worklist::resize;

/// Screenshots of the window at its smallest size and at full HD.
async fn both_sizes(app: &App, name: &str) -> Result<()> {
    for (width, height) in [(1100, 720), (1920, 1080)] {
        resize(app, width, height).await?;
        app.screenshot(&format!("{name}-{width}x{height}")).await?;
    }
    resize(app, 1100, 720).await
}

#[tokio::test]
async fn an_owner_erases_a_patient_after_typing_the_word_in_their_language() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Yuki", Role::Owner).await?;
    let patient = patient_waits(&clinic, 4).await?;
    let name = clinic.patients()[4].display_name.clone();
    app.click(By::Option(&name)).await?;
    app.find(By::XPath("//article[@data-type='text']")).await?;

    // In English: what it erases, and a confirmation that waits for the word.
    app.scroll_to_button("Erase all their data…").await?;
    app.click(By::Button("Erase all their data…")).await?;
    let dialog = app
        .find(By::XPath(&format!(
            "//*[@role='dialog'][@aria-label='Erase {name}?']"
        )))
        .await?;
    ensure!(
        dialog.text().await?.contains("It cannot be undone"),
        "the dialog does not say it is final"
    );
    app.type_into("Type ERASE to confirm", "ERAS").await?;
    let confirm = app.find(By::Button("Erase everything")).await?;
    ensure!(
        !confirm.is_enabled().await?,
        "the erase is offered before the word is typed"
    );
    both_sizes(&app, "erase-confirm-en").await?;
    app.click(By::Button("Cancel")).await?;

    // In Thai, typed in Thai.
    app.speak("ไทย").await?;
    app.scroll_to_button("ลบข้อมูลทั้งหมดของผู้ป่วย…").await?;
    app.click(By::Button("ลบข้อมูลทั้งหมดของผู้ป่วย…")).await?;
    app.type_into("พิมพ์ ลบ เพื่อยืนยัน", "ลบ").await?;
    both_sizes(&app, "erase-confirm-th").await?;
    app.click(By::Button("ลบทั้งหมด")).await?;
    app.gone(By::Option(&name)).await?;
    app.screenshot("erased-th").await?;

    // The relay's log keeps nothing of what they wrote; the audit, that Yuki erased them.
    let log = clinic
        .relay
        .store
        .read(&ChannelId::from(CHANNEL), Seq::ZERO, 1_000)
        .await?;
    let written = serde_json::to_string(&log)?;
    ensure!(
        !written.contains("スタッフと話したい") && !written.contains(&name),
        "the relay's log still holds the patient's words or name"
    );
    app.speak("English").await?;
    app.choose("Clinic", "Audit").await?;
    let row = "//table[@aria-label='Who did what']//tr[contains(., \"Erased a patient's data\")]";
    let erased = app
        .until_text(By::XPath(row), "the erase in the audit", |t| !t.is_empty())
        .await?;
    ensure!(
        erased.contains(patient.as_str()) && erased.contains("Yuki") && !erased.contains(&name),
        "the audit's row: {erased}"
    );
    app.screenshot("erase-audit").await?;
    app.close().await
}

#[tokio::test]
async fn an_owner_sets_how_long_data_is_kept_and_holds_a_patient_whatever_it() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Yuki", Role::Owner).await?;
    patient_waits(&clinic, 5).await?;
    let name = clinic.patients()[5].display_name.clone();
    app.click(By::Option(&name)).await?;
    app.find(By::XPath("//article[@data-type='text']")).await?;

    // On hold, with a reason, from the patient panel.
    app.scroll_to_button("Keep their data (hold)…").await?;
    app.click(By::Button("Keep their data (hold)…")).await?;
    app.type_into("Why their data is kept", "a complaint in progress")
        .await?;
    app.click(By::Button("Keep")).await?;
    app.find(By::XPath(
        "//*[contains(@class, 'held')][contains(., 'On hold: a complaint in progress')]",
    ))
    .await?;
    app.scroll_to_button("Release the hold").await?;
    both_sizes(&app, "hold-en").await?;

    // Messages kept a year: what tonight would remove is counted before saving.
    app.choose("Clinic", "Settings").await?;
    app.click(By::Tab("Patient data")).await?;
    let messages = app
        .find(By::XPath(
            "//select[@aria-label='How long: Messages (both ways, with their files)']",
        ))
        .await?;
    messages.select_by_value("days").await?;
    let said = app
        .until_text(
            By::XPath("//*[@role='dialog']//p[@role='status'][contains(., 'tonight')]"),
            "what tonight's purge would remove",
            |text| text.contains("would remove from this desk: 0 messages."),
        )
        .await?;
    ensure!(
        said.contains("1 patient on hold keeps theirs."),
        "the count forgets the hold: {said}"
    );
    app.click(By::Button("Save")).await?;
    app.find(By::XPath(
        "//*[@role='dialog']//*[@role='status'][contains(., 'Saved')]",
    ))
    .await?;
    app.scroll_to_element("[role=dialog] p[role=status]")
        .await?;
    both_sizes(&app, "retention-en").await?;
    app.click(By::Button("Close")).await?;
    app.speak("日本語").await?;
    app.choose("クリニック", "設定").await?;
    app.click(By::Tab("患者データ")).await?;
    app.find(By::XPath("//*[@role='dialog']//p[@role='status']"))
        .await?;
    app.scroll_to_element("[role=dialog] p[role=status]")
        .await?;
    both_sizes(&app, "retention-ja").await?;
    app.close().await
}
