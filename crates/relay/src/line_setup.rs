//! Connecting a LINE channel: prove the credentials, point LINE's webhook at this relay,
//! and have LINE test it, reporting each step.

use tsunagi_line::client::{AccessToken, Client, WebhookTest};
use tsunagi_line::retry::RetryPolicy;
use tsunagi_line::{ChannelId, Error as LineError};
use tsunagi_proto::LineAccount;
use tsunagi_proto::api::{SetupProblem, SetupStep};

pub use crate::relay::LineSetup;
use crate::relay::Relay;
use crate::secret::ChannelSecret;
use crate::store::{LogStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// LINE refused the channel id and secret: nothing was stored.
    #[error("LINE refused the channel's credentials: {0}")]
    Credentials(LineError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn step(name: &str, ok: bool, detail: impl Into<String>) -> SetupStep {
    SetupStep {
        name: name.to_owned(),
        ok,
        detail: detail.into(),
        problem: None,
    }
}

/// A failed step whose cause the window can say in the owner's language.
fn failed(name: &str, detail: String, problem: SetupProblem) -> SetupStep {
    SetupStep {
        problem: Some(problem),
        ..step(name, false, detail)
    }
}

/// Checks the credentials with LINE before storing anything, then sets the webhook URL
/// and runs LINE's webhook test. Once the channel is stored, a failing later step is
/// reported, not undone: the credentials are good, and the owner can fix the rest.
pub async fn connect<S: LogStore>(
    relay: &Relay<S>,
    channel: &ChannelId,
    secret: ChannelSecret,
    setup: &LineSetup,
) -> Result<Vec<SetupStep>, SetupError> {
    run(relay, channel, secret, setup, Storing::New).await
}

/// The same steps for a channel the relay has, after LINE issued it a new secret: the
/// new secret replaces the old one only once LINE has accepted it.
pub async fn reconnect<S: LogStore>(
    relay: &Relay<S>,
    channel: &ChannelId,
    secret: ChannelSecret,
    setup: &LineSetup,
) -> Result<Vec<SetupStep>, SetupError> {
    run(relay, channel, secret, setup, Storing::Replace).await
}

/// This month's message quota and what was used of it, asked of LINE with the channel's
/// credentials.
pub async fn quota<S: LogStore>(
    relay: &Relay<S>,
    channel: &ChannelId,
    setup: &LineSetup,
) -> Result<tsunagi_proto::api::MessageQuota, SetupError> {
    let secret = (relay.secret(channel).await?)
        .ok_or_else(|| StoreError::UnknownChannel(channel.clone()))?;
    let client = Client::builder()
        .api_base(setup.api_base.clone())
        .data_base(setup.data_base.clone())
        .build()
        .map_err(SetupError::Credentials)?;
    // A stateless token: a short-lived one would count against LINE's thirty per channel
    // and, asked for on every preview, revoke the executor's.
    let issued = client
        .issue_stateless_token(channel, secret.expose())
        .await
        .map_err(SetupError::Credentials)?;
    let line = client.with_access_token(AccessToken::new(issued.access_token));
    let quota = line.quota().await.map_err(SetupError::Credentials)?;
    let used = line
        .quota_consumption()
        .await
        .map_err(SetupError::Credentials)?;
    Ok(tsunagi_proto::api::MessageQuota {
        limit: (quota.kind == "limited").then_some(quota.value).flatten(),
        used,
    })
}

enum Storing {
    New,
    Replace,
}

async fn run<S: LogStore>(
    relay: &Relay<S>,
    channel: &ChannelId,
    secret: ChannelSecret,
    setup: &LineSetup,
    storing: Storing,
) -> Result<Vec<SetupStep>, SetupError> {
    let client = Client::builder()
        .api_base(setup.api_base.clone())
        .data_base(setup.data_base.clone())
        .retry(RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        })
        .build()
        .map_err(SetupError::Credentials)?;
    // A stateless token, as everywhere in the relay: a short-lived one would count against
    // LINE's thirty per channel, and a thirty-first revokes the oldest, which may be in use.
    let issued = client
        .issue_stateless_token(channel, secret.expose())
        .await
        .map_err(SetupError::Credentials)?;
    let line = client.with_access_token(AccessToken::new(issued.access_token));
    let mut steps = vec![step(
        "credentials",
        true,
        "LINE accepted the channel id and secret",
    )];
    let info = line.bot_info().await.map_err(SetupError::Credentials)?;
    steps.push(step(
        "bot info",
        true,
        format!("{} ({})", info.display_name, info.basic_id),
    ));

    match storing {
        Storing::New => relay.add_channel(channel, secret).await?,
        Storing::Replace => relay.replace_secret(channel, secret).await?,
    }
    steps.push(step("stored", true, "the secret is stored encrypted"));
    log_account(relay, channel, crate::line_account::of(&info)).await;

    let endpoint = setup.webhook_url(channel);
    if let Err(error) = line.set_webhook_endpoint(&endpoint).await {
        steps.push(step("webhook URL", false, error.to_string()));
        return Ok(steps);
    }
    // Read back: LINE keeps the URL even while its "Use webhook" switch is off, and then
    // sends nothing. The test below runs either way: it says whether LINE can reach us.
    steps.push(match line.webhook_endpoint().await {
        Ok(set) if set.endpoint != endpoint => failed(
            "webhook URL",
            format!(
                "LINE has {} as the webhook URL instead of {endpoint}: set it again",
                set.endpoint
            ),
            SetupProblem::WebhookElsewhere {
                endpoint: endpoint.clone(),
                found: set.endpoint,
            },
        ),
        Ok(set) if !set.active => failed(
            "webhook URL",
            webhook_off(&endpoint),
            SetupProblem::WebhookOff {
                endpoint: endpoint.clone(),
            },
        ),
        Ok(_) => step("webhook URL", true, endpoint.clone()),
        Err(error) => step(
            "webhook URL",
            false,
            format!("LINE did not say whether it uses {endpoint}: {error}"),
        ),
    });
    steps.push(match line.test_webhook(Some(&endpoint)).await {
        Ok(report) if report.reached() => step("webhook test", true, tested(&endpoint, &report)),
        Ok(report) => failed(
            "webhook test",
            tested(&endpoint, &report),
            if report.answered() {
                SetupProblem::WebhookRefused {
                    endpoint: endpoint.clone(),
                    status: report.status_code,
                    reason: report.reason.clone(),
                    detail: report.detail.clone(),
                }
            } else {
                SetupProblem::WebhookUnreached {
                    endpoint: endpoint.clone(),
                    reason: report.reason.clone(),
                    detail: report.detail.clone(),
                }
            },
        ),
        Err(error) => step("webhook test", false, error.to_string()),
    });
    Ok(steps)
}

/// Logs the account's Chat and mark-as-read modes for the desks, as the executor does when
/// they change. Not a step: the executor reads them again when it starts, so a failure
/// here only delays them.
async fn log_account<S: LogStore>(relay: &Relay<S>, channel: &ChannelId, account: LineAccount) {
    let logged = async {
        let head = relay.store.head(channel).await?;
        let entry = crate::line_account::entry(account, head, relay.now())?;
        relay.store.append(channel, vec![entry]).await
    };
    if let Err(error) = logged.await {
        tracing::warn!(%channel, %error, "logging the account's modes at setup");
    }
}

/// What the owner must do when LINE has the URL but does not use it.
fn webhook_off(endpoint: &str) -> String {
    format!(
        "LINE has the webhook URL {endpoint} but does not use it: the channel's \
         \"Use webhook\" is off, so no patient's message reaches Tsunagi. Turn it on in the \
         LINE Developers console (developers.line.biz/console) → your channel → Messaging \
         API tab → Webhook settings → \"Use webhook\", or in LINE Official Account Manager \
         (manager.line.biz) → Settings → Response settings → Webhooks on; then connect \
         again to check"
    )
}

/// LINE's webhook test report, for people: reached, answered with an error, or not
/// answered at all (a status of zero or less), with LINE's reason and detail.
fn tested(endpoint: &str, report: &WebhookTest) -> String {
    let status = report.status_code;
    let why = [report.reason.trim(), report.detail.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" — ");
    if report.reached() {
        format!("LINE reached {endpoint}: {status} {why}")
    } else if report.answered() {
        format!("LINE reached {endpoint}, but it answered {status}: {why}")
    } else {
        format!("LINE could not reach {endpoint}: {why}")
    }
}
