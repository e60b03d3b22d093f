//! Metrics derived on the edge from one sensor's temperature and relative humidity
//! (Magnus formula, Sonntag 1990 constants over water: valid about −45…60 °C).
//!
//! [`derive()`] adds vapour-pressure deficit (kPa) and dew point (°C) to a reading that has both
//! temperature and humidity, so growers see the number they steer by.

use farm_protocol::Metric;

use crate::Measurement;

const MAGNUS_A_KPA: f64 = 0.611_2;
const MAGNUS_B: f64 = 17.62;
const MAGNUS_C_CELSIUS: f64 = 243.12;

/// Saturation vapour pressure over water at `temperature_c`, kPa.
pub fn saturation_vapour_pressure_kpa(temperature_c: f64) -> f64 {
    MAGNUS_A_KPA * (MAGNUS_B * temperature_c / (MAGNUS_C_CELSIUS + temperature_c)).exp()
}

/// Vapour-pressure deficit, kPa: how much more water the air could hold.
pub fn vpd_kpa(temperature_c: f64, humidity_rh: f64) -> f64 {
    saturation_vapour_pressure_kpa(temperature_c) * (1.0 - humidity_rh / 100.0)
}

/// Dew point, °C; `None` for 0 %RH (no dew point) or non-finite input.
pub fn dew_point_c(temperature_c: f64, humidity_rh: f64) -> Option<f64> {
    if humidity_rh.is_nan() || humidity_rh <= 0.0 || !temperature_c.is_finite() {
        return None;
    }
    let gamma =
        (humidity_rh / 100.0).ln() + MAGNUS_B * temperature_c / (MAGNUS_C_CELSIUS + temperature_c);
    Some(MAGNUS_C_CELSIUS * gamma / (MAGNUS_B - gamma))
}

/// The derived measurements for `measurements` of one sensor: VPD and dew point when both
/// temperature and humidity are present (each only if plausible), otherwise nothing.
pub fn derive(measurements: &[Measurement]) -> Vec<Measurement> {
    let find = |metric| {
        measurements
            .iter()
            .find(|m| m.metric == metric)
            .map(|m| m.value)
    };
    let (Some(t), Some(rh)) = (find(Metric::Temperature), find(Metric::Humidity)) else {
        return Vec::new();
    };
    let vpd = Some(vpd_kpa(t, rh)).map(|v| (Metric::Vpd, v.max(0.0)));
    let dew = dew_point_c(t, rh).map(|v| (Metric::DewPoint, v));
    [vpd, dew]
        .into_iter()
        .flatten()
        .filter_map(|(metric, value)| Measurement::checked(metric, value).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(metric: Metric, value: f64) -> Measurement {
        Measurement { metric, value }
    }

    #[test]
    fn values_match_published_tables() {
        // Saturation vapour pressure: 2.339 kPa at 20 °C, 4.246 kPa at 30 °C (CRC handbook).
        assert!((saturation_vapour_pressure_kpa(20.0) - 2.339).abs() < 0.01);
        assert!((saturation_vapour_pressure_kpa(30.0) - 4.246).abs() < 0.02);
        // 25 °C at 60 %RH: VPD ≈ 1.27 kPa, dew point ≈ 16.7 °C.
        assert!((vpd_kpa(25.0, 60.0) - 1.27).abs() < 0.02);
        assert!((dew_point_c(25.0, 60.0).unwrap() - 16.7).abs() < 0.1);
        // Saturated air: no deficit, dew point = air temperature.
        assert!(vpd_kpa(18.0, 100.0).abs() < 1e-9);
        assert!((dew_point_c(18.0, 100.0).unwrap() - 18.0).abs() < 1e-9);
        assert_eq!(dew_point_c(18.0, 0.0), None);
    }

    #[test]
    fn derive_needs_both_temperature_and_humidity_of_the_sensor() {
        let both = derive(&[
            m(Metric::Temperature, 25.0),
            m(Metric::Humidity, 60.0),
            m(Metric::Co2, 900.0),
        ]);
        let metrics: Vec<Metric> = both.iter().map(|m| m.metric).collect();
        assert_eq!(metrics, vec![Metric::Vpd, Metric::DewPoint]);
        assert!(derive(&[m(Metric::Temperature, 25.0)]).is_empty());
        assert!(derive(&[m(Metric::Humidity, 60.0), m(Metric::Co2, 900.0)]).is_empty());
    }
}
