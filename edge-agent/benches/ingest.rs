//! MQTT ingest throughput (issue 4): room-node telemetry through the agent's embedded broker
//! into the outbox, side by side with a bare Mosquitto relaying the same load to one subscriber.
//!
//! `cargo bench -p edge-agent --bench ingest` (add `-- 5` for the number of runs; default 5).
//! Needs `/usr/sbin/mosquitto` (Debian's `mosquitto`; override with `MOSQUITTO=<path>`): the
//! bench starts it on a free loopback port with a temporary config and kills it at the end.
//!
//! The load, the same on both sides: 4 publishers (rumqttc, one connection each, QoS 1) send
//! 5,000 messages each to `farm/room<k>/node<p>-<j>/telemetry` (5 rooms, 40 nodes), each
//! message carrying the 8 metrics of the registry, so 8 readings the agent accepts.
//! - Agent: `MqttService` + `Ingest` + `Outbox` (default settings) as `edge-agent run` wires
//!   them. The clock runs from the first publish until every reading has been accepted and
//!   `Outbox::flush` reports them committed (durable).
//! - Mosquitto: one rumqttc subscriber on `farm/#` (QoS 1); the clock runs from the first
//!   publish until it has received every message.
//!
//! Runs alternate agent / Mosquitto; prints each run, the medians and their ratio.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edge_agent::ingest::{Ingest, IngestStats, NodeTracker, TimeLimits};
use edge_agent::mqtt::MqttService;
use edge_agent::outbox::{Outbox, OutboxSettings};
use edge_agent::state::LatestState;
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};

const PUBLISHERS: usize = 4;
const MESSAGES_PER_PUBLISHER: usize = 5_000;
const MESSAGES: usize = PUBLISHERS * MESSAGES_PER_PUBLISHER;
const READINGS_PER_MESSAGE: usize = 8;
const READINGS: usize = MESSAGES * READINGS_PER_MESSAGE;
/// The 8 metrics of the registry, all in range.
const PAYLOAD: &str = r#"{"readings": {"temperature": 21.5, "humidity": 90.1, "co2": 850, "light": 120, "moisture": 40, "pressure": 1013, "vpd": 0.5, "dew_point": 15.2}}"#;
/// A run that makes no progress for this long is reported as incomplete.
const STALL: Duration = Duration::from_secs(10);
/// Wait for a single MQTT event (connect, ack) at most this long.
const EVENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A connected publisher and the topics it will publish to, in order.
struct Publisher {
    client: AsyncClient,
    eventloop: EventLoop,
    topics: Vec<String>,
}

/// Connects publisher `p` (waits for CONNACK) so connecting is outside the timed part.
async fn connect(port: u16, id: String) -> (AsyncClient, EventLoop) {
    let mut opts = MqttOptions::new(id, "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(60));
    let (client, mut eventloop) = AsyncClient::new(opts, 100);
    loop {
        let event = tokio::time::timeout(EVENT_TIMEOUT, eventloop.poll())
            .await
            .expect("CONNACK in time")
            .expect("connect");
        if let Event::Incoming(Packet::ConnAck(_)) = event {
            return (client, eventloop);
        }
    }
}

async fn publishers(port: u16, side: &str, run: usize) -> Vec<Publisher> {
    let mut out = Vec::new();
    for p in 0..PUBLISHERS {
        let (client, eventloop) = connect(port, format!("bench-{side}-{run}-pub{p}")).await;
        let topics = (0..MESSAGES_PER_PUBLISHER)
            .map(|i| format!("farm/room{}/node{p}-{}/telemetry", i % 5, i % 10))
            .collect();
        out.push(Publisher {
            client,
            eventloop,
            topics,
        });
    }
    out
}

/// Publishes every message at QoS 1 and drives the connection until all are acknowledged.
async fn publish_all(publisher: Publisher) {
    let Publisher {
        client,
        mut eventloop,
        topics,
    } = publisher;
    let sender = {
        let client = client.clone();
        tokio::spawn(async move {
            for topic in topics {
                client
                    .publish(topic, QoS::AtLeastOnce, false, PAYLOAD.as_bytes().to_vec())
                    .await
                    .expect("publish queued");
            }
        })
    };
    let mut acked = 0;
    while acked < MESSAGES_PER_PUBLISHER {
        let event = tokio::time::timeout(EVENT_TIMEOUT, eventloop.poll())
            .await
            .expect("PUBACK in time")
            .expect("publisher connection");
        if let Event::Incoming(Packet::PubAck(_)) = event {
            acked += 1;
        }
    }
    sender.await.expect("sender task");
    client.disconnect().await.expect("disconnect queued");
    // Drive the DISCONNECT out; the loop ends with an error once the socket closes.
    for _ in 0..10 {
        match tokio::time::timeout(Duration::from_secs(1), eventloop.poll()).await {
            Ok(Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect))) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(_)) => {}
        }
    }
}

