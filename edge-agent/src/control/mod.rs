//! Control loops (DESIGN.md §3.6): pure logic that turns the latest readings into actuator
//! commands, and the thread that runs it in the agent.
//!
//! - `spec.rs`: what the config asks for: loops, interlocks, actuator timing.
//! - `loops.rs`: the loop kinds (hysteresis, PID duty cycle, photoperiod, interval) and the
//!   input checks (missing, stale, faulty source, implausible).
//! - `guard.rs`: one actuator's min on / min off / max-on budget.
//! - `controller.rs`: [`Controller::step`]: loops → wishes → interlocks and guards → commands.
//! - `controller/switching.rs`: its wishes, interlocks and guarded switches (steps 3–4).
//! - `manual.rs`: setpoint changes, manual overrides and what is kept across restarts.
//! - `settings.rs`: changes of a loop's other settings (band, gains, timing) at run time;
//!   `rules.rs`: the rules those settings follow, shared with the config file.
//! - `view.rs`: the snapshot shown by the API, the panel and `farm/<room>/state`.
//! - `run.rs`: the control thread (not pure): wakes on readings, applies commands, records
//!   events, answers API requests; `setup.rs` builds it from the config at start-up.
//! - `memory_file.rs`: `<data_dir>/control.json`, runtime changes kept across restarts.
mod controller;
mod guard;
mod loops;
mod manual;
pub mod memory_file;
pub mod rules;
mod run;
mod settings;
pub mod setup;
pub mod spec;
mod view;

#[cfg(test)]
mod tests;

pub use controller::{Command, Controller, Override, Step, INPUT_FAULT_ALARM};
pub use loops::{Observation, Observations};
pub use manual::{ControlError, ControlMemory, SavedSetpoint, MAX_OVERRIDE};
pub use run::{ControlHandle, Parts as ControlParts, Request, RequestError};
pub use settings::{LoopSettings, SavedLoopSettings, SavedSetting};
pub use spec::{ActuatorSpec, ActuatorTiming, ControlConfig, Direction, LoopKind, LoopSpec};
pub use view::{ActuatorView, ControlView, LoopView};
