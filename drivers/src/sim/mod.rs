//! A simulated farm: rooms with simple first-order physics on one simulated clock, and
//! sensors that read them with seeded noise and injectable faults. Deterministic: no clock
//! reads, no I/O, randomness only from seeds.
//!
//! - [`outside`]: outdoor weather over the day ([`Outside`]).
//! - [`params`]: what a room is built like ([`RoomParams`]) and its starting [`RoomState`].
//! - [`room`]: one room's physics ([`RoomModel`]) driven by its [`Actuators`].
//! - [`farm`]: rooms sharing one clock ([`SimFarm`]) and the handle tasks share ([`SharedFarm`]).
//! - [`sensor`]: [`SimulatedSensor`], a [`Sensor`](crate::Sensor) reading a simulated room.
//! - [`fault`]: faults a test injects into a simulated sensor ([`Fault`], [`FaultSwitch`]).

mod air;
pub mod farm;
pub mod fault;
pub mod outside;
pub mod params;
pub mod room;
pub mod sensor;

pub use farm::{SharedFarm, SimError, SimFarm};
pub use fault::{Fault, FaultSwitch};
pub use outside::Outside;
pub use params::{InvalidParam, RoomParams, RoomState};
pub use room::{Actuators, RoomModel, MAX_SUBSTEP};
pub use sensor::SimulatedSensor;
