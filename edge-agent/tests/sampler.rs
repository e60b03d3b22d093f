//! Sampling on simulated time: values reach the latest-state map and the outbox every
//! interval; a failing sensor is counted, stores nothing, and is read again once it recovers.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use edge_agent::outbox::{Outbox, OutboxSettings};
use edge_agent::sampler::{Sampler, SensorCounters};
use edge_agent::state::LatestState;
use farm_drivers::sim::{Fault, RoomParams, SharedFarm, SimFarm, SimulatedSensor};
use farm_protocol::Metric;

#[tokio::test(start_paused = true)]
async fn a_failing_sensor_is_counted_and_sampling_resumes_when_it_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let outbox =
        Outbox::open(&dir.path().join("outbox.sqlite"), OutboxSettings::default()).unwrap();
    let mut farm = SimFarm::new(7, 0.0);
    farm.add_room("fruiting-1", RoomParams::default()).unwrap();
    let sensor = SimulatedSensor::new(
        SharedFarm::new(farm),
        "climate",
        "fruiting-1",
        vec![Metric::Temperature, Metric::Co2],
    );
    let fault = sensor.fault_switch();
    let counters = Arc::new(SensorCounters::default());
    let state = LatestState::default();
    let sampler = Sampler {
        name: "climate".into(),
        room: "fruiting-1".into(),
        interval: Duration::from_secs(5),
        sensor: Box::new(sensor),
        counters: Arc::clone(&counters),
    };
    let task = tokio::spawn(sampler.run(state.clone(), outbox.clone()));

    // Reads at t = 0 s and 5 s.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(counters.readings.load(Relaxed), 4);
    assert!(state.get("fruiting-1", Metric::Co2).is_some());

    // Reads at 10 s, 15 s, 20 s fail.
    fault.set(Fault::Absent);
    tokio::time::sleep(Duration::from_secs(15)).await;
    assert_eq!(counters.faults.load(Relaxed), 3);
    assert_eq!(
        counters.readings.load(Relaxed),
        4,
        "a failing sensor stores nothing"
    );

    // Back at 25 s.
    fault.set(Fault::None);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(counters.readings.load(Relaxed), 6);
    task.abort();
    assert_eq!(
        outbox.flush().await.unwrap(),
        6,
        "every value read is in the outbox"
    );
}
