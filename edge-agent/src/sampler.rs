//! Sampling: one task per configured sensor reads it every `interval` (directly, or through
//! its bus thread) and judges the result with a [`FaultTracker`]. Good values, with the
//! derived VPD and dew point, go to the latest-state map and the outbox; a fault marks the
//! sensor's values bad, is counted, raises one alarm event and makes reads back off; the next
//! good read clears the alarm. A failing sensor never stops the others.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use farm_drivers::bus::BusHandle;
use farm_drivers::derived::derive;
use farm_drivers::{Measurement, Sensor, SensorError};
use farm_protocol::{EventKind, Severity, Source};
use tokio::time::Instant;
use uuid::Uuid;

use crate::fault::{AlarmChange, FaultTracker, Verdict};
use crate::outbox::{NewEvent, NewReading, Outbox, OutboxError};
use crate::state::{Latest, LatestState};

/// Counters of one sensor, shared with whoever reports them.
#[derive(Debug, Default)]
pub struct SensorCounters {
    /// Values read and handed on (derived ones included).
    pub readings: AtomicU64,
    /// Reads that were faults (absent, bus, crc, implausible, stuck).
    pub faults: AtomicU64,
}

/// How a sensor is read.
pub enum Reader {
    /// In the sampling task itself (simulated sensors: no I/O).
    Direct(Box<dyn Sensor + Send>),
    /// On its bus's thread, which owns the bus.
    Bus {
        /// The bus thread.
        bus: BusHandle,
        /// The sensor's index on that bus.
        index: usize,
    },
}

impl Reader {
    /// Takes one reading.
    pub async fn read(&mut self) -> Result<Vec<Measurement>, SensorError> {
        match self {
            Reader::Direct(sensor) => sensor.read(),
            Reader::Bus { bus, index } => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                bus.read(*index, Box::new(move |result| drop(tx.send(result))))?;
                rx.await.unwrap_or_else(|_| {
                    Err(SensorError::Bus(format!(
                        "the thread of bus {} has stopped",
                        bus.name()
                    )))
                })
            }
        }
    }
}

/// A configured sensor ready to be sampled.
pub struct Sampler {
    /// The sensor's configured name.
    pub name: String,
    /// The room it is in.
    pub room: String,
    /// How often to read it.
    pub interval: Duration,
    /// How to read it.
    pub reader: Reader,
    /// Its fault state (with its `stuck_after`).
    pub tracker: FaultTracker,
    /// Its counters.
    pub counters: Arc<SensorCounters>,
}

impl Sampler {
    /// Reads the sensor until the task is dropped. The first read is at once.
    pub async fn run(mut self, state: LatestState, outbox: Outbox) {
        let source = Source::Sensor(self.name.clone());
        let mut next = Instant::now();
        loop {
            tokio::time::sleep_until(next).await;
            let result = self.reader.read().await;
            let (verdict, alarm) = self.tracker.observe(result);
            match verdict {
                Verdict::Good(values) => {
                    if self.counters.readings.load(Relaxed) == 0 {
                        tracing::info!(sensor = %self.name, room = %self.room, "Sensor online.");
                    }
                    self.store(values, &source, &state, &outbox);
                }
                Verdict::Fault { kind, .. } => {
                    self.counters.faults.fetch_add(1, Relaxed);
                    state.mark_bad(&self.room, &source, kind);
                }
                Verdict::Wait => {}
            }
            if let Some(change) = alarm {
                record_alarm(&self.name, &self.room, change, &outbox);
            }
            next = (next + self.tracker.next_delay(self.interval)).max(Instant::now());
        }
    }

    fn store(
        &self,
        mut values: Vec<Measurement>,
        source: &Source,
        state: &LatestState,
        outbox: &Outbox,
    ) {
        values.extend(derive(&values));
        let ts = crate::now_ms();
        for m in values {
            let latest = Latest {
                value: m.value,
                ts,
                source: source.clone(),
                fault: None,
            };
            state.update(&self.room, m.metric, latest);
            let reading = NewReading {
                ts,
                room: self.room.clone(),
                source: source.clone(),
                metric: m.metric,
                value: m.value,
            };
            match outbox.append_reading(reading) {
                Ok(()) | Err(OutboxError::QueueFull) => {} // counted by the outbox
                Err(e) => tracing::warn!(sensor = %self.name, error = %e, "Reading not stored."),
            }
            self.counters.readings.fetch_add(1, Relaxed);
        }
    }
}

/// Logs the change and queues it as an alarm event (committed durably by the outbox; the
/// sampler does not wait for the disk).
fn record_alarm(sensor: &str, room: &str, change: AlarmChange, outbox: &Outbox) {
    let (active, message) = match change {
        AlarmChange::Raise { kind, message } => {
            tracing::warn!(%sensor, %room, %kind, %message, "Sensor failing; will keep trying.");
            (
                true,
                format!("sensor {} failing ({kind}): {message}", sensor),
            )
        }
        AlarmChange::Clear => {
            tracing::info!(%sensor, %room, "Sensor online.");
            (false, format!("sensor {} is reading again", sensor))
        }
    };
    let kind = EventKind::Alarm {
        room: Some(room.to_owned()),
        code: "sensor_fault".into(),
        severity: Severity::Warning,
        active,
        message,
    };
    let event = NewEvent {
        id: Uuid::new_v4(),
        ts: crate::now_ms(),
        kind,
    };
    if let Err(e) = outbox.record_event(event) {
        tracing::error!(%sensor, error = %e, "Sensor alarm not recorded.");
    }
}
