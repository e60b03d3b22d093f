//! Checks beyond the schema (ranges, names, duplicates, known kinds and metrics) and the
//! conversion of the raw sections into typed settings. Every check records its problem and
//! carries on, so one run reports everything that is wrong.

use std::collections::HashMap;
use std::time::Duration;

use farm_protocol::Metric;

use super::error::Problem;
use super::raw::{RawAgent, RawOutbox, RawSections, RawSensor, RawSimulation};
use super::settings::{
    AgentConfig, LogLevel, OutboxSettings, SensorConfig, SensorKind, SimulationConfig, Synchronous,
};
use super::units::format_size;

/// Longest device id or sensor name.
const MAX_NAME_LEN: usize = 64;
/// Allowed `outbox.commit_interval`.
const COMMIT_INTERVAL_RANGE: (Duration, Duration) =
    (Duration::from_millis(1), Duration::from_secs(10));
/// Smallest allowed `outbox.max_bytes`.
const MIN_MAX_BYTES: u64 = 1 << 20;
/// Largest allowed `simulation.speed`.
const MAX_SPEED: f64 = 10_000.0;
/// Allowed `sensors[].interval`.
const SENSOR_INTERVAL_RANGE: (Duration, Duration) =
    (Duration::from_millis(100), Duration::from_secs(3600));

/// The typed sections; `None` where the raw section could not be read.
#[derive(Debug)]
pub(super) struct Parts {
    /// `[agent]`.
    pub agent: Option<AgentConfig>,
    /// `[outbox]`.
    pub outbox: Option<OutboxSettings>,
    /// `[simulation]`.
    pub simulation: Option<SimulationConfig>,
    /// The sensors whose kind is known, in file order.
    pub sensors: Vec<SensorConfig>,
}

/// Checks and converts every section that could be read.
pub(super) fn build(raw: RawSections, problems: &mut Vec<Problem>) -> Parts {
    Parts {
        agent: raw.agent.map(|agent| build_agent(agent, problems)),
        outbox: raw.outbox.map(|outbox| build_outbox(outbox, problems)),
        simulation: raw.simulation.map(|sim| build_simulation(sim, problems)),
        sensors: build_sensors(raw.sensors, problems),
    }
}

fn build_agent(raw: RawAgent, problems: &mut Vec<Problem>) -> AgentConfig {
    check_name("agent.device_id", &raw.device_id, problems);
    if raw.data_dir.as_os_str().is_empty() {
        problems.push(Problem::new(
            "agent.data_dir",
            "must not be empty; use e.g. \"/var/lib/edge-agent\" or \"./farm-data\"",
        ));
    }
    let log_level = raw.log_level.parse().unwrap_or_else(|message: String| {
        problems.push(Problem::new("agent.log_level", message));
        LogLevel::default()
    });
    AgentConfig {
        device_id: raw.device_id,
        data_dir: raw.data_dir,
        log_level,
    }
}

fn build_outbox(raw: RawOutbox, problems: &mut Vec<Problem>) -> OutboxSettings {
    let commit_interval = raw.commit_interval.0;
    check_duration(
        "outbox.commit_interval",
        commit_interval,
        COMMIT_INTERVAL_RANGE,
        problems,
    );
    if raw.max_bytes.0 < MIN_MAX_BYTES {
        problems.push(Problem::new(
            "outbox.max_bytes",
            format!(
                "must be at least {}, got {}",
                format_size(MIN_MAX_BYTES),
                format_size(raw.max_bytes.0)
            ),
        ));
    }
    let synchronous = raw.synchronous.parse().unwrap_or_else(|message: String| {
        problems.push(Problem::new("outbox.synchronous", message));
        Synchronous::default()
    });
    OutboxSettings {
        commit_interval,
        max_bytes: raw.max_bytes.0,
        retain_local: raw.retain_local.0,
        synchronous,
    }
}

fn build_simulation(raw: RawSimulation, problems: &mut Vec<Problem>) -> SimulationConfig {
    // Written this way round so that NaN fails too.
    let in_range = raw.speed > 0.0 && raw.speed <= MAX_SPEED;
    if !in_range {
        problems.push(Problem::new(
            "simulation.speed",
            format!(
                "must be greater than 0 and at most {MAX_SPEED}, got {}",
                raw.speed
            ),
        ));
    }
    SimulationConfig {
        speed: raw.speed,
        seed: raw.seed,
    }
}

fn build_sensors(raw: Vec<(usize, RawSensor)>, problems: &mut Vec<Problem>) -> Vec<SensorConfig> {
    let mut first_index: HashMap<&str, usize> = HashMap::new();
    for (index, name) in raw
        .iter()
        .filter_map(|(i, s)| Some((*i, s.name.as_deref()?)))
    {
        if let Some(first) = first_index.get(name) {
            problems.push(Problem::new(
                format!("sensors[{index}].name"),
                format!("duplicate sensor name {name:?} (also sensors[{first}])"),
            ));
        } else {
            first_index.insert(name, index);
        }
    }
    raw.into_iter()
        .filter_map(|(index, sensor)| build_sensor(index, sensor, problems))
        .collect()
}

