//! The public listener: each connection served by hyper, with the limits a server on the
//! internet needs. A client gets so long to send a request's headers (however slowly it
//! drips them, and however long a kept-alive connection sits idle) and its body; one address
//! holds only so many connections (a trusted proxy, any number), and only so many are served
//! at once: past that, new ones wait in the kernel's queue until a slot frees. HTTP/1.1 only: the relay sits behind a proxy that ends TLS (LINE and desks
//! speak HTTP/2 to it, if at all); the relay upgrades no connection (its streams are
//! server-sent events).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;
use tower_http::timeout::TimeoutLayer;

use super::client::TrustedProxies;

/// How long and how many.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to send a request's headers, counted from when the server waits for them:
    /// from the connection's start, or the end of the last answer on a kept-alive one.
    pub headers: Duration,
    /// Time from a request's headers to the start of its answer, the body read whole
    /// meanwhile: an upload of a photo over a slow line fits, a body dripped a byte at a
    /// time does not. (A log stream's answer starts at once and runs on; a long-poll waits
    /// at most [`super::MAX_WAIT`].)
    pub request: Duration,
    /// Connections served at once. Each desk holds a log stream or two open.
    pub connections: usize,
    /// Connections one public address may hold at once. A trusted proxy is not counted,
    /// nor (unless `count_private`) an address on this machine or a private network: the
    /// documented deployment has a TLS proxy there, whose connections are every desk's.
    pub per_address: usize,
    pub count_private: bool,
    /// How long shutting down waits for connections to finish.
    pub shutdown: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            headers: Duration::from_secs(30),
            request: Duration::from_secs(120),
            connections: 4_096,
            per_address: 64,
            count_private: false,
            shutdown: Duration::from_secs(10),
        }
    }
}

/// Connections held per address.
#[derive(Debug, Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

impl PerAddress {
    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One more connection of `address`, if it holds fewer than `most`.
    fn take(self: &Arc<Self>, address: IpAddr, most: usize) -> Option<Held> {
        let mut counts = self.counts();
        let held = counts.entry(address).or_insert(0);
        if *held >= most {
            return None;
        }
        *held += 1;
        Some(Held(self.clone(), address))
    }
}

/// A connection counted against its address, until dropped.
struct Held(Arc<PerAddress>, IpAddr);

impl Drop for Held {
    fn drop(&mut self) {
        let mut counts = self.0.counts();
        if let Some(held) = counts.get_mut(&self.1) {
            *held -= 1;
            if *held == 0 {
                counts.remove(&self.1);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, runs
/// `closing` (which ends long-lived answers) and waits a while for the connections to
/// finish. `tap` sees each accepted socket first; `proxies` are not held to the limit per
/// address.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    proxies: TrustedProxies,
    tap: impl Fn(&TcpStream),
    shutdown: impl Future<Output = ()>,
    closing: impl FnOnce(),
) {
    let app = app.layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        limits.request,
    ));
    let per_address = Arc::new(PerAddress::default());
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.headers);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.connections));
    let mut shutdown = pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before it was taken:
                    // wait a little rather than spin.
                    tracing::warn!(%error, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let exempt = proxies.trusts(peer.ip())
            || (!limits.count_private && !crate::egress::is_public(peer.ip()));
        let counted = if exempt {
            None
        } else {
            match per_address.take(peer.ip().to_canonical(), limits.per_address) {
                Some(held) => Some(held),
                None => {
                    tracing::debug!(%peer, "too many connections from one address");
                    continue;
                }
            }
        };
        tap(&tcp);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = builder.serve_connection(TokioIo::new(tcp), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "a connection ended");
            }
            drop((slot, counted));
        });
    }
    drop(listener);
    closing();
    if tokio::time::timeout(limits.shutdown, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(wait = ?limits.shutdown, "connections still open at shutdown are dropped");
    }
}
