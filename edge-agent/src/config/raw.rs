//! The config file's schema: serde structs that mirror the TOML, with defaults for missing
//! keys and no unknown keys allowed. Values whose checks need more than their type (ranges,
//! names, duplicates) are checked in `build.rs`. Enum-like values (`log_level`,
//! `synchronous`, `kind`, `metrics`) stay strings and required keys stay `Option`s here, so
//! that `build.rs` reports every bad or missing one, not only the first.
//!
//! Each top-level section and each `[[sensors]]`, `[[actuators]]` and `[[loops]]` entry is
//! deserialized on its own through `serde_path_to_error`, so a problem carries its full key
//! path and one bad section does not hide the problems of the others; within a table, each bad
//! key is reported and dropped and the table retried (see `deserialize` below). The schemas of
//! `[mqtt]`, `[http]`, `[control]`, `[[loops]]`, `[sync]`, `[[products]]` and `[panel]`
//! live with their checks (`mqtt.rs`, `control.rs`, `loops.rs`, `sync.rs`, `products.rs`,
//! `panel.rs`).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde_path_to_error::Segment;
use toml::{Table, Value};

use super::error::Problem;
use super::settings::{LogLevel, Synchronous};
use super::units::{ByteSize, HumanDuration};

/// `[agent]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table of agent settings ([agent])")]
pub(super) struct RawAgent {
    /// This device's id, sent with every batch. Default `"edge-01"`.
    #[serde(default = "default_device_id")]
    pub device_id: String,
    /// Where the agent keeps its data. Default `/var/lib/edge-agent`.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `error`, `warn`, `info`, `debug` or `trace`. Default `info`.
    #[serde(default = "default_log_level")]
    pub log_level: String,
}

/// `[outbox]` as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table of outbox settings ([outbox])"
)]
pub(super) struct RawOutbox {
    /// Longest time between telemetry commits. Default 250ms.
    #[serde(default = "default_commit_interval")]
    pub commit_interval: HumanDuration,
    /// Quota of the outbox file. Default 256MiB.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: ByteSize,
    /// How long synced telemetry is kept for the panel. Default 7d.
    #[serde(default = "default_retain_local")]
    pub retain_local: HumanDuration,
    /// `normal` or `full`. Default `normal`.
    #[serde(default = "default_synchronous")]
    pub synchronous: String,
}

/// `[simulation]` as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table of simulation settings ([simulation])"
)]
pub(super) struct RawSimulation {
    /// Simulated seconds per real second. Default 1.0.
    #[serde(default = "default_speed")]
    pub speed: f64,
    /// Seed of the simulated randomness. Default 42.
    #[serde(default = "default_seed")]
    pub seed: u64,
}

/// One `[[sensors]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table of sensor settings ([[sensors]])"
)]
pub(super) struct RawSensor {
    /// Unique sensor name. Required (checked in `build.rs`, to report every missing key).
    pub name: Option<String>,
    /// The sensor kind, e.g. `simulated`. Required.
    pub kind: Option<String>,
    /// The room the sensor is in. Required.
    pub room: Option<String>,
    /// How often the sensor is read. Default 5s.
    #[serde(default = "default_sensor_interval")]
    pub interval: HumanDuration,
    /// Identical consecutive values that make a sensor "stuck"; 0 = off. Default 20.
    #[serde(default = "default_stuck_after")]
    pub stuck_after: u32,
    /// Metric names a simulated sensor reports. Default temperature, humidity, co2. Real
    /// sensors report what their chip measures; the key is an error for them.
    pub metrics: Option<Vec<String>>,
    /// I2C sensors: the bus device. Default `/dev/i2c-1`.
    pub bus: Option<PathBuf>,
    /// I2C sensors: the 7-bit address. Default: the chip's default address.
    pub address: Option<u8>,
    /// `ads1115_moisture`: the input, 0–3. Required.
    pub channel: Option<u8>,
    /// `ads1115_moisture`: the probe's output in dry air, mV. Required.
    pub dry_mv: Option<f64>,
    /// `ads1115_moisture`: the probe's output in saturated substrate, mV. Required.
    pub wet_mv: Option<f64>,
    /// `ds18b20`: the 1-Wire device id, e.g. `28-0316a279c5ff`. Required.
    pub device: Option<String>,
    /// `ds18b20`: where the kernel lists 1-Wire devices. Default `/sys/bus/w1/devices`.
    pub w1_root: Option<PathBuf>,
}

