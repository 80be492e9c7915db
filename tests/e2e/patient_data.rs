//! Patient data the clinic answers for, in the window: an owner takes a copy of all a
//! patient's data from the patient panel, and a window nobody uses locks.

use std::io::Read as _;
use std::time::Duration;

use anyhow::{Context as _, Result, ensure};
use fantoccini::Locator;
use tsunagi_e2e::app::{self, App, By};
use tsunagi_e2e::clinic::Clinic;
use tsunagi_linesim::UserAction;
use tsunagi_proto::api::Role;

use crate::operator::{join_as, patient_waits, skip};

#[tokio::test]
async fn an_owner_saves_all_a_patients_data_from_the_patient_panel() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Yuki", Role::Owner).await?;
    let patient = patient_waits(&clinic, 6).await?;
    let name = clinic.patients()[6].display_name.clone();
    for action in [
        UserAction::Image,
        UserAction::File {
            file_name: "診斷證明.pdf".into(),
            file_size: 48_213,
            served_size: None,
        },
    ] {
        let report = clinic.sim.say(&patient, action).await?;
        ensure!(report.attempt.status == Some(200), "{report:?}");
    }
    app.click(By::Option(&name)).await?;
    app.find(By::XPath("//article[@data-type='file']")).await?;

    // Below the fold of the panel: brought into view, as a person scrolls to it.
    let export = "Export all their data…";
    app.scroll_to_button(export).await?;
    app.click(By::Button(export)).await?;
    let folder = tempfile::tempdir()?;
    let to = folder.path().join("patient.zip");
    // (The dialog's title names the patient: matched by its end.)
    app::answer_save_dialog("s data$", &to).await?;
    let said = app
        .until_text(
            By::XPath("//*[@role='status'][starts-with(normalize-space(.), 'Saved:')]"),
            "the export's outcome",
            |text| text.starts_with("Saved:"),
        )
        .await?;
    app.screenshot("patient-data-exported").await?;

    let mut archive = zip::ZipArchive::new(
        std::fs::File::open(&to).with_context(|| format!("{} was not saved", to.display()))?,
    )?;
    let mut patient_json = String::new();
    archive
        .by_name("patient.json")?
        .read_to_string(&mut patient_json)?;
    let saved: serde_json::Value = serde_json::from_str(&patient_json)?;
    let messages = saved["messages"].as_array().context("no messages")?;
    ensure!(
        said.trim() == format!("Saved: {} messages and 2 files.", messages.len()),
        "the window said {said:?} of {} messages",
        messages.len()
    );
    ensure!(
        saved["contact"]["display_name"] == name.as_str(),
        "{}",
        saved["contact"]
    );
    ensure!(
        messages.iter().any(|m| m["text"] == "スタッフと話したい"),
        "the patient's words are not in the archive"
    );
    let file = messages
        .iter()
        .find(|m| m["type"] == "file")
        .and_then(|m| m["file"].as_str())
        .context("the patient's file is not in the archive")?
        .to_owned();
    ensure!(file.ends_with("診斷證明.pdf"), "{file}");
    ensure!(
        archive.by_name(&file)?.size() == 48_213,
        "the patient's file is not whole"
    );
    let left: Vec<_> = std::fs::read_dir(folder.path())?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    ensure!(left.len() == 1, "the export left more behind: {left:?}");

    // The audit keeps who took it, about whom.
    app.choose("Clinic", "Audit").await?;
    let row = "//table[@aria-label='Who did what']//tr[contains(., \"Exported a patient's data\")]";
    let exported = app
        .until_text(By::XPath(row), "the export in the audit", |t| !t.is_empty())
        .await?;
    ensure!(
        exported.contains(&name) && exported.contains("Yuki"),
        "the audit's row: {exported}"
    );
    app.screenshot("patient-data-audit").await?;
    app.click(By::Button("Close")).await?;

    // In Japanese.
    app.speak("日本語").await?;
    app.find(By::Button("すべてのデータを書き出す…")).await?;
    app.screenshot("patient-data-ja").await?;
    app.close().await
}

/// The window's lock.
const LOCK: &str = "//*[@role='dialog'][@aria-labelledby='lock-title']";

/// Whether the lock covers the middle of the first element `xpath` names: what a person
/// looking at the window sees there is the lock, not it.
async fn covered_by_the_lock(app: &App, xpath: &str) -> Result<bool> {
    let covered = app
        .client
        .execute(
            "const found = document.evaluate(arguments[0], document, null, \
             XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue; \
             if (!found) return null; \
             const box = found.getBoundingClientRect(); \
             const top = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2); \
             return !!top && !!top.closest('.lock');",
            vec![serde_json::Value::from(xpath)],
        )
        .await?;
    covered
        .as_bool()
        .with_context(|| format!("nothing in the window at {xpath}"))
}

