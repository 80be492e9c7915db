use std::time::Duration;

use anyhow::{Context as _, Result};
use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use tsunagi_e2e::app::{self, App};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn the_first_screen_renders_and_checks_a_relay_address_through_rust() -> Result<()> {
    if !app::enabled() {
        eprintln!("skipped: set E2E=1 (and run under xvfb-run and dbus-run-session)");
        return Ok(());
    }
    let app = App::launch(true).await?;
    let client = &app.client;

    // The first screen rendered, and `app_info` came back from Rust with the real version.
    let version = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("[data-testid=app-version]"))
        .await
        .context("the first screen never showed the app version")?;
    assert_eq!(
        version.text().await?,
        format!("Tsunagi {} · linux", env!("CARGO_PKG_VERSION"))
    );
    let heading = client.find(Locator::Css("h1")).await?;
    assert_eq!(heading.text().await?, "Tsunagi");
    let logo_width = client
        .execute(
            "const img = document.querySelector('header img'); \
             return img && img.complete ? img.naturalWidth : 0;",
            vec![],
        )
        .await?;
    assert!(
        logo_width.as_u64().unwrap_or(0) > 0,
        "the logo did not load: {logo_width}"
    );
    let keyring = client
        .find(Locator::Css("[data-testid=keyring]"))
        .await?
        .text()
        .await?;
    assert!(
        keyring.contains("system keyring"),
        "the keyring should be reachable in the test session: {keyring}"
    );

    // A bad address is refused by Rust with its own message.
    let alert = check_relay_url(client, "http://relay.example.com", "#relay-url-error").await?;
    assert!(alert.text().await?.contains("https://"));
    assert_eq!(
        alert.attr("data-code").await?.as_deref(),
        Some("invalid_input")
    );

    // A good one comes back normalized, with the webhook LINE will call.
    let checked = check_relay_url(
        client,
        "http://127.0.0.1:8080/",
        "[data-testid=relay-checked]",
    )
    .await?;
    let text = checked.text().await?;
    assert!(
        text.contains("http://127.0.0.1:8080/webhook/line/{channel_id}"),
        "{text}"
    );
    assert!(text.contains("without encryption"), "{text}");

    let shot = app.screenshot("first-screen").await?;
    eprintln!("screenshot: {}", shot.display());
    app.close().await
}

/// Types `url` into the relay field, submits it, and waits for the element `answer`.
async fn check_relay_url(client: &Client, url: &str, answer: &str) -> Result<Element> {
    let input = client.find(Locator::Id("relay-url")).await?;
    input.clear().await?;
    input.send_keys(url).await?;
    client
        .find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    let element = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(answer))
        .await
        .with_context(|| format!("no {answer} after checking {url}"))?;
    Ok(element)
}
