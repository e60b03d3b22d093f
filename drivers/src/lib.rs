//! Sensors and actuators of the farm, and a simulated farm to develop and test against.
//!
//! The agent samples anything that implements [`Sensor`] and switches actuators by
//! [`ActuatorKind`]. Real embedded-hal drivers implement the same trait as the simulated
//! sensors, so the agent cannot tell them apart. Nothing here reads the clock or does I/O
//! except through the hardware a driver wraps.
//!
//! # Layout
//! - [`sensor`]: what the agent samples: the [`Sensor`] trait, [`Measurement`],
//!   [`SensorError`] (absent, bus glitch, implausible value).
//! - [`actuator`]: the kinds of actuator a growing room has ([`ActuatorKind`]).
//! - [`bus`]: a thread per bus that owns it and reads its sensors on request.
//! - [`derived`]: vapour-pressure deficit and dew point from temperature and humidity.
//! - [`i2c`]: telling an absent device from a bus glitch.
//! - [`hw`]: adapters over published embedded-hal 1.0 drivers (SHT4x, SHT3x, SCD4x, BME280,
//!   BH1750, ADS1115) and the DS18B20 w1 reader.
//! - [`relay`]: relays on GPIO output pins: active-high or -low, safe state at start-up and
//!   shutdown.
//! - [`scan`]: which I2C addresses answer, and which known sensors each may be.
//! - `linux` (feature `linux`): opening `/dev/i2c-*` and `/dev/gpiochip*` lines.
//! - [`sim`]: a simulated farm: room physics ([`sim::RoomModel`]), a shared simulated clock
//!   ([`sim::SimFarm`], [`sim::SharedFarm`]) and simulated sensors with fault injection
//!   ([`sim::SimulatedSensor`]).
#![deny(missing_docs)]

pub mod actuator;
pub mod bus;
pub mod derived;
pub mod hw;
pub mod i2c;
#[cfg(feature = "linux")]
pub mod linux;
pub mod relay;
pub mod scan;
pub mod sensor;
pub mod sim;

pub use actuator::{ActuatorKind, UnknownActuator};
pub use sensor::{Measurement, Sensor, SensorError};
