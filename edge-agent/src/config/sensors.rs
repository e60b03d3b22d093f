//! `[[sensors]]`: checks beyond the schema and the conversion to [`SensorConfig`]. Which keys
//! a sensor takes depends on its kind; a key that does not belong to the kind is an error, so
//! a misplaced `address` or `metrics` never passes silently.

use std::path::PathBuf;
use std::time::Duration;

use farm_drivers::hw::I2cSensorKind;
use farm_protocol::Metric;

use super::build::{check_duration, check_name, check_unique, required};
use super::error::Problem;
use super::raw::RawSensor;
use super::settings::{SensorConfig, SensorKind};

/// Allowed `sensors[].interval`.
const SENSOR_INTERVAL_RANGE: (Duration, Duration) =
    (Duration::from_millis(100), Duration::from_secs(3600));
/// Default `sensors[].bus`.
const DEFAULT_BUS: &str = "/dev/i2c-1";
/// Default `sensors[].w1_root`.
const DEFAULT_W1_ROOT: &str = "/sys/bus/w1/devices";
/// An SCD4x measures every 5 s; reading it faster only gets "not ready".
const SCD4X_CADENCE: Duration = Duration::from_secs(5);
/// Default `sensors[].metrics` of a simulated sensor.
const DEFAULT_SIM_METRICS: [Metric; 3] = [Metric::Temperature, Metric::Humidity, Metric::Co2];

/// Checks every sensor; the ones with a known kind and all required keys are returned.
pub(super) fn build_sensors(
    raw: Vec<(usize, RawSensor)>,
    problems: &mut Vec<Problem>,
) -> Vec<SensorConfig> {
    let names = raw
        .iter()
        .filter_map(|(i, s)| Some((*i, s.name.as_deref()?)));
    check_unique("sensors", "sensor name", names, problems);
    raw.into_iter()
        .filter_map(|(index, sensor)| build_sensor(index, sensor, problems))
        .collect()
}

/// Checks one sensor; `None` if a required key is missing or its kind is unknown.
fn build_sensor(index: usize, raw: RawSensor, problems: &mut Vec<Problem>) -> Option<SensorConfig> {
    let key = format!("sensors[{index}]");
    let name = required(format!("{key}.name"), raw.name.clone(), problems);
    let kind = required(format!("{key}.kind"), raw.kind.clone(), problems);
    let room = required(format!("{key}.room"), raw.room.clone(), problems);
    if let Some(name) = &name {
        check_name(&format!("{key}.name"), name, problems);
    }
    if let Some(room) = &room {
        check_room(&format!("{key}.room"), room, problems);
    }
    check_duration(
        &format!("{key}.interval"),
        raw.interval.0,
        SENSOR_INTERVAL_RANGE,
        problems,
    );
    let kind = build_kind(&key, kind.as_deref()?, &raw, problems)?;
    Some(SensorConfig {
        name: name?,
        room: room?,
        interval: raw.interval.0,
        stuck_after: raw.stuck_after,
        kind,
    })
}

/// Rooms are MQTT topic levels (`farm/<room>/…`) and InfluxDB tags: the same rule as names
/// (1–64 of `[A-Za-z0-9._-]`), said in terms of topics.
pub(super) fn check_room(key: &str, room: &str, problems: &mut Vec<Problem>) {
    check_topic_level(key, "room", room, problems);
}

/// A name that is one level of an MQTT topic (a room, a room node, a command): the same rule
/// as names, with the reason in the message. `what` names it (`"node"`).
pub(super) fn check_topic_level(key: &str, what: &str, name: &str, problems: &mut Vec<Problem>) {
    if !farm_protocol::is_valid_name(name) {
        let mut found = Vec::new();
        check_name(key, name, &mut found);
        for problem in found {
            let message = format!("{} (a {what} is an MQTT topic level)", problem.message);
            problems.push(Problem::new(problem.key, message));
        }
    }
}