/// One `[[actuators]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table of actuator settings ([[actuators]])"
)]
pub(super) struct RawActuator {
    /// Unique actuator name. Required.
    pub name: Option<String>,
    /// The room it acts on. Required.
    pub room: Option<String>,
    /// `humidifier`, `fresh_air_fan`, `heater`, `lights` or `cooler`. Required.
    pub device: Option<String>,
    /// `gpio`, `simulated` or `mqtt`. Required.
    pub kind: Option<String>,
    /// `off` or `on`. Default `off`.
    #[serde(default = "default_safe_state")]
    pub safe_state: String,
    /// `gpio`: the GPIO character device. Default `/dev/gpiochip0`.
    pub chip: Option<PathBuf>,
    /// `gpio`: the line offset (BCM number on a Pi). Required for `gpio`.
    pub line: Option<u32>,
    /// `gpio`: the relay is on when the line is low. Default false.
    #[serde(default)]
    pub active_low: bool,
    /// `mqtt`: the room node whose relay it is (`farm/<room>/<node>/cmd/<command>`). Required
    /// for `mqtt`.
    pub node: Option<String>,
    /// `mqtt`: the command topic's last level. Default: the device name (`"humidifier"`).
    pub command: Option<String>,
    /// Once on, it stays on at least this long. Default 30s.
    #[serde(default = "default_min_on")]
    pub min_on: HumanDuration,
    /// Once off, it stays off at least this long. Default 30s.
    #[serde(default = "default_min_off")]
    pub min_off: HumanDuration,
    /// At most this much on-time within any `max_on_period`. Default: no limit.
    pub max_on: Option<HumanDuration>,
    /// The window of `max_on`; set with `max_on`.
    pub max_on_period: Option<HumanDuration>,
}

/// Default `agent.device_id`.
pub(super) fn default_device_id() -> String {
    "edge-01".to_owned()
}

/// Default `agent.data_dir`.
pub(super) fn default_data_dir() -> PathBuf {
    PathBuf::from("/var/lib/edge-agent")
}

/// Default `agent.log_level`.
fn default_log_level() -> String {
    LogLevel::default().as_str().to_owned()
}

/// Default `outbox.commit_interval`.
pub(super) const fn default_commit_interval() -> HumanDuration {
    HumanDuration(Duration::from_millis(250))
}

/// Default `outbox.max_bytes`.
pub(super) const fn default_max_bytes() -> ByteSize {
    ByteSize(256 << 20)
}

/// Default `outbox.retain_local`.
pub(super) const fn default_retain_local() -> HumanDuration {
    HumanDuration(Duration::from_secs(7 * 24 * 3600))
}

/// Default `outbox.synchronous`.
fn default_synchronous() -> String {
    Synchronous::default().as_str().to_owned()
}

/// Default `simulation.speed`.
pub(super) const fn default_speed() -> f64 {
    1.0
}

/// Default `simulation.seed`.
pub(super) const fn default_seed() -> u64 {
    42
}

/// Default `sensors[].interval`.
const fn default_sensor_interval() -> HumanDuration {
    HumanDuration(Duration::from_secs(5))
}

/// Default `sensors[].stuck_after`.
const fn default_stuck_after() -> u32 {
    20
}

/// Default `actuators[].safe_state`.
fn default_safe_state() -> String {
    "off".to_owned()
}

/// Default `actuators[].min_on`.
const fn default_min_on() -> HumanDuration {
    HumanDuration(Duration::from_secs(30))
}

/// Default `actuators[].min_off`.
const fn default_min_off() -> HumanDuration {
    HumanDuration(Duration::from_secs(30))
}

/// The file's sections as deserialized; `None` where a section could not be (its problem is
/// already recorded). Missing sections are deserialized from an empty table (all defaults).
#[derive(Debug)]
pub(super) struct RawSections {
    /// `[agent]`.
    pub agent: Option<RawAgent>,
    /// `[outbox]`.
    pub outbox: Option<RawOutbox>,
    /// `[simulation]`.
    pub simulation: Option<RawSimulation>,
    /// `[mqtt]`.
    pub mqtt: Option<super::mqtt::RawMqtt>,
    /// `[http]`.
    pub http: Option<super::mqtt::RawHttp>,
    /// `[[sensors]]`, each with its index in the file; entries that failed are left out.
    pub sensors: Vec<(usize, RawSensor)>,
    /// `[[actuators]]`, likewise.
    pub actuators: Vec<(usize, RawActuator)>,
    /// `[control]`.
    pub control: Option<super::control::RawControl>,
    /// `[[loops]]`, likewise.
    pub loops: Vec<(usize, super::loops::RawLoop)>,
    /// `[sync]`.
    pub sync: Option<super::sync::RawSync>,
    /// `[[products]]`, likewise.
    pub products: Vec<(usize, super::products::RawProduct)>,
    /// `[panel]`.
    pub panel: Option<super::panel::RawPanel>,
}

