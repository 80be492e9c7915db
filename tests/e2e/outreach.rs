//! Reaching patients from the owner's desk in the real window: the follower list synced
//! from LINE with its progress, searched and exported; reminders to a tag with what became
//! of each patient.

use anyhow::{Context as _, Result, ensure};
use tsunagi_e2e::app::{self, App, By};
use tsunagi_e2e::clinic::Clinic;
use tsunagi_proto::api::Role;

use crate::operator::{join_as, skip};

/// The follower sync's progress bar.
const PROGRESS: &str = "//*[@role='progressbar']";

#[tokio::test]
async fn two_thousand_followers_sync_from_line_with_the_progress_bar_reaching_all_of_them()
-> Result<()> {
    if skip() {
        return Ok(());
    }
    const FOLLOWERS: usize = 2_000;
    let clinic = Clinic::with_followers(FOLLOWERS).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Yuki", Role::Owner).await?;
    app.choose("Clinic", "Contacts").await?;
    app.find(By::Text("Contacts appear as patients add the clinic"))
        .await?;
    app.click(By::Button("Sync followers from LINE")).await?;

    // The bar moves while LINE is asked, and ends full with every follower listed.
    let status = "//section[@aria-label='Follower sync']//*[@role='status']";
    app.until_text(By::XPath(status), "the sync to end", |t| {
        t.contains("2,000 followers synced")
    })
    .await?;
    let bar = app.find(By::XPath(PROGRESS)).await?;
    ensure!(
        bar.attr("aria-valuenow").await?.as_deref() == Some("100"),
        "the bar ends at {:?}",
        bar.attr("aria-valuenow").await?
    );
    app.until_text(
        By::XPath("//button[@aria-pressed][starts-with(normalize-space(.), 'Following')]"),
        "the count of followers",
        |t| t.contains("2,000"),
    )
    .await?;
    app.screenshot("contacts-synced").await?;

    // Exported whole, where the owner chooses.
    app.click(By::Button("Export CSV")).await?;
    let folder = tempfile::tempdir()?;
    let to = folder.path().join("contacts.csv");
    app::answer_save_dialog("Export contacts as CSV", &to).await?;
    app.until_text(
        By::XPath("//*[@role='dialog']//footer//*[@role='status']"),
        "saved",
        |t| t.contains("Saved"),
    )
    .await?;
    let mut csv = csv::Reader::from_path(&to)?;
    let rows = csv.records().collect::<Result<Vec<_>, _>>()?;
    ensure!(rows.len() == FOLLOWERS, "{} rows exported", rows.len());
    ensure!(
        rows.iter().all(|row| &row[2] == "following"),
        "an exported follower is not following"
    );

    // One of them, by name.
    // (Someone whose name needs no quoting in XPath.)
    let someone = (clinic.patients().into_iter().skip(1234))
        .map(|patient| patient.display_name)
        .find(|name| !name.contains('\''))
        .context("a follower without an apostrophe in their name")?;
    app.type_into("Search by name", &someone).await?;
    app.find(By::XPath(&format!(
        "//*[@role='row'][.//*[@role='cell'][contains(normalize-space(.), '{someone}')]]"
    )))
    .await
    .with_context(|| format!("{someone}, searched by name"))?;
    // A follower who never wrote opens here, with what the clinic keeps on them.
    app.click(By::Button(&someone)).await?;
    app.find(By::XPath(
        "//*[@role='region'][@aria-label='Patient']//*[normalize-space(.)='Clinic details']",
    ))
    .await?;
    app.click(By::Button("Add details (chart number, phone …)"))
        .await?;
    app.type_into("Chart number", "K-0042").await?;
    // Below the fold of the panel: brought into view, as a person scrolls to it.
    app.scroll_to_button("Save details").await?;
    app.click(By::Button("Save details")).await?;
    app.find(By::XPath(
        "//*[@role='region'][@aria-label='Patient']//dd[normalize-space(.)='K-0042']",
    ))
    .await
    .context("the chart number was not kept")?;
    app.screenshot("contact-never-wrote").await?;
    app.click(By::Button("Close details")).await?;

    app.click(By::Button("Close")).await?;
    app.speak("ไทย").await?;
    app.choose("คลินิก", "รายชื่อ").await?;
    app.find(By::Text("ซิงก์ผู้ติดตาม 2,000 คนแล้ว")).await?;
    app.screenshot("contacts-synced-th").await?;
    app.close().await
}

