//! The owner's settings in the real window: an auto-reply and opening hours the bot obeys
//! once saved, each checked as it is typed; a staff desk refused by the relay.

use anyhow::{Result, ensure};
use tsunagi_e2e::app::{App, By};
use tsunagi_e2e::clinic::{CHANNEL, Clinic};
use tsunagi_line::ChannelId;
use tsunagi_linesim::UserAction;
use tsunagi_proto::api::Role;
use tsunagi_proto::{EntryBody, LoggedOp, Operation, Seq};
use tsunagi_relay::store::LogStore as _;

use crate::operator::{join_as, skip};

/// The settings dialog's word that a change was saved.
const SAVED: &str = "//*[@role='dialog']//*[@role='status'][contains(@class, 'saved')]";
/// The weekdays the opening hours show as closed.
const CLOSED_DAYS: &str = "//*[@role='tabpanel']//span[contains(@class, 'closed')]";

/// The text of every message `patient` got from the account.
fn texts(clinic: &Clinic, patient: &tsunagi_line::UserId) -> Vec<String> {
    clinic
        .received(patient)
        .iter()
        .filter_map(|delivered| delivered.message["text"].as_str().map(str::to_owned))
        .collect()
}

/// How many settings ops the relay's log holds.
async fn settings_logged(clinic: &Clinic) -> Result<usize> {
    let entries = (clinic.relay.store)
        .read(&ChannelId::from(CHANNEL), Seq(0), 10_000)
        .await?;
    Ok(entries
        .iter()
        .filter(|entry| {
            matches!(
                &entry.body,
                EntryBody::Op {
                    op: LoggedOp::Known(Operation::Settings(_)),
                    ..
                }
            )
        })
        .count())
}

