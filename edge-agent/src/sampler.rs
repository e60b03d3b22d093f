//! Sampling: one task per configured sensor reads it every `interval` and hands each value to
//! the latest-state map and the outbox. A failing sensor is logged once when it fails and once
//! when it recovers, and counted; it never stops the other sensors.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use farm_drivers::{Sensor, SensorError};
use farm_protocol::Source;
use tokio::time::MissedTickBehavior;

use crate::outbox::{NewReading, Outbox, OutboxError};
use crate::state::{Latest, LatestState};

/// Counters of one sensor, shared with whoever reports them.
#[derive(Debug, Default)]
pub struct SensorCounters {
    /// Values read and handed on.
    pub readings: AtomicU64,
    /// Reads that failed (absent, bus error, implausible value).
    pub faults: AtomicU64,
}

/// A configured sensor ready to be sampled.
pub struct Sampler {
    /// The sensor's configured name.
    pub name: String,
    /// The room it is in.
    pub room: String,
    /// How often to read it.
    pub interval: Duration,
    /// The driver.
    pub sensor: Box<dyn Sensor + Send>,
    /// Its counters.
    pub counters: Arc<SensorCounters>,
}

impl Sampler {
    /// Reads the sensor every `interval` until the task is dropped. The first read is at once.
    pub async fn run(mut self, state: LatestState, outbox: Outbox) {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            ticker.tick().await;
            match self.sensor.read() {
                Ok(values) => {
                    if failing || self.counters.readings.load(Relaxed) == 0 {
                        tracing::info!(sensor = %self.name, room = %self.room, "Sensor online.");
                    }
                    failing = false;
                    let ts = crate::now_ms();
                    for m in values {
                        let source = Source::Sensor(self.name.clone());
                        state.update(
                            &self.room,
                            m.metric,
                            Latest {
                                value: m.value,
                                ts,
                                source: source.clone(),
                            },
                        );
                        let reading = NewReading {
                            ts,
                            room: self.room.clone(),
                            source,
                            metric: m.metric,
                            value: m.value,
                        };
                        match outbox.append_reading(reading) {
                            Ok(()) | Err(OutboxError::QueueFull) => {} // counted by the outbox
                            Err(e) => {
                                tracing::warn!(sensor = %self.name, error = %e, "Reading not stored.")
                            }
                        }
                        self.counters.readings.fetch_add(1, Relaxed);
                    }
                }
                Err(e) => {
                    self.counters.faults.fetch_add(1, Relaxed);
                    if !failing {
                        failing = true;
                        log_fault(&self.name, &self.room, &e);
                    }
                }
            }
        }
    }
}

fn log_fault(sensor: &str, room: &str, error: &SensorError) {
    tracing::warn!(%sensor, %room, %error, "Sensor failing; will keep trying.");
}