#[tokio::test]
async fn a_window_nobody_uses_locks_behind_the_desks_pin_and_wrong_pins_make_it_wait() -> Result<()>
{
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(6).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Yuki", Role::Owner).await?;
    patient_waits(&clinic, 3).await?;
    let name = clinic.patients()[3].display_name.clone();
    let row = format!("//*[@role='option'][contains(., '{name}')]");
    app.find(By::XPath(&row)).await?;

    // The clinic locks a window after one minute unused.
    app.choose("Clinic", "Settings").await?;
    app.click(By::Tab("Patient data")).await?;
    app.type_into("Lock a window nobody uses after", "1")
        .await?;
    app.click(By::Button("Save")).await?;
    app.find(By::XPath(
        "//*[@role='dialog']//*[@role='status'][contains(., 'Saved')]",
    ))
    .await?;
    app.screenshot("settings-patient-data").await?;
    app.click(By::Button("Close")).await?;

    // The operator locks it as they leave; this desk has no PIN yet, so they choose one.
    app.click(By::Button("Lock")).await?;
    app.find(By::XPath(
        "//h2[normalize-space(.)='Choose a PIN for this desk']",
    ))
    .await?;
    ensure!(
        covered_by_the_lock(&app, &row).await?,
        "the patient's name shows beside the lock"
    );
    app.screenshot("lock-choose").await?;
    app.type_into("New PIN", "2580").await?;
    app.type_into("New PIN again", "2580").await?;
    app.click(By::Button("Set PIN and unlock")).await?;
    app.gone(By::XPath(LOCK)).await?;
    ensure!(
        !covered_by_the_lock(&app, &row).await?,
        "the lock stayed over the inbox"
    );

    // A minute later, nobody having touched it, the window hides the patient behind the
    // lock; a wrong PIN is told, the right one opens it.
    app.client
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::XPath(
            "//*[@role='dialog'][.//h2[normalize-space(.)='Tsunagi is locked']]",
        ))
        .await
        .context("the window did not lock after a minute unused")?;
    ensure!(
        covered_by_the_lock(&app, &row).await?,
        "locked, the name shows"
    );
    app.screenshot("lock-locked").await?;
    app.type_into("PIN", "1111").await?;
    app.click(By::Button("Unlock")).await?;
    app.until_text(By::Alert, "the wrong PIN told", |t| {
        t == "Wrong PIN. 4 more tries before a wait."
    })
    .await?;
    app.type_into("PIN", "2580").await?;
    app.click(By::Button("Unlock")).await?;
    app.gone(By::XPath(LOCK)).await?;

    // In Japanese: five wrong PINs, and the next try waits.
    app.speak("日本語").await?;
    app.click(By::Button("ロック")).await?;
    app.find(By::XPath(
        "//h2[normalize-space(.)='Tsunagi はロック中です']",
    ))
    .await?;
    app.screenshot("lock-ja").await?;
    for tries_left in (0..5).rev() {
        app.type_into("PIN", "0000").await?;
        app.click(By::Button("ロック解除")).await?;
        let told = format!("あと {tries_left} 回");
        app.until_text(By::Alert, "the wrong PIN told", |t| match tries_left {
            0 => t.starts_with("PIN の間違いが続きました。"),
            _ => t.contains(&told),
        })
        .await?;
    }
    let field = app.find(By::Textbox("PIN")).await?;
    ensure!(
        field.prop("disabled").await?.as_deref() == Some("true"),
        "a PIN can be tried during the wait"
    );
    app.screenshot("lock-waiting-ja").await?;
    app.close().await
}

