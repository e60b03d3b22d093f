//! The room page's changes (form posts; the guard has checked the CSRF token and the origin):
//!
//! - `POST /rooms/{room}/loops/{loop}/setpoint` (`setpoint`)
//! - `POST /rooms/{room}/loops/{loop}/settings` (the loop kind's settings)
//! - `POST /rooms/{room}/actuators/{actuator}/override` (`state` on/off, `for` e.g. `1h`)
//! - `POST /rooms/{room}/actuators/{actuator}/override/end`
//!
//! Each goes through [`crate::change::apply`], the JSON API's path: validated by the
//! controller, saved to `control.json`, its event committed to the outbox, and only then
//! answered: 303 back to the room page at the changed loop or actuator (post/redirect/get).
//! A refused change answers 422 with the page and the reason at its form, the values kept;
//! a loop or actuator that is not in this room 404; a change that could not be saved 500,
//! a stopped controller 503. Nothing changes unless the answer is 303.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use farm_protocol::SwitchState;

use super::format;
use super::overview_page::path_segment;
use super::pages::SignedIn;
use super::room::{missing, render, Range};
use super::room_controls::{Problem, HOLD_TIMES};
use super::sessions::Session;
use super::state::{FormFields, PanelState};
use crate::change::{self, ChangeError};
use crate::control::{ControlError, Request};

/// A posted change: the room page's path segments and the form.
struct Posted {
    session: Session,
    panel: PanelState,
    room: String,
    /// The form's id on the page (`loop-<name>-setpoint`).
    form: String,
    /// Where to land after success (`loop-<name>`).
    anchor: String,
    fields: FormFields,
}

impl Posted {
    /// 422 with the page and `message` at the form.
    async fn refuse(&self, message: String) -> Response {
        self.answer_problem(StatusCode::UNPROCESSABLE_ENTITY, message)
            .await
    }

    async fn answer_problem(&self, status: StatusCode, message: String) -> Response {
        let problem = Problem {
            form: self.form.clone(),
            message,
            entered: self.fields.pairs().to_vec(),
        };
        let mut response = render(
            &self.session,
            &self.panel,
            &self.room,
            Range::Day,
            Some(&problem),
        )
        .await;
        if response.status() == StatusCode::UNPROCESSABLE_ENTITY {
            *response.status_mut() = status;
        }
        response
    }

    /// Carries out `request` and answers.
    async fn apply(&self, request: Request) -> Response {
        let Some(farm) = self.panel.farm() else {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        };
        let api = &farm.harvests.api;
        match change::apply(&api.control, &api.outbox, request).await {
            Ok(_) => Redirect::to(&format!(
                "/rooms/{}#{}",
                path_segment(&self.room),
                self.anchor
            ))
            .into_response(),
            Err(ChangeError::Refused(
                e @ (ControlError::UnknownLoop(_) | ControlError::UnknownActuator(_)),
            )) => {
                self.answer_problem(StatusCode::NOT_FOUND, e.to_string())
                    .await
            }
            Err(ChangeError::Refused(e)) => self.refuse(format!("Not changed: {e}.")).await,
            Err(e @ ChangeError::NotSaved) => {
                let status = StatusCode::INTERNAL_SERVER_ERROR;
                self.answer_problem(status, format!("Not changed: {e}."))
                    .await
            }
            Err(e @ ChangeError::Stopped) => {
                let status = StatusCode::SERVICE_UNAVAILABLE;
                self.answer_problem(status, format!("Not changed: {e}."))
                    .await
            }
            Err(e @ ChangeError::NotLogged(_)) => {
                let status = StatusCode::INTERNAL_SERVER_ERROR;
                self.answer_problem(status, format!("{e}; see the System page."))
                    .await
            }
        }
    }
}

/// What a loop or actuator path names, checked against the room.
enum Target {
    Loop,
    Actuator,
}

