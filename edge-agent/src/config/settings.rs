//! The typed, validated configuration that the rest of the agent uses. Every value here has
//! passed the checks in `build.rs`; nothing in this file parses text from the config file.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use farm_drivers::hw::I2cSensorKind;
use farm_drivers::ActuatorKind;
use farm_protocol::{Metric, SwitchState};

use super::raw;

/// The whole configuration, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file this configuration was read from (for messages).
    pub path: PathBuf,
    /// `[agent]`: identity, data directory, logging.
    pub agent: AgentConfig,
    /// `[outbox]`: durability and quota of the local SQLite outbox (DESIGN.md §3.2).
    pub outbox: OutboxSettings,
    /// `[simulation]`: the simulated clock and randomness.
    pub simulation: SimulationConfig,
    /// `[mqtt]`: the embedded broker and the ingest of room-node telemetry.
    pub mqtt: super::mqtt::MqttConfig,
    /// `[http]`: the agent's HTTP port (`/metrics`).
    pub http: super::mqtt::HttpConfig,
    /// `[[sensors]]`, in file order. May be empty (the agent then only warns).
    pub sensors: Vec<SensorConfig>,
    /// `[[actuators]]`, in file order. Loops and interlocks refer to them by index.
    pub actuators: Vec<ActuatorConfig>,
    /// `[control]` and `[[loops]]`: what drives the actuators.
    pub control: crate::control::ControlConfig,
    /// `[sync]`: the uplink to the sync-service; `None` when it is off.
    pub sync: Option<super::sync::SyncConfig>,
    /// `[[products]]`, in file order: what harvests may be recorded for. Empty: any SKU.
    pub products: Vec<super::products::ProductConfig>,
    /// `[panel]`: who may sign in to the local control panel, sessions and lockout.
    pub panel: super::panel::PanelConfig,
}

/// `[agent]`: who this device is and where it keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// The device id sent with every batch: 1–64 characters of `[A-Za-z0-9._-]`.
    pub device_id: String,
    /// Where the agent keeps its data (the outbox is `<data_dir>/outbox.sqlite`). A relative
    /// path is relative to the working directory of the process. Created by `run` if missing.
    pub data_dir: PathBuf,
    /// How much the agent logs.
    pub log_level: LogLevel,
}

/// How much the agent logs, from least to most.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Only errors: data loss or an operator must act.
    Error,
    /// Errors and warnings.
    Warn,
    /// The default: lifecycle and notable events.
    #[default]
    Info,
    /// Details useful when diagnosing.
    Debug,
    /// Everything.
    Trace,
}

/// `[outbox]`: how the local SQLite outbox commits, how big it may grow and how long synced
/// telemetry is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxSettings {
    /// Telemetry is committed in batches at most this far apart (1ms ..= 10s).
    pub commit_interval: Duration,
    /// The outbox file is kept under this many bytes by evicting the oldest telemetry
    /// (at least 1MiB).
    pub max_bytes: u64,
    /// Synced telemetry is kept this long for the panel's history, then deleted.
    pub retain_local: Duration,
    /// How SQLite syncs telemetry commits to disk. Events are always fsynced.
    pub synchronous: Synchronous,
}

/// SQLite's `synchronous` setting for telemetry commits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Synchronous {
    /// WAL with fsync at checkpoints: a power cut may lose the last commits, a crash does not.
    #[default]
    Normal,
    /// fsync on every commit.
    Full,
}

/// `[simulation]`: the simulated clock and random source of the simulated sensors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulationConfig {
    /// Simulated seconds per real second (> 0 and ≤ 10000).
    pub speed: f64,
    /// Seed of the simulated rooms' randomness; the same seed gives the same readings.
    pub seed: u64,
}

/// One `[[sensors]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorConfig {
    /// Unique name: 1–64 characters of `[A-Za-z0-9._-]`.
    pub name: String,
    /// The room the sensor is in (non-empty).
    pub room: String,
    /// How often the sensor is read (100ms ..= 1h).
    pub interval: Duration,
    /// This many identical consecutive values of a metric make the sensor "stuck" (a fault);
    /// 0 turns the check off.
    pub stuck_after: u32,
    /// What kind of sensor it is, with the settings of that kind.
    pub kind: SensorKind,
}

/// The kinds of sensor the agent can read, with their kind-specific settings.
#[derive(Debug, Clone, PartialEq)]
pub enum SensorKind {
    /// A sensor in a simulated room (`kind = "simulated"`).
    Simulated {
        /// The metrics it reports: non-empty, no duplicates.
        metrics: Vec<Metric>,
    },
    /// A sensor on an I2C bus (`kind = "sht4x"`, `"scd4x"`, …).
    I2c {
        /// The bus device, e.g. `/dev/i2c-1`.
        bus: PathBuf,
        /// The 7-bit address, one of the chip's strappable addresses.
        address: u8,
        /// Which chip, with its settings.
        device: I2cSensorKind,
    },
    /// A DS18B20 on the kernel's 1-Wire bus (`kind = "ds18b20"`).
    Ds18b20 {
        /// Its sysfs directory, `<w1_root>/<device>`, e.g. `/sys/bus/w1/devices/28-0316a279c5ff`.
        device_dir: PathBuf,
    },
}

