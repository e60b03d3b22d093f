//! Behaviour of the simulated farm that the agent, the demo and control-loop tests rely on.
//!
//! - `room`: one room's physics (CO2, humidity, heat, light, stability, physical bounds).
//! - `farm`: the shared clock, the day/night weather and the shared handle.
//! - `sensor`: simulated sensors: noise, determinism, absence and injected faults.

mod farm;
mod room;
mod sensor;

use std::time::Duration;

/// `h` hours.
fn hours(h: f64) -> Duration {
    Duration::from_secs_f64(h * 3600.0)
}
