//! What the panel tests share: an agent with a `[panel]` section and one user, an HTTP client
//! that keeps the answer's head (cookies, headers), and signing in through the real form.

use std::path::Path;

use farm_e2e::{header, try_http_exchange};

use super::{config, start, Agent};

pub const USER: &str = "manager";
pub const PASSWORD: &str = "correct horse battery staple";
/// The protected pages.
pub const PAGES: [&str; 4] = ["/", "/rooms/fruiting-1", "/harvests", "/system"];
/// Every POST route that takes the session's CSRF token (`/login` has its own scheme).
pub const SESSION_POSTS: [&str; 6] = [
    "/logout",
    "/harvests",
    "/rooms/fruiting-1/loops/fruiting-1-humidity/setpoint",
    "/rooms/fruiting-1/loops/fruiting-1-humidity/settings",
    "/rooms/fruiting-1/actuators/fruiting-1-humidifier/override",
    "/rooms/fruiting-1/actuators/fruiting-1-humidifier/override/end",
];

/// The shared control config plus `[panel]` with `panel` as its body and one user.
pub fn start_agent(dir: &Path, panel: &str, with_user: bool) -> Agent {
    start_agent_with(dir, panel, with_user, "")
}

/// As [`start_agent`], with `extra` config (top-level tables such as `[[products]]`, `[sync]`).
pub fn start_agent_with(dir: &Path, panel: &str, with_user: bool, extra: &str) -> Agent {
    let mut text = config(&dir.join("data"), None, "");
    text.push_str(&format!("\n{extra}\n[panel]\n{panel}\n"));
    if with_user {
        let hash = farm_broker::hash_password(PASSWORD).unwrap();
        text.push_str(&format!(
            "\n[[panel.users]]\nname = \"{USER}\"\npassword_hash = \"{hash}\"\n"
        ));
    }
    start(dir, &text)
}

/// An answer: status, head (status line and headers), body.
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.head, name)
    }

    /// Every `Set-Cookie` value.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.head
            .lines()
            .filter_map(|line| line.split_once(':'))
            .filter(|(name, _)| name.trim().eq_ignore_ascii_case("set-cookie"))
            .map(|(_, value)| value.trim())
            .collect()
    }

    /// The `Set-Cookie` of cookie `name`, if one was sent.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}=");
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&prefix))
    }

    /// The value of the first hidden `csrf` field in the page.
    pub fn csrf_field(&self) -> String {
        let start = self.body.find("name=\"csrf\" value=\"").unwrap_or_else(|| {
            panic!("no csrf field in {}", self.body);
        }) + "name=\"csrf\" value=\"".len();
        let rest = &self.body[start..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

pub fn send(
    agent: &Agent,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Answer {
    let (status, head, body) = try_http_exchange(&agent.http, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    Answer { status, head, body }
}

pub fn get(agent: &Agent, path: &str, cookie: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
    send(agent, "GET", path, &headers, None)
}

/// A form POST with `cookie` and extra headers.
pub fn post_form(
    agent: &Agent,
    path: &str,
    cookie: Option<&str>,
    extra: &[(&str, &str)],
    form: &str,
) -> Answer {
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(cookie) = cookie {
        headers.push(("Cookie", cookie));
    }
    headers.extend_from_slice(extra);
    send(agent, "POST", path, &headers, Some(form))
}

/// `name=value` of a `Set-Cookie` value.
pub fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// The login form: (its cookie as `name=value`, its token).
pub fn login_form(agent: &Agent) -> (String, String) {
    let answer = get(agent, "/login", None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let cookie = pair(
        answer
            .set_cookie("farm_login_csrf")
            .expect("a login cookie"),
    );
    (cookie, answer.csrf_field())
}

/// Signs in with `name` and `password` through a fresh login form, with `next` and `extra`
/// headers.
pub fn sign_in(
    agent: &Agent,
    name: &str,
    password: &str,
    next: &str,
    extra: &[(&str, &str)],
) -> Answer {
    let (cookie, token) = login_form(agent);
    let form = format!(
        "csrf={token}&username={}&password={}&next={}",
        encode(name),
        encode(password),
        encode(next)
    );
    post_form(agent, "/login", Some(&cookie), extra, &form)
}

pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Signs in as the user; the session cookie as `farm_session=<id>`.
pub fn session(agent: &Agent) -> String {
    let answer = sign_in(agent, USER, PASSWORD, "/", &[]);
    assert_eq!(answer.status, 303, "{}", answer.body);
    pair(answer.set_cookie("farm_session").expect("a session cookie"))
}

pub fn assert_security_headers(answer: &Answer, what: &str) {
    for (name, value) in [
        (
            "Content-Security-Policy",
            "default-src 'self'; frame-ancestors 'none'",
        ),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("Cache-Control", "no-store"),
    ] {
        assert_eq!(
            answer.header(name),
            Some(value),
            "{name} on {what}: {}",
            answer.head
        );
    }
}
