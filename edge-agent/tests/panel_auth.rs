//! The control panel's door on the running agent, over plain HTTP: every page needs a session
//! (303 to the sign-in form with `next`), signing in sets an HttpOnly, SameSite=Strict cookie,
//! a wrong password gets 401 and no session, repeated failures lock (429, even for the right
//! password), every POST without the right CSRF token or from another site is refused with
//! 403 and changes nothing, and `next` never leads off the server. Session expiry is tested
//! on a fake clock in `panel::sessions`.
#![allow(clippy::unwrap_used)]

mod common;

use common::panel::{
    assert_security_headers, encode, get, login_form, pair, post_form, send, session, sign_in,
    start_agent, PAGES, PASSWORD, SESSION_POSTS, USER,
};
use farm_e2e::temp_dir;

#[test]
fn pages_need_a_session_and_signing_in_opens_them() {
    let dir = temp_dir();
    let agent = start_agent(dir.path(), "max_failures = 20\nsession_ttl = \"5m\"", true);

    // Without a session (or with a made-up one) every page sends to the sign-in form.
    for page in PAGES {
        for cookie in [None, Some(format!("farm_session={}", "ab".repeat(32)))] {
            let answer = get(&agent, page, cookie.as_deref());
            assert_eq!(answer.status, 303, "{page}: {}", answer.body);
            let next: String = page.replace('/', "%2F");
            assert_eq!(
                answer.header("Location"),
                Some(format!("/login?next={next}").as_str())
            );
            assert_security_headers(&answer, page);
        }
    }
    let answer = get(&agent, "/rooms/fruiting-1?range=7d", None);
    assert_eq!(
        answer.header("Location"),
        Some("/login?next=%2Frooms%2Ffruiting-1%3Frange%3D7d")
    );

    // The form: labelled inputs, a token in a hidden field and in its own cookie.
    let form = get(&agent, "/login?next=%2Fharvests", None);
    assert_eq!(form.status, 200);
    assert_security_headers(&form, "/login");
    for part in [
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<label for=\"username\">",
        "<label for=\"password\">",
        "id=\"password\" name=\"password\" type=\"password\"",
        "name=\"next\" value=\"/harvests\"",
    ] {
        assert!(form.body.contains(part), "{part} in {}", form.body);
    }
    let login_cookie = form.set_cookie("farm_login_csrf").unwrap();
    assert!(
        login_cookie.contains("HttpOnly") && login_cookie.contains("SameSite=Strict"),
        "{login_cookie}"
    );
    assert_eq!(
        pair(login_cookie),
        format!("farm_login_csrf={}", form.csrf_field())
    );

    // The stylesheet is served from the binary.
    let css = get(&agent, "/assets/panel.css", None);
    assert_eq!(css.status, 200);
    assert_eq!(css.header("Content-Type"), Some("text/css; charset=utf-8"));
    assert!(css.body.contains("@media"), "{}", css.body);

    // The right password: 303 to `next`, an HttpOnly, SameSite=Strict session cookie.
    let answer = sign_in(&agent, USER, PASSWORD, "/harvests", &[]);
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.header("Location"), Some("/harvests"));
    assert_security_headers(&answer, "POST /login");
    let set = answer.set_cookie("farm_session").expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=300"] {
        assert!(
            set.split("; ").any(|a| a == attribute),
            "{attribute} in {set}"
        );
    }
    assert!(!set.contains("Secure"), "plain HTTP on the LAN: {set}");
    let cookie = pair(set);
    assert_eq!(
        cookie.len(),
        "farm_session=".len() + 64,
        "256 bits in hex: {cookie}"
    );

    // Now every page opens, in the layout, with a logout form carrying the session's token.
    let mut tokens = Vec::new();
    for page in PAGES {
        let answer = get(&agent, page, Some(&cookie));
        assert_eq!(answer.status, 200, "{page}: {}", answer.body);
        assert_security_headers(&answer, page);
        assert_eq!(
            answer.header("Content-Type"),
            Some("text/html; charset=utf-8")
        );
        for part in [
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
            "<a href=\"/\"",
            "<a href=\"/harvests\"",
            "<a href=\"/system\"",
            "action=\"/logout\"",
            "<h1 id=\"page-title\">",
        ] {
            assert!(
                answer.body.contains(part),
                "{part} on {page}: {}",
                answer.body
            );
        }
        // No inline script (the CSP forbids it): only files the agent serves.
        assert_eq!(
            answer.body.matches("<script").count(),
            answer.body.matches("<script src=\"/assets/").count(),
            "{page}"
        );
        tokens.push(answer.csrf_field());
    }
    assert!(
        tokens.iter().all(|t| t.len() == 64 && *t == tokens[0]),
        "{tokens:?}"
    );
    // Signed in, the form leads straight on.
    let answer = get(&agent, "/login?next=%2Fsystem", Some(&cookie));
    assert_eq!(
        (answer.status, answer.header("Location")),
        (303, Some("/system"))
    );

    // A wrong password or an unknown name: 401, the form again, no session.
    for (name, password) in [(USER, "wrong"), ("nobody", PASSWORD)] {
        let answer = sign_in(&agent, name, password, "/", &[]);
        assert_eq!(answer.status, 401, "{name}: {}", answer.body);
        assert!(
            answer.body.contains("Wrong name or password."),
            "{}",
            answer.body
        );
        assert!(answer.body.contains("<form"), "{}", answer.body);
        assert_eq!(answer.set_cookie("farm_session"), None, "{}", answer.head);
    }

    // `next` never leads off the server.
    for evil in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/login",
    ] {
        let answer = sign_in(&agent, USER, PASSWORD, evil, &[]);
        assert_eq!(answer.status, 303, "{evil}: {}", answer.body);
        assert_eq!(answer.header("Location"), Some("/"), "{evil}");
    }
}

