//! LINE's error answers: status, `{"message", "details"}` body and `x-line-request-id`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tsunagi_line::message::Violation;

pub(crate) const INVALID_TOKEN: &str = "Authentication failed due to the following reason: invalid token. Confirm that the access token in the authorization header is valid.";
pub(crate) const MONTHLY_LIMIT: &str = "You have reached your monthly limit.";

/// An error answer in LINE's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) details: Vec<Violation>,
}

impl LineError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, INVALID_TOKEN)
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not found")
    }

    /// 400 listing each broken rule, as LINE does for request bodies.
    pub(crate) fn invalid(details: Vec<Violation>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: format!("The request body has {} error(s)", details.len()),
            details,
        }
    }

    pub(crate) fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "The API rate limit has been exceeded. Try again later.",
        )
    }
}

impl IntoResponse for LineError {
    fn into_response(self) -> Response {
        let body = if self.details.is_empty() {
            json!({ "message": self.message })
        } else {
            json!({ "message": self.message, "details": self.details })
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
            response.headers_mut().insert("x-line-request-id", id);
        }
        response
    }
}
