//! Sampling on simulated time: values (with derived VPD and dew point) reach the latest-state
//! map and the outbox every interval; a failing sensor is counted, stores nothing, has its
//! values marked bad, raises one alarm, backs off, and is read again once it recovers.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use edge_agent::fault::FaultTracker;
use edge_agent::outbox::{Outbox, OutboxSettings};
use edge_agent::sampler::{Reader, Sampler, SensorCounters};
use edge_agent::state::LatestState;
use farm_drivers::sim::{Fault, RoomParams, SharedFarm, SimFarm, SimulatedSensor};
use farm_protocol::{EventKind, Metric};

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
        vec![Metric::Temperature, Metric::Humidity],
    );
    let fault = sensor.fault_switch();
    let counters = Arc::new(SensorCounters::default());
    let state = LatestState::default();
    let sampler = Sampler {
        name: "climate".into(),
        room: "fruiting-1".into(),
        interval: Duration::from_secs(5),
        reader: Reader::Direct(Box::new(sensor)),
        tracker: FaultTracker::new(0),
        counters: Arc::clone(&counters),
    };
    let task = tokio::spawn(sampler.run(state.clone(), outbox.clone()));

    // Reads at t = 0 s and 5 s: temperature and humidity, plus VPD and dew point.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(counters.readings.load(Relaxed), 8);
    assert!(state.get("fruiting-1", Metric::Vpd).is_some());

    // Fails at 10 s, then backs off: 15 s (5 s later), 25 s (10 s), 45 s (20 s).
    fault.set(Fault::Absent);
    tokio::time::sleep(Duration::from_secs(36)).await;
    assert_eq!(
        counters.faults.load(Relaxed),
        3,
        "reads back off while failing"
    );
    assert_eq!(
        counters.readings.load(Relaxed),
        8,
        "a failing sensor stores nothing"
    );
    let latest = state.get("fruiting-1", Metric::Temperature).unwrap();
    assert_eq!(
        latest.fault,
        Some("absent"),
        "control must not use the last good value"
    );

    // Back at the read due at 45 s.
    fault.set(Fault::None);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(counters.readings.load(Relaxed), 12);
    assert_eq!(
        state.get("fruiting-1", Metric::Temperature).unwrap().fault,
        None
    );
    task.abort();
    let pending = outbox.pending(100, 100).await.unwrap().unwrap();
    assert_eq!(
        pending.readings.len(),
        12,
        "every value read is in the outbox"
    );
    let alarms: Vec<bool> = pending
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Alarm { code, active, .. } if code == "sensor_fault" => Some(*active),
            _ => None,
        })
        .collect();
    assert_eq!(
        alarms,
        vec![true, false],
        "one alarm raised for the outage, cleared on recovery"
    );
}
