//! The sensor abstraction the agent samples.
//!
//! A [`Sensor`] answers with one [`Measurement`] per metric it reports, or with a
//! [`SensorError`] that tells the agent what kind of fault it is: a device that does not
//! answer ([`SensorError::Absent`]), a transient bus error worth retrying
//! ([`SensorError::Bus`]), or a value no working sensor could report
//! ([`SensorError::Implausible`], DESIGN.md §3.6). A sensor never hands out a NaN or
//! out-of-range value as a measurement: [`Measurement::checked`] is the one gate.

use farm_protocol::Metric;

/// One value of one metric, in the metric's unit ([`Metric::unit`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// What was measured.
    pub metric: Metric,
    /// The value, in the metric's unit.
    pub value: f64,
}

impl Measurement {
    /// A measurement, if `value` is one a working sensor could report for `metric`;
    /// otherwise [`SensorError::Implausible`].
    pub fn checked(metric: Metric, value: f64) -> Result<Measurement, SensorError> {
        if metric.is_plausible(value) {
            Ok(Measurement { metric, value })
        } else {
            Err(SensorError::Implausible { metric, value })
        }
    }
}

/// Why a sensor gave no measurements.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SensorError {
    /// The device did not answer at all (not connected, wrong address, unknown room).
    #[error("sensor absent: {0}")]
    Absent(String),
    /// A transient bus or transfer error; the next read may succeed.
    #[error("bus error: {0}")]
    Bus(String),
    /// The device answered, but a checksum over its data did not match (e.g. Sensirion CRC-8,
    /// a DS18B20 `crc=… NO` line): the data was garbled on the way.
    #[error("checksum mismatch: {0}")]
    Crc(String),
    /// The device has no new measurement yet (e.g. an SCD4x between its 5 s updates). Not a
    /// fault: ask again later.
    #[error("no new measurement yet: {0}")]
    NotReady(String),
    /// The device answered with NaN or a value outside the metric's physical range.
    #[error("implausible {metric} value {value} (physical range {range:?})", range = .metric.physical_range())]
    Implausible {
        /// The metric whose value is implausible.
        metric: Metric,
        /// The value the device reported.
        value: f64,
    },
}

impl SensorError {
    /// A short stable name of the kind of fault, for counters and alarm codes: `absent`,
    /// `bus`, `crc`, `not_ready`, `implausible`.
    pub const fn kind(&self) -> &'static str {
        match self {
            SensorError::Absent(_) => "absent",
            SensorError::Bus(_) => "bus",
            SensorError::Crc(_) => "crc",
            SensorError::NotReady(_) => "not_ready",
            SensorError::Implausible { .. } => "implausible",
        }
    }

    /// Whether this is a fault (counted, alarmed) rather than "nothing new yet".
    pub const fn is_fault(&self) -> bool {
        !matches!(self, SensorError::NotReady(_))
    }
}

/// A source of measurements the agent samples periodically.
///
/// Not `Send` by itself: sensors sharing an I2C bus are built and read on that bus's own
/// thread. Sensors that may move between threads are used as `Box<dyn Sensor + Send>`.
pub trait Sensor {
    /// Takes one reading of every metric this sensor reports.
    fn read(&mut self) -> Result<Vec<Measurement>, SensorError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_accepts_plausible_and_rejects_nan_and_out_of_range() {
        assert_eq!(
            Measurement::checked(Metric::Humidity, 91.0),
            Ok(Measurement {
                metric: Metric::Humidity,
                value: 91.0
            })
        );
        assert!(matches!(
            Measurement::checked(Metric::Humidity, 100.5),
            Err(SensorError::Implausible { metric: Metric::Humidity, value }) if value == 100.5
        ));
        assert!(matches!(
            Measurement::checked(Metric::Temperature, f64::NAN),
            Err(SensorError::Implausible { metric: Metric::Temperature, value }) if value.is_nan()
        ));
    }

    #[test]
    fn implausible_error_names_metric_and_range() {
        let err = SensorError::Implausible {
            metric: Metric::Co2,
            value: -5.0,
        };
        let text = err.to_string();
        assert!(
            text.contains("co2") && text.contains("-5") && text.contains("40000"),
            "{text}"
        );
    }
}
