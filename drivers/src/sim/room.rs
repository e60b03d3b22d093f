//! One room's physics: simple first-order balances of heat, water vapour and CO2, exchanged
//! with the outside through the walls, leaks and the fresh-air fan.
//!
//! Invariants and choices:
//! - [`RoomModel::step`] is pure: the same state, `dt`, outside conditions and actuators
//!   always give the same result. It never reads a clock and uses no randomness.
//! - Each balance is solved exactly over a sub-step of at most [`MAX_SUBSTEP`] (the inputs
//!   are held constant within it), so a step is stable for any `dt` and one long step agrees
//!   closely with many short ones.
//! - The room holds absolute humidity (g/m³); relative humidity follows from it and the
//!   temperature (Magnus). Vapour above saturation condenses, so RH never exceeds 100 %.
//! - After every sub-step each value is kept inside its metric's physical range.
//! - Not modelled: latent heat of evaporation, respiration heat, daylight.

use std::time::Duration;

use farm_protocol::Metric;

use super::air::{
    rh_from_vapour, saturation_vapour_g_m3, vapour_from_rh, AIR_HEAT_CAPACITY_J_PER_M3_K,
};
use super::{InvalidParam, Outside, RoomParams, RoomState};
use crate::ActuatorKind;

/// The longest interval [`RoomModel::step`] integrates in one piece; longer steps are split.
pub const MAX_SUBSTEP: Duration = Duration::from_secs(1);

/// Respiration doubles for every 10 K warmer (a Q10 of 2).
const RESPIRATION_Q10: f64 = 2.0;
/// Respiration is quoted at this temperature, °C.
const RESPIRATION_REFERENCE_C: f64 = 20.0;
/// Respiration follows temperature only within this range, °C (dormant below, dying above).
const RESPIRATION_ACTIVE_C: (f64, f64) = (0.0, 35.0);
const SECONDS_PER_HOUR: f64 = 3600.0;

/// Which actuators of a room are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Actuators {
    /// The humidifier adds water vapour.
    pub humidifier: bool,
    /// The fresh-air fan exchanges room air with outside air.
    pub fresh_air_fan: bool,
    /// The heater adds heat.
    pub heater: bool,
    /// The lights illuminate the crop and add a little heat.
    pub lights: bool,
    /// The cooler removes heat.
    pub cooler: bool,
}

impl Actuators {
    /// Everything off.
    pub const OFF: Actuators = Actuators {
        humidifier: false,
        fresh_air_fan: false,
        heater: false,
        lights: false,
        cooler: false,
    };

    /// Whether `kind` is on.
    pub const fn is_on(self, kind: ActuatorKind) -> bool {
        match kind {
            ActuatorKind::Humidifier => self.humidifier,
            ActuatorKind::FreshAirFan => self.fresh_air_fan,
            ActuatorKind::Heater => self.heater,
            ActuatorKind::Lights => self.lights,
            ActuatorKind::Cooler => self.cooler,
        }
    }

    /// Switches `kind` on or off.
    pub fn set(&mut self, kind: ActuatorKind, on: bool) {
        let switch = match kind {
            ActuatorKind::Humidifier => &mut self.humidifier,
            ActuatorKind::FreshAirFan => &mut self.fresh_air_fan,
            ActuatorKind::Heater => &mut self.heater,
            ActuatorKind::Lights => &mut self.lights,
            ActuatorKind::Cooler => &mut self.cooler,
        };
        *switch = on;
    }

    /// These actuators with `kind` switched on or off: `Actuators::OFF.with(Heater, true)`.
    #[must_use]
    pub fn with(mut self, kind: ActuatorKind, on: bool) -> Actuators {
        self.set(kind, on);
        self
    }
}

/// A simulated room: its build ([`RoomParams`]) and its current conditions.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomModel {
    params: RoomParams,
    temperature_c: f64,
    /// Absolute humidity of the air, g/m³.
    vapour_g_m3: f64,
    co2_ppm: f64,
    light_lux: f64,
    moisture_pct: f64,
}

