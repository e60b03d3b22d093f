//! The control API on the agent's HTTP port (the panel uses it):
//!
//! - `GET /api/control`: actuators (state, output, override) and loops (setpoint, value,
//!   fault), as JSON.
//! - `PUT /api/loops/{name}/setpoint` `{"setpoint": 91.0}`: change a loop's setpoint.
//! - `PUT /api/loops/{name}/settings` `{"band": 3.0}`, `{"on_at": "06:00", "on_for": "12h"}`:
//!   change some of a loop's other settings (those of its kind: `band`, `kp`, `ki`, `kd`,
//!   `period`, `stale_after`, `on_at`, `on_for`, `every`), all or none, checked like the
//!   config file; durations as in the config file (`"15m"`), `on_at` as `"HH:MM"`.
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
use farm_protocol::{SwitchState, UnixMillis};
use serde::Deserialize;
use serde_json::json;

use crate::change::ChangeError;
use crate::control::{ControlError, ControlHandle, LoopSettings, Request};
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
        .route("/api/loops/{name}/settings", put(loop_settings))
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

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        let status = match &e {
            ChangeError::Refused(
                ControlError::UnknownLoop(_) | ControlError::UnknownActuator(_),
            ) => StatusCode::NOT_FOUND,
            ChangeError::Refused(ControlError::InterlockConflict { .. }) => StatusCode::CONFLICT,
            ChangeError::Refused(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ChangeError::NotSaved | ChangeError::NotLogged(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ChangeError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError(status, e.to_string())
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

/// `PUT /api/loops/{name}/settings`: numbers for the band and gains, config-file strings
/// for durations (`"15m"`) and `on_at` (`"06:00"`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    band: Option<f64>,
    kp: Option<f64>,
    ki: Option<f64>,
    kd: Option<f64>,
    period: Option<String>,
    stale_after: Option<String>,
    on_at: Option<String>,
    on_for: Option<String>,
    every: Option<String>,
}

impl SettingsBody {
    /// The change asked for; a duration or time of day that does not parse is an error
    /// naming its key.
    fn settings(self) -> Result<LoopSettings, String> {
        let duration = |key: &str, text: Option<String>| {
            text.map(|t| crate::config::parse_duration(&t).map_err(|e| format!("\"{key}\": {e}")))
                .transpose()
        };
        let on_at = self
            .on_at
            .map(|t| crate::config::parse_time_of_day(&t).map_err(|e| format!("\"on_at\": {e}")));
        let settings = LoopSettings {
            band: self.band,
            kp: self.kp,
            ki: self.ki,
            kd: self.kd,
            period: duration("period", self.period)?,
            stale_after: duration("stale_after", self.stale_after)?,
            on_at: on_at.transpose()?,
            on_for: duration("on_for", self.on_for)?,
            every: duration("every", self.every)?,
        };
        if settings.is_empty() {
            return Err(
                "give at least one setting: band, kp, ki, kd, period, stale_after, \
                        on_at, on_for or every"
                    .into(),
            );
        }
        Ok(settings)
    }
}

async fn loop_settings(
    State(api): State<ApiState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Json<SettingsBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&api, &headers).await?;
    let Json(body) = body?;
    let settings = body
        .settings()
        .map_err(|message| ApiError(StatusCode::UNPROCESSABLE_ENTITY, message))?;
    apply(&api, Request::LoopSettings { name, settings }).await
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
    let events = crate::change::apply(&api.control, &api.outbox, request).await?;
    let recorded: Vec<_> = events
        .iter()
        .map(|kind| serde_json::to_value(kind).unwrap_or_default())
        .collect();
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