/// The sensor kind named `kind` with its settings; `None` if unknown or incomplete.
fn build_kind(
    key: &str,
    kind: &str,
    raw: &RawSensor,
    problems: &mut Vec<Problem>,
) -> Option<SensorKind> {
    let device = match kind {
        "simulated" => {
            reject_keys(
                key,
                kind,
                raw,
                &[
                    "bus", "address", "channel", "dry_mv", "wet_mv", "device", "w1_root",
                ],
                problems,
            );
            let metrics = match &raw.metrics {
                Some(names) => build_metrics(key, names, problems),
                None => DEFAULT_SIM_METRICS.to_vec(),
            };
            return Some(SensorKind::Simulated { metrics });
        }
        "ds18b20" => {
            reject_keys(
                key,
                kind,
                raw,
                &["metrics", "bus", "address", "channel", "dry_mv", "wet_mv"],
                problems,
            );
            let device = required(format!("{key}.device"), raw.device.clone(), problems)?;
            if !device.starts_with("28-") || device.contains('/') {
                problems.push(Problem::new(
                    format!("{key}.device"),
                    format!("{device:?} is not a DS18B20 id; expected \"28-\" and 12 hex digits, as listed in /sys/bus/w1/devices"),
                ));
                return None;
            }
            let root = raw
                .w1_root
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_W1_ROOT));
            return Some(SensorKind::Ds18b20 {
                device_dir: root.join(device),
            });
        }
        "sht4x" => I2cSensorKind::Sht4x,
        "sht3x" => I2cSensorKind::Sht3x,
        "scd4x" => I2cSensorKind::Scd4x,
        "bme280" => I2cSensorKind::Bme280,
        "bh1750" => I2cSensorKind::Bh1750,
        "ads1115_moisture" => build_moisture(key, raw, problems)?,
        other => {
            problems.push(Problem::new(
                format!("{key}.kind"),
                format!(
                    "unknown sensor kind {other:?}; known kinds: {}",
                    SensorKind::names().join(", ")
                ),
            ));
            return None;
        }
    };
    let extra: &[&str] = match device {
        I2cSensorKind::Ads1115Moisture { .. } => &["metrics", "device", "w1_root"],
        _ => &[
            "metrics", "channel", "dry_mv", "wet_mv", "device", "w1_root",
        ],
    };
    reject_keys(key, kind, raw, extra, problems);
    let address = raw.address.unwrap_or(device.addresses()[0]);
    if !device.addresses().contains(&address) {
        let allowed: Vec<String> = device
            .addresses()
            .iter()
            .map(|a| format!("{a:#04x}"))
            .collect();
        problems.push(Problem::new(
            format!("{key}.address"),
            format!(
                "{address:#04x} is not an address a {kind} can have; use one of {}",
                allowed.join(", ")
            ),
        ));
    }
    if device == I2cSensorKind::Scd4x && raw.interval.0 < SCD4X_CADENCE {
        problems.push(Problem::new(
            format!("{key}.interval"),
            "an SCD4x has a new value every 5s; read it at \"5s\" or slower",
        ));
    }
    let bus = raw
        .bus
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_BUS));
    Some(SensorKind::I2c {
        bus,
        address,
        device,
    })
}

/// `ads1115_moisture`: channel 0–3 and a two-point calibration with distinct points.
fn build_moisture(
    key: &str,
    raw: &RawSensor,
    problems: &mut Vec<Problem>,
) -> Option<I2cSensorKind> {
    let channel = required(format!("{key}.channel"), raw.channel, problems);
    let dry_mv = required(format!("{key}.dry_mv"), raw.dry_mv, problems);
    let wet_mv = required(format!("{key}.wet_mv"), raw.wet_mv, problems);
    if channel.is_some_and(|c| c > 3) {
        problems.push(Problem::new(
            format!("{key}.channel"),
            "must be 0, 1, 2 or 3",
        ));
    }
    for (name, value) in [("dry_mv", dry_mv), ("wet_mv", wet_mv)] {
        if value.is_some_and(|v| !(0.0..=4096.0).contains(&v)) {
            problems.push(Problem::new(
                format!("{key}.{name}"),
                "must be between 0 and 4096 (mV)",
            ));
        }
    }
    if let (Some(dry), Some(wet)) = (dry_mv, wet_mv) {
        if (dry - wet).abs() < 1.0 {
            problems.push(Problem::new(
                format!("{key}.wet_mv"),
                "must differ from dry_mv by at least 1 mV (two calibration points)",
            ));
        }
    }
    Some(I2cSensorKind::Ads1115Moisture {
        channel: channel?,
        dry_mv: dry_mv?,
        wet_mv: wet_mv?,
    })
}

/// Records a problem for each of `keys` that is set but means nothing for `kind`.
fn reject_keys(key: &str, kind: &str, raw: &RawSensor, keys: &[&str], problems: &mut Vec<Problem>) {
    for name in keys {
        let set = match *name {
            "metrics" => raw.metrics.is_some(),
            "bus" => raw.bus.is_some(),
            "address" => raw.address.is_some(),
            "channel" => raw.channel.is_some(),
            "dry_mv" => raw.dry_mv.is_some(),
            "wet_mv" => raw.wet_mv.is_some(),
            "device" => raw.device.is_some(),
            "w1_root" => raw.w1_root.is_some(),
            _ => false,
        };
        if set {
            let why = if *name == "metrics" {
                "a real sensor reports what its chip measures".to_owned()
            } else {
                format!("it does not apply to kind {kind:?}")
            };
            problems.push(Problem::new(
                format!("{key}.{name}"),
                format!("not allowed here: {why}"),
            ));
        }
    }
}

/// Parses a simulated sensor's metric names: non-empty, each known and measurable (not
/// derived), no duplicates.
fn build_metrics(key: &str, names: &[String], problems: &mut Vec<Problem>) -> Vec<Metric> {
    if names.is_empty() {
        problems.push(Problem::new(
            format!("{key}.metrics"),
            "must list at least one metric",
        ));
    }
    let mut metrics: Vec<Metric> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let item = format!("{key}.metrics[{i}]");
        match name.parse::<Metric>() {
            Err(err) => problems.push(Problem::new(item, err.to_string())),
            Ok(Metric::Vpd | Metric::DewPoint) => problems.push(Problem::new(
                item,
                format!("{name:?} is derived from temperature and humidity, not measured; list those instead"),
            )),
            Ok(metric) => match names.iter().position(|other| other == name) {
                Some(first) if first < i => problems.push(Problem::new(
                    item,
                    format!("duplicate metric {name:?} (also metrics[{first}])"),
                )),
                _ => metrics.push(metric),
            },
        }
    }
    metrics
}