#[tokio::test]
async fn an_auto_reply_and_opening_hours_the_owner_saves_are_what_the_bot_then_does() -> Result<()>
{
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(4).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Yuki", Role::Owner).await?;
    app.choose("Clinic", "Settings").await?;
    app.find(By::Region("Clinic settings")).await?;

    // An auto-reply, tried on a sentence before it is saved.
    app.click(By::Tab("Auto-replies")).await?;
    app.click(By::Button("Add a rule")).await?;
    app.until_text(
        By::XPath("//ul[@aria-label='Problems to fix before saving']"),
        "the empty rule",
        |t| t.contains("Rule 1: enter the words to match"),
    )
    .await?;
    app.type_into("Rule 1: words", "予約").await?;
    app.type_into(
        "Rule 1: reply",
        "ご予約はこちら: https://clinic.example/book",
    )
    .await?;
    app.type_into("A patient writes", "来週の予約をしたいです")
        .await?;
    app.until_text(By::XPath("//output"), "the rule that answers", |t| {
        t.contains("Rule 1 answers: ご予約はこちら")
    })
    .await?;
    app.type_into("A patient writes", "こんにちは").await?;
    app.until_text(By::XPath("//output"), "no rule answering", |t| {
        t.contains("No rule matches")
    })
    .await?;
    app.screenshot("settings-replies").await?;
    app.click(By::Button("Save")).await?;
    app.until_text(By::XPath(SAVED), "saved", |t| t.contains("Saved"))
        .await?;

    let booking = clinic.patients()[0].user_id.clone();
    clinic.says(&booking, "予約できますか").await?;
    clinic.until_received(&booking, 1).await?;
    ensure!(
        texts(&clinic, &booking) == ["ご予約はこちら: https://clinic.example/book"],
        "the bot answered {:?}",
        texts(&clinic, &booking)
    );

    // Opening hours: a mistyped variable is caught as it is typed, then the clinic closes
    // every day and the away reply goes out.
    app.click(By::Tab("Opening hours")).await?;
    app.type_into("Time zone", "Asia/Tokyo").await?;
    for (day, hours) in [
        ("Monday", "09:00–18:00"),
        ("Tuesday", "09:00–18:00"),
        ("Wednesday", "09:00–18:00"),
        ("Thursday", "09:00–18:00"),
        ("Friday", "09:00–18:00"),
        ("Saturday", "09:00–12:00"),
    ] {
        app.click(By::Button(&format!("Remove {day} {hours}")))
            .await?;
    }
    ensure!(
        app.all(By::XPath(CLOSED_DAYS)).await?.len() == 7,
        "every day reads closed"
    );
    app.type_into(
        "Reply to patients who write while the clinic is closed (once a day)",
        "{{clinik}} is closed today.",
    )
    .await?;
    app.until_text(
        By::XPath("//ul[@aria-label='Problems to fix before saving']"),
        "the unknown variable",
        |t| t.contains("{{clinik}} is not known"),
    )
    .await?;
    ensure!(
        !app.find(By::Button("Save")).await?.is_enabled().await?,
        "Save is offered with a problem on screen"
    );
    app.screenshot("settings-hours-problem").await?;
    app.type_into(
        "Reply to patients who write while the clinic is closed (once a day)",
        "We are closed today; we answer from 9:00 tomorrow.",
    )
    .await?;
    app.gone(By::XPath(
        "//ul[@aria-label='Problems to fix before saving']",
    ))
    .await?;
    app.click(By::Button("Save")).await?;
    app.until_text(By::XPath(SAVED), "saved", |t| t.contains("Saved"))
        .await?;
    app.screenshot("settings-hours").await?;

    let late = clinic.patients()[1].user_id.clone();
    clinic.says(&late, "hello, are you there?").await?;
    clinic.until_received(&late, 1).await?;
    ensure!(
        texts(&clinic, &late) == ["We are closed today; we answer from 9:00 tomorrow."],
        "the bot answered {:?}",
        texts(&clinic, &late)
    );
    ensure!(settings_logged(&clinic).await? == 2, "two settings saved");

    // Patients never see "Read": the desk stops telling LINE when a chat is opened.
    app.click(By::Tab("LINE account")).await?;
    app.click(By::Choice("Never")).await?;
    app.click(By::Button("Save")).await?;
    app.until_text(By::XPath(SAVED), "saved", |t| t.contains("Saved"))
        .await?;
    ensure!(settings_logged(&clinic).await? == 3, "three settings saved");
    app.screenshot("settings-line-account").await?;

    // Handoff words kept by language.
    app.click(By::Tab("Handing to staff")).await?;
    app.type_into("Thai", "ขอคุยกับพยาบาล").await?;
    app.click(By::Button("Save")).await?;
    app.until_text(By::XPath(SAVED), "saved", |t| t.contains("Saved"))
        .await?;
    ensure!(settings_logged(&clinic).await? == 4, "four settings saved");
    // A rich menu's "talk to staff" item: the patient who taps it asks for a person.
    app.type_into(
        "Buttons that hand a chat to staff (postback data)",
        "action=talk",
    )
    .await?;
    app.click(By::Button("Save")).await?;
    app.until_text(By::XPath(SAVED), "saved", |t| t.contains("Saved"))
        .await?;
    app.screenshot("settings-handoff").await?;
    ensure!(settings_logged(&clinic).await? == 5, "five settings saved");
    let report = clinic
        .sim
        .say(
            &booking,
            UserAction::Postback {
                data: "action=talk".into(),
                params: None,
            },
        )
        .await?;
    ensure!(report.attempt.status == Some(200), "{report:?}");
    // The clinic is closed all week: asking for a person is answered with the away reply
    // (the handoff waits for the clinic to open), which no other tap would get.
    clinic.until_received(&booking, 2).await?;
    ensure!(
        texts(&clinic, &booking).last().map(String::as_str)
            == Some("We are closed today; we answer from 9:00 tomorrow."),
        "the bot answered {:?}",
        texts(&clinic, &booking)
    );

    app.click(By::Tab("Opening hours")).await?;

    // Read back as saved when the settings open again, in Thai.
    app.click(By::Button("Close")).await?;
    app.speak("ไทย").await?;
    app.choose("คลินิก", "ตั้งค่า").await?;
    app.find(By::Region("ตั้งค่าคลินิก")).await?;
    ensure!(
        app.all(By::XPath(CLOSED_DAYS)).await?.len() == 7,
        "the closed week did not come back"
    );
    app.screenshot("settings-hours-th").await?;
    app.close().await
}

#[tokio::test]
async fn a_staff_desk_reads_the_settings_and_cannot_change_them() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(2).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Aiko", Role::Staff).await?;
    app.choose("Clinic", "Settings").await?;
    app.find(By::Text(
        "Only the clinic's owner can change these settings",
    ))
    .await?;
    // Staff read the settings; nothing can be changed, and there is no Save to press.
    app.click(By::Tab("Ready answers")).await?;
    let add = app.find(By::Button("Add an answer")).await?;
    ensure!(!add.is_enabled().await?, "staff can add an answer");
    app.click(By::Tab("Opening hours")).await?;
    let zone = app.find(By::Textbox("Time zone")).await?;
    ensure!(!zone.is_enabled().await?, "staff can change the time zone");
    ensure!(
        app.all(By::Button("Save")).await?.is_empty(),
        "staff are offered a Save that would fail"
    );
    ensure!(
        settings_logged(&clinic).await? == 0,
        "a staff desk changed a setting"
    );
    app.screenshot("settings-staff-read-only").await?;
    app.close().await
}

