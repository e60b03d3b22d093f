//! The panel's middleware, run for every panel route: the no-users page, the same-origin and
//! CSRF checks on every request that may change something, and the security headers.
//!
//! A request that is not `GET`, `HEAD` or `OPTIONS` passes only if
//! 1. it does not come from another site: `Sec-Fetch-Site`, when sent, is `same-origin` or
//!    `none`, and `Origin`, when sent, names this server (its host and port equal `Host`; the
//!    scheme is not compared, so a TLS proxy in front still works); and
//! 2. it carries the right token, in the header `X-CSRF-Token` (for `fetch`) or in the form
//!    field `csrf` of an `application/x-www-form-urlencoded` body: for `POST /login` the
//!    login form's double-submit cookie ([`super::login`]), for everything else the token of
//!    the live session named by the `farm_session` cookie (no session: refused).
//!
//! Otherwise it is answered 403 and its handler does not run, so nothing changes. The
//! handler gets the body back untouched and the [`Session`](super::Session) as an extension.

use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::html::notice;
use super::login::{login_page, login_token_matches, no_users_page, safe_next, MAX_FORM_BYTES};
use super::sessions::same_token;
use super::state::{is_form, FormFields, PanelState};

/// The header a script sends the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field forms send it in.
pub const CSRF_FIELD: &str = "csrf";
/// No inline script or style; later scripts are files served by the agent.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; frame-ancestors 'none'";

/// The guard; see the module documentation.
pub(super) async fn guard(
    State(panel): State<PanelState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if panel.has_no_users() && !path.starts_with("/assets/") {
        return no_users_page();
    }
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let is_login = path == "/login";
    if let Err(reason) = same_origin(request.headers(), request.uri().authority()) {
        tracing::info!(%path, reason, "Panel request refused: it came from another site.");
        return refused(is_login, request.headers(), None);
    }
    let (mut parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_FORM_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "form too large\n").into_response();
    };
    let form = is_form(&parts.headers).then(|| FormFields::parse(&body));
    let submitted = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .or_else(|| form.as_ref().and_then(|f| f.get(CSRF_FIELD)))
        .unwrap_or_default();
    if is_login {
        if !login_token_matches(&parts.headers, submitted) {
            tracing::info!(%path, "Panel sign-in refused: missing or wrong form token.");
            let next = form.as_ref().and_then(|f| f.get("next"));
            return refused(true, &parts.headers, next);
        }
    } else {
        let session = panel
            .session(&parts.headers, Instant::now())
            .filter(|s| same_token(&s.csrf, submitted));
        let Some(session) = session else {
            tracing::info!(%path, "Panel request refused: no session or a wrong CSRF token.");
            return refused(false, &parts.headers, None);
        };
        parts.extensions.insert(session);
    }
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// Adds the security headers to every panel answer.
pub(super) async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// `Ok` unless the request says it comes from another site; the error names the header.
fn same_origin(
    headers: &HeaderMap,
    authority: Option<&axum::http::uri::Authority>,
) -> Result<(), &'static str> {
    let text = |name: HeaderName| headers.get(name).map(|v| v.to_str().unwrap_or(""));
    if let Some(site) = text(HeaderName::from_static("sec-fetch-site")) {
        if !matches!(site, "same-origin" | "none") {
            return Err("Sec-Fetch-Site");
        }
    }
    if let Some(origin) = text(header::ORIGIN) {
        let host = text(header::HOST).or_else(|| authority.map(|a| a.as_str()));
        if !host.is_some_and(|host| origin_is_host(origin, host)) {
            return Err("Origin");
        }
    }
    Ok(())
}

/// Whether `origin` (`scheme://host[:port]`) names `host` (`host[:port]`), default ports
/// being the same as none.
fn origin_is_host(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return false; // "null", or garbage
    };
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return false,
    };
    if authority.is_empty() || authority.contains(['/', '@']) {
        return false;
    }
    let bare = |a: &str| {
        a.strip_suffix(default_port)
            .unwrap_or(a)
            .to_ascii_lowercase()
    };
    bare(authority) == bare(host)
}

/// 403: the sign-in form again (with a fresh token) for `/login`, else a page saying why.
fn refused(is_login: bool, headers: &HeaderMap, next: Option<&str>) -> Response {
    if is_login {
        let message =
            "This sign-in form had expired or came from another site. Please sign in again.";
        return login_page(
            headers,
            StatusCode::FORBIDDEN,
            Some(message),
            &safe_next(next),
            "",
        );
    }
    let body = notice(
        "Request refused",
        "This request was refused: it came from another site, or its form token was missing \
         or did not match your session (it may have ended). Go back, reload the page and try \
         again.",
        Some(("/", "Back to the overview")),
    );
    (StatusCode::FORBIDDEN, Html(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::super::state::tests::headers;
    use super::*;

    #[test]
    fn same_origin_requests_pass() {
        for pairs in [
            vec![("host", "farm.lan:8080")],
            vec![
                ("host", "farm.lan:8080"),
                ("origin", "http://farm.lan:8080"),
            ],
            vec![("host", "Farm.lan"), ("origin", "http://farm.lan:80")],
            vec![("host", "farm.lan:443"), ("origin", "https://farm.lan")],
            vec![("host", "10.0.0.2:8080"), ("sec-fetch-site", "same-origin")],
            vec![("host", "10.0.0.2:8080"), ("sec-fetch-site", "none")],
        ] {
            assert_eq!(same_origin(&headers(&pairs), None), Ok(()), "{pairs:?}");
        }
    }

    #[test]
    fn cross_site_requests_are_refused() {
        for (pairs, why) in [
            (
                vec![("host", "farm.lan:8080"), ("origin", "http://evil.example")],
                "Origin",
            ),
            (
                vec![
                    ("host", "farm.lan:8080"),
                    ("origin", "http://farm.lan:8081"),
                ],
                "Origin",
            ),
            (
                vec![("host", "farm.lan:8080"), ("origin", "null")],
                "Origin",
            ),
            (
                vec![("host", "farm.lan"), ("origin", "http://u@farm.lan")],
                "Origin",
            ),
            (vec![("origin", "http://farm.lan")], "Origin"),
            (
                vec![("host", "farm.lan"), ("sec-fetch-site", "cross-site")],
                "Sec-Fetch-Site",
            ),
            (
                vec![("host", "farm.lan"), ("sec-fetch-site", "same-site")],
                "Sec-Fetch-Site",
            ),
        ] {
            assert_eq!(same_origin(&headers(&pairs), None), Err(why), "{pairs:?}");
        }
    }
}