/// The [`Posted`] for `name` in `room`, or 404 when this room has no such loop or actuator.
// The error is the request's answer, built once; boxing it would gain nothing.
#[allow(clippy::result_large_err)]
fn posted(
    session: Session,
    panel: PanelState,
    room: String,
    target: Target,
    name: &str,
    form: &str,
    body: &[u8],
) -> Result<Posted, Response> {
    let Some(farm) = panel.farm() else {
        return Err(StatusCode::SERVICE_UNAVAILABLE.into_response());
    };
    let view = farm.control.view();
    let (prefix, in_room) = match target {
        Target::Loop => (
            "loop",
            view.loops.iter().any(|l| l.name == name && l.room == room),
        ),
        Target::Actuator => (
            "actuator",
            (view.actuators.iter()).any(|a| a.name == name && a.room == room),
        ),
    };
    let anchor = format!("{prefix}-{}", path_segment(name));
    let posted = Posted {
        form: format!("{anchor}-{form}"),
        anchor,
        session,
        panel,
        room,
        fields: FormFields::parse(body),
    };
    if !in_room {
        let text = format!("Room “{}” has no {prefix} named “{name}”.", posted.room);
        let back = format!("/rooms/{}", path_segment(&posted.room));
        return Err(missing(&posted.session, "Not found", &text, &back));
    }
    Ok(posted)
}

/// `POST /rooms/{room}/loops/{loop}/setpoint`.
pub(super) async fn setpoint(
    SignedIn(session): SignedIn,
    State(panel): State<PanelState>,
    Path((room, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let target = Target::Loop;
    let posted = match posted(session, panel, room, target, &name, "setpoint", &body) {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let typed = posted.fields.get("setpoint").unwrap_or_default();
    let Some(value) = format::decimal(typed) else {
        let message = format!("Not changed: the setpoint must be a number, got “{typed}”.");
        return posted.refuse(message).await;
    };
    posted.apply(Request::Setpoint { name, value }).await
}

/// `POST /rooms/{room}/loops/{loop}/settings`.
pub(super) async fn settings(
    SignedIn(session): SignedIn,
    State(panel): State<PanelState>,
    Path((room, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let target = Target::Loop;
    let posted = match posted(session, panel, room, target, &name, "settings", &body) {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    match super::room_settings::parse(&posted.fields) {
        Ok(settings) => posted.apply(Request::LoopSettings { name, settings }).await,
        Err(message) => posted.refuse(format!("Not changed: {message}.")).await,
    }
}

/// `POST /rooms/{room}/actuators/{actuator}/override`.
pub(super) async fn hold(
    SignedIn(session): SignedIn,
    State(panel): State<PanelState>,
    Path((room, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let target = Target::Actuator;
    let posted = match posted(session, panel, room, target, &name, "hold", &body) {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let state = match posted.fields.get("state") {
        Some("on") => SwitchState::On,
        Some("off") => SwitchState::Off,
        _ => return posted.refuse("Not changed: choose on or off.".into()).await,
    };
    let hold = posted.fields.get("for").unwrap_or_default();
    let Some(duration) = HOLD_TIMES
        .iter()
        .find(|(value, _)| *value == hold)
        .and_then(|(value, _)| humantime::parse_duration(value).ok())
    else {
        return posted
            .refuse("Not changed: choose how long to hold it.".into())
            .await;
    };
    let ms = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
    let until = crate::now_ms().saturating_add(ms);
    posted.apply(Request::Override { name, state, until }).await
}

/// `POST /rooms/{room}/actuators/{actuator}/override/end`.
pub(super) async fn end_hold(
    SignedIn(session): SignedIn,
    State(panel): State<PanelState>,
    Path((room, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let target = Target::Actuator;
    match posted(session, panel, room, target, &name, "end", &body) {
        Ok(posted) => posted.apply(Request::ClearOverride { name }).await,
        Err(response) => response,
    }
}
