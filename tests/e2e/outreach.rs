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
    app.click(By::Button("Contacts")).await?;
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

    app.click(By::Button("Close")).await?;
    app.find(By::Region("Language"))
        .await?
        .select_by_label("ไทย")
        .await?;
    app.click(By::Button("รายชื่อ")).await?;
    app.find(By::Text("ซิงก์ผู้ติดตาม 2,000 คนแล้ว")).await?;
    app.screenshot("contacts-synced-th").await?;
    app.close().await
}
