//! [`SignedIn`], what every page behind the sign-in takes (`/`, `/rooms/{room}`,
//! `/harvests`, `/system` and their forms): without a live session the request never reaches
//! the page and is sent to `/login?next=<its path>` (303).

use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

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