/// Waits until `count()` reaches `target`, or it stalls; returns the last count and when it
/// was reached.
async fn wait_for(target: u64, count: impl Fn() -> u64) -> (u64, Instant) {
    let mut last = count();
    let mut last_change = Instant::now();
    while last < target && last_change.elapsed() < STALL {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let now = count();
        if now != last {
            last = now;
            last_change = Instant::now();
        }
    }
    (last, last_change)
}

/// One agent run: readings/s committed (over the time until the last one arrived) and
/// whether every reading arrived.
async fn run_agent(run: usize) -> (f64, bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = edge_agent::config::parse(
        Path::new("bench.toml"),
        "[mqtt]\nenabled = true\nlisten = \"127.0.0.1:0\"\nallow_anonymous = true\nmax_connections = 50\n",
    )
    .expect("bench config")
    .mqtt;
    let outbox = Outbox::open(&dir.path().join("outbox.sqlite"), OutboxSettings::default())
        .expect("open outbox");
    let stats = Arc::new(IngestStats::default());
    let ingest = Ingest {
        outbox: outbox.clone(),
        state: LatestState::default(),
        stats: Arc::clone(&stats),
        nodes: Arc::new(Mutex::new(NodeTracker::default())),
        limits: TimeLimits {
            max_clock_skew: config.max_clock_skew,
            max_age: config.max_reading_age,
        },
    };
    // The broker has no stop: each run's (idle) broker stays until the process ends.
    let service = MqttService::start(&config, ingest).expect("start MQTT service");
    let port = service.local_addr().port();
    let pubs = publishers(port, "agent", run).await;

    let start = Instant::now();
    let tasks: Vec<_> = pubs
        .into_iter()
        .map(|p| tokio::spawn(publish_all(p)))
        .collect();
    let (accepted, last) = wait_for(READINGS as u64, || {
        stats.accepted.load(std::sync::atomic::Ordering::Relaxed)
    })
    .await;
    let flush_start = Instant::now();
    let committed = outbox.flush().await.expect("flush");
    // An incomplete run waited STALL for nothing: count only until its last reading arrived.
    let secs = (last - start + flush_start.elapsed()).as_secs_f64();
    for t in tasks {
        t.await.expect("publisher");
    }
    let complete = accepted >= READINGS as u64 && committed >= READINGS as u64;
    if !complete {
        let dropped: u64 = stats.dropped().iter().map(|(_, n)| n).sum();
        let messages = stats.messages.load(std::sync::atomic::Ordering::Relaxed);
        eprintln!(
            "  agent run {run}: INCOMPLETE: the ingest received {messages} of {MESSAGES} \
             messages (all PUBACKed); accepted {accepted}, committed seq {committed}, \
             dropped by parse {dropped}, of {READINGS} readings"
        );
    }
    outbox.close().await.expect("close outbox");
    (committed as f64 / secs, complete)
}

