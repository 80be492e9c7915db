//! Whether the relay is up and can write, and its metrics.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tsunagi_proto::api::ErrorCode;

use super::{ApiError, MetricsAccess};
use crate::relay::Relay;
use crate::store::LogStore;

/// `/healthz` and `/readyz`; `/metrics` is routed by [`super::router_with`], which knows
/// who may read it.
pub(super) fn routes<S: LogStore>() -> Router<Arc<Relay<S>>> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready::<S>))
}

/// Prometheus' text format.
pub(super) async fn metrics<S: LogStore>(
    State(relay): State<Arc<Relay<S>>>,
    axum::Extension(access): axum::Extension<MetricsAccess>,
    headers: HeaderMap,
) -> Response {
    if let MetricsAccess::Token(token) = &access {
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let matches: bool =
            subtle::ConstantTimeEq::ct_eq(given.as_bytes(), token.as_bytes()).into();
        if !matches {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "the metrics need `Authorization: Bearer <metrics token>`",
            )
            .into_response();
        }
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        relay.store.metrics().encode(),
    )
        .into_response()
}

/// Ready when the store answers.
async fn ready<S: LogStore>(State(relay): State<Arc<Relay<S>>>) -> Result<&'static str, ApiError> {
    relay.store.ready().await?;
    Ok("ready")
}
