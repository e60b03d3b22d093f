//! A real browser for tests: Debian's headless Chromium driven by `chromedriver` over the W3C
//! WebDriver HTTP protocol.
//!
//! The client is the few commands the panel tests need: JSON over a tiny HTTP/1.1 exchange on
//! `std::net` (chromedriver keeps connections open, so the answer is read by its
//! `Content-Length`) with `serde_json`. No WebDriver crate: `fantoccini` and `thirtyfour` bring
//! an async runtime and dozens of crates for what is a dozen JSON requests.
//!
//! Invariants:
//! - every [`Browser`] has its own `chromedriver` on a free port and its own Chromium profile
//!   in a temp dir; dropping it deletes the session (Chromium quits) and kills `chromedriver`.
//! - waiting is polling with a deadline ([`Browser::wait_until`]), never a blind sleep.
//! - a command that fails panics with WebDriver's error and message; the `try_` methods return
//!   `None` instead, for polling.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::{free_port, temp_dir, Process, TempDir};

use wire::exchange;

mod capture;
mod element;
mod panel;
mod wire;

/// Where Debian's packages put the browser and its driver.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The key of an element reference in WebDriver's JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long chromedriver and Chromium get to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A headless Chromium session behind its own `chromedriver`. Quits on drop.
pub struct Browser {
    /// `127.0.0.1:<port>` of chromedriver.
    driver: String,
    session: String,
    process: Process,
    dir: TempDir,
}

/// An element found on the current page (a WebDriver element reference).
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

