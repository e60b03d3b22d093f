//! What a simulated room is built like ([`RoomParams`]) and the conditions it starts in
//! ([`RoomState`]). The defaults describe a ~30 m³ insulated mushroom fruiting room with an
//! ultrasonic humidifier, an inline fresh-air fan, a small heater, a small cooler and LED fruiting
//! lights.

use farm_protocol::Metric;

/// How a room is built and equipped. Every rate is a physical quantity with its unit in the
/// name; [`RoomParams::validate`] accepts only finite values with the right sign.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoomParams {
    /// Air volume, m³.
    pub volume_m3: f64,
    /// Heat the room's air and everything that warms with it (shelves, bag surfaces) holds
    /// per kelvin, J/K. Larger means slower temperature changes.
    pub heat_capacity_j_per_k: f64,
    /// Insulation: heat lost through walls, floor and ceiling per kelvin of difference to
    /// outside, W/K.
    pub wall_loss_w_per_k: f64,
    /// Air leaking in and out through gaps with every actuator off, room volumes per hour.
    pub leak_air_changes_per_h: f64,
    /// CO2 the crop breathes out at 20 °C, litres per hour; doubles every 10 K warmer.
    pub respiration_co2_l_per_h: f64,
    /// Water the substrate and crop would evaporate per hour into bone-dry air when fully
    /// wet, g/h. The actual rate scales with the vapour deficit and the substrate moisture.
    pub evaporation_g_per_h: f64,
    /// Mass of the substrate; substrate moisture is its water as a percentage of it, kg.
    pub substrate_mass_kg: f64,
    /// Water the humidifier puts into the air while on, g/h.
    pub humidifier_g_per_h: f64,
    /// Heater power while on, W.
    pub heater_w: f64,
    /// Heat the cooler removes while on, W.
    pub cooler_w: f64,
    /// Fresh air the fan exchanges while on, room volumes per hour.
    pub fan_air_changes_per_h: f64,
    /// Illuminance at the crop while the lights are on, lux.
    pub light_lux: f64,
    /// Heat the lights give off while on, W.
    pub light_heat_w: f64,
}

impl Default for RoomParams {
    /// A 30 m³ insulated fruiting room for oyster mushrooms with ~300 kg of substrate.
    fn default() -> Self {
        RoomParams {
            volume_m3: 30.0,
            heat_capacity_j_per_k: 500_000.0,
            wall_loss_w_per_k: 30.0,
            leak_air_changes_per_h: 0.2,
            respiration_co2_l_per_h: 40.0,
            evaporation_g_per_h: 1_000.0,
            substrate_mass_kg: 300.0,
            humidifier_g_per_h: 1_000.0,
            heater_w: 1_000.0,
            cooler_w: 1_000.0,
            fan_air_changes_per_h: 8.0,
            light_lux: 800.0,
            light_heat_w: 150.0,
        }
    }
}

/// A room parameter or starting value that the model cannot work with.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("{name} = {value} is not allowed: {expected}")]
pub struct InvalidParam {
    /// The field's name (`"volume_m3"`).
    pub name: &'static str,
    /// The rejected value.
    pub value: f64,
    /// What would have been accepted.
    pub expected: &'static str,
}

impl RoomParams {
    /// Checks that sizes are finite and positive and that every rate is finite and not
    /// negative; the first offending field is returned.
    pub fn validate(&self) -> Result<(), InvalidParam> {
        let positive = [
            ("volume_m3", self.volume_m3),
            ("heat_capacity_j_per_k", self.heat_capacity_j_per_k),
            ("substrate_mass_kg", self.substrate_mass_kg),
        ];
        let not_negative = [
            ("wall_loss_w_per_k", self.wall_loss_w_per_k),
            ("leak_air_changes_per_h", self.leak_air_changes_per_h),
            ("respiration_co2_l_per_h", self.respiration_co2_l_per_h),
            ("evaporation_g_per_h", self.evaporation_g_per_h),
            ("humidifier_g_per_h", self.humidifier_g_per_h),
            ("heater_w", self.heater_w),
            ("cooler_w", self.cooler_w),
            ("fan_air_changes_per_h", self.fan_air_changes_per_h),
            ("light_lux", self.light_lux),
            ("light_heat_w", self.light_heat_w),
        ];
        for (name, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(InvalidParam {
                    name,
                    value,
                    expected: "a finite number > 0",
                });
            }
        }
        for (name, value) in not_negative {
            if !(value.is_finite() && value >= 0.0) {
                return Err(InvalidParam {
                    name,
                    value,
                    expected: "a finite number >= 0",
                });
            }
        }
        Ok(())
    }
}

/// A room's conditions: what its sensors would measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoomState {
    /// Air temperature, °C.
    pub temperature_c: f64,
    /// Relative humidity of the air, %RH.
    pub humidity_rh: f64,
    /// CO2 concentration, ppm.
    pub co2_ppm: f64,
    /// Illuminance at the crop, lux.
    pub light_lux: f64,
    /// Substrate moisture, % of the substrate's mass.
    pub moisture_pct: f64,
}

impl Default for RoomState {
    /// A freshly closed fruiting room: 18 °C, 85 %RH, 800 ppm CO2, dark, 65 % moisture.
    fn default() -> Self {
        RoomState {
            temperature_c: 18.0,
            humidity_rh: 85.0,
            co2_ppm: 800.0,
            light_lux: 0.0,
            moisture_pct: 65.0,
        }
    }
}

impl RoomState {
    /// The value a sensor of `metric` would measure, if the room models that metric
    /// (it does not model pressure). VPD and dew point follow from temperature and humidity.
    pub fn value(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Vpd => Some(crate::derived::vpd_kpa(
                self.temperature_c,
                self.humidity_rh,
            )),
            Metric::DewPoint => crate::derived::dew_point_c(self.temperature_c, self.humidity_rh),
            Metric::Temperature => Some(self.temperature_c),
            Metric::Humidity => Some(self.humidity_rh),
            Metric::Co2 => Some(self.co2_ppm),
            Metric::Light => Some(self.light_lux),
            Metric::Moisture => Some(self.moisture_pct),
            Metric::Pressure => None,
        }
    }

    /// Checks that every value lies in its metric's physical range.
    pub fn validate(&self) -> Result<(), InvalidParam> {
        let fields = [
            ("temperature_c", Metric::Temperature),
            ("humidity_rh", Metric::Humidity),
            ("co2_ppm", Metric::Co2),
            ("light_lux", Metric::Light),
            ("moisture_pct", Metric::Moisture),
        ];
        for (name, metric) in fields {
            let value = self.value(metric).unwrap_or(f64::NAN);
            if !metric.is_plausible(value) {
                let expected = "a value inside the metric's physical range";
                return Err(InvalidParam {
                    name,
                    value,
                    expected,
                });
            }
        }
        Ok(())
    }
}
