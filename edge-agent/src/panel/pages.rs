//! The pages behind the sign-in: `/`, `/rooms/{room}`, `/harvests`, `/system`. Each takes a
//! [`SignedIn`]; without a live session the request never reaches the page and is sent to
//! `/login?next=<its path>` (303). Their content is a placeholder in the shared layout until
//! the overview, charts, harvest form and system page arrive.

use std::time::Instant;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::html::{escape, page, Nav, Viewer};
use super::sessions::Session;
use super::state::PanelState;

/// The live session of the request. Rejects with a 303 to the sign-in form, carrying the
/// requested path (and query) as `next`.
pub(super) struct SignedIn(pub Session);

impl FromRequestParts<PanelState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        panel: &PanelState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(session) = panel.session(&parts.headers, Instant::now()) {
            return Ok(SignedIn(session));
        }
        let wanted = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let next: String = form_urlencoded::byte_serialize(wanted.as_bytes()).collect();
        let mut response = StatusCode::SEE_OTHER.into_response();
        if let Ok(location) = HeaderValue::try_from(format!("/login?next={next}")) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        Err(response)
    }
}

/// `GET /rooms/{room}`: one room's history and settings (placeholder).
pub(super) async fn room(SignedIn(session): SignedIn, Path(room): Path<String>) -> Html<String> {
    let title = format!("Room {room}");
    let room = escape(&room);
    let main = format!(
        "<h1 id=\"page-title\">Room {room}</h1>\n\
         <section aria-labelledby=\"history-title\">\n\
         <h2 id=\"history-title\">History</h2>\n\
         <p class=\"placeholder\">Charts of the last 24 hours and 7 days will appear here.</p>\n\
         </section>\n\
         <section aria-labelledby=\"settings-title\">\n\
         <h2 id=\"settings-title\">Setpoints and overrides</h2>\n\
         <p class=\"placeholder\">The room's loops and manual overrides will be edited here.</p>\n\
         </section>\n\
         <p><a href=\"/\">Back to the overview</a></p>\n"
    );
    render(&session, &title, Nav::Overview, &main)
}

fn render(session: &Session, title: &str, nav: Nav, main: &str) -> Html<String> {
    let viewer = Viewer {
        user: &session.user,
        csrf: &session.csrf,
    };
    Html(page(title, Some((&viewer, nav)), main))
}
