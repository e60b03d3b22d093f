//! [`SimulatedSensor`]: a [`Sensor`] that reads one room of a [`SharedFarm`] the way a real
//! sensor would — with a little noise, within its physical range, and failing when told to.
//!
//! Deterministic: the noise comes from a small RNG seeded with the farm's seed plus a hash of
//! the sensor's name, so the same farm seed, sensor name and sequence of reads give the same
//! readings on the same platform (the RNG differs between 32- and 64-bit targets).

use std::f64::consts::TAU;

use farm_protocol::Metric;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::{Fault, FaultSwitch, RoomState, SharedFarm};
use crate::{Measurement, Sensor, SensorError};

/// Sea-level standard pressure, reported for the pressure metric the rooms do not model, hPa.
const STANDARD_PRESSURE_HPA: f64 = 1013.25;

/// A simulated sensor in one room of a simulated farm.
#[derive(Debug)]
pub struct SimulatedSensor {
    farm: SharedFarm,
    name: String,
    room: String,
    metrics: Vec<Metric>,
    rng: SmallRng,
    fault: FaultSwitch,
}

impl SimulatedSensor {
    /// A sensor called `name` in `room` of `farm`, reporting `metrics` in that order. The room
    /// need not exist: reads then fail with [`SensorError::Absent`], like an unplugged device.
    pub fn new(
        farm: SharedFarm,
        name: impl Into<String>,
        room: impl Into<String>,
        metrics: impl Into<Vec<Metric>>,
    ) -> SimulatedSensor {
        let name = name.into();
        let rng = SmallRng::seed_from_u64(farm.seed().wrapping_add(fnv1a(name.as_bytes())));
        SimulatedSensor {
            farm,
            name,
            room: room.into(),
            metrics: metrics.into(),
            rng,
            fault: FaultSwitch::default(),
        }
    }

    /// The sensor's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The room it measures.
    pub fn room(&self) -> &str {
        &self.room
    }

    /// The metrics it reports, in order.
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// Makes the sensor misbehave like `fault` from the next read on ([`Fault::None`] repairs).
    pub fn inject(&self, fault: Fault) {
        self.fault.set(fault);
    }

    /// A handle that injects faults into this sensor after it has been handed away.
    pub fn fault_switch(&self) -> FaultSwitch {
        self.fault.clone()
    }

    /// The room's true conditions, or `Absent` when the farm has no such room.
    fn room_state(&self) -> Result<RoomState, SensorError> {
        self.farm.room_state(&self.room).ok_or_else(|| {
            SensorError::Absent(format!(
                "simulated sensor {:?}: the farm has no room {:?}",
                self.name, self.room
            ))
        })
    }

    /// A noisy reading of `truth`, kept inside the metric's physical range.
    fn noisy(&mut self, metric: Metric, truth: f64) -> f64 {
        let (lo, hi) = metric.physical_range();
        (truth + noise_sd(metric, truth) * standard_normal(&mut self.rng)).clamp(lo, hi)
    }
}

impl Sensor for SimulatedSensor {
    fn read(&mut self) -> Result<Vec<Measurement>, SensorError> {
        let fault = self.fault.get();
        if fault == Fault::Absent {
            return Err(SensorError::Absent(format!(
                "simulated sensor {:?}: fault injected",
                self.name
            )));
        }
        let state = self.room_state()?;
        let metrics = self.metrics.clone();
        metrics
            .into_iter()
            .map(|metric| {
                let value = match fault {
                    Fault::Nan => f64::NAN,
                    Fault::Stuck(value) => value,
                    Fault::None | Fault::Absent => {
                        let truth = state.value(metric).unwrap_or(STANDARD_PRESSURE_HPA);
                        self.noisy(metric, truth)
                    }
                };
                Measurement::checked(metric, value)
            })
            .collect()
    }
}

/// The standard deviation of a sensor's noise: roughly a good hobby-grade sensor's spec.
fn noise_sd(metric: Metric, truth: f64) -> f64 {
    match metric {
        Metric::Temperature => 0.1,
        Metric::Humidity => 0.8,
        Metric::Co2 => 10.0 + 0.01 * truth.abs(),
        Metric::Light => 1.0 + 0.01 * truth.abs(),
        Metric::Moisture => 0.5,
        Metric::Pressure => 0.3,
        // Derived from temperature and humidity, whose noise they inherit.
        Metric::Vpd | Metric::DewPoint => 0.0,
    }
}

/// A standard normal sample (Box–Muller).
fn standard_normal(rng: &mut SmallRng) -> f64 {
    // 1 − [0, 1) is (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
}

/// FNV-1a: a stable 64-bit hash, unlike `std`'s hasher, which may change between releases.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_published_vectors() {
        // Test vectors from the FNV reference (draft-eastlake-fnv): "" and "a".
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn standard_normal_has_zero_mean_and_unit_spread() {
        let mut rng = SmallRng::seed_from_u64(7);
        let samples: Vec<f64> = (0..20_000).map(|_| standard_normal(&mut rng)).collect();
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / samples.len() as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
        assert!(samples.iter().all(|x| x.is_finite()));
    }
}
