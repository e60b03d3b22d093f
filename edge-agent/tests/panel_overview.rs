//! The panel's overview on the running agent with simulated sensors in two rooms: `/` lists
//! every room with its readings and their status as text, its actuators and alarms;
//! `/events` streams `overview` events whose values change as readings arrive, only with a
//! session; at most 32 streams are open at once (the 33rd gets 503); and open streams do not
//! keep the agent from exiting 0 promptly on SIGTERM. The status rules are unit-tested in
//! `panel::overview`.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::panel::{get, session, PASSWORD, USER};
use common::{config, start, Agent, WAIT};
use farm_e2e::{header, temp_dir, wait_until};
use serde_json::Value;

const STATUSES: [&str; 4] = ["in range", "out of range", "stale", "fault"];

/// The shared control config (a humidity loop in fruiting-1) plus simulated climate sensors
/// in fruiting-1 and incubation-1, a panel and its user.
fn start_agent(dir: &std::path::Path) -> Agent {
    let mut text = config(&dir.join("data"), None, "");
    let hash = farm_broker::hash_password(PASSWORD).unwrap();
    text.push_str(&format!(
        r#"
[[sensors]]
name = "climate-fruiting"
kind = "simulated"
room = "fruiting-1"
interval = "200ms"

[[sensors]]
name = "climate-incubation"
kind = "simulated"
room = "incubation-1"
interval = "200ms"

[panel]

[[panel.users]]
name = "{USER}"
password_hash = "{hash}"
"#
    ));
    start(dir, &text)
}

/// An open `GET /events` response, read as Server-Sent Events.
struct Events {
    reader: BufReader<TcpStream>,
    /// Decoded body not yet parsed into events.
    pending: String,
    ended: bool,
    /// The server ended the body properly (the last, empty chunk).
    finished: bool,
}

/// `GET /events` with `cookie`: the status, the head, and the stream if it is one.
fn open_events(agent: &Agent, cookie: Option<&str>) -> (u16, String, Events) {
    let mut stream = TcpStream::connect(&agent.http).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
    let request = format!(
        "GET /events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n{cookie}\r\n",
        agent.http
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "no head: {head}");
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let events = Events {
        reader,
        pending: String::new(),
        ended: false,
        finished: false,
    };
    (status, head, events)
}

impl Events {
    /// The next event with data as `(event name, data)`, skipping keep-alive comments;
    /// `None` once the server ended the stream.
    fn next(&mut self) -> Option<(String, String)> {
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let (mut name, mut data) = (String::from("message"), Vec::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        name = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push(value.strip_prefix(' ').unwrap_or(value).to_owned());
                    }
                }
                if !data.is_empty() {
                    return Some((name, data.join("\n")));
                }
                continue;
            }
            if self.ended || !self.read_chunk() {
                self.ended = true;
                return None;
            }
        }
    }

    /// Reads one chunk of the chunked body into `pending`; false at its end.
    fn read_chunk(&mut self) -> bool {
        let mut size = String::new();
        match self.reader.read_line(&mut size) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            self.finished = true;
            return false;
        }
        let mut chunk = vec![0; size + 2];
        self.reader.read_exact(&mut chunk).unwrap();
        self.pending
            .push_str(&String::from_utf8_lossy(&chunk[..size]).replace("\r\n", "\n"));
        true
    }

    /// The next `overview` event's data, parsed.
    fn overview(&mut self) -> Value {
        let (name, data) = self.next().expect("an event");
        assert_eq!(name, "overview", "{data}");
        serde_json::from_str(&data).unwrap()
    }
}

/// The reading of `metric` in `room` in an overview event.
fn reading<'a>(overview: &'a Value, room: &str, metric: &str) -> Option<&'a Value> {
    let room = overview["rooms"]
        .as_array()?
        .iter()
        .find(|r| r["room"] == room)?;
    room["readings"]
        .as_array()?
        .iter()
        .find(|r| r["metric"] == metric)
}

