//! The metric registry: every metric the system understands, with its unit and the range a
//! working sensor can physically report. Anything outside the range is a sensor fault, not a
//! reading (DESIGN.md §3.6).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A measured quantity. The wire name is the lowercase name (`"co2"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Air temperature, °C.
    Temperature,
    /// Relative humidity, %RH.
    Humidity,
    /// Carbon dioxide concentration, ppm.
    Co2,
    /// Illuminance, lux.
    Light,
    /// Substrate (volumetric) moisture, %.
    Moisture,
    /// Barometric pressure, hPa.
    Pressure,
    /// Vapour-pressure deficit, kPa (derived on the edge from temperature and humidity).
    Vpd,
    /// Dew point, °C (derived on the edge from temperature and humidity).
    DewPoint,
}

/// A name that is not in the registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown metric {name:?}; known metrics: temperature, humidity, co2, light, moisture, pressure"
)]
pub struct MetricError {
    /// The name that was asked for.
    pub name: String,
}

impl Metric {
    /// Every metric, in registry order.
    pub const ALL: [Metric; 8] = [
        Metric::Temperature,
        Metric::Humidity,
        Metric::Co2,
        Metric::Light,
        Metric::Moisture,
        Metric::Pressure,
        Metric::Vpd,
        Metric::DewPoint,
    ];

    /// The wire name (`"temperature"`).
    pub const fn name(self) -> &'static str {
        match self {
            Metric::Temperature => "temperature",
            Metric::Humidity => "humidity",
            Metric::Co2 => "co2",
            Metric::Light => "light",
            Metric::Moisture => "moisture",
            Metric::Pressure => "pressure",
            Metric::Vpd => "vpd",
            Metric::DewPoint => "dew_point",
        }
    }

    /// The unit values are reported in.
    pub const fn unit(self) -> &'static str {
        match self {
            Metric::Temperature => "°C",
            Metric::Humidity => "%RH",
            Metric::Co2 => "ppm",
            Metric::Light => "lux",
            Metric::Moisture => "%",
            Metric::Pressure => "hPa",
            Metric::Vpd => "kPa",
            Metric::DewPoint => "°C",
        }
    }

    /// The inclusive range a working sensor can report; outside it the value is a fault.
    pub const fn physical_range(self) -> (f64, f64) {
        match self {
            Metric::Temperature => (-40.0, 85.0),
            Metric::Humidity => (0.0, 100.0),
            Metric::Co2 => (0.0, 40_000.0),
            Metric::Light => (0.0, 200_000.0),
            Metric::Moisture => (0.0, 100.0),
            Metric::Pressure => (300.0, 1_100.0),
            Metric::Vpd => (0.0, 10.0),
            Metric::DewPoint => (-60.0, 85.0),
        }
    }

    /// Whether `value` is a number a working sensor could report for this metric.
    pub fn is_plausible(self, value: f64) -> bool {
        let (lo, hi) = self.physical_range();
        value.is_finite() && value >= lo && value <= hi
    }

    /// A small stable code, used by the edge outbox to store the metric compactly.
    /// Never renumber: stored data depends on it.
    pub const fn code(self) -> u8 {
        match self {
            Metric::Temperature => 1,
            Metric::Humidity => 2,
            Metric::Co2 => 3,
            Metric::Light => 4,
            Metric::Moisture => 5,
            Metric::Pressure => 6,
            Metric::Vpd => 7,
            Metric::DewPoint => 8,
        }
    }

    /// The metric with this [`code`](Self::code), if any.
    pub fn from_code(code: u8) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.code() == code)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = MetricError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| MetricError {
                name: name.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_match_serde() {
        for m in Metric::ALL {
            assert_eq!(m.name().parse::<Metric>(), Ok(m));
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", m.name())
            );
            assert_eq!(Metric::from_code(m.code()), Some(m));
        }
    }

    #[test]
    fn unknown_metric_is_rejected_with_its_name() {
        let err = "co3".parse::<Metric>().unwrap_err();
        assert_eq!(err.name, "co3");
        assert!(err.to_string().contains("unknown metric \"co3\""));
        assert!(serde_json::from_str::<Metric>("\"co3\"").is_err());
    }

    #[test]
    fn physical_range_rejects_faults() {
        assert!(Metric::Humidity.is_plausible(91.0));
        assert!(!Metric::Humidity.is_plausible(100.5));
        assert!(!Metric::Temperature.is_plausible(f64::NAN));
        assert!(!Metric::Co2.is_plausible(-1.0));
        assert!(!Metric::Light.is_plausible(f64::INFINITY));
    }

    #[test]
    fn codes_are_unique() {
        let mut codes: Vec<u8> = Metric::ALL.iter().map(|m| m.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Metric::ALL.len());
    }
}
