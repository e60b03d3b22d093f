//! Control reaction latency (issue 5): from a reading arriving to the actuator command,
//! p50 / p99 / max over 10,000 readings, for both ways a reading arrives.
//!
//! `cargo bench -p edge-agent --bench control` (add `-- N` for the number of readings;
//! default 10,000).
//!
//! - **MQTT → room-node relay, the real agent process.** The bench starts the `edge-agent`
//!   binary (bench profile) with its embedded broker, an MQTT actuator (a humidifier on
//!   `farm/bench/node-1/cmd/humidifier`) and a hysteresis loop on humidity (90 ± 2 %RH,
//!   min on/off 0 s). One rumqttc client subscribes to the command topic and publishes
//!   humidity readings that alternate 80 / 97 to `farm/bench/node-1/humidity`, one at a time:
//!   each crosses the band, so each must produce one command. The clock runs from the
//!   publish call to the arrival of the matching `on`/`off`, so it includes both MQTT hops
//!   through the broker, the ingest, the outbox hand-off, the control thread and the publish.
//! - **Local sensor → GPIO-like output, in process.** What a sensor task does after a read
//!   (`LatestState::update`) to the output being switched: the control thread as
//!   `edge-agent run` starts it, with a simulated-farm output (no GPIO here); the bench
//!   polls the output.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use edge_agent::actuators::Actuators;
use edge_agent::config::{ActuatorConfig, ActuatorOutput};
use edge_agent::control::{
    ActuatorSpec, ActuatorTiming, ControlConfig, ControlHandle, ControlParts, Controller,
    Direction, LoopKind, LoopSpec,
};
use edge_agent::outbox::{Outbox, OutboxSettings};
use edge_agent::state::{Latest, LatestState};
use farm_drivers::sim::{RoomParams, SharedFarm, SimFarm};
use farm_drivers::ActuatorKind;
use farm_protocol::{Metric, Source, SwitchState};
use rumqttc::{Client, Event, MqttOptions, Packet, QoS};

const BIN: &str = env!("CARGO_BIN_EXE_edge-agent");
const WAIT: Duration = Duration::from_secs(10);
const WARM_UP: usize = 200;

fn main() {
    let readings: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let mqtt = mqtt_path(dir.path(), readings);
    report("MQTT reading -> room-node command (agent process)", mqtt);
    let local = local_path(dir.path(), readings);
    report(
        "local sensor reading -> output switched (in process)",
        local,
    );
}

fn report(what: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what}: n={} p50={:.3} ms p99={:.3} ms max={:.3} ms",
        latencies.len(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
}

const CONFIG: &str = r#"
[agent]
data_dir = "DATA"
log_level = "warn"

[http]
listen = ""

[mqtt]
enabled = true
listen = "127.0.0.1:0"
allow_anonymous = true

[control]
stale_after = "1h"

[[actuators]]
name = "humidifier"
room = "bench"
device = "humidifier"
kind = "mqtt"
node = "node-1"
min_on = "0s"
min_off = "0s"

[[loops]]
name = "bench-humidity"
actuator = "humidifier"
kind = "hysteresis"
metric = "humidity"
setpoint = 90.0
band = 4.0
"#;

