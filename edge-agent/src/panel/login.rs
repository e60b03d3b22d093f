//! `GET /login`, `POST /login`, `POST /logout`, and where a sign-in may lead (`next`).
//!
//! **The login form's CSRF token** is a double-submit cookie: `GET /login` sets
//! `farm_login_csrf` (random, `HttpOnly; SameSite=Strict; Path=/login`) and puts the same
//! value in the form's hidden `csrf` field; `POST /login` is refused (403) unless the two are
//! equal. Chosen over a server-side pre-session because it keeps no state for visitors who
//! have not signed in (nobody can fill the agent's memory by loading the form), while another
//! site can neither read the cookie nor send it (SameSite=Strict), nor pass the same-origin
//! check on `Origin`/`Sec-Fetch-Site` ([`super::guard`]).

use std::time::{Duration, Instant};

use axum::extract::{RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Extension;

use super::html::{login_form, notice};
use super::sessions::{hex, Secrets, Session, SESSION_COOKIE};
use super::state::{client_ip, cookie, is_form, FormFields, PanelState};

/// The login form's double-submit cookie.
pub(super) const LOGIN_COOKIE: &str = "farm_login_csrf";
/// The largest form body the panel reads.
pub(super) const MAX_FORM_BYTES: usize = 16 * 1024;
/// The longest `next` path followed.
const MAX_NEXT_LEN: usize = 2048;
/// Names are counted (for lockout) by at most this many characters: longer ones are not
/// user names anyway, and memory stays bounded.
const MAX_COUNTED_NAME: usize = 64;
/// What a wrong name and a wrong password both answer.
const WRONG: &str = "Wrong name or password.";

/// A well-formed hash with the parameters of `farm_broker::hash_password` whose output is
/// random bytes, so no known password matches it. Unknown names are checked against it: a
/// sign-in takes as long whether the name exists or not.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$2gdP9fAXlCq9FOSXuzdMqw$M6YQ8dIowZGPH2D7Q8GBLbI1EeXFbaoeCWuQ6rxnK4Q";

/// `GET /login[?next=/path]`: the form (or, with a live session, straight on to `next`).
pub(super) async fn form(
    State(panel): State<PanelState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let fields = FormFields::parse(query.unwrap_or_default().as_bytes());
    let next = safe_next(fields.get("next"));
    if panel.session(&headers, Instant::now()).is_some() {
        return see_other(&next, HeaderMap::new());
    }
    login_page(&headers, StatusCode::OK, None, &next, "")
}

/// `POST /login` (form: `csrf`, `username`, `password`, `next`): 303 to `next` with a new
/// session; 400 without a name or password; 415 for a body that is not a form; 401 "wrong
/// name or password"; 429 while the name or the client is locked (or when this failure
/// locked it). The guard has checked the form's token.
pub(super) async fn sign_in(State(panel): State<PanelState>, request: Request) -> Response {
    let client = client_ip(request.extensions());
    let (parts, body) = request.into_parts();
    if !is_form(&parts.headers) {
        let text = "send the form as application/x-www-form-urlencoded\n";
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, text).into_response();
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "form too large\n").into_response();
    };
    let form = FormFields::parse(&body);
    let next = safe_next(form.get("next"));
    let name = form.get("username").unwrap_or_default();
    let password = form.get("password").unwrap_or_default();
    let again = |status, message| login_page(&parts.headers, status, Some(message), &next, name);
    if name.is_empty() || password.is_empty() {
        return again(StatusCode::BAD_REQUEST, "Enter your name and password.");
    }
    let counted: String = name.chars().take(MAX_COUNTED_NAME).collect();
    let begun = panel.attempts().begin(&counted, client, Instant::now());
    if let Err(locked) = begun {
        tracing::warn!(user = ?name, %client, "Panel sign-in refused: locked.");
        return locked_page(&parts.headers, locked.until, &next, name);
    }
    match check_password(&panel, name, password).await {
        Ok(true) => {
            panel.attempts().succeeded(&counted, client);
            start_session(&panel, name, &next)
        }
        Ok(false) => {
            let now = Instant::now();
            let locked = panel.attempts().locked(&counted, client, now);
            tracing::warn!(user = ?name, %client, locked = locked.is_some(), "Panel sign-in failed.");
            match locked {
                Some(locked) => locked_page(&parts.headers, locked.until, &next, name),
                None => again(StatusCode::UNAUTHORIZED, WRONG),
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "Panel password check failed.");
            internal_error()
        }
    }
}

/// `POST /logout`: ends the session the guard found (it checked the CSRF token), clears
/// the cookie, 303 to `/login`.
pub(super) async fn sign_out(
    State(panel): State<PanelState>,
    Extension(session): Extension<Session>,
) -> Response {
    panel.sessions().end(&session.key);
    tracing::info!(user = %session.user, "Panel sign-out.");
    let mut headers = HeaderMap::new();
    add_cookie(&mut headers, session_cookie("", Duration::ZERO));
    see_other("/login", headers)
}

/// Where a sign-in may lead: `raw` if it is a plain path on this server (starts with one `/`,
/// printable ASCII without `\`, no `//` and no dot segments, not the login or logout page,
/// at most 2048 bytes), else `/`. So `next` can never send a manager to another site.
pub fn safe_next(raw: Option<&str>) -> String {
    let Some(path) = raw else {
        return "/".to_owned();
    };
    let route = path.split(['?', '#']).next().unwrap_or_default();
    let safe = path.len() <= MAX_NEXT_LEN
        && path.starts_with('/')
        && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
        && !path.contains("//")
        && !route.split('/').any(|seg| seg == "." || seg == "..")
        && !matches!(route, "/login" | "/logout");
    if safe {
        path.to_owned()
    } else {
        "/".to_owned()
    }
}

