//! The control panel (issue 8): bytes transferred for the overview, time to first render in
//! headless Chromium, and the agent's RSS with 5 panel clients connected.
//!
//! `cargo bench -p edge-agent --bench panel` (add `-- ROUNDS LOADS STREAM_SECS`; defaults
//! 5, 10 and 30).
//!
//! Each round starts the `edge-agent` binary (bench profile, i.e. optimized) on a simulated
//! farm: two rooms (fruiting-1, incubation-1), three simulated sensors read every second,
//! three simulated actuators, three loops, HTTP on a free port and the panel with one user.
//! Then:
//! 1. **Idle RSS**: 3 s after the agent listens, `VmRSS` and `VmHWM` from
//!    `/proc/<pid>/status` (nobody signed in yet).
//! 2. **Overview in Chromium** (one headless Chromium at 1280×800 for the whole bench, behind
//!    `farm_e2e::browser::Browser`): signs in once through the form, then LOADS times opens
//!    `about:blank` and then `/` afresh. After each load: bytes transferred as the browser's
//!    timing entries give them (`navigation` + every `resource`: `transferSize`, i.e.
//!    headers + body as received, and `encodedBodySize`), and first (contentful) paint. The
//!    panel answers everything with `Cache-Control: no-store`, so nothing comes from the
//!    cache; a `transferSize` of 0 would mean a cached entry and is reported. The live
//!    stream `/events` that the page's script opens never finishes, so it has no resource
//!    entry: its bytes are not in the browser figure.
//! 3. **Overview on the wire**: a plain HTTP/1.1 client, signed in on its own, fetches `/`,
//!    `/assets/panel.css` and `/assets/panel.js` and counts every response byte (status
//!    line, headers and body), and the request bytes it sent.
//!    Then `VmRSS`/`VmHWM` again, signed in (two argon2 verifications done), no stream open.
//! 4. **RSS with 5 panel clients**: 5 plain TCP clients each hold a signed-in `GET /events`
//!    open and read it, and the browser shows `/` (its own stream: 6 streams in all); after
//!    STREAM_SECS, `VmRSS` and `VmHWM` again. Every stream must have received at least one
//!    `overview` event.
//!
//! Prints one line per round, the median of each figure over the rounds, and how it was
//! measured. Needs `/usr/bin/chromium` and `/usr/bin/chromedriver`.

use std::time::{Duration, Instant};

use farm_e2e::browser::Browser;

mod agent;
use agent::*;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_edge-agent");
const WAIT: Duration = Duration::from_secs(30);
const USER: &str = "manager";
const PASSWORD: &str = "correct horse battery staple";
const CLIENTS: usize = 5;
const TARGET_BYTES: u64 = 150_000;

fn main() {
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .filter_map(|a| a.parse().ok())
        .collect();
    let rounds = numbers.first().copied().unwrap_or(5) as usize;
    let loads = numbers.get(1).copied().unwrap_or(10) as usize;
    let stream_secs = numbers.get(2).copied().unwrap_or(30);

    let hash = farm_broker::hash_password(PASSWORD).expect("hash the panel password");
    let browser = Browser::start_with_size(1280, 800);
    println!(
        "panel bench: {rounds} rounds, {loads} fresh loads of / per round, \
         {CLIENTS} SSE clients + 1 browser for {stream_secs} s"
    );
    let mut results = Vec::with_capacity(rounds);
    for round in 1..=rounds {
        let result = run_round(&browser, &hash, loads, Duration::from_secs(stream_secs));
        println!("round {round}: {}", result.line());
        if round == 1 {
            for (name, transfer, encoded) in &result.entries {
                println!("    browser entry {name}: transferSize {transfer} B, encodedBodySize {encoded} B");
            }
            for (path, bytes) in &result.wire_parts {
                println!("    wire {path}: {bytes} B (response head + body)");
            }
        }
        results.push(result);
    }
    report(&results, loads, stream_secs);
}

