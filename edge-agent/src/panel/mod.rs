//! The local control panel for farm managers, served on the agent's HTTP port as
//! server-rendered HTML (issue 8). This part is its door: sign-in, sessions, CSRF protection
//! and lockout, and the pages behind it.
//!
//! - `GET /login`, `POST /login`, `POST /logout`: sign in and out ([`login`]).
//! - `GET /`, `GET /rooms/{room}`, `GET /harvests`, `GET /system`: pages that need a session;
//!   without one they answer 303 to `/login?next=<path>`.
//! - `POST /rooms/{room}/loops/{name}/setpoint|settings`,
//!   `POST /rooms/{room}/actuators/{name}/override[/end]`: the room page's changes, through
//!   the control API's path ([`crate::change`]) ([`room_forms`]).
//! - `GET /assets/panel.css`: the stylesheet, embedded in the binary.
//! - `GET /events`: the overview's live Server-Sent Events; `GET /assets/panel.js`, the
//!   script that applies them ([`live`]).
//! - `POST /harvests`: records a harvest from the form ([`harvests`]); `GET /system` reads
//!   the `/metrics` sources ([`system`]).
//!
//! # Invariants
//! - Every request to a panel route passes [`guard`]: with no `[[panel.users]]` every page
//!   answers 503; every request that is not `GET`/`HEAD`/`OPTIONS` is refused (403) unless it
//!   comes from the panel's own origin and carries the right CSRF token (form field `csrf` or
//!   header `X-CSRF-Token`): the session's token, or for `POST /login` the login form's
//!   double-submit cookie. New routes get this by being added in [`router`].
//! - Session ids are 256 random bits from the OS; the agent keeps only their SHA-256, so a
//!   lookup never compares secrets, and tokens are compared in constant time.
//! - Nothing here reads the clock inside logic: sessions and lockout take `now`.
//! - The panel is plain HTTP on the farm LAN, so its cookies carry no `Secure` flag.
//!
//! # Layout
//! - `state`: [`PanelState`], what the routes share; cookies and the client address.
//! - `farm`: [`Farm`], the running farm the pages show and change.
//! - `sessions`: sessions in memory, expiring `session_ttl` after sign-in (pure logic).
//! - `lockout`: failed sign-ins per name and per client, and the locks they set (pure logic).
//! - `guard`: the middleware: no-users page, same-origin and CSRF checks, security headers.
//! - `login`: the sign-in and sign-out handlers and the safe `next` path.
//! - `pages`: `SignedIn`, the extractor that demands a session.
//! - `room`: `GET /rooms/{room}`: the room now, its history charts (`chart`) and its forms
//!   (`room_controls`, `room_settings`), posted to `room_forms`.
//! - `chart`: one metric's history as an inline SVG chart (pure).
//! - `html`: the shared layout and HTML escaping.
//! - `overview`: the overview's model and the status rules; `overview_page`: `GET /`.
//! - `live`: `GET /events` and the script; ends every stream at shutdown.
//! - `harvests`: `GET /harvests` and `POST /harvests`, the harvest form and the recent ones.
//! - `system`: `GET /system`, sync, outbox, room nodes, version and uptime.
//! - `format`: ages, durations, sizes and local times as the pages show them.

mod chart;
mod farm;
mod format;
mod guard;
mod harvests;
mod html;
mod live;
mod lockout;
mod login;
mod overview;
mod overview_page;
mod pages;
mod room;
mod room_controls;
mod room_forms;
mod room_settings;
mod sessions;
mod state;
mod system;

use axum::http::header;
use axum::middleware::{from_fn_with_state, map_response};
use axum::routing::{get, post};
use axum::Router;

pub use farm::Farm;
pub use guard::{CONTENT_SECURITY_POLICY, CSRF_FIELD, CSRF_HEADER};
pub use lockout::{Attempts, Limits, Locked};
pub use login::safe_next;
pub use sessions::{Secrets, Session, Sessions, SESSION_COOKIE};
pub use state::PanelState;

/// The stylesheet, served at `/assets/panel.css`.
const PANEL_CSS: &str = include_str!("assets/panel.css");

/// The panel's routes. Every route added here is covered by the guard (sessions' CSRF
/// token on every POST, same-origin check) and the security headers: add new ones above the
/// `route_layer` calls.
pub fn router(state: PanelState) -> Router {
    Router::new()
        .route("/login", get(login::form).post(login::sign_in))
        .route("/logout", post(login::sign_out))
        .route("/", get(overview_page::show))
        .route("/events", get(live::events))
        .route("/rooms/{room}", get(room::show))
        .route(
            "/rooms/{room}/loops/{name}/setpoint",
            post(room_forms::setpoint),
        )
        .route(
            "/rooms/{room}/loops/{name}/settings",
            post(room_forms::settings),
        )
        .route(
            "/rooms/{room}/actuators/{name}/override",
            post(room_forms::hold),
        )
        .route(
            "/rooms/{room}/actuators/{name}/override/end",
            post(room_forms::end_hold),
        )
        .route("/harvests", get(harvests::show).post(harvests::record))
        .route("/system", get(system::show))
        .route("/assets/panel.css", get(stylesheet))
        .route("/assets/panel.js", get(live::script))
        .route_layer(from_fn_with_state(state.clone(), guard::guard))
        .route_layer(map_response(guard::security_headers))
        .with_state(state)
}

async fn stylesheet() -> impl axum::response::IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        PANEL_CSS,
    )
}
