//! Checks beyond the schema (ranges, names, duplicates, known kinds and metrics) and the
//! conversion of the raw sections into typed settings. Every check records its problem and
//! carries on, so one run reports everything that is wrong.

use std::collections::HashMap;
use std::time::Duration;

use super::actuators::build_actuators;
use super::control::{build_control, Actuators};
use super::error::Problem;
use super::mqtt::{build_http, build_mqtt, HttpConfig, MqttConfig};
use super::raw::{RawAgent, RawOutbox, RawSections, RawSimulation};
use super::sensors::build_sensors;
use super::settings::{
    ActuatorConfig, ActuatorOutput, AgentConfig, LogLevel, OutboxSettings, SensorConfig,
    SimulationConfig, Synchronous,
};
use super::sync::{build_sync, SyncConfig};
use super::units::format_size;
use crate::control::ControlConfig;

/// Allowed `outbox.commit_interval`.
const COMMIT_INTERVAL_RANGE: (Duration, Duration) =
    (Duration::from_millis(1), Duration::from_secs(10));
/// Smallest allowed `outbox.max_bytes`.
const MIN_MAX_BYTES: u64 = 1 << 20;
/// Largest allowed `simulation.speed`.
const MAX_SPEED: f64 = 10_000.0;

/// The typed sections; `None` where the raw section could not be read.
#[derive(Debug)]
pub(super) struct Parts {
    /// `[agent]`.
    pub agent: Option<AgentConfig>,
    /// `[outbox]`.
    pub outbox: Option<OutboxSettings>,
    /// `[simulation]`.
    pub simulation: Option<SimulationConfig>,
    /// `[mqtt]`.
    pub mqtt: Option<MqttConfig>,
    /// `[http]`.
    pub http: Option<HttpConfig>,
    /// The sensors whose kind is known, in file order.
    pub sensors: Vec<SensorConfig>,
    /// The actuators that could be built, in file order.
    pub actuators: Vec<ActuatorConfig>,
    /// `[control]` with the `[[loops]]`.
    pub control: Option<ControlConfig>,
    /// `[sync]`: `Some(None)` when the uplink is off.
    pub sync: Option<Option<SyncConfig>>,
    /// The `[[products]]` that are complete and valid, in file order.
    pub products: Vec<super::products::ProductConfig>,
    /// `[panel]`.
    pub panel: Option<super::panel::PanelConfig>,
}

/// Checks and converts every section that could be read.
pub(super) fn build(raw: RawSections, problems: &mut Vec<Problem>) -> Parts {
    let mqtt = raw.mqtt.map(|mqtt| build_mqtt(mqtt, problems));
    let names_in_file = raw
        .actuators
        .iter()
        .filter_map(|(_, actuator)| actuator.name.clone())
        .collect();
    let actuators = build_actuators(raw.actuators, problems);
    if let Some(mqtt) = &mqtt {
        check_broker_for_actuators(mqtt, &actuators, problems);
    }
    let actuators: Vec<ActuatorConfig> = actuators.into_iter().map(|(_, a)| a).collect();
    let known = Actuators {
        built: &actuators,
        names_in_file,
    };
    let control = build_control(raw.control, raw.loops, &known, problems);
    Parts {
        agent: raw.agent.map(|agent| build_agent(agent, problems)),
        outbox: raw.outbox.map(|outbox| build_outbox(outbox, problems)),
        simulation: raw.simulation.map(|sim| build_simulation(sim, problems)),
        mqtt,
        http: raw.http.map(|http| build_http(http, problems)),
        sensors: build_sensors(raw.sensors, problems),
        actuators,
        control,
        sync: raw.sync.map(|sync| build_sync(sync, problems)),
        products: super::products::build_products(raw.products, problems),
        panel: raw
            .panel
            .map(|panel| super::panel::build_panel(panel, problems)),
    }
}

/// Room-node actuators are switched through the embedded broker, so it must run.
fn check_broker_for_actuators(
    mqtt: &MqttConfig,
    actuators: &[(usize, ActuatorConfig)],
    problems: &mut Vec<Problem>,
) {
    if mqtt.enabled {
        return;
    }
    for (index, actuator) in actuators {
        if matches!(actuator.output, ActuatorOutput::Mqtt { .. }) {
            problems.push(Problem::new(
                format!("actuators[{index}].kind"),
                "an \"mqtt\" actuator is switched through the embedded broker; set [mqtt] enabled = true",
            ));
        }
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

/// A required key's value; records "required key is missing" unless the key already has a
/// problem (it had a bad value, which `raw.rs` reported and dropped).
pub(super) fn required<T>(key: String, value: Option<T>, problems: &mut Vec<Problem>) -> Option<T> {
    if value.is_none() && !problems.iter().any(|problem| problem.key == key) {
        problems.push(Problem::new(key, "required key is missing"));
    }
    value
}

/// Like [`required`], for a key that is required only in some cases; `when` says which, and
/// ends the message: `"for kind \"gpio\""` gives "required key is missing for kind "gpio"".
pub(super) fn required_when<T>(
    key: String,
    value: Option<T>,
    when: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    if value.is_none() {
        report_missing(key, when, problems);
    }
    value
}

/// Records "required key is missing <when>" for `key`, unless the key already has a problem.
pub(super) fn report_missing(key: String, when: &str, problems: &mut Vec<Problem>) {
    if !problems.iter().any(|problem| problem.key == key) {
        problems.push(Problem::new(key, format!("required key is missing {when}")));
    }
}

/// Records a problem for every name that an earlier entry of `section` already has.
pub(super) fn check_unique<'a>(
    section: &str,
    what: &str,
    names: impl Iterator<Item = (usize, &'a str)>,
    problems: &mut Vec<Problem>,
) {
    let mut first_index: HashMap<&str, usize> = HashMap::new();
    for (index, name) in names {
        match first_index.get(name) {
            Some(first) => problems.push(Problem::new(
                format!("{section}[{index}].name"),
                format!("duplicate {what} {name:?} (also {section}[{first}])"),
            )),
            None => {
                first_index.insert(name, index);
            }
        }
    }
}

/// A device id or sensor name: 1–64 characters of `[A-Za-z0-9._-]`.
pub(super) fn check_name(key: &str, name: &str, problems: &mut Vec<Problem>) {
    let message = if name.is_empty() {
        "must not be empty".to_owned()
    } else if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        format!("{name:?} contains {bad:?}; use only A-Z, a-z, 0-9, '.', '_' and '-'")
    } else if name.len() > farm_protocol::MAX_NAME_LEN {
        format!(
            "{name:?} is {} characters long; at most {} are allowed",
            name.len(),
            farm_protocol::MAX_NAME_LEN
        )
    } else {
        return;
    };
    problems.push(Problem::new(key, message));
}

/// Records a problem if `value` is outside `min ..= max`.
pub(super) fn check_duration(
    key: &str,
    value: Duration,
    range: (Duration, Duration),
    problems: &mut Vec<Problem>,
) {
    if let Err(message) = crate::control::rules::check_range(value, range) {
        problems.push(Problem::new(key, message));
    }
}
