//! The public listener: each connection served by hyper, with the limits a server on the
//! internet needs. A client gets so long to send a request's headers (however slowly it
//! drips them, and however long a kept-alive connection sits idle), and only so many
//! connections are served at once; past that, new ones wait in the kernel's queue until a
//! slot frees. HTTP/1.1 only: the relay sits behind a proxy that ends TLS (LINE and desks
//! speak HTTP/2 to it, if at all); the relay upgrades no connection (its streams are
//! server-sent events).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// How long and how many.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time to send a request's headers, counted from when the server waits for them:
    /// from the connection's start, or the end of the last answer on a kept-alive one.
    pub headers: Duration,
    /// Connections served at once. Each desk holds a log stream or two open.
    pub connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            headers: Duration::from_secs(30),
            connections: 4_096,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, runs
/// `closing` (which ends long-lived answers) and waits for the connections to finish.
/// `tap` sees each accepted socket first.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tap: impl Fn(&TcpStream),
    shutdown: impl Future<Output = ()>,
    closing: impl FnOnce(),
) {
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
            drop(slot);
        });
    }
    drop(listener);
    closing();
    graceful.shutdown().await;
}