/// What one round measured.
struct Round {
    /// Browser: sum of `transferSize` (navigation + resources), median over the loads.
    browser_transfer: u64,
    /// Browser: sum of `encodedBodySize`, median over the loads.
    browser_encoded: u64,
    /// Browser: entries seen with `transferSize` 0 (cached), over all loads.
    cached_entries: usize,
    /// Browser: loads with no first-contentful-paint entry within 5 s (left out of the median).
    missing_fcp: usize,
    /// The entries of the last load: (name, transferSize, encodedBodySize).
    entries: Vec<(String, u64, u64)>,
    /// First contentful paint and first paint, ms after navigation start; medians.
    fcp_ms: f64,
    fp_ms: f64,
    /// `responseEnd` of the document, and `loadEventEnd`, ms; medians.
    response_end_ms: f64,
    load_ms: f64,
    /// Plain client: response bytes (head + body) of `/` + css + js, and the request bytes.
    wire_bytes: u64,
    wire_request_bytes: u64,
    wire_parts: Vec<(String, u64)>,
    /// KiB from /proc: idle, and with the clients connected.
    idle_rss: u64,
    idle_hwm: u64,
    /// After the sign-ins and loads, before the streams.
    signed_in_rss: u64,
    signed_in_hwm: u64,
    clients_rss: u64,
    clients_hwm: u64,
    /// Bytes the 5 SSE clients received, in all.
    stream_bytes: u64,
}

impl Round {
    fn line(&self) -> String {
        format!(
            "browser {} B transferred ({} B bodies), wire {} B; FCP {:.1} ms, FP {:.1} ms, \
             responseEnd {:.1} ms, load {:.1} ms; RSS idle {} KiB (HWM {}), \
             signed in {} KiB (HWM {}), with clients {} KiB (HWM {}); SSE bytes {}; loads without FCP {}{}",
            self.browser_transfer,
            self.browser_encoded,
            self.wire_bytes,
            self.fcp_ms,
            self.fp_ms,
            self.response_end_ms,
            self.load_ms,
            self.idle_rss,
            self.idle_hwm,
            self.signed_in_rss,
            self.signed_in_hwm,
            self.clients_rss,
            self.clients_hwm,
            self.stream_bytes,
            self.missing_fcp,
            if self.cached_entries > 0 {
                format!("; {} CACHED ENTRIES (transferSize 0)", self.cached_entries)
            } else {
                String::new()
            }
        )
    }
}