#[tokio::test]
async fn patients_who_write_stop_in_four_languages_get_no_reminder_and_the_list_says_why()
-> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::with_followers(6).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Yuki", Role::Owner).await?;
    app.choose("Clinic", "Contacts").await?;
    app.click(By::Button("Sync followers from LINE")).await?;
    app.find(By::Text("6 followers synced")).await?;
    app.click(By::Button("Close")).await?;

    let patients = clinic.patients();
    let words = ["stop", "停止", "配信停止", "หยุด"];
    for (patient, word) in patients.iter().zip(words) {
        clinic.says(&patient.user_id, word).await?;
    }
    clinic
        .says(&patients[4].user_id, "ありがとうございました")
        .await?;

    app.choose("Clinic", "Reminders").await?;
    app.click(By::Button("Appointment")).await?;
    app.type_into("Appointment date", "Dec 10").await?;
    app.type_into("time", "10:30").await?;
    app.type_into("Clinic", "Sakura Clinic").await?;
    app.click(By::Choice("Every follower")).await?;
    let at = jiff::Zoned::now().checked_add(jiff::SignedDuration::from_secs(15))?;
    crate::outreach::pick_date(&app, "Send on", &at.strftime("%Y-%m-%d").to_string()).await?;
    app.type_into("at", &at.strftime("%H:%M:%S").to_string())
        .await?;
    app.until_text(By::Region("Preview"), "the preview", |t| {
        t.contains("Reaches 6 patients")
    })
    .await?;
    // Below the fold of the dialog: brought into view, as a person scrolls to it.
    app.scroll_to_button("Schedule reminder").await?;
    app.click(By::Button("Schedule reminder")).await?;
    app.find(By::Text("Scheduled.")).await?;

    let row = "//tr[td[normalize-space(.)='Every follower']]";
    app.until_text(By::XPath(row), "the outcome", |t| {
        t.contains("2 sent · 0 failed · 0 blocked") && t.contains("4 opted out")
    })
    .await?;
    for patient in &patients[4..] {
        let got = clinic.until_received(&patient.user_id, 1).await?;
        ensure!(
            got.iter().any(|m| m.message["text"]
                .as_str()
                .is_some_and(|t| t.contains("Sakura Clinic"))),
            "{} did not get the reminder",
            patient.display_name
        );
    }
    for patient in &patients[..4] {
        let reminded = clinic.received(&patient.user_id).iter().any(|m| {
            m.message["text"]
                .as_str()
                .is_some_and(|t| t.contains("Sakura Clinic"))
        });
        ensure!(!reminded, "{} got the reminder", patient.display_name);
    }
    app.click(By::Button("Who got it")).await?;
    let each = app
        .until_text(By::Region("Each patient"), "each patient's outcome", |t| {
            t.matches("to stop reminders").count() == 4
        })
        .await?;
    for (patient, word) in patients.iter().zip(words) {
        ensure!(
            each.contains(&format!("Not sent: wrote “{word}” to stop reminders")),
            "{} ({word}): {each}",
            patient.display_name
        );
    }
    app.screenshot("reminder-opted-out").await?;
    app.click(By::Button("Close")).await?;

    // The patient's panel (their chat opens, for they wrote) says so, and their agreeing
    // again, recorded at the desk, lifts it.
    let stopped = &patients[2];
    app.choose("Clinic", "Contacts").await?;
    app.type_into("Search by name", &stopped.display_name)
        .await?;
    app.click(By::Button(&stopped.display_name)).await?;
    let note =
        "//*[@role='note'][starts-with(normalize-space(.), 'No reminders: wrote “配信停止”')]";
    app.find(By::XPath(note)).await?;
    app.screenshot("contact-stopped").await?;
    app.click(By::Button("Agreed")).await?;
    app.gone(By::XPath(note)).await?;
    app.find(By::XPath(
        "//li[starts-with(normalize-space(.), 'Reminders: agreed (v1)')]",
    ))
    .await?;

    // In Japanese.
    app.speak("日本語").await?;
    app.choose("クリニック", "リマインダー").await?;
    app.click(By::Button("送信先を見る")).await?;
    app.find(By::Text("未送信：「配信停止」と送り配信停止中"))
        .await?;
    app.screenshot("reminder-opted-out-ja").await?;
    app.close().await
}

#[tokio::test]
async fn a_patient_answers_a_consent_asked_on_line_with_a_tap_and_the_panel_records_it()
-> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(6).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Yuki", Role::Owner).await?;
    let patient = patient_waits(&clinic, 1).await?;
    let name = clinic.patients()[1].display_name.clone();
    app.click(By::Option(&name)).await?;
    app.click(By::Button("Claim")).await?;
    app.find(By::Text("You are answering this chat.")).await?;

    // Asked in the patient's language (theirs is set by their LINE app).
    app.click(By::Button("Ask on LINE")).await?;
    let asked = clinic.until_received(&patient, 2).await?;
    let question = &asked[1].message;
    ensure!(
        question["type"] == "template" && question["template"]["type"] == "confirm",
        "{question}"
    );
    let yes = question["template"]["actions"][0]["data"]
        .as_str()
        .context("no postback on the first button")?
        .to_owned();
    let report = clinic
        .sim
        .say(
            &patient,
            UserAction::Postback {
                data: yes,
                params: None,
            },
        )
        .await?;
    ensure!(report.attempt.status == Some(200), "{report:?}");
    app.find(By::XPath(
        "//li[starts-with(normalize-space(.), 'Reminders: agreed (v1)')][contains(., 'tapped the button')]",
    ))
    .await?;
    app.screenshot("consent-tapped").await?;
    app.close().await
}
