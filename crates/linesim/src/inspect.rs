//! `/_sim/`: look at what was delivered, and make simulated users act.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tsunagi_line::{GroupId, UserId};

use crate::Simulator;
use crate::webhook::{Faults, SayError, UserAction};

pub(crate) fn router() -> Router<Simulator> {
    Router::new()
        .route("/_sim/inbox/{to}", get(inbox))
        .route("/_sim/users", get(users))
        .route("/_sim/users/{user_id}/say", post(say))
        .route("/_sim/webhook/attempts", get(attempts))
        .route("/_sim/faults", post(faults))
        .route("/_sim/api-faults", post(api_faults))
        .route("/_sim/ai/calls", get(ai_calls))
        .route("/_sim/ai/faults", post(ai_faults))
        .route("/_sim/telegram/messages", get(telegram_messages))
        .route("/_sim/telegram/faults", post(telegram_faults))
        .route("/_sim/outside/{name}", get(outside))
        .route("/_sim/outside/{name}/preview", get(outside_preview))
}

/// A photo hosted outside LINE (what `contentProvider: external` points at): drawn from
/// its name, a JPEG, and its thumbnail.
async fn outside(Path(name): Path<String>) -> Response {
    let (photo, _) = crate::picture::photo(&name);
    ([(header::CONTENT_TYPE, "image/jpeg")], photo).into_response()
}

async fn outside_preview(Path(name): Path<String>) -> Response {
    let (_, thumbnail) = crate::picture::photo(&name);
    ([(header::CONTENT_TYPE, "image/jpeg")], thumbnail).into_response()
}

async fn ai_calls(State(sim): State<Simulator>) -> Response {
    Json(sim.ai_calls()).into_response()
}

async fn ai_faults(State(sim): State<Simulator>, Json(faults): Json<crate::AiFaults>) -> Response {
    sim.set_ai_faults(faults);
    Json(faults).into_response()
}

async fn telegram_messages(State(sim): State<Simulator>) -> Response {
    Json(sim.telegram_messages()).into_response()
}

async fn telegram_faults(
    State(sim): State<Simulator>,
    Json(faults): Json<crate::TelegramFaults>,
) -> Response {
    sim.set_telegram_faults(faults);
    Json(faults).into_response()
}

async fn inbox(State(sim): State<Simulator>, Path(to): Path<String>) -> Response {
    Json(sim.inbox(&to)).into_response()
}

async fn users(State(sim): State<Simulator>) -> Response {
    Json(json!({ "users": sim.users(), "groups": sim.groups() })).into_response()
}

#[derive(Deserialize)]
struct Say {
    /// Say it in this group instead of the 1:1 chat.
    group: Option<GroupId>,
    #[serde(flatten)]
    action: UserAction,
}

async fn say(
    State(sim): State<Simulator>,
    Path(user_id): Path<String>,
    Json(request): Json<Say>,
) -> Response {
    let user = UserId::new(user_id);
    let result = match &request.group {
        Some(group) => sim.say_in_group(group, &user, request.action).await,
        None => sim.say(&user, request.action).await,
    };
    match result {
        Ok(report) => Json(report).into_response(),
        Err(error) => {
            let status = match error {
                SayError::UnknownUser(_) => StatusCode::NOT_FOUND,
                SayError::NotAMember(..) | SayError::Blocked(_) => StatusCode::CONFLICT,
                SayError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
            };
            (status, Json(json!({ "message": error.to_string() }))).into_response()
        }
    }
}

async fn attempts(State(sim): State<Simulator>) -> Response {
    Json(sim.webhook_attempts()).into_response()
}

async fn api_faults(
    State(sim): State<Simulator>,
    Json(faults): Json<crate::ApiFaults>,
) -> Response {
    sim.set_api_faults(faults.clone());
    Json(faults).into_response()
}

async fn faults(State(sim): State<Simulator>, Json(faults): Json<Faults>) -> Response {
    sim.set_faults(faults);
    Json(faults).into_response()
}