fn run_round(browser: &Browser, hash: &str, loads: usize, stream_for: Duration) -> Round {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut agent = Agent::start(dir.path(), hash);
    std::thread::sleep(Duration::from_secs(3));
    let (idle_rss, idle_hwm) = memory(agent.pid());

    // The overview in Chromium: sign in once, then fresh loads.
    let url = format!("http://{}/", agent.http);
    browser.sign_in(&format!("http://{}", agent.http), USER, PASSWORD, WAIT);
    let mut transfer = Vec::with_capacity(loads);
    let mut encoded = Vec::with_capacity(loads);
    let (mut fcp, mut fp, mut response_end, mut load) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut cached_entries = 0;
    let mut missing_fcp = 0;
    let mut entries = Vec::new();
    for _ in 0..loads {
        browser.goto("about:blank");
        browser.goto(&url);
        let title = browser.find("#page-title").text();
        assert_eq!(
            title,
            "Overview",
            "not the overview: {}",
            browser.current_url()
        );
        // Under load the paint entry can be recorded after `load`: give it up to 5 s.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut timing = page_timing(browser);
        while timing.fcp_ms.is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            timing = page_timing(browser);
        }
        transfer.push(timing.entries.iter().map(|e| e.1).sum::<u64>() as f64);
        encoded.push(timing.entries.iter().map(|e| e.2).sum::<u64>() as f64);
        cached_entries += timing.entries.iter().filter(|e| e.1 == 0).count();
        missing_fcp += usize::from(timing.fcp_ms.is_none());
        fcp.push(timing.fcp_ms.unwrap_or(f64::NAN));
        fp.push(timing.fp_ms.unwrap_or(f64::NAN));
        response_end.push(timing.response_end_ms);
        load.push(timing.load_ms);
        entries = timing.entries;
    }

    // The same page on the wire, with a plain client.
    let cookie = sign_in(&agent.http);
    let mut wire_parts = Vec::new();
    let mut wire_request_bytes = 0;
    for path in ["/", "/assets/panel.css", "/assets/panel.js"] {
        let (status, sent, received) = wire_get(&agent.http, path, &cookie);
        assert_eq!(status, 200, "GET {path}");
        wire_request_bytes += sent;
        wire_parts.push((path.to_owned(), received));
    }
    let wire_bytes = wire_parts.iter().map(|p| p.1).sum();
    // Signed in (two argon2 verifications done), no stream open.
    let (signed_in_rss, signed_in_hwm) = memory(agent.pid());

    // 5 SSE clients and the browser on the overview, for `stream_for`.
    let clients: Vec<SseClient> = (0..CLIENTS)
        .map(|_| SseClient::open(&agent.http, &cookie))
        .collect();
    browser.goto(&url);
    std::thread::sleep(stream_for);
    let (clients_rss, clients_hwm) = memory(agent.pid());
    let mut stream_bytes = 0;
    for client in clients {
        let (bytes, events) = client.close();
        assert!(events > 0, "an SSE client got no overview event");
        stream_bytes += bytes;
    }
    browser.goto("about:blank");
    agent.stop();

    Round {
        browser_transfer: median(&mut transfer) as u64,
        browser_encoded: median(&mut encoded) as u64,
        cached_entries,
        missing_fcp,
        entries,
        fcp_ms: median(&mut fcp),
        fp_ms: median(&mut fp),
        response_end_ms: median(&mut response_end),
        load_ms: median(&mut load),
        wire_bytes,
        wire_request_bytes,
        wire_parts,
        idle_rss,
        idle_hwm,
        signed_in_rss,
        signed_in_hwm,
        clients_rss,
        clients_hwm,
        stream_bytes,
    }
}

