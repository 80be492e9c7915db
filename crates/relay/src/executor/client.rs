//! The LINE client the executor calls through, with a fresh access token for each call,
//! and what LINE's refusals mean to the executor.

use tsunagi_line::Error as LineError;
use tsunagi_line::client::{AccessToken, Class, Client};
use tsunagi_proto::UnixMillis;

use super::{Executor, Failure};
use crate::store::{LogStore, StoreError};

/// How long before its end an access token is renewed: a call made just before carries
/// it to LINE in time.
const TOKEN_RENEWED_BEFORE_MS: i64 = 60_000;

impl<S: LogStore> Executor<S> {
    /// A client with a fresh access token, issued from the channel's credentials, for a
    /// call about to be made: only while the lease outlasts the call.
    ///
    /// The token is a stateless one (fifteen minutes, any number of them): a short-lived
    /// one, at most thirty live per channel, would revoke the oldest on the thirty-first
    /// start, perhaps one still in use by another relay process or by the owner's own tools.
    /// It is renewed a minute before it lapses, so that no call carries a token LINE has
    /// let go; a token LINE refuses all the same (the clocks disagree) is renewed then.
    pub(super) async fn client(&mut self) -> Result<&Client, Failure> {
        self.keep_lease().await?;
        if self
            .client
            .as_ref()
            .is_some_and(|(_, renew)| self.now() >= *renew)
        {
            self.client = None;
        }
        if self.client.is_none() {
            let secret = self
                .relay
                .secret(&self.channel)
                .await?
                .ok_or_else(|| StoreError::UnknownChannel(self.channel.clone()))?;
            let call = self.options.lease / 3;
            let client = Client::builder()
                .api_base(self.line.api_base.clone())
                .data_base(self.line.data_base.clone())
                .retry(self.options.retry)
                .timeout(call)
                .deadline(call)
                .build()
                .map_err(Failure::Token)?;
            // Counted from before it was asked for: LINE's fifteen minutes start a little
            // after.
            let asked = self.now();
            let issued = client
                .issue_stateless_token(&self.channel, secret.expose())
                .await
                .map_err(Failure::Token)?;
            let lasts = i64::try_from(issued.expires_in.saturating_mul(1000)).unwrap_or(i64::MAX);
            let renew = UnixMillis(
                asked
                    .0
                    .saturating_add(lasts - TOKEN_RENEWED_BEFORE_MS.min(lasts / 2)),
            );
            let client = client.with_access_token(AccessToken::new(issued.access_token));
            self.client = Some((client, renew));
        }
        self.client
            .as_ref()
            .map(|(client, _)| client)
            .ok_or_else(|| Failure::Store(StoreError::Unavailable("no LINE client".into())))
    }

    /// After LINE refused a call: a refused token is dropped, so that the next call has a
    /// new one.
    pub(super) fn refused(&mut self, error: &LineError) {
        if error.class() == Class::AccessToken {
            self.client = None;
        }
    }
}

/// Whether LINE refused for good, so that trying again would not help.
pub(super) fn is_final(error: &LineError) -> bool {
    !matches!(error.class(), Class::Retriable | Class::AccessToken)
}

/// The month's quota is used up: nothing more goes out this month.
pub(super) fn is_quota(error: &LineError) -> bool {
    matches!(error, LineError::Api(api) if api.is_monthly_limit())
}

/// LINE's id of the request it refused, to quote to LINE's support.
pub(super) fn request_id(error: &LineError) -> Option<String> {
    match error {
        LineError::Api(api) => api.request_id.as_ref().map(|id| id.as_str().to_owned()),
        _ => None,
    }
}

/// LINE's reason and details, for people.
pub(super) fn describe(error: &LineError) -> (String, Vec<String>) {
    match error {
        LineError::Api(api) => (
            api.message.clone(),
            api.details.iter().map(ToString::to_string).collect(),
        ),
        other => (other.to_string(), Vec::new()),
    }
}
