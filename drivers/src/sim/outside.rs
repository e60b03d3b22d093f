//! Outdoor weather over a day: what the fresh-air fan and leaky walls exchange with.
//!
//! A cosine day: coldest and dampest at 03:00, warmest and driest at 15:00, the same every
//! day; CO2 is the global background level.

use std::f64::consts::TAU;

use farm_protocol::Metric;

const SECONDS_PER_DAY: f64 = 86_400.0;
/// When the afternoon is warmest, seconds since midnight (15:00).
const WARMEST_AT_S: f64 = 15.0 * 3600.0;
const MEAN_TEMPERATURE_C: f64 = 13.0;
/// Half the difference between the warmest and the coldest hour.
const TEMPERATURE_SWING_C: f64 = 5.0;
const MEAN_HUMIDITY_RH: f64 = 75.0;
const HUMIDITY_SWING_RH: f64 = 15.0;
/// Global background CO2 of outdoor air, ppm.
const BACKGROUND_CO2_PPM: f64 = 415.0;

/// Outdoor conditions at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outside {
    /// Air temperature, °C.
    pub temperature_c: f64,
    /// Relative humidity, %RH.
    pub humidity_rh: f64,
    /// CO2 concentration, ppm.
    pub co2_ppm: f64,
}

impl Outside {
    /// The weather at `seconds_since_midnight` (any real number; it wraps around the day):
    /// 8 °C / 90 %RH at 03:00, 18 °C / 60 %RH at 15:00, 415 ppm CO2.
    pub fn at(seconds_since_midnight: f64) -> Outside {
        let time_of_day_s = if seconds_since_midnight.is_finite() {
            seconds_since_midnight.rem_euclid(SECONDS_PER_DAY)
        } else {
            0.0
        };
        // +1 at the warmest hour, −1 twelve hours later.
        let warmth = (TAU * (time_of_day_s - WARMEST_AT_S) / SECONDS_PER_DAY).cos();
        Outside {
            temperature_c: MEAN_TEMPERATURE_C + TEMPERATURE_SWING_C * warmth,
            humidity_rh: MEAN_HUMIDITY_RH - HUMIDITY_SWING_RH * warmth,
            co2_ppm: BACKGROUND_CO2_PPM,
        }
    }

    /// The same conditions with every value made finite and physically possible, so that a
    /// caller-built `Outside` can never drive the room model to NaN.
    pub(crate) fn sanitized(self) -> Outside {
        let mean = Outside {
            temperature_c: MEAN_TEMPERATURE_C,
            humidity_rh: MEAN_HUMIDITY_RH,
            co2_ppm: BACKGROUND_CO2_PPM,
        };
        let fix = |value: f64, fallback: f64, metric: Metric| {
            let (lo, hi) = metric.physical_range();
            if value.is_finite() {
                value.clamp(lo, hi)
            } else {
                fallback
            }
        };
        Outside {
            temperature_c: fix(self.temperature_c, mean.temperature_c, Metric::Temperature),
            humidity_rh: fix(self.humidity_rh, mean.humidity_rh, Metric::Humidity),
            co2_ppm: fix(self.co2_ppm, mean.co2_ppm, Metric::Co2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitized_replaces_nan_and_clamps() {
        let wild = Outside {
            temperature_c: f64::NAN,
            humidity_rh: 140.0,
            co2_ppm: -3.0,
        };
        let calm = wild.sanitized();
        assert!(calm.temperature_c.is_finite());
        assert_eq!(calm.humidity_rh, 100.0);
        assert_eq!(calm.co2_ppm, 0.0);
    }
}
