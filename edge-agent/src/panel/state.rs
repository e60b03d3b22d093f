//! [`PanelState`]: the users, the sessions and the failure counts the panel's routes share,
//! and reading cookies and the client's address from a request.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use axum::extract::ConnectInfo;
use axum::http::{header, Extensions, HeaderMap};
use tokio::sync::Semaphore;

use super::farm::Farm;
use super::live::{Streams, MAX_STREAMS};
use super::lockout::{Attempts, Limits};
use super::sessions::{Session, Sessions, SESSION_COOKIE};
use crate::config::{PanelConfig, PanelUser};

/// Password checks that may run at once: each argon2 check takes ~19 MiB and a core for a
/// few hundred ms on a Pi, so a burst of sign-ins queues instead of exhausting the box.
const PARALLEL_PASSWORD_CHECKS: usize = 2;

/// What the panel's routes share; cheap to clone.
#[derive(Clone)]
pub struct PanelState(Arc<Inner>);

struct Inner {
    farm: Option<Farm>,
    users: Vec<PanelUser>,
    sessions: Mutex<Sessions>,
    attempts: Mutex<Attempts>,
    password_checks: Semaphore,
    streams: Streams,
}

impl PanelState {
    /// The panel for `config` showing `farm` (`None` in tests of the door alone): no
    /// sessions, nothing counted.
    pub fn new(config: &PanelConfig, farm: Option<Farm>) -> PanelState {
        if config.users.is_empty() {
            tracing::warn!(
                "No [[panel.users]] configured: the control panel answers 503 until one is added."
            );
        }
        PanelState(Arc::new(Inner {
            farm,
            users: config.users.clone(),
            sessions: Mutex::new(Sessions::new(config.session_ttl)),
            attempts: Mutex::new(Attempts::new(Limits {
                max_failures: config.max_failures,
                lockout: config.lockout,
            })),
            password_checks: Semaphore::new(PARALLEL_PASSWORD_CHECKS),
            streams: Streams::new(MAX_STREAMS),
        }))
    }

    /// The farm the pages show, if the agent handed one over.
    pub fn farm(&self) -> Option<&Farm> {
        self.0.farm.as_ref()
    }

    /// Ends every open live stream (`GET /events`) and makes new ones end at once: call it
    /// when the HTTP server starts its graceful shutdown, which waits for them.
    pub fn end_streams(&self) {
        self.0.streams.end();
    }

    /// The live streams.
    pub(super) fn streams(&self) -> &Streams {
        &self.0.streams
    }

    /// Whether nobody can sign in (no `[[panel.users]]`).
    pub fn has_no_users(&self) -> bool {
        self.0.users.is_empty()
    }

    /// The argon2 hash of `name`'s password, if `name` is a user.
    pub(super) fn password_hash(&self, name: &str) -> Option<&str> {
        self.0
            .users
            .iter()
            .find(|u| u.name == name)
            .map(|u| u.password_hash.as_str())
    }

    /// The sessions. A panic while they were locked cannot leave them half-changed (every
    /// change is one map operation), so a poisoned lock is used as it is.
    pub(super) fn sessions(&self) -> MutexGuard<'_, Sessions> {
        self.0
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The failure counts (poisoning as for [`PanelState::sessions`]).
    pub(super) fn attempts(&self) -> MutexGuard<'_, Attempts> {
        self.0
            .attempts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Limits how many password checks run at once.
    pub(super) fn password_checks(&self) -> &Semaphore {
        &self.0.password_checks
    }

    /// The live session whose id the request's `farm_session` cookie holds, if any.
    pub(super) fn session(&self, headers: &HeaderMap, now: Instant) -> Option<Session> {
        let cookie = cookie(headers, SESSION_COOKIE)?;
        self.sessions().get(cookie, now)
    }
}

/// The value of cookie `name` in the request's `Cookie` headers, if present.
pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key.trim() == name).then(|| value.trim().trim_matches('"'))
        })
}

/// The client's address, from the connection (never from headers: there is no proxy in front
/// of the panel on a farm LAN). Unspecified when the router runs without connection info
/// (tests calling it directly).
pub(super) fn client_ip(extensions: &Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |info| info.0.ip())
}

/// Whether the request's body is `application/x-www-form-urlencoded`.
pub(super) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The fields of an `application/x-www-form-urlencoded` body, in order.
pub(super) struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// Decodes `body` (`+` and `%XX` escapes; malformed escapes are kept as written).
    pub(super) fn parse(body: &[u8]) -> FormFields {
        FormFields(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Every field, in order, as sent.
    pub(super) fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The first value of field `name`, if present.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// A header map of `(name, value)` pairs (the guard's tests use it too).
    pub(in crate::panel) fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn cookies_are_found_in_any_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; farm_x=2"));
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("farm_session=abc ;b=3"),
        );
        assert_eq!(cookie(&headers, "farm_session"), Some("abc"));
        assert_eq!(cookie(&headers, "a"), Some("1"));
        assert_eq!(cookie(&headers, "farm"), None);
        assert_eq!(cookie(&HeaderMap::new(), "a"), None);
    }

    #[test]
    fn only_url_encoded_bodies_are_read_as_forms() {
        let form = headers(&[(
            "content-type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )]);
        assert!(is_form(&form));
        assert!(!is_form(&headers(&[("content-type", "text/plain")])));
        assert!(!is_form(&headers(&[(
            "content-type",
            "multipart/form-data; boundary=x"
        )])));
        assert!(!is_form(&HeaderMap::new()));
    }

    #[test]
    fn form_fields_are_decoded_and_the_first_one_wins() {
        let form = FormFields::parse(b"username=farm+manager&next=%2Frooms%2Fa&username=x&csrf=");
        assert_eq!(form.get("username"), Some("farm manager"));
        assert_eq!(form.get("next"), Some("/rooms/a"));
        assert_eq!(form.get("csrf"), Some(""));
        assert_eq!(form.get("password"), None);
    }
}
