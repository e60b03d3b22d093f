//! Faults a test injects into a [`SimulatedSensor`](super::SimulatedSensor), to drive the
//! control loops' fault handling (DESIGN.md §3.6).
//!
//! The fault lives behind a shared switch ([`FaultSwitch`]) so that a test can break a sensor
//! after handing it to the agent as a `Box<dyn Sensor>`.

use std::sync::{Arc, Mutex, PoisonError};

/// How a simulated sensor misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Fault {
    /// Works normally.
    #[default]
    None,
    /// Does not answer: reads fail with [`SensorError::Absent`](crate::SensorError::Absent).
    Absent,
    /// Answers NaN: reads fail with
    /// [`SensorError::Implausible`](crate::SensorError::Implausible).
    Nan,
    /// Reports this exact value for every metric, without noise. A value outside a metric's
    /// physical range makes reads fail with
    /// [`SensorError::Implausible`](crate::SensorError::Implausible).
    Stuck(f64),
}

/// A cheap-to-clone handle that sets the fault of one simulated sensor.
#[derive(Debug, Clone, Default)]
pub struct FaultSwitch {
    fault: Arc<Mutex<Fault>>,
}

impl FaultSwitch {
    /// Makes the sensor misbehave like `fault` from its next read on ([`Fault::None`] repairs).
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap_or_else(PoisonError::into_inner) = fault;
    }

    /// The fault in effect.
    pub fn get(&self) -> Fault {
        *self.fault.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