fn mqtt_path(dir: &Path, readings: usize) -> Vec<Duration> {
    let config = CONFIG.replace("DATA", &dir.join("agent").display().to_string());
    std::fs::write(dir.join("agent.toml"), config).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["run", "--config"])
        .arg(dir.join("agent.toml"))
        .env(
            "RUST_LOG",
            "warn,edge_agent::agent=info,edge_agent::mqtt=info",
        );
    let mut agent = farm_e2e::Process::spawn("edge-agent", cmd);
    let address = agent.wait_for_address("MQTT", WAIT);
    let port: u16 = address.rsplit(':').next().unwrap().parse().unwrap();

    let mut opts = MqttOptions::new("bench-node", "127.0.0.1", port);
    opts.set_keep_alive(Duration::from_secs(60));
    let (client, mut connection) = Client::new(opts, 100);
    client
        .subscribe("farm/bench/node-1/cmd/#", QoS::AtMostOnce)
        .unwrap();
    let mut events = connection.iter();
    // Wait for the SUBACK so no command is missed.
    loop {
        if let Some(Ok(Event::Incoming(Packet::SubAck(_)))) = events.next() {
            break;
        }
    }
    let mut latencies = Vec::with_capacity(readings);
    for i in 0..WARM_UP + readings {
        let (value, expect): (&str, &[u8]) = if i % 2 == 0 {
            ("80", b"on")
        } else {
            ("97", b"off")
        };
        let start = Instant::now();
        client
            .publish("farm/bench/node-1/humidity", QoS::AtMostOnce, false, value)
            .unwrap();
        loop {
            match events.next() {
                Some(Ok(Event::Incoming(Packet::Publish(p)))) if p.payload.as_ref() == expect => {
                    break
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("MQTT: {e}"),
                None => panic!("MQTT connection ended"),
            }
            assert!(start.elapsed() < WAIT, "no command for reading {i}");
        }
        if i >= WARM_UP {
            latencies.push(start.elapsed());
        }
    }
    let (status, log) = agent.stop(rustix::process::Signal::TERM, WAIT);
    assert!(
        status.success(),
        "agent exit: {status:?}\n{}",
        log.join("\n")
    );
    latencies
}

fn local_path(dir: &Path, readings: usize) -> Vec<Duration> {
    let mut farm = SimFarm::new(1, 0.0);
    farm.add_room("bench", RoomParams::default()).unwrap();
    let farm = SharedFarm::new(farm);
    let actuator = ActuatorConfig {
        name: "humidifier".into(),
        room: "bench".into(),
        device: ActuatorKind::Humidifier,
        safe_state: SwitchState::Off,
        output: ActuatorOutput::Simulated,
        timing: ActuatorTiming::default(),
    };
    let (actuators, _) = Actuators::open(&[actuator], Some(&farm), None, 0);
    let control = ControlConfig {
        period: Duration::from_secs(1),
        timezone: jiff::tz::TimeZone::UTC,
        command_refresh: Duration::from_secs(30),
        loops: vec![LoopSpec {
            name: "bench-humidity".into(),
            actuator: 0,
            kind: LoopKind::Hysteresis {
                metric: Metric::Humidity,
                setpoint: 90.0,
                band: 4.0,
                direction: Direction::Raise,
                stale_after: Duration::from_secs(3600),
            },
        }],
        interlocks: Vec::new(),
    };
    let spec = ActuatorSpec {
        name: "humidifier".into(),
        room: "bench".into(),
        safe_state: SwitchState::Off,
        timing: ActuatorTiming::default(),
    };
    let state = LatestState::default();
    let outbox = Outbox::open(&dir.join("local.sqlite"), OutboxSettings::default()).unwrap();
    let handle = ControlHandle::start(ControlParts {
        controller: Controller::new(&control, vec![spec], now_ms()),
        actuators,
        state: state.clone(),
        outbox,
        memory_path: dir.join("control.json"),
        configured: control.loops.iter().map(|l| l.kind.clone()).collect(),
        period: control.period,
        command_refresh: control.command_refresh,
    })
    .unwrap();
    let mut latencies = Vec::with_capacity(readings);
    for i in 0..WARM_UP + readings {
        let (value, on) = if i % 2 == 0 {
            (80.0, true)
        } else {
            (97.0, false)
        };
        let latest = Latest {
            value,
            ts: now_ms(),
            source: Source::Sensor("bench-sht4x".into()),
            fault: None,
        };
        let start = Instant::now();
        state.update("bench", Metric::Humidity, latest);
        while farm.with(|f| f.actuators("bench").map(|a| a.humidifier)) != Some(on) {
            assert!(
                start.elapsed() < WAIT,
                "output not switched for reading {i}"
            );
            std::thread::yield_now();
        }
        if i >= WARM_UP {
            latencies.push(start.elapsed());
        }
    }
    handle.stop();
    latencies
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| d.as_millis() as i64)
}