impl SensorKind {
    /// Every `kind = "…"` name the config file accepts.
    pub fn names() -> Vec<&'static str> {
        let mut names = vec!["simulated"];
        names.extend(I2cSensorKind::NAMES);
        names.push("ds18b20");
        names
    }

    /// The name of this kind in the config file.
    pub const fn name(&self) -> &'static str {
        match self {
            SensorKind::Simulated { .. } => "simulated",
            SensorKind::I2c { device, .. } => device.name(),
            SensorKind::Ds18b20 { .. } => "ds18b20",
        }
    }

    /// The metrics this sensor measures (derived VPD and dew point come on top).
    pub fn metrics(&self) -> &[Metric] {
        match self {
            SensorKind::Simulated { metrics } => metrics,
            SensorKind::I2c { device, .. } => device.metrics(),
            SensorKind::Ds18b20 { .. } => &[Metric::Temperature],
        }
    }
}

/// One `[[actuators]]` entry: a switch in a room, and the safe state it falls back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActuatorConfig {
    /// Unique name: 1–64 characters of `[A-Za-z0-9._-]`.
    pub name: String,
    /// The room it acts on.
    pub room: String,
    /// What it is.
    pub device: ActuatorKind,
    /// The state applied at start-up, at shutdown and whenever its sensors fail.
    pub safe_state: SwitchState,
    /// How it is switched.
    pub output: ActuatorOutput,
    /// Its switching limits: `min_on`, `min_off` and the optional on-time budget `max_on`
    /// (only when `safe_state` is off).
    pub timing: crate::control::ActuatorTiming,
}

/// How an actuator is switched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActuatorOutput {
    /// The simulated farm's actuator of this kind in its room (`kind = "simulated"`).
    Simulated,
    /// A relay on a GPIO line (`kind = "gpio"`).
    Gpio {
        /// The GPIO character device, e.g. `/dev/gpiochip0`.
        chip: PathBuf,
        /// The line offset on the chip (the BCM number on a Raspberry Pi).
        line: u32,
        /// Whether the relay is energised by a low level (most opto-isolated relay boards).
        active_low: bool,
    },
    /// A relay on a room node, switched by publishing `on` or `off` to
    /// `farm/<room>/<node>/cmd/<command>` on the embedded broker (`kind = "mqtt"`).
    Mqtt {
        /// The room node's name (a topic level).
        node: String,
        /// The command topic's last level (a topic level); by default the device name.
        command: String,
    },
}

impl LogLevel {
    /// Every level, from least to most verbose.
    pub const ALL: [LogLevel; 5] = [
        LogLevel::Error,
        LogLevel::Warn,
        LogLevel::Info,
        LogLevel::Debug,
        LogLevel::Trace,
    ];

    /// The name used in the config file and in tracing filters (`"info"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

impl Synchronous {
    /// The name used in the config file and as SQLite's pragma value (`"normal"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Synchronous::Normal => "normal",
            Synchronous::Full => "full",
        }
    }
}

impl FromStr for LogLevel {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        LogLevel::ALL
            .into_iter()
            .find(|level| level.as_str() == text)
            .ok_or_else(|| {
                format!("unknown log level {text:?}; use one of error, warn, info, debug, trace")
            })
    }
}

impl FromStr for Synchronous {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Synchronous::Normal, Synchronous::Full]
            .into_iter()
            .find(|mode| mode.as_str() == text)
            .ok_or_else(|| format!("unknown synchronous mode {text:?}; use \"normal\" or \"full\""))
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Synchronous {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The documented defaults (the same functions serde uses for missing keys).
impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            device_id: raw::default_device_id(),
            data_dir: raw::default_data_dir(),
            log_level: LogLevel::default(),
        }
    }
}

/// The documented defaults: 250ms, 256MiB, 7d, normal.
impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            commit_interval: raw::default_commit_interval().0,
            max_bytes: raw::default_max_bytes().0,
            retain_local: raw::default_retain_local().0,
            synchronous: Synchronous::default(),
        }
    }
}

/// The documented defaults: real time (speed 1.0), seed 42.
impl Default for SimulationConfig {
    fn default() -> Self {
        SimulationConfig {
            speed: raw::default_speed(),
            seed: raw::default_seed(),
        }
    }
}