/// Checks one sensor; `None` if a required key is missing or its kind is unknown.
fn build_sensor(index: usize, raw: RawSensor, problems: &mut Vec<Problem>) -> Option<SensorConfig> {
    let key = format!("sensors[{index}]");
    let name = required(format!("{key}.name"), raw.name, problems);
    let kind = required(format!("{key}.kind"), raw.kind, problems);
    let room = required(format!("{key}.room"), raw.room, problems);
    if let Some(name) = &name {
        check_name(&format!("{key}.name"), name, problems);
    }
    if room.as_ref().is_some_and(|room| room.trim().is_empty()) {
        problems.push(Problem::new(format!("{key}.room"), "must not be empty"));
    } else if room
        .as_ref()
        .is_some_and(|room| room.contains(['/', '+', '#']))
    {
        // Rooms are MQTT topic levels (farm/<room>/…): no separators or wildcards.
        problems.push(Problem::new(
            format!("{key}.room"),
            "must not contain '/', '+' or '#' (it is an MQTT topic level)",
        ));
    }
    check_duration(
        &format!("{key}.interval"),
        raw.interval.0,
        SENSOR_INTERVAL_RANGE,
        problems,
    );
    let kind = build_kind(&key, kind.as_deref()?, &raw.metrics, problems)?;
    Some(SensorConfig {
        name: name?,
        room: room?,
        interval: raw.interval.0,
        kind,
    })
}

/// The sensor kind named `kind`, with its settings; `None` if unknown.
fn build_kind(
    key: &str,
    kind: &str,
    metrics: &[String],
    problems: &mut Vec<Problem>,
) -> Option<SensorKind> {
    match kind {
        "simulated" => Some(SensorKind::Simulated {
            metrics: build_metrics(key, metrics, problems),
        }),
        other => {
            problems.push(Problem::new(
                format!("{key}.kind"),
                format!(
                    "unknown sensor kind {other:?}; known kinds: {}",
                    SensorKind::NAMES.join(", ")
                ),
            ));
            None
        }
    }
}

/// A required key's value; records "required key is missing" unless the key already has a
/// problem (it had a bad value, which `raw.rs` reported and dropped).
fn required(key: String, value: Option<String>, problems: &mut Vec<Problem>) -> Option<String> {
    if value.is_none() && !problems.iter().any(|problem| problem.key == key) {
        problems.push(Problem::new(key, "required key is missing"));
    }
    value
}

/// Parses a sensor's metric names: non-empty, each known, no duplicates.
fn build_metrics(key: &str, names: &[String], problems: &mut Vec<Problem>) -> Vec<Metric> {
    if names.is_empty() {
        problems.push(Problem::new(
            format!("{key}.metrics"),
            "must list at least one metric",
        ));
    }
    let mut metrics: Vec<Metric> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        match name.parse::<Metric>() {
            Err(err) => problems.push(Problem::new(format!("{key}.metrics[{i}]"), err.to_string())),
            Ok(metric) => {
                if let Some(first) = names.iter().position(|other| other == name) {
                    if first < i {
                        problems.push(Problem::new(
                            format!("{key}.metrics[{i}]"),
                            format!("duplicate metric {name:?} (also metrics[{first}])"),
                        ));
                        continue;
                    }
                }
                metrics.push(metric);
            }
        }
    }
    metrics
}

/// A device id or sensor name: 1–64 characters of `[A-Za-z0-9._-]`.
fn check_name(key: &str, name: &str, problems: &mut Vec<Problem>) {
    let message = if name.is_empty() {
        "must not be empty".to_owned()
    } else if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        format!("{name:?} contains {bad:?}; use only A-Z, a-z, 0-9, '.', '_' and '-'")
    } else if name.len() > MAX_NAME_LEN {
        format!(
            "{name:?} is {} characters long; at most {MAX_NAME_LEN} are allowed",
            name.len()
        )
    } else {
        return;
    };
    problems.push(Problem::new(key, message));
}

/// Records a problem if `value` is outside `min ..= max`.
fn check_duration(
    key: &str,
    value: Duration,
    (min, max): (Duration, Duration),
    problems: &mut Vec<Problem>,
) {
    if value < min || value > max {
        problems.push(Problem::new(
            key,
            format!(
                "must be between {} and {}, got {}",
                humantime::format_duration(min),
                humantime::format_duration(max),
                humantime::format_duration(value)
            ),
        ));
    }
}