impl RoomModel {
    /// A room built like `params`, starting in [`RoomState::default`].
    pub fn new(params: RoomParams) -> Result<RoomModel, InvalidParam> {
        RoomModel::with_state(params, RoomState::default())
    }

    /// A room built like `params`, starting in `state`.
    pub fn with_state(params: RoomParams, state: RoomState) -> Result<RoomModel, InvalidParam> {
        params.validate()?;
        state.validate()?;
        Ok(RoomModel {
            params,
            temperature_c: state.temperature_c,
            vapour_g_m3: vapour_from_rh(state.humidity_rh, state.temperature_c),
            co2_ppm: state.co2_ppm,
            light_lux: state.light_lux,
            moisture_pct: state.moisture_pct,
        })
    }

    /// How the room is built.
    pub fn params(&self) -> &RoomParams {
        &self.params
    }

    /// The room's current conditions.
    pub fn state(&self) -> RoomState {
        RoomState {
            temperature_c: self.temperature_c,
            humidity_rh: rh_from_vapour(self.vapour_g_m3, self.temperature_c).min(100.0),
            co2_ppm: self.co2_ppm,
            light_lux: self.light_lux,
            moisture_pct: self.moisture_pct,
        }
    }

    /// Advances the room by `dt` with `outside` conditions and actuators `act` held constant.
    /// Split internally into sub-steps of at most [`MAX_SUBSTEP`].
    pub fn step(&mut self, dt: Duration, outside: Outside, act: Actuators) {
        let outside = outside.sanitized();
        let total_s = dt.as_secs_f64();
        let substeps = (total_s / MAX_SUBSTEP.as_secs_f64()).ceil().max(1.0);
        let substep_s = total_s / substeps;
        // `substeps` is a whole number ≥ 1 that fits a u64 for any realistic `dt`.
        for _ in 0..substeps as u64 {
            self.substep(substep_s, outside, act);
        }
    }

    fn substep(&mut self, dt_s: f64, outside: Outside, act: Actuators) {
        let p = self.params;
        let fan_air_changes_per_h = if act.fresh_air_fan {
            p.fan_air_changes_per_h
        } else {
            0.0
        };
        let exchange_per_s = (p.leak_air_changes_per_h + fan_air_changes_per_h) / SECONDS_PER_HOUR;
        self.step_temperature(dt_s, outside, act, exchange_per_s);
        self.step_vapour(dt_s, outside, act, exchange_per_s);
        self.step_co2(dt_s, outside, exchange_per_s);
        self.light_lux = if act.lights { p.light_lux } else { 0.0 };
        self.keep_physical();
    }

    /// Heat: heater and lights in, cooler out, walls and exchanged air toward outside.
    fn step_temperature(
        &mut self,
        dt_s: f64,
        outside: Outside,
        act: Actuators,
        exchange_per_s: f64,
    ) {
        let p = &self.params;
        let air_w_per_k = exchange_per_s * p.volume_m3 * AIR_HEAT_CAPACITY_J_PER_M3_K;
        let conductance_w_per_k = p.wall_loss_w_per_k + air_w_per_k;
        let power_w = if act.heater { p.heater_w } else { 0.0 }
            + if act.lights { p.light_heat_w } else { 0.0 }
            - if act.cooler { p.cooler_w } else { 0.0 };
        // C dT/dt = P + G (T_out − T)
        let drive =
            (power_w + conductance_w_per_k * outside.temperature_c) / p.heat_capacity_j_per_k;
        let gain = conductance_w_per_k / p.heat_capacity_j_per_k;
        self.temperature_c = relax(self.temperature_c, drive, gain, dt_s);
    }