/// Whether `submitted` is the login form's token: equal to the request's login cookie.
pub(super) fn login_token_matches(headers: &HeaderMap, submitted: &str) -> bool {
    cookie(headers, LOGIN_COOKIE)
        .is_some_and(|token| is_token(token) && super::sessions::same_token(token, submitted))
}

/// The login form with `status` and `message`, reusing the request's login cookie when it
/// holds a token, else setting a fresh one.
pub(super) fn login_page(
    headers: &HeaderMap,
    status: StatusCode,
    message: Option<&str>,
    next: &str,
    name: &str,
) -> Response {
    let mut out = HeaderMap::new();
    let token = match cookie(headers, LOGIN_COOKIE).filter(|t| is_token(t)) {
        Some(token) => token.to_owned(),
        None => match Secrets::from_os() {
            Ok(secrets) => {
                let token = hex(&secrets.csrf);
                add_cookie(
                    &mut out,
                    format!("{LOGIN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/login"),
                );
                token
            }
            Err(e) => {
                tracing::error!(error = %e, "No randomness for the login form's token.");
                return internal_error();
            }
        },
    };
    let body = login_form(&token, next, name, message);
    (status, out, Html(body)).into_response()
}

/// The panel's pages when `config` has no users: 503 with what to do.
pub(super) fn no_users_page() -> Response {
    let body = notice(
        "No panel users configured",
        "No panel users are configured, so nobody can sign in. Add a [[panel.users]] block \
         (name and password_hash, from `edge-agent mqtt hash-password`) to the agent's config \
         file and restart the agent.",
        None,
    );
    (StatusCode::SERVICE_UNAVAILABLE, Html(body)).into_response()
}

async fn check_password(panel: &PanelState, name: &str, password: &str) -> Result<bool, String> {
    let _permit = panel
        .password_checks()
        .acquire()
        .await
        .map_err(|e| e.to_string())?;
    let known = panel.password_hash(name);
    let hash = known.unwrap_or(DUMMY_HASH).to_owned();
    let password = password.to_owned();
    let matches =
        tokio::task::spawn_blocking(move || farm_broker::verify_password(&password, &hash))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    Ok(matches && known.is_some())
}

/// A new session for `name`: its cookie, the login cookie cleared, 303 to `next`.
fn start_session(panel: &PanelState, name: &str, next: &str) -> Response {
    let secrets = match Secrets::from_os() {
        Ok(secrets) => secrets,
        Err(e) => {
            tracing::error!(error = %e, "No randomness for a panel session.");
            return internal_error();
        }
    };
    let mut sessions = panel.sessions();
    let ttl = sessions.ttl();
    let (id, _) = sessions.create(name, Instant::now(), secrets);
    drop(sessions);
    tracing::info!(user = %name, "Panel sign-in.");
    let mut headers = HeaderMap::new();
    add_cookie(&mut headers, session_cookie(&id, ttl));
    add_cookie(
        &mut headers,
        format!("{LOGIN_COOKIE}=; HttpOnly; SameSite=Strict; Path=/login; Max-Age=0"),
    );
    see_other(next, headers)
}

/// The session cookie. No `Secure` flag: the panel is served over plain HTTP on the farm's
/// LAN (there is no TLS to require), and a `Secure` cookie would never be sent back.
fn session_cookie(id: &str, max_age: Duration) -> String {
    format!(
        "{SESSION_COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        max_age.as_secs()
    )
}

fn locked_page(headers: &HeaderMap, until: Instant, next: &str, name: &str) -> Response {
    let left = until.saturating_duration_since(Instant::now());
    let seconds = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    let message = format!(
        "Too many failed sign-ins: this name or this device is locked for {}. Try again later.",
        humantime::format_duration(Duration::from_secs(seconds))
    );
    let mut response = login_page(
        headers,
        StatusCode::TOO_MANY_REQUESTS,
        Some(&message),
        next,
        name,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

fn see_other(location: &str, mut headers: HeaderMap) -> Response {
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    (StatusCode::SEE_OTHER, headers).into_response()
}

fn add_cookie(headers: &mut HeaderMap, cookie: String) {
    if let Ok(value) = HeaderValue::try_from(cookie) {
        headers.append(header::SET_COOKIE, value);
    }
}

fn internal_error() -> Response {
    let body = notice(
        "Something went wrong",
        "The agent could not complete this request; the cause is in its log. Try again.",
        Some(("/", "Back to the overview")),
    );
    (StatusCode::INTERNAL_SERVER_ERROR, Html(body)).into_response()
}

/// A token as the panel makes them: 64 lower-case hex digits.
fn is_token(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server() {
        for good in [
            "/",
            "/harvests",
            "/rooms/fruiting-1?range=7d",
            "/system#sync",
            "/a%2F%2Fb",
        ] {
            assert_eq!(safe_next(Some(good)), good);
        }
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            "/x//evil.example",
            "/./evil",
            "/a/../b",
            "evil.example",
            "javascript:alert(1)",
            "/has space",
            "/tab\t",
            "/caf\u{e9}",
            "/login",
            "/login?next=/",
            "/logout",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(3000)))), "/");
    }

    #[test]
    fn the_dummy_hash_is_a_hash_no_password_matches() {
        assert_eq!(
            farm_broker::verify_password("", DUMMY_HASH).ok(),
            Some(false)
        );
        assert!(is_token(&"ab".repeat(32)));
        assert!(!is_token(&"AB".repeat(32)));
        assert!(!is_token("ab"));
    }
}