#[test]
fn the_overview_shows_every_room_and_streams_its_changes() {
    let dir = temp_dir();
    let agent = start_agent(dir.path());
    let cookie = session(&agent);

    // Server-rendered: both rooms, linked, with their readings and a status in words.
    let mut page = String::new();
    wait_until("both rooms with humidity readings", WAIT, || {
        page = get(&agent, "/", Some(&cookie)).body;
        page.matches("<tr data-metric=\"humidity\">").count() == 2
    });
    for part in [
        "<a href=\"/rooms/fruiting-1\">fruiting-1</a>",
        "<a href=\"/rooms/incubation-1\">incubation-1</a>",
        "<th scope=\"row\">temperature</th>",
        "<li data-actuator=\"fruiting-1-humidifier\">",
        "<ul class=\"alarms\" data-field=\"alarms\">",
        "<script src=\"/assets/panel.js\" defer></script>",
    ] {
        assert!(page.contains(part), "{part} in {page}");
    }
    let statuses = page.matches("data-field=\"status\">").count();
    let labelled: usize = STATUSES
        .iter()
        .map(|s| {
            page.matches(&format!("data-field=\"status\">{s}</span>"))
                .count()
        })
        .sum();
    assert!(statuses >= 2 && labelled == statuses, "{page}");
    assert!(
        page.contains("target 86.0 to 94.0 %RH"),
        "the humidity loop's target: {page}"
    );

    let script = get(&agent, "/assets/panel.js", None);
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("Content-Type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(script.body.contains("new EventSource(\"/events\")"));

    // Without a session (or with a made-up one) there is no stream.
    for cookie in [None, Some(format!("farm_session={}", "ab".repeat(32)))] {
        let (status, head, _) = open_events(&agent, cookie.as_deref());
        assert_eq!(status, 401, "{head}");
    }

    // With one: an overview at once, then changes as readings arrive.
    let (status, head, mut events) = open_events(&agent, Some(&cookie));
    assert_eq!(status, 200, "{head}");
    assert_eq!(header(&head, "Content-Type"), Some("text/event-stream"));
    let first = events.overview();
    let humidity = reading(&first, "fruiting-1", "humidity").expect("humidity in fruiting-1");
    assert!(STATUSES.contains(
        &humidity["status"]
            .as_str()
            .unwrap()
            .replace('_', " ")
            .as_str()
    ));
    assert!(reading(&first, "incubation-1", "co2").is_some(), "{first}");
    let first_ts = humidity["ts"].as_i64().unwrap();
    let changed = events.overview();
    assert_ne!(changed["rooms"], first["rooms"], "sent only when changed");
    // Readings keep arriving, so the humidity reading moves on.
    let mut latest = changed;
    while reading(&latest, "fruiting-1", "humidity").unwrap()["ts"]
        .as_i64()
        .unwrap()
        <= first_ts
    {
        latest = events.overview();
    }
}

#[test]
fn streams_are_bounded_and_do_not_hold_up_shutdown() {
    let dir = temp_dir();
    let mut agent = start_agent(dir.path());
    let cookie = session(&agent);

    let mut open = Vec::new();
    for _ in 0..32 {
        let (status, head, events) = open_events(&agent, Some(&cookie));
        assert_eq!(status, 200, "{head}");
        open.push(events);
    }
    let (status, head, _) = open_events(&agent, Some(&cookie));
    assert_eq!(status, 503, "the 33rd stream: {head}");
    // Every open stream is live.
    let first = open[0].overview();
    assert!(first["rooms"].is_array(), "{first}");

    let asked = Instant::now();
    agent.stop();
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "shutdown with 32 open streams took {:?}",
        asked.elapsed()
    );
    // The streams were ended by the server, not cut off.
    for events in &mut open {
        while events.next().is_some() {}
        assert!(events.finished, "the stream's body ended properly");
    }
}
