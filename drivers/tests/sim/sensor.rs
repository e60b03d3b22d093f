use std::time::Duration;

use farm_drivers::sim::{Actuators, Fault, RoomParams, SharedFarm, SimFarm, SimulatedSensor};
use farm_drivers::{ActuatorKind, Measurement, Sensor, SensorError};
use farm_protocol::Metric;

use super::hours;

fn shared_farm(seed: u64) -> SharedFarm {
    let mut farm = SimFarm::new(seed, 9.0 * 3600.0);
    farm.add_room("fruiting-1", RoomParams::default())
        .expect("new room");
    SharedFarm::new(farm)
}

fn sensor(farm: &SharedFarm, name: &str, metrics: &[Metric]) -> SimulatedSensor {
    SimulatedSensor::new(farm.clone(), name, "fruiting-1", metrics)
}

/// Reads `sensor` once a minute for `n` minutes, advancing the farm between reads.
fn read_series(farm: &SharedFarm, sensor: &mut SimulatedSensor, n: usize) -> Vec<Vec<Measurement>> {
    (0..n)
        .map(|_| {
            farm.advance(Duration::from_secs(60));
            sensor.read().expect("healthy sensor")
        })
        .collect()
}

#[test]
fn same_seed_and_name_give_the_same_readings() {
    let metrics = [Metric::Temperature, Metric::Humidity, Metric::Co2];
    let series = |seed: u64, name: &str| {
        let farm = shared_farm(seed);
        read_series(&farm, &mut sensor(&farm, name, &metrics), 20)
    };
    assert_eq!(series(7, "sht-1"), series(7, "sht-1"));
    assert_ne!(
        series(7, "sht-1"),
        series(8, "sht-1"),
        "another farm seed, other noise"
    );
    assert_ne!(
        series(7, "sht-1"),
        series(7, "sht-2"),
        "another sensor, other noise"
    );
}

#[test]
fn readings_track_the_room_with_small_noise() {
    let farm = shared_farm(1);
    let mut all = sensor(&farm, "all", &Metric::ALL);
    farm.advance(hours(1.0));
    let truth = farm.room_state("fruiting-1").expect("room");
    let readings = all.read().expect("healthy sensor");
    let metrics: Vec<Metric> = readings.iter().map(|m| m.metric).collect();
    assert_eq!(
        metrics,
        Metric::ALL,
        "one measurement per metric, in the asked order"
    );
    let tolerance = |metric| match metric {
        Metric::Temperature => 0.5,
        Metric::Humidity | Metric::Moisture => 3.0,
        Metric::Co2 => 100.0,
        Metric::Light => 5.0,
        Metric::Pressure => 2.0,
        Metric::Vpd => 0.01,
        Metric::DewPoint => 0.01,
    };
    for m in &readings {
        let expected = truth.value(m.metric).unwrap_or(1013.25);
        assert!(
            (m.value - expected).abs() < tolerance(m.metric),
            "{m:?} vs {expected}"
        );
    }
    let noisy = (0..10).any(|_| all.read().expect("healthy") != readings);
    assert!(noisy, "repeated reads of an unchanged room differ a little");
}

#[test]
fn readings_stay_inside_physical_ranges_at_the_limits() {
    // A saturated, dark room: RH is at 100 and light at 0, so noise pushes past both limits.
    let farm = shared_farm(3);
    farm.set_actuators(
        "fruiting-1",
        Actuators::OFF.with(ActuatorKind::Humidifier, true),
    )
    .expect("room");
    farm.advance(hours(2.0));
    let mut sht = sensor(&farm, "edge", &[Metric::Humidity, Metric::Light]);
    for _ in 0..200 {
        for m in sht.read().expect("clamped values are plausible") {
            assert!(m.metric.is_plausible(m.value), "{m:?}");
        }
    }
}

#[test]
fn sensor_in_an_unknown_room_is_absent() {
    let farm = shared_farm(1);
    let mut lost = SimulatedSensor::new(farm, "sht-9", "no-such-room", [Metric::Temperature]);
    let err = lost.read().expect_err("no room");
    assert!(
        matches!(&err, SensorError::Absent(why) if why.contains("no-such-room")),
        "{err}"
    );
}

#[test]
fn injected_faults_produce_the_right_errors_and_clear() {
    let farm = shared_farm(1);
    let mut co2 = sensor(&farm, "scd-1", &[Metric::Co2, Metric::Humidity]);

    co2.inject(Fault::Absent);
    assert!(matches!(co2.read(), Err(SensorError::Absent(_))));

    co2.inject(Fault::Nan);
    assert!(matches!(
        co2.read(),
        Err(SensorError::Implausible { metric: Metric::Co2, value }) if value.is_nan()
    ));

    co2.inject(Fault::Stuck(150.0)); // fine for CO2, impossible for humidity
    assert!(matches!(
        co2.read(),
        Err(SensorError::Implausible { metric: Metric::Humidity, value }) if value == 150.0
    ));

    co2.inject(Fault::Stuck(55.0)); // plausible for both: reported exactly, every time
    let stuck = [
        Measurement {
            metric: Metric::Co2,
            value: 55.0,
        },
        Measurement {
            metric: Metric::Humidity,
            value: 55.0,
        },
    ];
    assert_eq!(co2.read(), Ok(stuck.to_vec()));
    farm.advance(hours(1.0));
    assert_eq!(co2.read(), Ok(stuck.to_vec()));

    co2.inject(Fault::None);
    let healed = co2.read().expect("repaired");
    assert!(healed[0].value > 800.0, "reads the room again: {healed:?}");
}

#[test]
fn fault_switch_reaches_a_sensor_handed_away() {
    let farm = shared_farm(1);
    let sensor = sensor(&farm, "sht-1", &[Metric::Temperature]);
    let switch = sensor.fault_switch();
    let mut boxed: Box<dyn Sensor> = Box::new(sensor);
    assert!(boxed.read().is_ok());
    switch.set(Fault::Stuck(-60.0));
    assert!(matches!(
        boxed.read(),
        Err(SensorError::Implausible {
            metric: Metric::Temperature,
            ..
        })
    ));
    switch.set(Fault::None);
    assert!(boxed.read().is_ok());
}