/// One Mosquitto run: readings/s relayed to the subscriber, or `None` if messages went missing.
async fn run_mosquitto(port: u16, run: usize) -> Option<f64> {
    let (sub, mut sub_loop) = connect(port, format!("bench-mosq-{run}-sub")).await;
    sub.subscribe("farm/#", QoS::AtLeastOnce)
        .await
        .expect("subscribe queued");
    loop {
        let event = tokio::time::timeout(EVENT_TIMEOUT, sub_loop.poll())
            .await
            .expect("SUBACK in time")
            .expect("subscriber connection");
        if let Event::Incoming(Packet::SubAck(_)) = event {
            break;
        }
    }
    let pubs = publishers(port, "mosq", run).await;

    let start = Instant::now();
    let tasks: Vec<_> = pubs
        .into_iter()
        .map(|p| tokio::spawn(publish_all(p)))
        .collect();
    let mut received = 0;
    while received < MESSAGES {
        match tokio::time::timeout(STALL, sub_loop.poll()).await {
            Ok(Ok(Event::Incoming(Packet::Publish(_)))) => received += 1,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("subscriber connection: {e}"),
            Err(_) => break,
        }
    }
    let secs = start.elapsed().as_secs_f64();
    for t in tasks {
        t.await.expect("publisher");
    }
    sub.disconnect().await.expect("disconnect queued");
    for _ in 0..10 {
        match tokio::time::timeout(Duration::from_secs(1), sub_loop.poll()).await {
            Ok(Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect))) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(_)) => {}
        }
    }
    if received < MESSAGES {
        eprintln!("  mosquitto run {run}: INCOMPLETE: received {received} of {MESSAGES} messages");
        return None;
    }
    Some((MESSAGES * READINGS_PER_MESSAGE) as f64 / secs)
}

/// The Mosquitto process, killed when dropped.
struct Mosquitto {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Mosquitto {
    fn start() -> Mosquitto {
        let bin = std::env::var("MOSQUITTO").unwrap_or_else(|_| "/usr/sbin/mosquitto".into());
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("address")
            .port();
        // max_queued_messages 0: no cap on the subscriber's queue (the default, 1000, drops
        // QoS 1 messages when the subscriber falls behind a burst).
        let conf = format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
             log_dest stderr\nlog_type error\nmax_queued_messages 0\n"
        );
        let conf_path = dir.path().join("m.conf");
        std::fs::write(&conf_path, conf).expect("write mosquitto config");
        let child = Command::new(&bin)
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin} (apt-get install mosquitto): {e}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Mosquitto {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn fmt(rate: Option<f64>) -> String {
    rate.map_or_else(|| "incomplete".into(), |r| format!("{r:.0}"))
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5);
    let mosquitto = Mosquitto::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "{PUBLISHERS} publishers x {MESSAGES_PER_PUBLISHER} messages, QoS 1, \
         {READINGS_PER_MESSAGE} readings per message ({READINGS} readings per run)"
    );
    let mut agent = Vec::new();
    let mut mosq = Vec::new();
    let mut incomplete = 0;
    // Alternate the two so that machine noise hits both alike.
    for run in 1..=runs {
        let (a, complete) = rt.block_on(run_agent(run));
        let m = rt.block_on(run_mosquitto(mosquitto.port, run));
        let note = if complete {
            ""
        } else {
            " (INCOMPLETE: readings lost)"
        };
        println!(
            "run {run}: agent {a:.0} readings/s{note}, mosquitto {} readings/s",
            fmt(m)
        );
        agent.push(a);
        incomplete += usize::from(!complete);
        mosq.extend(m);
    }
    drop(mosquitto);
    if agent.is_empty() || mosq.is_empty() {
        println!("no complete runs on one side: no medians");
        std::process::exit(1);
    }
    let (a, m) = (median(agent), median(mosq));
    println!("median: agent {a:.0} readings/s (committed), mosquitto {m:.0} readings/s (relayed)");
    println!("ratio agent/mosquitto: {:.2} (target >= 0.5)", a / m);
    if incomplete > 0 {
        println!("agent runs that lost readings: {incomplete} of {runs}");
        std::process::exit(1);
    }
}