#[tokio::test]
async fn the_owner_sees_the_days_chats_in_analytics_and_exports_a_workbook_that_opens() -> Result<()>
{
    use calamine::{Data, Reader as _};
    use fantoccini::key::Key;

    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(4).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Yuki", Role::Owner).await?;

    // One chat taken, answered and closed today.
    let patient = crate::operator::patient_waits(&clinic, 1).await?;
    let name = clinic.patients()[1].display_name.clone();
    app.click(By::Option(&name)).await?;
    app.click(By::Button("Claim")).await?;
    app.find(By::Text("You are answering this chat.")).await?;
    let message = app.type_into("Message", "9時から受付です").await?;
    message.send_keys(&Key::Enter.to_string()).await?;
    // The owner sees how it went: free, by the patient's reply token.
    app.find(By::Text("Sent · free")).await?;
    clinic.until_received(&patient, 2).await?;
    app.click(By::Button("Done")).await?;
    app.find(By::Text("closed this chat at")).await?;

    app.choose("Clinic", "Analytics").await?;
    let figures = app
        .until_text(By::Region("Figures"), "today's chat", |t| {
            t.strip_prefix("Chats")
                .is_some_and(|rest| rest.trim_start().starts_with("1 "))
        })
        .await?;
    ensure!(figures.contains("Solved at first contact100%"), "{figures}");
    app.find(By::XPath(
        "//table[@aria-label='By operator']//th[@scope='row'][normalize-space(.)='Yuki']",
    ))
    .await?;
    app.screenshot("analytics").await?;

    app.click(By::Button("Export Excel (XLSX)")).await?;
    let folder = tempfile::tempdir()?;
    let to = folder.path().join("report.xlsx");
    tsunagi_e2e::app::answer_save_dialog("Export the report", &to).await?;
    app.until_text(By::XPath(SAVED), "saved", |t| t.contains("Saved"))
        .await?;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&to)?;
    let summary = book.worksheet_range("Summary")?;
    let rows: Vec<Vec<Data>> = summary.rows().map(<[Data]>::to_vec).collect();
    ensure!(rows.len() == 3, "one operator and everyone: {rows:?}");
    ensure!(
        rows[1][1] == Data::String("Yuki".into()) && rows[1][2] == Data::Float(1.0),
        "Yuki's row: {:?}",
        rows[1]
    );
    ensure!(
        rows[2][1] == Data::String("everyone".into()),
        "{:?}",
        rows[2]
    );
    app.click(By::Button("Close")).await?;

    // Every action of the chat in the audit, by whom, and as CSV.
    app.choose("Clinic", "Audit").await?;
    let trail = "//table[@aria-label='Who did what']";
    let actions = app
        .until_text(By::XPath(trail), "the chat's actions", |t| {
            t.contains("Claimed") && t.contains("Sent a message") && t.contains("Closed")
        })
        .await?;
    ensure!(actions.contains(&name), "the chat is named: {actions}");
    app.find(By::Region("Action"))
        .await?
        .select_by_label("Claimed")
        .await?;
    app.until_text(By::XPath(trail), "only the claim", |t| {
        !t.contains("Sent a message") && t.contains("Claimed")
    })
    .await?;
    app.screenshot("audit").await?;
    app.click(By::Button("Export CSV")).await?;
    let to = folder.path().join("audit.csv");
    tsunagi_e2e::app::answer_save_dialog("Export the audit as CSV", &to).await?;
    app.until_text(By::XPath(SAVED), "saved", |t| t.contains("Saved"))
        .await?;
    let mut csv = csv::Reader::from_path(&to)?;
    let rows = csv.records().collect::<Result<Vec<_>, _>>()?;
    ensure!(
        rows.len() == 1 && &rows[0][1] == "Yuki" && &rows[0][3] == "claim",
        "{rows:?}"
    );
    app.click(By::Button("Close")).await?;
    app.speak("日本語").await?;
    app.choose("クリニック", "分析").await?;
    app.find(By::Text("日ごとのチャット")).await?;
    app.screenshot("analytics-ja").await?;
    app.close().await
}