/// The top-level keys the file may have, in the order problems are reported.
pub(super) const SECTIONS: [&str; 12] = [
    "agent",
    "outbox",
    "simulation",
    "mqtt",
    "http",
    "sensors",
    "actuators",
    "control",
    "loops",
    "sync",
    "products",
    "panel",
];

/// Splits the document into its sections and deserializes each, recording a problem for
/// every unknown top-level key and every section or sensor entry that does not fit the schema.
pub(super) fn read_sections(mut doc: Table, problems: &mut Vec<Problem>) -> RawSections {
    for key in doc.keys().filter(|key| !SECTIONS.contains(&key.as_str())) {
        problems.push(Problem::new(
            key.clone(),
            "unknown key; expected one of `agent`, `outbox`, `simulation`, `mqtt`, `http`, `sensors`, `actuators`, `control`, `loops`, `sync`, `products`, `panel`",
        ));
    }
    let agent = section(&mut doc, "agent", problems);
    let outbox = section(&mut doc, "outbox", problems);
    let simulation = section(&mut doc, "simulation", problems);
    let mqtt = section(&mut doc, "mqtt", problems);
    let http = section(&mut doc, "http", problems);
    let sensors = array(&mut doc, "sensors", problems);
    let actuators = array(&mut doc, "actuators", problems);
    let control = section(&mut doc, "control", problems);
    let loops = array(&mut doc, "loops", problems);
    let sync = section(&mut doc, "sync", problems);
    let products = array(&mut doc, "products", problems);
    let panel = section(&mut doc, "panel", problems);
    RawSections {
        agent,
        outbox,
        simulation,
        mqtt,
        http,
        sensors,
        actuators,
        control,
        loops,
        sync,
        products,
        panel,
    }
}

/// Deserializes each entry of the array of tables `name` (`[[name]]` blocks), with its index.
fn array<T>(doc: &mut Table, name: &str, problems: &mut Vec<Problem>) -> Vec<(usize, T)>
where
    T: for<'de> Deserialize<'de>,
{
    match doc.remove(name) {
        None => Vec::new(),
        Some(Value::Array(entries)) => entries
            .into_iter()
            .enumerate()
            .filter_map(|(index, entry)| {
                let key = format!("{name}[{index}]");
                deserialize(&key, entry, problems).map(|item| (index, item))
            })
            .collect(),
        Some(other) => {
            problems.push(Problem::new(
                name,
                format!(
                    "expected an array of tables (one [[{name}]] block each), found {}",
                    other.type_str()
                ),
            ));
            Vec::new()
        }
    }
}

/// Deserializes the top-level section `name`, or its defaults if it is missing.
fn section<T>(doc: &mut Table, name: &str, problems: &mut Vec<Problem>) -> Option<T>
where
    T: for<'de> Deserialize<'de>,
{
    let value = doc
        .remove(name)
        .unwrap_or_else(|| Value::Table(Table::new()));
    deserialize(name, value, problems)
}

/// Deserializes `value` (found at `key`), recording a problem with the full key path for
/// each part that does not fit `T`. After a bad key (unknown, wrong type, bad value) the key
/// is dropped and the table tried again, so every bad key of a table is reported and the
/// rest of it still gets its semantic checks. Returns `None` only if the value cannot be
/// read even without its bad keys (it is not a table).
fn deserialize<T>(key: &str, mut value: Value, problems: &mut Vec<Problem>) -> Option<T>
where
    T: for<'de> Deserialize<'de>,
{
    loop {
        let err = match serde_path_to_error::deserialize(value.clone()) {
            Ok(parsed) => return Some(parsed),
            Err(err) => err,
        };
        let path = err.path().to_string();
        let full_key = match path.as_str() {
            "." => key.to_owned(),
            p if p.starts_with('[') => format!("{key}{p}"),
            p => format!("{key}.{p}"),
        };
        problems.push(describe(full_key, err.inner().message()));
        let bad_key = match err.path().iter().next() {
            Some(Segment::Map { key }) => key.clone(),
            _ => return None,
        };
        // Each round removes a key, so this ends.
        value.as_table_mut()?.remove(&bad_key)?;
    }
}

/// Turns serde's wording into the config file's: fields are "keys". (No raw struct has
/// serde-required fields; required keys are `Option`s checked in `build.rs`, so that every
/// missing one is reported, not only the first.)
fn describe(key: String, message: &str) -> Problem {
    match message.strip_prefix("unknown field `") {
        Some(rest) => match rest.split_once(", ") {
            Some((_, expected)) => Problem::new(key, format!("unknown key; {expected}")),
            None => Problem::new(key, "unknown key"),
        },
        None => Problem::new(key, message),
    }
}
