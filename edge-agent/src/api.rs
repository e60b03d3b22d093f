//! The control API on the agent's HTTP port (the panel uses it):
//!
//! - `GET /api/control`: actuators (state, output, override) and loops (setpoint, value,
//!   fault), as JSON.
//! - `PUT /api/loops/{name}/setpoint` `{"setpoint": 91.0}`: change a loop's setpoint.
//! - `PUT /api/actuators/{name}/override` `{"state": "on", "for": "30m"}` (or
//!   `"until": <unix ms>`): hold an actuator on or off until the override expires.
//! - `DELETE /api/actuators/{name}/override`: end it.
//! - `POST /api/harvests`, `GET /api/harvests`: harvest entry, in [`crate::harvest`].
//!
//! Changes need `Authorization: Bearer <token>` matching `http.api_token_hash`; without that
//! key they are refused (403). Each change is saved (it survives a restart) and its event is
//! committed to the outbox before the answer. Bad requests get 4xx with `{"error": "…"}`.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use farm_protocol::{EventKind, SwitchState, UnixMillis};
use serde::Deserialize;
use serde_json::json;

use crate::control::{ControlHandle, Request, RequestError};
use crate::outbox::Outbox;

/// What the API works with.
#[derive(Clone)]
pub struct ApiState {
    /// The control thread.
    pub control: Arc<ControlHandle>,
    /// Where change events are committed.
    pub outbox: Outbox,
    /// The argon2 hash of the API token; `None` refuses every change.
    pub token_hash: Option<String>,
}

/// The API's routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/control", get(view))
        .route("/api/loops/{name}/setpoint", put(setpoint))
        .route(
            "/api/actuators/{name}/override",
            put(set_override).delete(clear_override),
        )
        .with_state(state)
}

/// An answer that is not a success.
#[derive(Debug)]
pub struct ApiError(pub(crate) StatusCode, pub(crate) String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError(rejection.status(), rejection.body_text())
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Refused(e) => {
                let status = match e {
                    crate::control::ControlError::UnknownLoop(_)
                    | crate::control::ControlError::UnknownActuator(_) => StatusCode::NOT_FOUND,
                    crate::control::ControlError::InterlockConflict { .. } => StatusCode::CONFLICT,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                ApiError(status, e.to_string())
            }
            RequestError::NotSaved(e) => {
                tracing::error!(error = %e, "Control change not saved.");
                ApiError(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "could not save the change; it was not applied".into(),
                )
            }
            RequestError::Stopped => ApiError(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        }
    }
}

async fn view(State(api): State<ApiState>) -> Json<crate::control::ControlView> {
    Json(api.control.view())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetpointBody {
    setpoint: f64,
}

async fn setpoint(
    State(api): State<ApiState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Json<SetpointBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&api, &headers).await?;
    let Json(body) = body?;
    let request = Request::Setpoint {
        name,
        value: body.setpoint,
    };
    apply(&api, request).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideBody {
    state: SwitchState,
    /// How long, e.g. `"30m"`.
    #[serde(rename = "for")]
    duration: Option<String>,
    /// Until when, unix ms.
    until: Option<UnixMillis>,
}

async fn set_override(
    State(api): State<ApiState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Json<OverrideBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&api, &headers).await?;
    let Json(body) = body?;
    let bad = |m: String| ApiError(StatusCode::UNPROCESSABLE_ENTITY, m);
    let until = match (body.duration, body.until) {
        (Some(text), None) => {
            let duration = humantime::parse_duration(&text)
                .map_err(|e| bad(format!("\"for\": {e} (write e.g. \"30m\" or \"2h\")")))?;
            let ms = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
            crate::now_ms().saturating_add(ms)
        }
        (None, Some(until)) => until,
        _ => {
            return Err(bad(
                "give exactly one of \"for\" (e.g. \"30m\") and \"until\" (unix ms)".into(),
            ))
        }
    };
    apply(
        &api,
        Request::Override {
            name,
            state: body.state,
            until,
        },
    )
    .await
}

async fn clear_override(
    State(api): State<ApiState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&api, &headers).await?;
    apply(&api, Request::ClearOverride { name }).await
}

/// Carries out a change and commits its events before answering.
async fn apply(api: &ApiState, request: Request) -> Result<Response, ApiError> {
    let events: Vec<EventKind> = api.control.request(request).await?;
    let now = crate::now_ms();
    let mut recorded = Vec::new();
    for kind in events {
        tracing::info!(event = %kind.name(), ?kind, "Control change.");
        recorded.push(serde_json::to_value(&kind).unwrap_or_default());
        let event = crate::outbox::NewEvent {
            id: uuid::Uuid::new_v4(),
            ts: now,
            kind,
        };
        if let Err(e) = api.outbox.append_event(event).await {
            tracing::error!(error = %e, "Control change applied but its event was not recorded.");
            return Err(ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the change was applied but could not be logged".into(),
            ));
        }
    }
    Ok(Json(json!({ "events": recorded })).into_response())
}

/// Checks the bearer token against the configured hash (argon2, off the runtime's threads).
pub(crate) async fn authorize(api: &ApiState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(hash) = api.token_hash.clone() else {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "control changes are disabled: set http.api_token_hash in the config (edge-agent mqtt hash-password makes one)".into(),
        ));
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let unauthorized = || {
        ApiError(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token".into(),
        )
    };
    let token = token.ok_or_else(unauthorized)?;
    let ok = tokio::task::spawn_blocking(move || farm_broker::verify_password(&token, &hash))
        .await
        .map_err(|_| unauthorized())?
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(unauthorized())
    }
}
