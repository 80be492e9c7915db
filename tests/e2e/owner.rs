//! The owner's desk in the real window: a new relay set up from the app, from its setup
//! code to a patient's first message; the team invited, joined and shut out.

use anyhow::{Result, ensure};
use tsunagi_e2e::app::{App, By};
use tsunagi_e2e::clinic::{CHANNEL, Clinic, SECRET};
use tsunagi_line::ChannelId;
use tsunagi_proto::api::Role;
use tsunagi_relay::store::LogStore as _;

use crate::operator::{join_as, join_with, patient_waits, skip};

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
    join_with(&app, &clinic, &code, "Yuki").await?;
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
    app.speak("ไทย").await?;
    app.find(By::Text("เชื่อมต่อบัญชี LINE Official Account"))
        .await?;
    app.screenshot("connect-channel-th").await?;
    app.speak("English").await?;

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

#[tokio::test]
async fn the_owner_invites_a_desk_that_joins_with_the_code_then_shuts_it_out() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(4).await?;
    let owner = App::launch(true).await?;
    join_as(&owner, &clinic, "Yuki", Role::Owner).await?;
    owner.choose("Clinic", "Team").await?;
    owner.find(By::Region("Team")).await?;
    owner.click(By::Button("Invite staff")).await?;
    let code = owner
        .until_text(
            By::XPath("//output[@aria-label='Invite code']"),
            "the invite code",
            |t| t.len() >= 8,
        )
        .await?;
    // Each code not used yet is listed (never the code itself), and one handed out by
    // mistake is withdrawn: it no longer lets a desk in.
    let withdraw = "//button[starts-with(@aria-label, 'Withdraw the Staff code Yuki made')]";
    owner.find(By::XPath(withdraw)).await?;
    owner.click(By::Button("Invite staff")).await?;
    let mistaken = owner
        .until_text(
            By::XPath("//output[@aria-label='Invite code']"),
            "a second invite code",
            |t| t.len() >= 8 && t != code,
        )
        .await?;
    ensure!(
        owner.all(By::XPath(withdraw)).await?.len() == 2,
        "the two codes are not listed"
    );
    owner.screenshot("team-invite").await?;
    // The newer one, last in the list.
    owner.click(By::XPath(&format!("({withdraw})[2]"))).await?;
    owner
        .gone(By::XPath("//output[@aria-label='Invite code']"))
        .await?;
    ensure!(
        owner.all(By::XPath(withdraw)).await?.len() == 1,
        "the withdrawn code is still listed"
    );
    let refused = clinic
        .relay
        .enroll(&tsunagi_proto::api::Enroll {
            code: mistaken,
            device_name: "Somewhere".into(),
            operator_name: "Nobody".into(),
        })
        .await;
    ensure!(refused.is_err(), "a withdrawn code let a desk in");

    // Read out to a colleague, whose desk joins with it.
    let staff = App::launch(true).await?;
    join_with(&staff, &clinic, &code, "Aiko").await?;
    owner
        .find(By::Text("No code is waiting to be used."))
        .await?;
    staff.find(By::Tab("Waiting")).await?;
    staff.click(By::Button("Clinic")).await?;
    staff.find(By::MenuItem("Contacts")).await?;
    for owners_only in ["Team", "Analytics", "Audit"] {
        ensure!(
            staff.all(By::MenuItem(owners_only)).await?.is_empty(),
            "a staff desk offers {owners_only}"
        );
    }
    staff.click(By::Button("Clinic")).await?;

    // The owner sees her join, and shuts her computer out.
    let aiko = "//*[@role='dialog']//tr[td[normalize-space(.)='Aiko']]";
    owner.find(By::XPath(aiko)).await?;
    // Her desk has been reaching the relay since it joined.
    owner
        .until_text(
            By::XPath(&format!("{aiko}/td[5]")),
            "when Aiko was last seen",
            |t| !t.is_empty() && t != "Not yet",
        )
        .await?;
    owner.click(By::Button("Revoke Aiko")).await?;
    owner
        .click(By::XPath(
            "//*[@role='alertdialog']//button[normalize-space(.)='Revoke']",
        ))
        .await?;
    owner
        .find(By::XPath(&format!(
            "{aiko}/td[starts-with(normalize-space(.), 'Revoked')]"
        )))
        .await?;
    owner.screenshot("team-revoked").await?;
    let devices = clinic
        .relay
        .store
        .devices(&ChannelId::from(CHANNEL))
        .await?;
    ensure!(
        devices
            .iter()
            .any(|d| d.operator_name == "Aiko" && d.revoked_at.is_some()),
        "the relay did not revoke Aiko's device: {devices:?}"
    );
    // Her desk is told, at once, and keeps nothing of patients' data.
    staff
        .until_text(
            By::XPath("//*[@data-testid='removed']"),
            "the desk shut out",
            |t| t.contains("was deleted from it"),
        )
        .await?;
    staff.find(By::Textbox("Invite code")).await?;
    staff.screenshot("desk-removed").await?;

    // The team in Thai.
    owner.click(By::Button("Close")).await?;
    owner.speak("ไทย").await?;
    owner.choose("คลินิก", "ทีม").await?;
    owner.find(By::Text("ผู้ที่เข้าร่วมแล้ว")).await?;
    owner.screenshot("team-th").await?;
    staff.close().await?;
    owner.close().await
}