/// When the current page rendered, in milliseconds since its navigation started (the browser's
/// `performance` entries); `None` where the browser recorded no such entry.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderTiming {
    /// The last byte of the document arrived (`responseEnd`).
    pub response_end_ms: f64,
    /// `DOMContentLoaded` handlers finished.
    pub dom_content_loaded_ms: f64,
    /// The `load` event finished (0 while the page still loads).
    pub load_ms: f64,
    /// The first paint of anything.
    pub first_paint_ms: Option<f64>,
    /// The first paint of text or an image (first contentful paint).
    pub first_contentful_paint_ms: Option<f64>,
    /// Bytes transferred for the document itself (`transferSize`; headers included).
    pub document_bytes: u64,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a 1280×800 window. Panics, saying how
    /// to install them, if Chromium or chromedriver are missing.
    pub fn start() -> Browser {
        Browser::start_with_size(1280, 800)
    }

    /// [`Browser::start`] with a `width`×`height` window.
    pub fn start_with_size(width: u32, height: u32) -> Browser {
        for path in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(path).exists(),
                "{path} is missing: browser tests need Debian's Chromium and ChromeDriver \
                 (`apt-get install chromium chromium-driver`; scripts/test.sh installs them)"
            );
        }
        let dir = temp_dir();
        // Another process may take the free port before chromedriver binds it: retry.
        let mut last = String::new();
        for _ in 0..3 {
            match spawn_driver(dir.path()) {
                Ok((process, driver)) => {
                    let mut browser = Browser {
                        driver,
                        session: String::new(),
                        process,
                        dir,
                    };
                    browser.session = browser.new_session(width, height);
                    // `--window-size` narrower than 500 px is widened at launch; a resize
                    // through WebDriver is not.
                    browser.set_window_size(width, height);
                    return browser;
                }
                Err(e) => last = e,
            }
        }
        panic!("chromedriver did not start: {last}");
    }

    /// Opens `url` and waits until the page has loaded.
    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", json!({ "url": url }));
    }

    /// The address of the current page.
    pub fn current_url(&self) -> String {
        string(self.command("GET", "/url", Value::Null))
    }

    /// The current page's `<title>`.
    pub fn title(&self) -> String {
        string(self.command("GET", "/title", Value::Null))
    }

    /// The first element matching CSS `selector`; panics if there is none.
    pub fn find(&self, selector: &str) -> Element<'_> {
        self.try_find(selector)
            .unwrap_or_else(|| panic!("no element {selector:?} on {}", self.current_url()))
    }

    /// The first element matching CSS `selector`, if any.
    pub fn try_find(&self, selector: &str) -> Option<Element<'_>> {
        let found = self
            .try_command("POST", "/element", by_css(selector))
            .ok()?;
        Some(self.element(&found))
    }

    /// Every element matching CSS `selector`, in document order.
    pub fn find_all(&self, selector: &str) -> Vec<Element<'_>> {
        match self.command("POST", "/elements", by_css(selector)) {
            Value::Array(found) => found.iter().map(|e| self.element(e)).collect(),
            other => panic!("elements {selector:?}: not a list: {other}"),
        }
    }

    /// The text of the first element matching `selector` right now, if there is one (for
    /// polling: a missing or replaced element is `None`, not a panic).
    pub fn try_text(&self, selector: &str) -> Option<String> {
        let element = self.try_find(selector)?;
        let text = self
            .try_command("GET", &format!("/element/{}/text", element.id), Value::Null)
            .ok()?;
        text.as_str().map(str::to_owned)
    }

    /// Waits up to `timeout` for an element matching `selector` and returns it.
    pub fn wait_for(&self, selector: &str, timeout: Duration) -> Element<'_> {
        self.wait_until(&format!("an element {selector:?}"), timeout, |b| {
            b.try_find(selector).is_some()
        });
        self.find(selector)
    }

    /// Waits up to `timeout` for the text of `selector` to contain `needle`; returns the text.
    pub fn wait_for_text(&self, selector: &str, needle: &str, timeout: Duration) -> String {
        let mut text = None;
        self.wait_until(&format!("{needle:?} in {selector:?}"), timeout, |b| {
            text = b.try_text(selector);
            text.as_deref().is_some_and(|t| t.contains(needle))
        });
        text.unwrap_or_default()
    }

    /// Polls `ready` every 50 ms until it holds; panics naming `what`, the page's address and
    /// title after `timeout`.
    pub fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut ready: impl FnMut(&Browser) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        while !ready(self) {
            if Instant::now() >= deadline {
                panic!(
                    "not within {timeout:?}: {what} (at {}, {:?})",
                    self.current_url(),
                    self.title()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `script` as the body of a function in the page (`arguments` are `args`) and
    /// returns what it returns, as JSON.
    pub fn execute(&self, script: &str, args: &[Value]) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": args }),
        )
    }

    /// Resizes the window to `width`×`height` CSS pixels.
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            json!({ "width": width, "height": height }),
        );
    }

    /// The value of cookie `name` for the current page, if the browser has it (HttpOnly
    /// cookies included: WebDriver sees them, page scripts do not).
    pub fn cookie(&self, name: &str) -> Option<String> {
        let cookie = self
            .try_command("GET", &format!("/cookie/{name}"), Value::Null)
            .ok()?;
        cookie
            .get("value")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// A new session with headless Chromium in a fresh profile; returns its id.
    fn new_session(&self, width: u32, height: u32) -> String {
        let profile = self.dir.path().join("profile");
        let args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            // No calls home: the machine's network is closed and they only add noise.
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-quic".to_owned(),
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "pageLoadStrategy": "normal",
                "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
            }}
        });
        let value = self
            .request("POST", "/session", &capabilities)
            .unwrap_or_else(|e| self.fail_start(&format!("new session: {e}")));
        match value.get("sessionId").and_then(Value::as_str) {
            Some(id) => id.to_owned(),
            None => self.fail_start(&format!("no sessionId in {value}")),
        }
    }

    fn fail_start(&self, what: &str) -> ! {
        let log =
            std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!("{what}; chromedriver.log ends:\n{}", tail.join("\n"));
    }

    fn element(&self, found: &Value) -> Element<'_> {
        let id = found
            .get(ELEMENT_KEY)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("not an element reference: {found}"));
        Element {
            browser: self,
            id: id.to_owned(),
        }
    }

    /// A command of this session (`path` after `/session/<id>`); panics on an error.
    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        self.try_command(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    fn try_command(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let path = format!("/session/{}{path}", self.session);
        self.request(method, &path, &body)
    }

    /// One WebDriver request: the response's `value`, or its error and message.
    fn request(&self, method: &str, path: &str, body: &Value) -> Result<Value, String> {
        let body = (method == "POST").then(|| body.to_string());
        let (status, text) = exchange(&self.driver, method, path, body.as_deref())
            .map_err(|e| format!("chromedriver at {}: {e}", self.driver))?;
        let answer: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{status}: not JSON ({e}): {text:?}"))?;
        let value = answer.get("value").cloned().unwrap_or(Value::Null);
        if status == 200 {
            return Ok(value);
        }
        let field = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or("");
        Err(format!("{status} {}: {}", field("error"), field("message")))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.try_command("DELETE", "", Value::Null);
        }
        // `Process` kills chromedriver when it drops.
        let _ = self.process.try_wait();
    }
}

