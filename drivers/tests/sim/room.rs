use std::time::Duration;

use farm_drivers::sim::{Actuators, Outside, RoomModel, RoomParams, RoomState};
use farm_drivers::ActuatorKind::{Cooler, FreshAirFan, Heater, Humidifier, Lights};
use farm_protocol::Metric;
use proptest::prelude::*;

use super::hours;

/// A mild, fixed afternoon: 15 °C, 70 %RH, 415 ppm.
const MILD: Outside = Outside {
    temperature_c: 15.0,
    humidity_rh: 70.0,
    co2_ppm: 415.0,
};

fn default_room() -> RoomModel {
    RoomModel::new(RoomParams::default()).expect("default params are valid")
}

/// Steps `room` for `total` in 1-minute steps and returns the state after each step.
fn run(room: &mut RoomModel, total: Duration, act: Actuators) -> Vec<RoomState> {
    let minute = Duration::from_secs(60);
    let steps = (total.as_secs_f64() / 60.0).round() as usize;
    (0..steps)
        .map(|_| {
            room.step(minute, MILD, act);
            room.state()
        })
        .collect()
}

#[test]
fn closed_room_accumulates_co2_for_hours() {
    let mut room = default_room();
    let start = room.state().co2_ppm;
    let trace = run(&mut room, hours(2.0), Actuators::OFF);
    assert!(
        trace.windows(2).all(|w| w[1].co2_ppm > w[0].co2_ppm),
        "CO2 rises all the time"
    );
    let end = room.state().co2_ppm;
    assert!(
        end > start + 1_000.0,
        "after 2 h closed: {start} → {end} ppm"
    );
    run(&mut room, hours(4.0), Actuators::OFF);
    assert!(
        room.state().co2_ppm > 3_000.0,
        "several thousand ppm within hours"
    );
}

#[test]
fn fresh_air_fan_flushes_co2_toward_outside() {
    let mut room = default_room();
    run(&mut room, hours(3.0), Actuators::OFF);
    let stale = room.state().co2_ppm;
    let trace = run(
        &mut room,
        hours(1.0),
        Actuators::OFF.with(FreshAirFan, true),
    );
    assert!(trace[0].co2_ppm < stale, "falls as soon as the fan runs");
    let flushed = room.state().co2_ppm;
    assert!(
        flushed < 800.0,
        "1 h of fan brings {stale} ppm near outside: {flushed}"
    );
    // The crop keeps breathing, so it never drops below the outside air it mixes with.
    assert!(trace.iter().all(|s| s.co2_ppm > MILD.co2_ppm));
}

#[test]
fn humidifier_raises_rh_but_never_above_100() {
    let mut room = default_room();
    let start = room.state().humidity_rh;
    let trace = run(&mut room, hours(2.0), Actuators::OFF.with(Humidifier, true));
    assert!(
        trace[5].humidity_rh > start,
        "RH rises: {start} → {}",
        trace[5].humidity_rh
    );
    assert!(trace.iter().all(|s| s.humidity_rh <= 100.0));
    assert!(
        room.state().humidity_rh > 99.0,
        "a closed humidified room saturates"
    );
}

#[test]
fn fan_without_humidifier_dries_the_air() {
    let mut room = default_room();
    run(&mut room, hours(1.0), Actuators::OFF.with(Humidifier, true));
    let humid = room.state().humidity_rh;
    run(
        &mut room,
        hours(1.0),
        Actuators::OFF.with(FreshAirFan, true),
    );
    let aired = room.state().humidity_rh;
    assert!(
        aired < humid - 10.0,
        "fan with drier outside air: {humid} → {aired} %RH"
    );
}

#[test]
fn evaporation_humidifies_a_closed_room_and_slowly_dries_the_substrate() {
    let start = RoomState {
        humidity_rh: 60.0,
        ..RoomState::default()
    };
    let mut room = RoomModel::with_state(RoomParams::default(), start).expect("valid");
    run(&mut room, hours(4.0), Actuators::OFF);
    let after = room.state();
    assert!(
        after.humidity_rh > 80.0,
        "evaporation raised RH: 60 → {}",
        after.humidity_rh
    );
    let dried = start.moisture_pct - after.moisture_pct;
    assert!(
        dried > 0.0 && dried < 5.0,
        "substrate dries slowly: -{dried} % in 4 h"
    );
}

#[test]
fn heater_warms_above_the_unheated_twin() {
    let mut heated = default_room();
    let mut twin = default_room();
    run(&mut heated, hours(1.0), Actuators::OFF.with(Heater, true));
    run(&mut twin, hours(1.0), Actuators::OFF);
    let (hot, cold) = (heated.state().temperature_c, twin.state().temperature_c);
    assert!(hot > cold + 3.0, "heated {hot} °C vs unheated {cold} °C");
    assert!(
        hot > RoomState::default().temperature_c,
        "warmer than it started"
    );
}

