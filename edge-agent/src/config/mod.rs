//! The agent's TOML config file: [`load`] reads and validates it into a typed [`Config`],
//! reporting every problem at once as `<file>: <key>: <message>` lines ([`ConfigError`]).
//! [`EXAMPLE`] is the documented example that `edge-agent generate-config` prints.
//!
//! - `units.rs`: durations (`"250ms"`) and sizes (`"256MiB"`) as written in the file.
//! - `raw.rs`: the schema (serde structs, defaults, unknown keys), one section at a time.
//! - `build.rs`: checks beyond the schema; raw sections → typed settings.
//! - `mqtt.rs`: `[mqtt]` and `[http]`, schema to settings.
//! - `sensors.rs`, `actuators.rs`: the same for `[[sensors]]` and `[[actuators]]` (per kind).
//! - `control.rs`, `loops.rs`, `loop_kinds.rs`: `[control]` (timing, time zone, interlocks)
//!   and `[[loops]]` (per kind), schema to [`crate::control::ControlConfig`].
//! - `sync.rs`: `[sync]` (the uplink), schema to [`SyncConfig`], and reading its token and
//!   CA files.
//! - `products.rs`: `[[products]]` (the catalogue harvests refer to), schema to
//!   [`ProductConfig`].
//! - `panel.rs`: `[panel]` (the control panel's users, sessions, lockout), schema to
//!   [`PanelConfig`].
//! - `settings.rs`: the typed, validated settings.
//! - `data_dir.rs`: the read-only check that the data directory is usable.
//! - `load.rs`: [`load`] and [`parse`]; `error.rs`: [`ConfigError`] and [`Problem`].

mod actuators;
mod build;
mod control;
mod data_dir;
mod error;
mod load;
mod loop_kinds;
mod loops;
mod mqtt;
mod panel;
mod products;
mod raw;
mod sensors;
mod settings;
mod sync;
mod units;

#[cfg(test)]
mod tests;

pub use error::{ConfigError, Problem};
pub use load::{load, parse};
pub use loop_kinds::parse_time_of_day;
pub use mqtt::{HttpConfig, MqttConfig};
pub use panel::{PanelConfig, PanelUser};
pub use products::{sku_problem, ProductConfig, Unit};
pub use settings::{
    ActuatorConfig, ActuatorOutput, AgentConfig, Config, LogLevel, OutboxSettings, SensorConfig,
    SensorKind, SimulationConfig, Synchronous,
};
pub use sync::{read_ca, read_token, DeviceToken, SyncConfig};
pub use units::parse_duration;

/// A commented config file with every key and its default, set up for the demo (two
/// simulated rooms, one of them regulated). `edge-agent generate-config` prints it; it always passes [`parse`].
pub const EXAMPLE: &str = include_str!("example.toml");
