use std::time::Duration;

use farm_drivers::sim::{Actuators, Outside, RoomParams, SharedFarm, SimError, SimFarm};
use farm_drivers::ActuatorKind;

use super::hours;

const HOUR_S: f64 = 3600.0;

fn farm_with(rooms: &[&str], start_h: f64) -> SimFarm {
    let mut farm = SimFarm::new(42, start_h * HOUR_S);
    for room in rooms {
        farm.add_room(*room, RoomParams::default())
            .expect("new room");
    }
    farm
}

fn temperature(farm: &SimFarm, room: &str) -> f64 {
    farm.room(room).expect("room exists").state().temperature_c
}

#[test]
fn outside_is_colder_before_dawn_than_in_the_afternoon() {
    let night = Outside::at(3.0 * HOUR_S);
    let afternoon = Outside::at(15.0 * HOUR_S);
    assert!(
        night.temperature_c < afternoon.temperature_c - 5.0,
        "{night:?} vs {afternoon:?}"
    );
    assert!(
        (5.0..12.0).contains(&night.temperature_c),
        "a cool night: {night:?}"
    );
    assert!(
        (15.0..25.0).contains(&afternoon.temperature_c),
        "a mild afternoon: {afternoon:?}"
    );
    assert!(
        night.humidity_rh > afternoon.humidity_rh,
        "nights are damper"
    );
    assert!(
        (400.0..430.0).contains(&night.co2_ppm),
        "background CO2: {night:?}"
    );
    // The same time on the next day, or the day before, is the same weather.
    let tomorrow = Outside::at(27.0 * HOUR_S);
    let yesterday = Outside::at(-21.0 * HOUR_S);
    assert!((tomorrow.temperature_c - night.temperature_c).abs() < 1e-9);
    assert!((yesterday.temperature_c - night.temperature_c).abs() < 1e-9);
}

#[test]
fn unheated_room_follows_the_day_slowly() {
    // Start at noon and let a full day pass so the starting temperature is forgotten.
    let mut farm = farm_with(&["idle"], 12.0);
    farm.advance(hours(18.0)); // 06:00 next day
    let dawn = temperature(&farm, "idle");
    farm.advance(hours(12.0)); // 18:00
    let evening = temperature(&farm, "idle");
    assert!(
        evening > dawn + 1.0,
        "room warmer after the afternoon: {dawn} → {evening} °C"
    );
    let outside_swing =
        Outside::at(15.0 * HOUR_S).temperature_c - Outside::at(3.0 * HOUR_S).temperature_c;
    assert!(
        evening - dawn < outside_swing,
        "walls damp the outside swing of {outside_swing} K"
    );
}

#[test]
fn clock_advances_and_wraps_past_midnight() {
    let mut farm = farm_with(&[], 23.0);
    farm.advance(hours(2.0));
    assert_eq!(farm.elapsed(), Duration::from_secs(7200));
    assert!((farm.seconds_since_midnight() - HOUR_S).abs() < 1e-6);
    assert_eq!(farm.outside(), Outside::at(HOUR_S));
}

#[test]
fn one_hour_advance_matches_3600_one_second_advances() {
    let mut once = farm_with(&["a", "b"], 10.0);
    let mut often = once.clone();
    for farm in [&mut once, &mut often] {
        let act = Actuators::OFF.with(ActuatorKind::FreshAirFan, true);
        farm.set_actuators("b", act).expect("room b");
    }
    once.advance(hours(1.0));
    for _ in 0..3600 {
        often.advance(Duration::from_secs(1));
    }
    assert_eq!(once.elapsed(), often.elapsed());
    for room in ["a", "b"] {
        let (x, y) = (
            once.room(room).expect("room").state(),
            often.room(room).expect("room").state(),
        );
        assert!(
            (x.temperature_c - y.temperature_c).abs() < 0.01,
            "{room}: {x:?} vs {y:?}"
        );
        assert!(
            (x.humidity_rh - y.humidity_rh).abs() < 0.1,
            "{room}: {x:?} vs {y:?}"
        );
        assert!(
            (x.co2_ppm - y.co2_ppm).abs() < 1.0,
            "{room}: {x:?} vs {y:?}"
        );
    }
    let (closed, aired) = (
        once.room("a").expect("a").state(),
        once.room("b").expect("b").state(),
    );
    assert!(
        closed.co2_ppm > aired.co2_ppm + 500.0,
        "each room steps with its own actuators"
    );
}

#[test]
fn unknown_and_duplicate_rooms_are_errors() {
    let mut farm = farm_with(&["fruiting-1"], 0.0);
    assert_eq!(
        farm.add_room("fruiting-1", RoomParams::default()),
        Err(SimError::DuplicateRoom("fruiting-1".into()))
    );
    assert_eq!(
        farm.set_actuators("nope", Actuators::OFF),
        Err(SimError::UnknownRoom("nope".into()))
    );
    assert!(farm.room("nope").is_none());
    let bad = RoomParams {
        volume_m3: -1.0,
        ..RoomParams::default()
    };
    assert!(matches!(
        farm.add_room("bad", bad),
        Err(SimError::InvalidRoom { room, source }) if room == "bad" && source.name == "volume_m3"
    ));
    assert_eq!(farm.room_names().collect::<Vec<_>>(), ["fruiting-1"]);
}

#[test]
fn shared_handle_clones_see_one_farm() {
    let shared = SharedFarm::new(farm_with(&["r"], 8.0));
    let ticker = shared.clone();
    let controller = shared.clone();
    controller
        .set_actuator("r", ActuatorKind::Heater, true)
        .expect("room r");
    let before = shared.room_state("r").expect("room r").temperature_c;
    ticker.advance(hours(1.0));
    let after = shared.room_state("r").expect("room r").temperature_c;
    assert!(
        after > before + 3.0,
        "the heater one clone switched warmed the room: {before} → {after}"
    );
    assert_eq!(
        shared.with(|farm| farm.actuators("r")),
        Some(Actuators::OFF.with(ActuatorKind::Heater, true))
    );
    assert!(shared.room_state("missing").is_none());
}

#[test]
fn shared_farm_survives_a_task_that_panicked_holding_it() {
    let shared = SharedFarm::new(farm_with(&["r"], 8.0));
    let doomed = shared.clone();
    let crashed = std::thread::spawn(move || doomed.with(|_| panic!("task crashed mid-update")));
    assert!(crashed.join().is_err());
    shared.advance(Duration::from_secs(60));
    assert_eq!(shared.with(|farm| farm.elapsed()), Duration::from_secs(60));
    assert!(shared.room_state("r").is_some());
}
