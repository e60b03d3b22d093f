//! The control panel in a real browser: Debian's headless Chromium driven over WebDriver by
//! [`farm_e2e::browser::Browser`] against the running agent. Signing in through the form lands
//! on the overview; a wrong password is refused with the message shown and no session; no
//! page scrolls sideways on a 360 px phone; and screenshots of the overview at 1280 px and
//! 375 px are kept as test artifacts in `target/panel-screenshots/` (`overview-1280.png`,
//! `overview-375.png`, and the room page with a chart, `room-1280.png`, `room-375.png`, under
//! the workspace root).
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`; `scripts/test.sh` installs them).
//!
//! The live updates, the room page's changes and a harvest turning synced are in
//! `panel_browser_live.rs` and the workspace's `tests/tests/panel_harvest_sync.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::panel::{start_agent, PAGES, PASSWORD, USER};
use common::{Agent, Node};
use farm_e2e::browser::Browser;
use farm_e2e::temp_dir;

const WAIT: Duration = Duration::from_secs(20);
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The agent with the panel and its one user (no lockout in the way).
fn agent(dir: &std::path::Path) -> Agent {
    start_agent(dir, "max_failures = 20", true)
}

/// Opens the agent's overview, which sends to the sign-in form, and signs in there with
/// `name` and `password` by typing and clicking, as a person would.
fn sign_in(browser: &Browser, agent: &Agent, name: &str, password: &str) {
    browser.submit_sign_in(&format!("http://{}", agent.http), name, password);
}

/// The path of the current page (without the scheme and address).
fn path(browser: &Browser, agent: &Agent) -> String {
    browser.path_on(&format!("http://{}", agent.http))
}

#[test]
fn signing_in_through_the_form_lands_on_the_overview() {
    let dir = temp_dir();
    let agent = agent(dir.path());
    let browser = Browser::start();

    sign_in(&browser, &agent, USER, PASSWORD);
    browser.wait_for_text("#page-title", "Overview", WAIT);
    assert_eq!(path(&browser, &agent), "/");
    assert!(browser.cookie("farm_session").is_some());
    // Labelled navigation and a way out.
    for link in ["a[href=\"/harvests\"]", "a[href=\"/system\"]"] {
        assert!(browser.try_find(link).is_some(), "{link}");
    }
    assert!(browser.try_find("form[action=\"/logout\"]").is_some());
}

#[test]
fn a_wrong_password_is_refused_with_the_message_shown() {
    let dir = temp_dir();
    let agent = agent(dir.path());
    let browser = Browser::start();

    sign_in(&browser, &agent, USER, "not the password");
    let message = browser.wait_for_text("#login-error", "Wrong name or password.", WAIT);
    assert_eq!(message, "Wrong name or password.");
    assert_eq!(browser.find("#page-title").text(), "Sign in");
    assert!(path(&browser, &agent).starts_with("/login"));
    assert_eq!(browser.cookie("farm_session"), None);
    // The name is kept, the password is not; the form says what described it.
    assert_eq!(browser.find("#username").property("value"), USER);
    assert_eq!(browser.find("#password").property("value"), "");
    assert_eq!(
        browser
            .find("form.login")
            .attribute("aria-describedby")
            .as_deref(),
        Some("login-error")
    );
}

#[test]
fn no_page_scrolls_sideways_on_a_360_px_phone() {
    let dir = temp_dir();
    let agent = agent(dir.path());
    // A reading, so the room page has its chart and forms filled.
    let node = Node::connect(agent.mqtt_port, "node-phone");
    node.publish_humidity(88.5);
    let browser = Browser::start_with_size(360, 740);
    assert_eq!(browser.execute("return window.innerWidth", &[]), 360);
    // The sign-in form itself, then every page once signed in.
    browser.goto(&format!("http://{}/login", agent.http));
    assert_fits(&browser, 360, "/login");
    sign_in(&browser, &agent, USER, PASSWORD);
    browser.wait_for_text("#page-title", "Overview", WAIT);
    for page in PAGES {
        browser.goto(&format!("http://{}{page}", agent.http));
        if page.starts_with("/rooms/") {
            browser.wait_until("the room's chart", WAIT, |b| {
                b.goto(&format!("http://{}{page}", agent.http));
                b.try_find("figure.chart svg").is_some()
            });
        }
        assert_eq!(path(&browser, &agent), page);
        assert_fits(&browser, 360, page);
    }
}

/// The page is no wider than `width`: nothing sticks out to scroll sideways to.
fn assert_fits(browser: &Browser, width: u64, page: &str) {
    let scroll_width = browser
        .execute("return document.documentElement.scrollWidth", &[])
        .as_u64()
        .unwrap();
    assert!(
        scroll_width <= width,
        "{page} is {scroll_width} px wide at {width} px"
    );
}

#[test]
fn screenshots_of_the_overview_at_1280_and_375_px() {
    let dir = temp_dir();
    let agent = agent(dir.path());
    // A reading, so the room has a row and a chart.
    let node = Node::connect(agent.mqtt_port, "node-screenshots");
    node.publish_humidity(88.5);
    let browser = Browser::start_with_size(1280, 800);
    sign_in(&browser, &agent, USER, PASSWORD);
    browser.wait_for_text("#page-title", "Overview", WAIT);
    let timing = browser.render_timing();
    // The navigation timed here is the sign-in POST and its redirect (argon2 included).
    eprintln!("overview render timing: {timing:?}");
    assert!(timing.first_contentful_paint_ms.is_some(), "{timing:?}");

    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/panel-screenshots");
    let room = format!("http://{}/rooms/fruiting-1", agent.http);
    for (width, name) in [
        (1280, "overview-1280.png"),
        (375, "overview-375.png"),
        (1280, "room-1280.png"),
        (375, "room-375.png"),
    ] {
        browser.set_window_size(width, 800);
        if name.starts_with("room") {
            // The reading is in the history once the outbox has committed it.
            browser.wait_until("the room's humidity chart", WAIT, |b| {
                b.goto(&room);
                b.try_find("#chart-humidity-24h svg").is_some()
            });
            assert_fits(&browser, u64::from(width), "/rooms/fruiting-1");
        }
        // The whole page, not only the window's height.
        let png = browser.full_page_screenshot();
        let file = out.join(name);
        Browser::save_png(&file, &png);
        assert!(png.starts_with(PNG_SIGNATURE), "{name} is not a PNG");
        assert!(png.len() > 1000, "{name}: {} bytes", png.len());
        assert_eq!(std::fs::read(&file).unwrap(), png);
        // The PNG's width, from its header, is the window's, less a scroll bar if any.
        let png_width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert!(
            (width - 20..=width).contains(&png_width),
            "{name}: {png_width} px"
        );
    }
}