#[test]
fn every_post_needs_the_right_token_and_the_same_origin() {
    let dir = temp_dir();
    let agent = start_agent(dir.path(), "max_failures = 20", true);
    let cookie = session(&agent);
    let token = get(&agent, "/", Some(&cookie)).csrf_field();
    let other = session(&agent);
    let other_token = get(&agent, "/", Some(&other)).csrf_field();
    assert_ne!(token, other_token);
    let cross_site: [&[(&str, &str)]; 3] = [
        &[("Origin", "http://evil.example")],
        &[("Origin", "null")],
        &[("Sec-Fetch-Site", "cross-site")],
    ];

    for path in SESSION_POSTS {
        // No token, an empty one, a wrong one, another session's: 403.
        for form in [
            String::new(),
            "csrf=".to_owned(),
            format!("csrf={}", "0".repeat(64)),
            format!("csrf={other_token}"),
        ] {
            let answer = post_form(&agent, path, Some(&cookie), &[], &form);
            assert_eq!(answer.status, 403, "{path} {form:?}: {}", answer.body);
            assert_security_headers(&answer, path);
        }
        let answer = post_form(
            &agent,
            path,
            Some(&cookie),
            &[("X-CSRF-Token", &other_token)],
            "",
        );
        assert_eq!(
            answer.status, 403,
            "{path} with another session's header token"
        );
        // The right token but no session, or another site: 403.
        let answer = post_form(&agent, path, None, &[], &format!("csrf={token}"));
        assert_eq!(answer.status, 403, "{path} without a session");
        for headers in cross_site {
            let answer = post_form(
                &agent,
                path,
                Some(&cookie),
                headers,
                &format!("csrf={token}"),
            );
            assert_eq!(answer.status, 403, "{path} {headers:?}: {}", answer.body);
        }
        // Nothing changed: the session still opens pages.
        assert_eq!(
            get(&agent, "/", Some(&cookie)).status,
            200,
            "after refused {path}"
        );
    }
    // A POST to a page is guarded too.
    assert_eq!(
        post_form(&agent, "/system", Some(&cookie), &[], "").status,
        403
    );

    // The sign-in form: without its cookie, with a token that is not the cookie's, or from
    // another site, even the right password gets 403 and no session.
    let (login_cookie, login_token) = login_form(&agent);
    let credentials = format!("username={USER}&password={}", encode(PASSWORD));
    for (cookie, form, headers) in [
        (None, format!("csrf={login_token}&{credentials}"), &[][..]),
        (Some(login_cookie.as_str()), credentials.clone(), &[][..]),
        (
            Some(login_cookie.as_str()),
            format!("csrf={}&{credentials}", "1".repeat(64)),
            &[][..],
        ),
        (
            Some(login_cookie.as_str()),
            format!("csrf={login_token}&{credentials}"),
            cross_site[0],
        ),
        (
            Some(login_cookie.as_str()),
            format!("csrf={login_token}&{credentials}"),
            cross_site[2],
        ),
    ] {
        let answer = post_form(&agent, "/login", cookie, headers, &form);
        assert_eq!(
            answer.status, 403,
            "{cookie:?} {form} {headers:?}: {}",
            answer.body
        );
        assert_eq!(answer.set_cookie("farm_session"), None);
        assert!(
            answer.body.contains("name=\"username\""),
            "the form again: {}",
            answer.body
        );
    }
    // The same origin is fine.
    let origin = format!("http://{}", agent.http);
    let answer = sign_in(
        &agent,
        USER,
        PASSWORD,
        "/",
        &[("Origin", &origin), ("Sec-Fetch-Site", "same-origin")],
    );
    assert_eq!(answer.status, 303, "{}", answer.body);

    // Logout with the right token (header, as fetch sends it): 303 to the form, cookie
    // cleared, and the session is over. The other session lives on.
    let answer = send(
        &agent,
        "POST",
        "/logout",
        &[
            ("Cookie", &cookie),
            ("X-CSRF-Token", &token),
            ("Origin", &origin),
        ],
        Some(""),
    );
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.header("Location"), Some("/login"));
    let cleared = answer.set_cookie("farm_session").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(get(&agent, "/", Some(&cookie)).status, 303);
    assert_eq!(get(&agent, "/", Some(&other)).status, 200);
    // The form field works as well.
    let answer = post_form(
        &agent,
        "/logout",
        Some(&other),
        &[],
        &format!("csrf={other_token}"),
    );
    assert_eq!(answer.status, 303);
    assert_eq!(get(&agent, "/", Some(&other)).status, 303);

    // The JSON API keeps its bearer token and is not touched by the panel's guard.
    let api = send(&agent, "GET", "/api/control", &[], None);
    assert_eq!(api.status, 200, "{}", api.body);
    assert_eq!(api.header("Content-Security-Policy"), None);
}

