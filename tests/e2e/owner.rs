//! The owner's desk in the real window: a new relay set up from the app, from its setup
//! code to a patient's first message.

use anyhow::{Result, ensure};
use tsunagi_e2e::app::{App, By};
use tsunagi_e2e::clinic::{CHANNEL, Clinic, SECRET};
use tsunagi_line::ChannelId;

use crate::operator::{patient_waits, skip};

#[tokio::test]
async fn a_new_relays_owner_connects_its_line_channel_in_the_window_and_patients_arrive()
-> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::new_relay(6).await?;
    let app = App::launch(true).await?;
    // The owner joins with the code the new relay printed.
    let code = clinic.setup_code().await?;
    app.type_into("Relay address", &clinic.url).await?;
    app.type_into("Invite code", &code).await?;
    app.type_into("Your name", "Yuki").await?;
    app.click(By::Button("Join")).await?;
    app.find(By::Text("Connect your LINE Official Account"))
        .await?;

    // Nothing typed, then a secret LINE refuses: each said in words, nothing kept.
    app.click(By::Button("Connect")).await?;
    app.until_text(By::Alert, "the missing channel ID", |t| {
        t.contains("Enter the channel ID")
    })
    .await?;
    app.type_into("Channel ID", CHANNEL).await?;
    app.type_into("Channel secret", "0123456789abcdef0123456789abcdef")
        .await?;
    app.click(By::Button("Connect")).await?;
    app.until_text(By::Alert, "LINE's refusal", |t| {
        t.contains("LINE refused this channel ID and secret")
    })
    .await?;
    ensure!(
        clinic
            .relay
            .secret(&ChannelId::from(CHANNEL))
            .await?
            .is_none(),
        "the relay kept a channel LINE refused"
    );
    app.find(By::Region("Language"))
        .await?
        .select_by_label("ไทย")
        .await?;
    app.find(By::Text("เชื่อมต่อบัญชี LINE Official Account"))
        .await?;
    app.screenshot("connect-channel-th").await?;
    app.find(By::Region("ภาษา"))
        .await?
        .select_by_label("English")
        .await?;

    // The right secret: every step done, LINE's webhook test included.
    app.type_into("Channel secret", SECRET).await?;
    app.click(By::Button("Connect")).await?;
    let steps = app
        .until_text(By::XPath("//ol[@aria-label='Steps']"), "the steps", |t| {
            t.contains("LINE's test message arrived")
        })
        .await?;
    ensure!(!steps.contains('✗'), "a step failed: {steps}");
    ensure!(
        clinic
            .relay
            .secret(&ChannelId::from(CHANNEL))
            .await?
            .is_some(),
        "the relay did not keep the channel"
    );
    app.screenshot("connect-channel-done").await?;
    app.click(By::Button("Open the inbox")).await?;

    // LINE now sends the relay its webhooks: a patient's first message reaches the inbox.
    patient_waits(&clinic, 2).await?;
    let name = clinic.patients()[2].display_name.clone();
    app.find(By::Option(&name)).await?;
    app.screenshot("connect-channel-first-patient").await?;
    app.close().await
}