/// Sets a date picker labelled `label` as a person picking that day would.
pub(crate) async fn pick_date(app: &App, label: &str, day: &str) -> Result<()> {
    let field = app.find(By::Textbox(label)).await?;
    app.client
        .execute(
            "arguments[0].value = arguments[1];
             arguments[0].dispatchEvent(new Event('input', { bubbles: true }));",
            vec![serde_json::to_value(&field)?, serde_json::Value::from(day)],
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_reminder_to_a_tag_reaches_its_followers_and_lists_the_patient_who_blocked_the_clinic()
-> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::with_followers(5).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Yuki", Role::Owner).await?;
    // The clinic's followers, fetched from LINE.
    app.choose("Clinic", "Contacts").await?;
    app.click(By::Button("Sync followers from LINE")).await?;
    app.find(By::Text("5 followers synced")).await?;
    app.click(By::Button("Close")).await?;

    // Three patients tagged for flu shots at another desk; one of them then blocks the clinic.
    let patients = clinic.patients();
    for patient in &patients[..3] {
        let tag = tsunagi_proto::Operation::Tag {
            contact: patient.user_id.clone(),
            tag: "flu".into(),
            added: true,
        };
        clinic.act_as("d-aiko", tag).await?;
    }
    let (reached, blocked) = (&patients[..2], &patients[2]);
    clinic.blocks(&blocked.user_id).await?;

    app.choose("Clinic", "Reminders").await?;
    app.click(By::Button("Appointment")).await?;
    app.type_into("Appointment date", "Dec 10").await?;
    app.type_into("time", "10:30").await?;
    app.type_into("Clinic", "Sakura Clinic").await?;
    app.click(By::Choice("Everyone with a tag")).await?;
    app.find(By::Region("Tag"))
        .await?
        .select_by_label("flu")
        .await?;
    // A few seconds from now on the clinic's clock.
    let at = jiff::Zoned::now().checked_add(jiff::SignedDuration::from_secs(15))?;
    pick_date(&app, "Send on", &at.strftime("%Y-%m-%d").to_string()).await?;
    app.type_into("at", &at.strftime("%H:%M:%S").to_string())
        .await?;

    let preview = app
        .until_text(By::Region("Preview"), "the preview", |t| {
            t.contains("Reaches 2 patients") && t.contains("1 has blocked the clinic")
        })
        .await?;
    let first = reached
        .iter()
        .map(|p| p.display_name.as_str())
        .min()
        .unwrap_or("");
    ensure!(
        preview.contains(&format!("Hello {first}, this is Sakura Clinic.")),
        "the preview is not written for a real patient: {preview}"
    );
    // (LINE's simulator plays an account without a monthly limit.)
    ensure!(preview.contains("Costs 2 messages"), "no cost: {preview}");
    app.screenshot("reminder-preview").await?;
    app.click(By::Button("Schedule reminder")).await?;
    app.find(By::Text("Scheduled.")).await?;

    // At its time the followers get it, each by name, and the list says who did.
    let row = "//tr[td[starts-with(normalize-space(.), 'Tag: flu')]]";
    app.until_text(By::XPath(row), "the outcome", |t| {
        t.contains("2 sent · 0 failed · 1 blocked")
    })
    .await?;
    for patient in reached {
        let got = clinic.until_received(&patient.user_id, 1).await?;
        let text = got[0].message["text"].as_str().unwrap_or_default();
        ensure!(
            text.starts_with(&format!(
                "Hello {}, this is Sakura Clinic.",
                patient.display_name
            )) && text.contains("Dec 10 at 10:30"),
            "{} got {text:?}",
            patient.display_name
        );
    }
    ensure!(
        clinic.received(&blocked.user_id).is_empty(),
        "a blocked patient got it"
    );
    app.click(By::Button("Who got it")).await?;
    let each = app
        .until_text(By::Region("Each patient"), "each patient's outcome", |t| {
            t.contains("Blocked the clinic: not sent")
        })
        .await?;
    ensure!(
        each.contains(&blocked.display_name) && each.matches("Sent").count() == 2,
        "each patient's outcome: {each}"
    );
    app.screenshot("reminder-outcomes").await?;

    // Another, for tomorrow morning, called off before it goes out.
    app.click(By::Button("Vaccination")).await?;
    app.until_text(By::Region("Preview"), "the second preview", |t| {
        t.contains("Reaches 2 patients")
    })
    .await?;
    app.click(By::Button("Schedule reminder")).await?;
    app.click(By::Button("Cancel")).await?;
    app.find(By::XPath(
        "//tr[contains(@class, 'cancelled')]/td[normalize-space(.)='Cancelled']",
    ))
    .await?;
    app.click(By::Button("Close")).await?;
    app.speak("ไทย").await?;
    app.choose("คลินิก", "แจ้งเตือนนัด").await?;
    app.click(By::Button("ดูผู้รับ")).await?;
    app.find(By::Text("บล็อกคลินิก: ไม่ได้ส่ง")).await?;
    app.screenshot("reminder-outcomes-th").await?;
    app.close().await
}