#[test]
fn repeated_failures_lock_the_name_even_for_the_right_password() {
    let dir = temp_dir();
    let agent = start_agent(dir.path(), "max_failures = 3\nlockout = \"1m\"", true);
    assert_eq!(sign_in(&agent, USER, "wrong-1", "/", &[]).status, 401);
    assert_eq!(sign_in(&agent, USER, "wrong-2", "/", &[]).status, 401);
    // The third failure locks, and says so.
    let answer = sign_in(&agent, USER, "wrong-3", "/", &[]);
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert!(answer.body.contains("locked"), "{}", answer.body);
    let retry: u64 = answer.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Locked: the right password is refused too, and no session is made.
    let answer = sign_in(&agent, USER, PASSWORD, "/", &[]);
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert!(answer.body.contains("locked"), "{}", answer.body);
    assert_eq!(answer.set_cookie("farm_session"), None);
    // This client is locked as well: spraying other names does not get around it.
    let answer = sign_in(&agent, "someone-else", "guess", "/", &[]);
    assert_eq!(answer.status, 429, "{}", answer.body);
}

#[test]
fn without_users_the_panel_says_so() {
    let dir = temp_dir();
    let agent = start_agent(dir.path(), "", false);
    for page in PAGES.iter().chain(&["/login"]) {
        let answer = get(&agent, page, None);
        assert_eq!(answer.status, 503, "{page}: {}", answer.body);
        assert!(
            answer.body.contains("No panel users are configured"),
            "{}",
            answer.body
        );
        assert!(answer.body.contains("[[panel.users]]"), "{}", answer.body);
        assert_security_headers(&answer, page);
    }
    let answer = post_form(&agent, "/login", None, &[], "username=a&password=b");
    assert_eq!(answer.status, 503);
    // The rest of the port works as before.
    assert_eq!(send(&agent, "GET", "/metrics", &[], None).status, 200);
}
