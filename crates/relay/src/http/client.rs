//! Who is calling, by address, and how many times that address failed to prove who it is.
//!
//! Behind a reverse proxy every request comes from the proxy's address; the proxy names the
//! client in `X-Forwarded-For`. Anyone can write that header, so it is read only from a
//! proxy the operator trusts (`--trusted-proxies`), and only the part that trusted proxies
//! wrote: from the right, the first address that is not a trusted proxy. (`Forwarded` is
//! never read: a proxy that writes `X-Forwarded-For` passes a client's own `Forwarded`
//! through untouched.)
//!
//! An address that fails too often (a wrong enrollment code, a token that is no token) is
//! told to wait, before any more of its guesses cost the database anything. An IPv6 client
//! is its /64, which one host is usually given whole. Successes never count: a clinic behind
//! the same address as a guesser still gets in with a valid code, once the guesser's address
//! is its own, and a desk whose token was proven lately is served from memory. LINE's
//! webhooks are never judged by address: every LINE channel's webhooks come from the same
//! servers.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use ipnet::IpNet;
use tsunagi_proto::api::ErrorCode;

use super::ApiError;

/// The proxies whose `Forwarded` and `X-Forwarded-For` headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    pub(super) fn trusts(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address: `peer`, unless `peer` is a trusted proxy, then the address
    /// the trusted proxies say they were called from.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer.to_canonical();
        }
        // Each proxy appends the address it was called from; the rightmost untrusted one
        // is the client. Anything left of it the client could have written itself.
        x_forwarded_for(headers)
            .into_iter()
            .rev()
            .map(|address| address.to_canonical())
            .find(|address| !self.trusts(*address))
            .unwrap_or(peer.to_canonical())
    }
}

/// The addresses of `X-Forwarded-For`, in order; one that is not an address ends the chain
/// there.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let mut chain = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(value) = value.to_str() else {
            return Vec::new();
        };
        for part in value.split(',') {
            match part.trim().parse() {
                Ok(address) => chain.push(address),
                Err(_) => chain.clear(),
            }
        }
    }
    chain
}

/// The calling client's address. Served without addresses (in-process tests), every
/// request comes from `0.0.0.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        let proxies = parts.extensions.get::<TrustedProxies>();
        Ok(ClientAddress(proxies.map_or(peer.to_canonical(), |p| {
            p.client(peer, &parts.headers)
        })))
    }
}

/// Failed attempts to prove who one is, per client address.
#[derive(Debug)]
pub struct Strikes {
    limiter: governor::DefaultKeyedRateLimiter<IpAddr>,
    /// Addresses told to wait, until when.
    waiting: Mutex<HashMap<IpAddr, Instant>>,
}

/// Addresses remembered before those whose wait is over (or whose budget is whole again)
/// are forgotten.
const ADDRESSES_KEPT: usize = 10_000;

impl Strikes {
    /// At most `per_minute` failures per address per minute.
    pub fn new(per_minute: NonZeroU32) -> Arc<Self> {
        Arc::new(Self {
            limiter: governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute)),
            waiting: Mutex::new(HashMap::new()),
        })
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Instant>> {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `address` may try now: else how long it must wait.
    pub fn check(&self, address: IpAddr) -> Result<(), TooMany> {
        let address = client_key(address);
        let now = Instant::now();
        match self.waiting().get(&address) {
            Some(until) if *until > now => Err(TooMany(*until - now)),
            _ => Ok(()),
        }
    }

    /// `address` failed once more; past its budget, it waits until the budget allows one
    /// more failure.
    pub fn failed(&self, address: IpAddr) {
        let address = client_key(address);
        if self.limiter.len() > ADDRESSES_KEPT {
            self.limiter.retain_recent();
        }
        if let Err(not_until) = self.limiter.check_key(&address) {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            let now = Instant::now();
            let mut waiting = self.waiting();
            if waiting.len() > ADDRESSES_KEPT {
                // Those whose wait is over go; if none has ended, the oldest waits are
                // dropped: the map stays bounded whatever the number of addresses.
                waiting.retain(|_, until| *until > now);
                if waiting.len() > ADDRESSES_KEPT {
                    waiting.clear();
                }
            }
            waiting.insert(address, now + wait);
            tracing::warn!(%address, ?wait, "too many failed attempts from one address");
        }
    }
}

/// What a client's failures are counted by: its address, or for IPv6 its /64.
fn client_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
        v4 => v4,
    }
}

/// An address that failed too often, and how long it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooMany(pub Duration);

impl From<TooMany> for ApiError {
    fn from(TooMany(wait): TooMany) -> Self {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            "too many failed attempts from this address: wait a minute",
        );
        error.retry_after = Some(wait);
        error
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarding_headers_are_believed_only_from_a_trusted_proxy_and_only_its_part() {
        let proxies = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        let forged = headers(&[("x-forwarded-for", "203.0.113.9")]);
        // Straight from the internet: the header is the caller's own claim.
        assert_eq!(
            proxies.client(ip("198.51.100.7"), &forged),
            ip("198.51.100.7")
        );
        // Through the proxy, a client that forged the header is still seen as itself.
        let through = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.7")]);
        assert_eq!(proxies.client(ip("10.0.0.2"), &through), ip("198.51.100.7"));
        // Two trusted hops.
        let two = headers(&[("x-forwarded-for", "198.51.100.7, 10.0.0.3")]);
        assert_eq!(proxies.client(ip("10.0.0.2"), &two), ip("198.51.100.7"));
        // `Forwarded` is a client's own claim a proxy passes through: never read.
        let passed = headers(&[
            ("forwarded", "for=192.0.2.1"),
            ("x-forwarded-for", "198.51.100.99"),
        ]);
        assert_eq!(proxies.client(ip("10.0.0.2"), &passed), ip("198.51.100.99"));
        // Nothing said: the proxy itself.
        assert_eq!(
            proxies.client(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
        // Garbage right of the client ends the chain: nothing left of it is believed.
        let garbage = headers(&[("x-forwarded-for", "198.51.100.7, nonsense")]);
        assert_eq!(proxies.client(ip("10.0.0.2"), &garbage), ip("10.0.0.2"));
        // No proxy trusted: never read.
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.2"), &through),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn only_failures_count_and_past_the_budget_an_address_waits_alone() {
        let strikes = Strikes::new(NonZeroU32::new(2).unwrap());
        let (guesser, clinic) = (ip("203.0.113.9"), ip("198.51.100.7"));
        for _ in 0..2 {
            assert_eq!(strikes.check(guesser), Ok(()));
            strikes.failed(guesser);
        }
        assert_eq!(strikes.check(guesser), Ok(()), "within the budget");
        strikes.failed(guesser);
        assert!(
            strikes
                .check(guesser)
                .is_err_and(|w| w.0 <= Duration::from_secs(30))
        );
        assert_eq!(strikes.check(clinic), Ok(()));
        // One IPv6 host, many addresses of its /64: one budget.
        for n in 1..=3 {
            strikes.failed(ip(&format!("2001:db8:1:2::{n}")));
        }
        assert!(strikes.check(ip("2001:db8:1:2::ffff")).is_err());
        assert_eq!(strikes.check(ip("2001:db8:1:3::1")), Ok(()));
    }
}
