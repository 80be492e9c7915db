//! The inbox as a receptionist's worklist, in the real window: rows that triage from the
//! patient's own words, Needs reply by the longest wait, answering a waiting chat (and
//! losing the race for it), Done with a moment to undo, an input method's Enter, and an
//! accessibility check of the main screens.

use std::time::Duration;

use anyhow::{Context as _, Result, bail, ensure};
use fantoccini::key::Key;
use serde_json::Value;
use tsunagi_e2e::app::{App, By};
use tsunagi_e2e::clinic::Clinic;
use tsunagi_relay::testing::Network;

use crate::operator::{join, patient_waits, skip};

/// The rows of the list shown, top to bottom, as their text.
async fn rows(app: &App) -> Result<Vec<String>> {
    let mut texts = Vec::new();
    // All of a row's words (WebKit's driver leaves out text an ellipsis clips).
    for row in app
        .all(By::XPath("//*[@role='listbox']//*[@role='option']"))
        .await?
    {
        texts.push(row.prop("textContent").await?.unwrap_or_default());
    }
    Ok(texts)
}

/// Resizes the window, and waits until the page has the new size (under the test's X
/// server, with no window manager, the page is the whole window).
pub(crate) async fn resize(app: &App, width: u32, height: u32) -> Result<()> {
    app.client
        .set_window_size(width, height)
        .await
        .context("resizing the window")?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let size = app
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await?;
        if size == serde_json::json!([width, height]) {
            return Ok(());
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "the page is {size} after resizing the window to {width}×{height}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Screenshots of what is on screen in English, Japanese and Thai, at the window's
/// smallest size and at full HD; back in English at the smallest after.
pub(crate) async fn shots(app: &App, name: &str) -> Result<()> {
    for (width, height) in [(1100, 720), (1920, 1080)] {
        resize(app, width, height).await?;
        for (language, tag) in [("日本語", "ja"), ("ไทย", "th"), ("English", "en")] {
            app.speak(language).await?;
            let shot = app
                .screenshot(&format!("{name}-{tag}-{width}x{height}"))
                .await?;
            eprintln!("screenshot: {}", shot.display());
        }
    }
    resize(app, 1100, 720).await
}

#[tokio::test]
async fn rows_triage_from_the_patients_words_and_needs_reply_puts_the_longest_wait_first()
-> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join(&app, &clinic, "Aiko").await?;
    // Three patients ask for staff, one after another; the second then says why.
    let first = clinic.patients()[2].display_name.clone();
    let second = clinic.patients()[3].display_name.clone();
    let third = clinic.patients()[4].display_name.clone();
    patient_waits(&clinic, 2).await?;
    let asking = patient_waits(&clinic, 3).await?;
    patient_waits(&clinic, 4).await?;
    clinic
        .says(&asking, "熱があります。今日診てもらえますか")
        .await?;

    // Needs reply is what the window opens on: the queue, longest wait first.
    app.until_text(By::Tab("Needs reply"), "three to answer", |t| {
        t.ends_with('3')
    })
    .await?;
    let deadline = tokio::time::Instant::now() + tsunagi_e2e::app::WAIT;
    let shown = loop {
        let shown = rows(&app).await?;
        if shown.iter().any(|r| r.contains("熱があります")) {
            break shown;
        }
        if tokio::time::Instant::now() > deadline {
            app.screenshot("inbox-needs-reply-failed").await?;
            bail!("the second patient's words never showed: {shown:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    ensure!(shown.len() == 3, "{shown:?}");
    for (row, name) in shown.iter().zip([&first, &second, &third]) {
        ensure!(
            row.contains(name.as_str()),
            "{name} out of order: {shown:?}"
        );
    }
    // Each previews the patient's own words, never the bot's queue line.
    ensure!(
        shown[0].contains("スタッフと話したい") && shown[1].contains("熱があります"),
        "{shown:?}"
    );
    ensure!(
        !shown.iter().any(|r| r.contains("担当者におつなぎします")),
        "a row previews the queue line: {shown:?}"
    );
    shots(&app, "inbox-needs-reply").await?;
    app.close().await
}

#[tokio::test]
async fn answering_a_waiting_chat_claims_it_and_a_lost_race_keeps_the_draft() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join(&app, &clinic, "Aiko").await?;

    // Answered straight from the queue: the answer claims the chat and goes.
    let patient = patient_waits(&clinic, 1).await?;
    let name = clinic.patients()[1].display_name.clone();
    app.click(By::Option(&name)).await?;
    let message = app.type_into("Message", "はい、どうされましたか").await?;
    message.send_keys(&Key::Enter.to_string()).await?;
    app.find(By::Text("You are answering this chat.")).await?;
    let received = clinic.until_received(&patient, 2).await?;
    ensure!(
        received
            .iter()
            .filter(|d| d.message["text"] == "はい、どうされましたか")
            .count()
            == 1,
        "{received:?}"
    );
    // It stays in view, though it left the queue.
    ensure!(
        rows(&app).await?.iter().any(|r| r.contains(name.as_str())),
        "the chat being answered left the list"
    );
    shots(&app, "conversation-answered").await?;

    // Another patient; a colleague takes the chat while this desk cannot see it.
    let other = patient_waits(&clinic, 5).await?;
    let other_name = clinic.patients()[5].display_name.clone();
    app.click(By::Option(&other_name)).await?;
    app.find(By::Button("Claim")).await?;
    clinic.proxy.set(Network::Down);
    app.until_text(By::Status, "offline", |t| t.contains("Offline"))
        .await?;
    clinic.claim_as("d-somchai", &other).await?;
    let draft = "少々お待ちください";
    let message = app.type_into("Message", draft).await?;
    message.send_keys(&Key::Enter.to_string()).await?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    clinic.proxy.set(Network::Up);
    app.find(By::Text("Someone else took this chat first"))
        .await?;
    let kept = app
        .find(By::Textbox("Message"))
        .await?
        .prop("value")
        .await?;
    ensure!(
        kept.as_deref() == Some(draft),
        "the draft is gone: {kept:?}"
    );
    app.screenshot("claim-on-reply-lost").await?;
    ensure!(
        !clinic
            .received(&other)
            .iter()
            .any(|d| d.message["text"] == draft),
        "the answer went to a chat another holds"
    );
    app.close().await
}

#[tokio::test]
async fn done_closes_after_a_moment_in_which_it_can_be_undone() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join(&app, &clinic, "Aiko").await?;
    let patient = patient_waits(&clinic, 7).await?;
    let name = clinic.patients()[7].display_name.clone();
    app.click(By::Option(&name)).await?;
    app.click(By::Button("Claim")).await?;
    app.find(By::Text("You are answering this chat.")).await?;

    // The holder's chip holds handing on; Done is the one primary action.
    app.click(By::Button("You: hand on the chat")).await?;
    for item in [
        "Transfer to a colleague…",
        "Put back in the queue",
        "Back to bot",
    ] {
        app.find(By::MenuItem(item)).await?;
    }
    app.screenshot("header-menu").await?;
    app.client
        .active_element()
        .await?
        .send_keys(&Key::Escape.to_string())
        .await?;
    app.gone(By::MenuItem("Back to bot")).await?;

    // The patient's question has no answer yet: Done says so, and can be undone.
    app.click(By::Button("Done")).await?;
    app.find(By::Text("Not answered yet: closing in")).await?;
    app.screenshot("done-undo").await?;
    app.click(By::Button("Undo")).await?;
    // Undone: a while later it is still this desk's chat.
    tokio::time::sleep(Duration::from_secs(11)).await;
    app.find(By::Text("You are answering this chat.")).await?;
    ensure!(
        app.all(By::Text("closed this chat at")).await?.is_empty(),
        "closed though undone"
    );
    // Answered, Done closes it after its moment.
    let message = app.type_into("Message", "お大事に").await?;
    message.send_keys(&Key::Enter.to_string()).await?;
    clinic.until_received(&patient, 2).await?;
    app.find(By::XPath(
        "//article[contains(., 'お大事に')]//footer[@data-status='sent']",
    ))
    .await?;
    app.click(By::Button("Done")).await?;
    app.find(By::Text("Closing in")).await?;
    app.find(By::Text("closed this chat at")).await?;
    app.close().await
}

#[tokio::test]
async fn enter_that_confirms_an_input_methods_conversion_does_not_send() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join(&app, &clinic, "Aiko").await?;
    let patient = patient_waits(&clinic, 8).await?;
    let name = clinic.patients()[8].display_name.clone();
    app.click(By::Option(&name)).await?;
    app.click(By::Button("Claim")).await?;
    app.find(By::Text("You are answering this chat.")).await?;
    app.find(By::Textbox("Message")).await?.click().await?;
    // What WebKit sends for 予約 typed through a Japanese input method and confirmed with
    // Enter: the composition ends first, then the Enter comes with key code 229.
    app.client
        .execute(
            "const box = document.querySelector('textarea[aria-label=\"Message\"]'); \
             box.dispatchEvent(new CompositionEvent('compositionstart', { bubbles: true, data: '' })); \
             const set = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set; \
             set.call(box, '予約'); \
             box.dispatchEvent(new InputEvent('input', { bubbles: true, isComposing: true, data: '予約' })); \
             box.dispatchEvent(new CompositionEvent('compositionend', { bubbles: true, data: '予約' })); \
             box.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, cancelable: true, key: 'Enter', keyCode: 229, isComposing: false }));",
            vec![],
        )
        .await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let value = app
        .find(By::Textbox("Message"))
        .await?
        .prop("value")
        .await?;
    ensure!(value.as_deref() == Some("予約"), "{value:?}");
    ensure!(
        clinic.received(&patient).len() == 1,
        "sent on the conversion's Enter: {:?}",
        clinic.received(&patient)
    );
    // A plain Enter then sends it.
    app.find(By::Textbox("Message"))
        .await?
        .send_keys(&Key::Enter.to_string())
        .await?;
    clinic.until_received(&patient, 2).await?;
    app.close().await
}

/// Runs axe-core in the window; the serious and critical violations, as text.
async fn accessibility(app: &App, screen: &str) -> Result<Vec<String>> {
    let axe = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ui/node_modules/axe-core/axe.min.js"),
    )
    .context("reading axe-core (npm ci in ui/)")?;
    // Run as a function's body: a closing line comment (its source map) must not swallow
    // the driver's closing brace.
    app.client.execute(&format!("{axe}\n"), vec![]).await?;
    let result = app
        .client
        .execute_async(
            "const done = arguments[0]; \
             const found = (r) => r.violations.map((v) => ({ \
               id: v.id, impact: v.impact, help: v.help, \
               nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) })); \
             const failed = (e) => [{ id: 'axe-failed', impact: 'critical', help: String(e), nodes: [] }]; \
             axe.run(document, { resultTypes: ['violations'] }).then( \
               (r) => done(found(r)), (e) => done(failed(e)));",
            vec![],
        )
        .await?;
    let Value::Array(violations) = result else {
        bail!("axe answered {result}");
    };
    Ok(violations
        .into_iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| format!("{screen}: {} ({}) at {}", v["id"], v["help"], v["nodes"]))
        .collect())
}

#[tokio::test]
async fn the_main_screens_have_no_serious_accessibility_violation() -> Result<()> {
    if skip() {
        return Ok(());
    }
    let clinic = Clinic::start(12).await?;
    let app = App::launch(true).await?;
    join(&app, &clinic, "Aiko").await?;
    patient_waits(&clinic, 2).await?;
    let name = clinic.patients()[2].display_name.clone();
    let mut found = accessibility(&app, "inbox").await?;
    app.click(By::Option(&name)).await?;
    app.click(By::Button("Claim")).await?;
    app.find(By::Text("You are answering this chat.")).await?;
    found.extend(accessibility(&app, "conversation").await?);
    app.click(By::Button("Alerts")).await?;
    app.find(By::Region("Alert settings")).await?;
    found.extend(accessibility(&app, "alert settings").await?);
    ensure!(found.is_empty(), "{}", found.join("\n"));
    app.close().await
}