/// Starts chromedriver on a free port, logging to `dir/chromedriver.log`, and waits until it
/// is ready; `Err` if it exits first (e.g. the port was taken).
fn spawn_driver(dir: &Path) -> Result<(Process, String), String> {
    let port = free_port();
    let mut command = Command::new(CHROMEDRIVER);
    command
        .arg(format!("--port={port}"))
        .arg(format!(
            "--log-path={}",
            dir.join("chromedriver.log").display()
        ))
        .stdout(std::process::Stdio::null());
    let mut process = Process::spawn("chromedriver", command);
    let driver = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok((200, body)) = exchange(&driver, "GET", "/status", None) {
            if body.contains("\"ready\":true") {
                return Ok((process, driver));
            }
        }
        if let Some(status) = process.try_wait() {
            return Err(format!("chromedriver exited: {status}"));
        }
        if Instant::now() >= deadline {
            process.fail(&format!("not ready on {driver} within {START_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn by_css(selector: &str) -> Value {
    json!({ "using": "css selector", "value": selector })
}

fn string(value: Value) -> String {
    match value {
        Value::String(text) => text,
        other => panic!("expected a string from WebDriver, got {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::Browser;
    use std::time::Duration;

    /// The client against a page of its own (a `data:` URL): typing, clicking, reading,
    /// scripts, resizing, screenshots and the timing entries.
    #[test]
    fn drives_a_page() {
        let browser = Browser::start_with_size(800, 600);
        browser.goto(
            "data:text/html,<title>t</title><input id=i><button id=b \
             onclick=\"setTimeout(()=>{document.getElementById('o').textContent=\
             'hi '+document.getElementById('i').value},200)\">go</button><p id=o></p>",
        );
        assert_eq!(browser.title(), "t");
        assert!(browser.current_url().starts_with("data:text/html"));
        browser.find("#i").send_keys("there");
        browser.find("#b").click();
        let text = browser.wait_for_text("#o", "hi there", Duration::from_secs(10));
        assert_eq!(text, "hi there");
        assert_eq!(browser.find("#i").property("value"), "there");
        assert_eq!(browser.find("#b").attribute("id").as_deref(), Some("b"));
        assert_eq!(browser.find("#b").attribute("title"), None);
        assert!(browser.try_find("#missing").is_none());
        assert_eq!(browser.find_all("input, button").len(), 2);
        browser.set_window_size(375, 700);
        assert_eq!(browser.execute("return window.innerWidth", &[]), 375);
        let sum = browser.execute("return arguments[0] + arguments[1]", &[1.into(), 2.into()]);
        assert_eq!(sum, 3);
        let png = browser.screenshot();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{:?}",
            &png[..8.min(png.len())]
        );
        let timing = browser.render_timing();
        assert!(timing.response_end_ms >= 0.0, "{timing:?}");
    }
}