fn report(results: &[Round], loads: usize, stream_secs: u64) {
    let med = |f: &dyn Fn(&Round) -> f64| {
        let mut values: Vec<f64> = results.iter().map(f).collect();
        median(&mut values)
    };
    let browser_bytes = med(&|r| r.browser_transfer as f64);
    let wire_bytes = med(&|r| r.wire_bytes as f64);
    println!();
    println!(
        "| round | browser transferSize | wire (head+body) | FCP | FP | responseEnd | load | \
         RSS idle | HWM idle | RSS signed in | HWM signed in | RSS {CLIENTS}+1 clients | HWM {CLIENTS}+1 clients |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (i, r) in results.iter().enumerate() {
        println!(
            "| {} | {} B | {} B | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} MiB |",
            i + 1,
            r.browser_transfer,
            r.wire_bytes,
            r.fcp_ms,
            r.fp_ms,
            r.response_end_ms,
            r.load_ms,
            mib(r.idle_rss as f64),
            mib(r.idle_hwm as f64),
            mib(r.signed_in_rss as f64),
            mib(r.signed_in_hwm as f64),
            mib(r.clients_rss as f64),
            mib(r.clients_hwm as f64),
        );
    }
    println!(
        "median: overview {:.0} B transferred in Chromium ({:.1} KB; bodies {:.0} B), \
         {:.0} B on the wire (+{:.0} B of requests); FCP {:.1} ms, FP {:.1} ms; \
         RSS idle {:.1} MiB (HWM {:.1}), signed in {:.1} MiB (HWM {:.1}), with {CLIENTS} SSE clients + 1 browser after \
         {stream_secs} s {:.1} MiB (HWM {:.1})",
        browser_bytes,
        browser_bytes / 1000.0,
        med(&|r| r.browser_encoded as f64),
        wire_bytes,
        med(&|r| r.wire_request_bytes as f64),
        med(&|r| r.fcp_ms),
        med(&|r| r.fp_ms),
        mib(med(&|r| r.idle_rss as f64)),
        mib(med(&|r| r.idle_hwm as f64)),
        mib(med(&|r| r.signed_in_rss as f64)),
        mib(med(&|r| r.signed_in_hwm as f64)),
        mib(med(&|r| r.clients_rss as f64)),
        mib(med(&|r| r.clients_hwm as f64)),
    );
    let verdict = if browser_bytes.max(wire_bytes) < TARGET_BYTES as f64 {
        "met"
    } else {
        "NOT met"
    };
    println!(
        "target overview < 150 KB ({TARGET_BYTES} B): {verdict} ({:.1}% of it)",
        browser_bytes.max(wire_bytes) * 100.0 / TARGET_BYTES as f64
    );
    println!(
        "how: bench-profile edge-agent, simulated farm (2 rooms, 3 sensors at 1 s, 3 \
         actuators, 3 loops); Chromium 1280x800 headless, {loads} fresh loads per round \
         (about:blank, then /), bytes = sum of transferSize of the navigation and resource \
         timing entries (the never-ending /events stream has none), FCP/FP from the paint \
         entries; wire = a plain HTTP/1.1 client's response bytes for /, panel.css, panel.js; \
         RSS = VmRSS/VmHWM from /proc/<pid>/status. Medians of {} rounds (each round's \
         browser figures are themselves medians of its loads).",
        results.len()
    );
}

fn mib(kib: f64) -> f64 {
    kib / 1024.0
}

/// The median of `values` (NaN sorts last and is skipped); NaN if there is none.
fn median(values: &mut Vec<f64>) -> f64 {
    values.retain(|v| !v.is_nan());
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The timing entries of the page the browser shows.
struct PageTiming {
    /// (name, transferSize, encodedBodySize) of the navigation and every resource.
    entries: Vec<(String, u64, u64)>,
    fcp_ms: Option<f64>,
    fp_ms: Option<f64>,
    response_end_ms: f64,
    load_ms: f64,
}

fn page_timing(browser: &Browser) -> PageTiming {
    let value = browser.execute(
        "const nav = performance.getEntriesByType('navigation')[0];\n\
         const entry = (e) => [e.name, e.transferSize, e.encodedBodySize];\n\
         const paint = (name) => {\n\
           const e = performance.getEntriesByType('paint').find((p) => p.name === name);\n\
           return e ? e.startTime : null;\n\
         };\n\
         return {\n\
           entries: [entry(nav)].concat(performance.getEntriesByType('resource').map(entry)),\n\
           fcp: paint('first-contentful-paint'),\n\
           fp: paint('first-paint'),\n\
           response_end: nav.responseEnd,\n\
           load: nav.loadEventEnd,\n\
         };",
        &[],
    );
    let entries = value
        .get("entries")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no timing entries: {value}"))
        .iter()
        .map(|e| {
            let name = e.get(0).and_then(Value::as_str).unwrap_or("?").to_owned();
            let number = |i: usize| e.get(i).and_then(Value::as_f64).unwrap_or(0.0) as u64;
            (name, number(1), number(2))
        })
        .collect();
    let number = |key: &str| value.get(key).and_then(Value::as_f64);
    PageTiming {
        entries,
        fcp_ms: number("fcp"),
        fp_ms: number("fp"),
        response_end_ms: number("response_end").unwrap_or(f64::NAN),
        load_ms: number("load").unwrap_or(f64::NAN),
    }
}

/// VmRSS and VmHWM of `pid`, KiB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .expect("read /proc/<pid>/status of the agent");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}
