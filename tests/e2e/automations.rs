//! The AI responder and Telegram alerts, set up by the owner in the window: the relay
//! keeps the key and the token (refused when Telegram does not know it), a patient's
//! question is answered by the model and shown as the AI's, a handoff reaches Telegram,
//! and the alert's `tsunagi://` link opens the chat.

use std::time::Duration;

use anyhow::{Result, ensure};
use fantoccini::key::Key;
use tsunagi_e2e::app::{App, By};
use tsunagi_e2e::clinic::{CHANNEL, Clinic};
use tsunagi_proto::api::Role;

use crate::operator::{join_as, skip};

/// The settings dialog's word that a change was saved.
const SAVED: &str = "//*[@role='dialog']//*[@role='status'][contains(., 'Saved')]";

async fn save(app: &App) -> Result<()> {
    app.click(By::Button("Save")).await?;
    app.until_text(By::XPath(SAVED), "saved", |t| t.contains("Saved"))
        .await?;
    Ok(())
}

async fn until(what: &str, done: impl Fn() -> bool) -> Result<()> {
    for _ in 0..300 {
        if done() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("never: {what}")
}

#[tokio::test]
async fn the_owner_sets_up_the_ai_and_telegram_and_the_bot_answers_and_alerts_with_them()
-> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(4).await?;
    let app = App::launch(true).await?;
    join_as(&app, &clinic, "Yuki", Role::Owner).await?;
    app.choose("Clinic", "Settings").await?;

    // The AI responder: its key to the relay, then what it knows and when it answers.
    app.click(By::Tab("AI responder")).await?;
    app.find(By::Text("The relay has no API key yet")).await?;
    app.type_into("API key", &clinic.sim.config().ai_key)
        .await?;
    app.click(By::Button("Send key to the relay")).await?;
    app.until_text(
        By::XPath("//*[@data-credential='ai_key']"),
        "the key kept",
        |t| t.contains("The relay keeps a key, given by Yuki"),
    )
    .await?;
    let key_box = app.find(By::Textbox("API key")).await?;
    ensure!(
        key_box.prop("value").await?.as_deref() == Some(""),
        "the key stays in the window"
    );
    app.type_into("AI service address", &format!("{}/v1", clinic.sim_url))
        .await?;
    app.type_into("Model", "sim-1").await?;
    app.type_into(
        "What the AI knows about the clinic",
        "Sakura Clinic. Open Monday to Saturday, 9:00 to 18:00.",
    )
    .await?;
    app.click(By::Choice("While the clinic is open")).await?;
    // What goes to the service, in plain words, as the settings say now.
    let host = clinic.sim_url.trim_start_matches("http://").to_owned();
    app.until_text(
        By::Region("What goes to the AI service"),
        "what goes to the AI",
        |t| t.contains(&format!("To {host}, with each question")) && t.contains("the 10 messages"),
    )
    .await?;
    save(&app).await?;
    app.screenshot("settings-ai").await?;

    // Telegram: a token Telegram does not know is refused; the right one is kept.
    app.click(By::Tab("Telegram alerts")).await?;
    app.type_into("Bot token", "123456:not-the-bots-token")
        .await?;
    app.click(By::Button("Send token to the relay")).await?;
    let refused = app.find(By::Alert).await?;
    ensure!(
        refused.attr("data-code").await?.as_deref() == Some("telegram_refused"),
        "{}",
        refused.text().await?
    );
    app.type_into("Bot token", &clinic.sim.config().telegram_token)
        .await?;
    app.click(By::Button("Send token to the relay")).await?;
    app.until_text(
        By::XPath("//*[@data-credential='telegram_token']"),
        "the token kept",
        |t| t.contains("The relay keeps the bot's token"),
    )
    .await?;
    let chat = clinic.sim.config().telegram_chats[0];
    app.type_into("Telegram chat IDs", &chat.to_string())
        .await?;
    save(&app).await?;
    // A test to that chat, and to one the bot is not in (typed, not saved).
    app.type_into("Telegram chat IDs", &format!("{chat}{}5", Key::Enter))
        .await?;
    app.click(By::Button("Send a test message")).await?;
    app.find(By::Text(&format!("Sent to chat {chat}."))).await?;
    app.until_text(By::Region("Test results"), "chat 5 refused", |t| {
        t.contains("Not sent to chat 5: add the bot to that chat")
            && t.contains("The relay's words: Telegram refused chat 5")
    })
    .await?;
    ensure!(clinic.sim.telegram_messages().len() == 1);
    app.until_text(
        By::Region("What goes to Telegram"),
        "what goes to Telegram",
        |t| {
            t.contains("Patients are called “a patient”.")
                && t.contains("Never what patients wrote")
        },
    )
    .await?;
    app.screenshot("settings-telegram").await?;
    app.click(By::Button("Close")).await?;

    // A patient's question: the model answers, by reply.
    let patients = clinic.patients();
    let asking = patients[0].user_id.clone();
    clinic.says(&asking, "What time do you open?").await?;
    let answer = clinic.until_received(&asking, 1).await?;
    let text = answer[0].message["text"].as_str().unwrap_or_default();
    ensure!(text.contains("9:00"), "{text}");

    // Another asks for a person: the owners hear it on Telegram, with a link to the chat.
    let waiting = patients[1].user_id.clone();
    clinic.says(&waiting, "talk to staff please").await?;
    until("the Telegram alert", || {
        clinic.sim.telegram_messages().len() == 2
    })
    .await?;
    let alert = clinic.sim.telegram_messages()[1].text.clone();
    let link = format!("tsunagi://chat/{CHANNEL}/{waiting}");
    ensure!(alert.contains(&link), "{alert}");

    // The link, opened on this computer, opens that chat in the running app.
    app.find(By::Text("Choose a conversation on the left."))
        .await?;
    app.launch_again_with(&[&link], Duration::from_secs(20))
        .await?;
    app.find(By::Button("Claim")).await?;
    app.find(By::XPath(&format!(
        "//section//h2[normalize-space(.)='{}']",
        patients[1].display_name
    )))
    .await?;

    // The first chat shows the answer as the AI's.
    let first = format!("tsunagi://chat/{CHANNEL}/{asking}");
    app.launch_again_with(&[&first], Duration::from_secs(20))
        .await?;
    app.find(By::Text("AI (sim-1)")).await?;
    app.find(By::Text(text)).await?;
    app.screenshot("ai-answer").await?;

    // Neither the key nor the token is anywhere this desk wrote (its store, its settings).
    for secret in [
        &clinic.sim.config().ai_key,
        &clinic.sim.config().telegram_token,
    ] {
        for (path, bytes) in app.files_written()? {
            ensure!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a credential",
                path.display()
            );
        }
    }

    // The bot's token revoked at Telegram since: the next alert fails, and the owner's
    // settings say why.
    clinic
        .relay
        .set_credential(
            &tsunagi_line::ChannelId::from(CHANNEL),
            tsunagi_proto::Credential::TelegramToken,
            Some("42:revoked-at-botfather-since"),
        )
        .await?;
    clinic
        .says(&patients[2].user_id, "talk to staff please")
        .await?;
    app.choose("Clinic", "Settings").await?;
    app.click(By::Tab("Telegram alerts")).await?;
    app.until_text(By::Alert, "the failed alert", |t| {
        t.contains("did not get through")
            && t.contains("no longer accepts the bot's token")
            && t.contains("The relay's words: Telegram refused the bot's token")
    })
    .await?;
    app.screenshot("settings-telegram-trouble").await?;
    app.click(By::Button("Close")).await?;

    // The settings, read in Thai.
    app.speak("ไทย").await?;
    app.find(By::Text("AI (sim-1)")).await?;
    app.screenshot("ai-answer-th").await?;
    app.choose("คลินิก", "ตั้งค่า").await?;
    app.click(By::Tab("AI ตอบแชท")).await?;
    app.find(By::Text("รีเลย์เก็บคีย์ไว้แล้ว")).await?;
    app.screenshot("settings-ai-th").await?;
    app.click(By::Tab("แจ้งเตือนทาง Telegram")).await?;
    app.until_text(By::Alert, "the failed alert, in Thai", |t| {
        t.contains("Telegram ไม่รับโทเค็นของบอทนี้แล้ว")
    })
    .await?;
    app.screenshot("settings-telegram-th").await?;
    app.close().await
}
