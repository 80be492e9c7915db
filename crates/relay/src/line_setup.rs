//! Connecting a LINE channel: prove the credentials, point LINE's webhook at this relay,
//! and have LINE test it, reporting each step.

use serde::Serialize;
use tsunagi_line::client::{AccessToken, Client};
use tsunagi_line::retry::RetryPolicy;
use tsunagi_line::{ChannelId, Error as LineError};

use crate::relay::Relay;
use crate::secret::ChannelSecret;
use crate::store::{LogStore, StoreError};

/// Where LINE is, and where LINE can reach this relay.
#[derive(Debug, Clone)]
pub struct LineSetup {
    /// `https://api.line.me`, or the simulator.
    pub api_base: String,
    /// This relay's address as LINE sees it, e.g. `https://relay.example.com`.
    pub public_url: String,
}

/// One step of connecting a channel, as reported to the owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// LINE refused the channel id and secret: nothing was stored.
    #[error("LINE refused the channel's credentials: {0}")]
    Credentials(LineError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks the credentials with LINE before storing anything, then sets the webhook URL
/// and runs LINE's webhook test. Once the channel is stored, a failing later step is
/// reported, not undone: the credentials are good, and the owner can fix the rest.
pub async fn connect<S: LogStore>(
    relay: &Relay<S>,
    channel: &ChannelId,
    secret: ChannelSecret,
    setup: &LineSetup,
) -> Result<Vec<Step>, SetupError> {
    let client = Client::builder()
        .api_base(setup.api_base.clone())
        .retry(RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        })
        .build()
        .map_err(SetupError::Credentials)?;
    let issued = client
        .issue_channel_token(channel, secret.expose())
        .await
        .map_err(SetupError::Credentials)?;
    let line = client.with_access_token(AccessToken::new(issued.access_token));
    let mut steps = vec![Step {
        name: "credentials",
        ok: true,
        detail: "LINE accepted the channel id and secret".into(),
    }];
    let info = line.bot_info().await.map_err(SetupError::Credentials)?;
    steps.push(Step {
        name: "bot info",
        ok: true,
        detail: format!("{} ({})", info.display_name, info.basic_id),
    });

    relay.add_channel(channel, secret).await?;
    steps.push(Step {
        name: "stored",
        ok: true,
        detail: "the secret is stored encrypted".into(),
    });

    let endpoint = format!(
        "{}/webhook/line/{channel}",
        setup.public_url.trim_end_matches('/')
    );
    match line.set_webhook_endpoint(&endpoint).await {
        Ok(()) => steps.push(Step {
            name: "webhook URL",
            ok: true,
            detail: endpoint.clone(),
        }),
        Err(error) => {
            steps.push(Step {
                name: "webhook URL",
                ok: false,
                detail: error.to_string(),
            });
            return Ok(steps);
        }
    }
    steps.push(match line.test_webhook(Some(&endpoint)).await {
        Ok(report) => Step {
            name: "webhook test",
            ok: report.success,
            detail: format!(
                "LINE reached {endpoint}: {} {} {}",
                report.status_code, report.reason, report.detail
            ),
        },
        Err(error) => Step {
            name: "webhook test",
            ok: false,
            detail: error.to_string(),
        },
    });
    Ok(steps)
}
