//! What the control tests share: an agent whose humidifier is a room node's relay (switched
//! over MQTT) regulated by a humidity loop, a room node that publishes readings and records
//! the commands it is sent, and the events the agent left in its outbox. `panel`: the panel
//! tests' HTTP client, which keeps cookies and headers, and signing in through the form.
#![allow(clippy::unwrap_used, dead_code)]

pub mod panel;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use farm_e2e::Process;
use rumqttc::{Event, MqttOptions, Packet, QoS};

pub const BIN: &str = env!("CARGO_BIN_EXE_edge-agent");
pub const WAIT: Duration = Duration::from_secs(30);
/// The bearer token whose hash the API tests configure.
pub const TOKEN: &str = "token";
pub const HUMIDIFIER: &str = "fruiting-1-humidifier";
pub const LOOP: &str = "fruiting-1-humidity";
/// Where the room node hears its humidifier's commands.
pub const COMMAND_TOPIC: &str = "farm/fruiting-1/node-1/cmd/humidifier";
const NODE_PASSWORD: &str = "s3cret";

/// A `[[products]]` catalogue: one product per unit.
pub const PRODUCTS: &str = r#"
[[products]]
sku = "OYS-BLUE"
name = "Blue oyster"
unit = "kg"

[[products]]
sku = "MICRO-PEA"
name = "Pea shoots"
unit = "g"

[[products]]
sku = "LION-EA"
name = "Lion's mane"
unit = "each"
"#;

/// The config: MQTT on, one room-node user, the humidifier on node-1's relay (no min on/off)
/// and a hysteresis loop holding humidity at 90 ± 2. `api_token_hash` goes under `[http]`;
/// `control` is the body of `[control]`.
pub fn config(data_dir: &Path, api_token_hash: Option<&str>, control: &str) -> String {
    let node_hash = farm_broker::hash_password(NODE_PASSWORD).unwrap();
    let token = api_token_hash.map_or(String::new(), |h| format!("api_token_hash = \"{h}\""));
    format!(
        r#"
[agent]
device_id = "test-pi"
data_dir = "{data}"

[http]
listen = "127.0.0.1:0"
{token}

[mqtt]
enabled = true
listen = "127.0.0.1:0"

[[mqtt.users]]
name = "room-node"
password_hash = "{node_hash}"

[[actuators]]
name = "{HUMIDIFIER}"
room = "fruiting-1"
device = "humidifier"
kind = "mqtt"
node = "node-1"
min_on = "0s"
min_off = "0s"

[control]
{control}

[[loops]]
name = "{LOOP}"
actuator = "{HUMIDIFIER}"
kind = "hysteresis"
metric = "humidity"
setpoint = 90.0
band = 4.0
"#,
        data = data_dir.display()
    )
}

/// A running agent: the process, its HTTP address, its MQTT port and its data dir.
pub struct Agent {
    pub process: Process,
    pub http: String,
    pub mqtt_port: u16,
    pub data: PathBuf,
}

impl Agent {
    /// SIGTERM; the agent must exit 0 (within [`WAIT`]). Returns its log.
    pub fn stop(&mut self) -> Vec<String> {
        let (status, log) = self.process.stop(rustix::process::Signal::TERM, WAIT);
        assert_eq!(status.code(), Some(0), "{}", log.join("\n"));
        log
    }
}

/// Writes `config` (made with `dir/data` as the data dir) to `dir/c.toml` and starts the agent.
pub fn start(dir: &Path, config: &str) -> Agent {
    std::fs::write(dir.join("c.toml"), config).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--config", "c.toml"])
        .current_dir(dir)
        .env("RUST_LOG", "info");
    let mut process = Process::spawn("edge-agent", cmd);
    let http = process.wait_for_address("HTTP", WAIT);
    let mqtt = process.wait_for_address("MQTT", WAIT);
    let mqtt_port = mqtt.rsplit(':').next().unwrap().parse().unwrap();
    Agent {
        process,
        http,
        mqtt_port,
        data: dir.join("data"),
    }
}

/// Room node `node-1` of `fruiting-1`: publishes readings and records every command it gets.
pub struct Node {
    client: rumqttc::Client,
    commands: Receiver<(String, String)>,
    /// The state last expected; the agent may re-send it (command refresh) at any time.
    last: String,
}

impl Node {
    /// Connects to the agent's broker and subscribes to the node's command topics (returns
    /// once the subscription is acknowledged).
    pub fn connect(port: u16, client_id: &str) -> Node {
        let mut options = MqttOptions::new(client_id, "127.0.0.1", port);
        options.set_credentials("room-node", NODE_PASSWORD);
        let (client, mut connection) = rumqttc::Client::new(options, 16);
        client
            .subscribe("farm/fruiting-1/node-1/cmd/#", QoS::AtLeastOnce)
            .unwrap();
        let (subscribed, suback) = channel();
        let (tx, commands) = channel();
        std::thread::spawn(move || {
            for event in connection.iter() {
                match event {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = subscribed.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let payload = String::from_utf8_lossy(&p.payload).into_owned();
                        if tx.send((p.topic, payload)).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    // The agent went away (or refused us): the test sees the channel close.
                    Err(_) => return,
                }
            }
        });
        suback
            .recv_timeout(WAIT)
            .expect("the subscription is acknowledged");
        Node {
            client,
            commands,
            last: "off".into(),
        }
    }

    /// Publishes a bare humidity reading (QoS 1), as a room node does.
    pub fn publish_humidity(&self, value: f64) {
        self.client
            .publish(
                "farm/fruiting-1/node-1/humidity",
                QoS::AtLeastOnce,
                false,
                value.to_string(),
            )
            .unwrap();
    }

    /// Waits up to `within` for the humidifier command `payload`; returns how long it took.
    /// Repeats of the previous state (command refresh) are skipped; any other command, a
    /// command on another topic, or none in time fails the test.
    pub fn expect(&mut self, payload: &str, within: Duration) -> Duration {
        let start = Instant::now();
        let deadline = start + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.commands.recv_timeout(left) {
                Ok((topic, got)) => {
                    assert_eq!(topic, COMMAND_TOPIC, "a command on an unexpected topic");
                    if got == payload {
                        self.last = got;
                        return start.elapsed();
                    }
                    assert_eq!(
                        got, self.last,
                        "got {got:?} while waiting for {payload:?} (last state {:?})",
                        self.last
                    );
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {payload:?} on {COMMAND_TOPIC} within {within:?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the connection ended before {payload:?} arrived on {COMMAND_TOPIC}")
                }
            }
        }
    }
}

/// The events in the outbox of `data` (read after the agent stopped), in seq order: each
/// one's `kind` column and its JSON body.
pub fn events(data: &Path) -> Vec<(String, serde_json::Value)> {
    let db = rusqlite::Connection::open(data.join("outbox.sqlite")).unwrap();
    let mut stmt = db
        .prepare("SELECT kind, body FROM events ORDER BY seq")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(|row| {
            let (kind, body) = row.unwrap();
            (kind, serde_json::from_str(&body).unwrap())
        })
        .collect();
    rows
}

/// The humidifier's switches in `events`: (state, reason), in order.
pub fn switches(events: &[(String, serde_json::Value)]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|(kind, body)| kind == "actuator_change" && body["actuator"] == HUMIDIFIER)
        .map(|(_, body)| {
            let state = body["state"].as_str().unwrap().to_owned();
            (state, body["reason"].as_str().unwrap().to_owned())
        })
        .collect()
}
