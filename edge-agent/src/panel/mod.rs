//! The local control panel for farm managers, served on the agent's HTTP port as
//! server-rendered HTML (issue 8). This part is its door: sign-in, sessions, CSRF protection
//! and lockout, with the pages behind it as placeholders in the shared layout.
//!
//! - `GET /login`, `POST /login`, `POST /logout`: sign in and out ([`login`]).
//! - `GET /`, `GET /rooms/{room}`, `GET /harvests`, `GET /system`: pages that need a session;
//!   without one they answer 303 to `/login?next=<path>`.
//! - `GET /assets/panel.css`: the stylesheet, embedded in the binary.
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
//! - `pages`: the protected pages and `SignedIn`, the extractor that demands a session.
//! - `html`: the shared layout and HTML escaping.

mod farm;
mod guard;
mod html;
mod lockout;
mod login;
mod pages;
mod sessions;
mod state;

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
        .route("/", get(pages::overview))
        .route("/rooms/{room}", get(pages::room))
        .route("/harvests", get(pages::harvests))
        .route("/system", get(pages::system))
        .route("/assets/panel.css", get(stylesheet))
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
