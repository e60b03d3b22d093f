//! Moist-air physics the room model needs: saturation by the Magnus formula and conversions
//! between relative humidity and absolute humidity (water vapour density, g/m³).

/// Specific gas constant of water vapour, J/(kg·K).
const VAPOUR_GAS_CONSTANT_J_PER_KG_K: f64 = 461.5;

/// Heat one cubic metre of air holds per kelvin near room conditions, J/(m³·K):
/// 1.2 kg/m³ × 1005 J/(kg·K).
pub(crate) const AIR_HEAT_CAPACITY_J_PER_M3_K: f64 = 1206.0;

/// Saturation vapour pressure over water, hPa (Magnus formula, Sonntag 1990 coefficients).
pub(crate) fn saturation_pressure_hpa(temperature_c: f64) -> f64 {
    6.112 * (17.62 * temperature_c / (243.12 + temperature_c)).exp()
}

/// The most water vapour air at `temperature_c` can hold, g/m³.
pub(crate) fn saturation_vapour_g_m3(temperature_c: f64) -> f64 {
    let pressure_pa = saturation_pressure_hpa(temperature_c) * 100.0;
    pressure_pa / (VAPOUR_GAS_CONSTANT_J_PER_KG_K * (temperature_c + 273.15)) * 1000.0
}

/// Absolute humidity, g/m³, of air at `temperature_c` with relative humidity `humidity_rh`.
pub(crate) fn vapour_from_rh(humidity_rh: f64, temperature_c: f64) -> f64 {
    humidity_rh / 100.0 * saturation_vapour_g_m3(temperature_c)
}

/// Relative humidity, %RH, of air at `temperature_c` holding `vapour_g_m3`.
pub(crate) fn rh_from_vapour(vapour_g_m3: f64, temperature_c: f64) -> f64 {
    vapour_g_m3 / saturation_vapour_g_m3(temperature_c) * 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from standard psychrometric tables (e.g. the CRC Handbook's vapour
    // pressure of water: 12.28 hPa at 10 °C, 23.39 hPa at 20 °C, 42.47 hPa at 30 °C; saturated
    // air holds 9.40, 17.30 and 30.38 g/m³), not from this code. Magnus is good to about
    // half a percent in this range.
    #[test]
    fn magnus_matches_table_values() {
        for (t, hpa, g_m3) in [
            (10.0, 12.28, 9.40),
            (20.0, 23.39, 17.30),
            (30.0, 42.47, 30.38),
        ] {
            let p = saturation_pressure_hpa(t);
            assert!(
                (p - hpa).abs() / hpa < 0.005,
                "{t} °C: {p} hPa, table {hpa}"
            );
            let v = saturation_vapour_g_m3(t);
            assert!(
                (v - g_m3).abs() / g_m3 < 0.01,
                "{t} °C: {v} g/m³, table {g_m3}"
            );
        }
    }

    #[test]
    fn rh_and_vapour_convert_both_ways() {
        let v = vapour_from_rh(80.0, 15.0);
        assert!((rh_from_vapour(v, 15.0) - 80.0).abs() < 1e-9);
        // The same water in warmer air is a lower relative humidity.
        assert!(rh_from_vapour(v, 20.0) < 80.0);
    }
}