#[test]
fn cooler_cools_below_the_uncooled_twin() {
    let mut cooled = default_room();
    let mut twin = default_room();
    run(&mut cooled, hours(1.0), Actuators::OFF.with(Cooler, true));
    run(&mut twin, hours(1.0), Actuators::OFF);
    let (cool, warm) = (cooled.state().temperature_c, twin.state().temperature_c);
    assert!(cool < warm - 3.0, "cooled {cool} °C vs uncooled {warm} °C");
}

#[test]
fn lights_give_the_configured_lux_and_darkness_when_off() {
    let params = RoomParams {
        light_lux: 650.0,
        ..RoomParams::default()
    };
    let mut lit = RoomModel::new(params).expect("valid");
    let mut dark = RoomModel::new(params).expect("valid");
    run(&mut lit, hours(1.0), Actuators::OFF.with(Lights, true));
    run(&mut dark, hours(1.0), Actuators::OFF);
    assert_eq!(lit.state().light_lux, 650.0);
    assert_eq!(dark.state().light_lux, 0.0);
    assert!(
        lit.state().temperature_c > dark.state().temperature_c,
        "lights add a little heat"
    );
    lit.step(Duration::from_secs(1), MILD, Actuators::OFF);
    assert_eq!(lit.state().light_lux, 0.0, "switching off is immediate");
}

#[test]
fn one_hour_step_matches_3600_one_second_steps() {
    let act = Actuators::OFF.with(Humidifier, true).with(Heater, true);
    let mut once = default_room();
    let mut often = default_room();
    once.step(hours(1.0), MILD, act);
    for _ in 0..3600 {
        often.step(Duration::from_secs(1), MILD, act);
    }
    let (a, b) = (once.state(), often.state());
    assert!(
        (a.temperature_c - b.temperature_c).abs() < 0.01,
        "{a:?} vs {b:?}"
    );
    assert!(
        (a.humidity_rh - b.humidity_rh).abs() < 0.1,
        "{a:?} vs {b:?}"
    );
    assert!((a.co2_ppm - b.co2_ppm).abs() < 1.0, "{a:?} vs {b:?}");
    assert!(
        (a.moisture_pct - b.moisture_pct).abs() < 0.01,
        "{a:?} vs {b:?}"
    );
    assert!(
        a.temperature_c > RoomState::default().temperature_c + 1.0,
        "the hour happened"
    );
}

#[test]
fn invalid_params_and_states_are_rejected_by_name() {
    let bad = RoomParams {
        volume_m3: 0.0,
        ..RoomParams::default()
    };
    assert_eq!(
        RoomModel::new(bad).expect_err("zero volume").name,
        "volume_m3"
    );
    let bad = RoomParams {
        heater_w: f64::NAN,
        ..RoomParams::default()
    };
    assert_eq!(
        RoomModel::new(bad).expect_err("NaN heater").name,
        "heater_w"
    );
    let bad = RoomParams {
        fan_air_changes_per_h: -1.0,
        ..RoomParams::default()
    };
    assert_eq!(
        RoomModel::new(bad).expect_err("negative fan").name,
        "fan_air_changes_per_h"
    );
    let state = RoomState {
        humidity_rh: 120.0,
        ..RoomState::default()
    };
    let err = RoomModel::with_state(RoomParams::default(), state).expect_err("RH > 100");
    assert_eq!(err.name, "humidity_rh");
}

fn actuators() -> impl Strategy<Value = Actuators> {
    any::<[bool; 5]>().prop_map(
        |[humidifier, fresh_air_fan, heater, lights, cooler]| Actuators {
            humidifier,
            fresh_air_fan,
            heater,
            lights,
            cooler,
        },
    )
}

fn start_state() -> impl Strategy<Value = RoomState> {
    (
        -10.0..45.0f64,
        0.0..=100.0f64,
        0.0..20_000.0f64,
        0.0..=100.0f64,
    )
        .prop_map(
            |(temperature_c, humidity_rh, co2_ppm, moisture_pct)| RoomState {
                temperature_c,
                humidity_rh,
                co2_ppm,
                light_lux: 0.0,
                moisture_pct,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn state_stays_physical_for_any_actuator_sequence(
        start in start_state(),
        start_s in 0.0..86_400.0f64,
        steps in prop::collection::vec((0u64..=600, actuators()), 1..40),
    ) {
        let mut room = RoomModel::with_state(RoomParams::default(), start).expect("valid start");
        let mut clock_s = start_s;
        for (dt_s, act) in steps {
            room.step(Duration::from_secs(dt_s), Outside::at(clock_s), act);
            clock_s += dt_s as f64;
            let state = room.state();
            for metric in Metric::ALL {
                if let Some(value) = state.value(metric) {
                    prop_assert!(metric.is_plausible(value), "{metric} = {value} in {state:?}");
                }
            }
        }
    }
}
