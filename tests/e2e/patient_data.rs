//! Patient data the clinic answers for, in the window: an owner takes a copy of all a
//! patient's data from the patient panel.

use std::io::Read as _;

use anyhow::{Context as _, Result, ensure};
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
    app.client
        .execute(
            &format!(
                "[...document.querySelectorAll('button')].find((b) => b.textContent.trim() === '{export}').scrollIntoView({{ block: 'center' }})"
            ),
            vec![],
        )
        .await?;
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