    /// Water vapour: evaporation (proportional to the vapour deficit and the substrate's
    /// moisture) and the humidifier in, exchanged air toward outside's absolute humidity.
    /// Evaporated water leaves the substrate; vapour above saturation condenses.
    fn step_vapour(&mut self, dt_s: f64, outside: Outside, act: Actuators, exchange_per_s: f64) {
        let p = &self.params;
        let saturation = saturation_vapour_g_m3(self.temperature_c);
        let per_volume_s = 1.0 / (p.volume_m3 * SECONDS_PER_HOUR);
        let evaporation_max = p.evaporation_g_per_h * self.moisture_pct / 100.0 * per_volume_s;
        let humidifier = if act.humidifier {
            p.humidifier_g_per_h * per_volume_s
        } else {
            0.0
        };
        let outside_vapour = vapour_from_rh(outside.humidity_rh, outside.temperature_c);
        // dv/dt = E (1 − v / v_sat) + H + a (v_out − v)
        let drive = evaporation_max + humidifier + exchange_per_s * outside_vapour;
        let gain = exchange_per_s + evaporation_max / saturation;
        let before = self.vapour_g_m3;
        let after = relax(before, drive, gain, dt_s).min(saturation);
        let mean_deficit = (1.0 - (before + after) / (2.0 * saturation)).clamp(0.0, 1.0);
        let evaporated_g = evaporation_max * mean_deficit * dt_s * p.volume_m3;
        self.moisture_pct -= evaporated_g / (p.substrate_mass_kg * 1000.0) * 100.0;
        self.vapour_g_m3 = after;
    }

    /// CO2: crop respiration in (faster when warmer), exchanged air toward outside.
    fn step_co2(&mut self, dt_s: f64, outside: Outside, exchange_per_s: f64) {
        let p = &self.params;
        let (cold, hot) = RESPIRATION_ACTIVE_C;
        let warmth_k = self.temperature_c.clamp(cold, hot) - RESPIRATION_REFERENCE_C;
        let respiration_l_per_h = p.respiration_co2_l_per_h * RESPIRATION_Q10.powf(warmth_k / 10.0);
        // One litre of CO2 in V m³ (1000·V litres) of air is 1000 / V ppm.
        let production_ppm_per_s = respiration_l_per_h * 1000.0 / p.volume_m3 / SECONDS_PER_HOUR;
        let drive = production_ppm_per_s + exchange_per_s * outside.co2_ppm;
        self.co2_ppm = relax(self.co2_ppm, drive, exchange_per_s, dt_s);
    }

    /// Keeps every value finite and inside its metric's physical range.
    fn keep_physical(&mut self) {
        let clamp = |value: f64, metric: Metric| {
            let (lo, hi) = metric.physical_range();
            value.clamp(lo, hi)
        };
        self.temperature_c = clamp(self.temperature_c, Metric::Temperature);
        let saturation = saturation_vapour_g_m3(self.temperature_c);
        self.vapour_g_m3 = self.vapour_g_m3.clamp(0.0, saturation);
        self.co2_ppm = clamp(self.co2_ppm, Metric::Co2);
        self.light_lux = clamp(self.light_lux, Metric::Light);
        self.moisture_pct = clamp(self.moisture_pct, Metric::Moisture);
    }
}

/// Solves `dx/dt = drive − gain·x` exactly over `dt_s` seconds (inputs held constant).
/// Stable for any `dt_s`: `x` moves toward `drive / gain` and never overshoots it.
fn relax(x: f64, drive: f64, gain: f64, dt_s: f64) -> f64 {
    if gain * dt_s < 1e-12 {
        return x + drive * dt_s;
    }
    let equilibrium = drive / gain;
    equilibrium + (x - equilibrium) * (-gain * dt_s).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relax_reaches_equilibrium_without_overshoot() {
        // dx/dt = 2 − 0.5 x has equilibrium 4.
        let far = relax(0.0, 2.0, 0.5, 1e6);
        assert!((far - 4.0).abs() < 1e-9);
        let near = relax(0.0, 2.0, 0.5, 0.001);
        assert!((near - 0.002).abs() < 1e-5, "{near}");
        assert_eq!(relax(1.0, 3.0, 0.0, 2.0), 7.0);
    }

    #[test]
    fn actuators_set_and_read_by_kind() {
        for kind in ActuatorKind::ALL {
            let on = Actuators::OFF.with(kind, true);
            assert!(on.is_on(kind));
            let others = ActuatorKind::ALL.into_iter().filter(|k| *k != kind);
            assert!(others.clone().all(|k| !on.is_on(k)));
            assert_eq!(on.with(kind, false), Actuators::OFF);
        }
    }
}
