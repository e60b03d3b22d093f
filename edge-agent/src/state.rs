//! The latest value of every (room, metric): what the control loops and the panel look at.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, RwLock};

use farm_protocol::{Metric, Source, UnixMillis};

/// The newest reading of one metric in one room.
#[derive(Debug, Clone, PartialEq)]
pub struct Latest {
    /// The value, in the metric's unit.
    pub value: f64,
    /// When it was measured, unix ms.
    pub ts: UnixMillis,
    /// Who measured it.
    pub source: Source,
    /// Set while that source is failing (`bus`, `crc`, `stuck`, …): the value is the last
    /// good one and must not be used for control.
    pub fault: Option<&'static str>,
}

type Notify = Box<dyn Fn() + Send + Sync>;

/// The latest-state map, shared between the sampling tasks and its readers. Cheap to clone.
#[derive(Clone, Default)]
pub struct LatestState {
    inner: Arc<RwLock<BTreeMap<(String, Metric), Latest>>>,
    notify: Arc<OnceLock<Notify>>,
}

impl std::fmt::Debug for LatestState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatestState")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl LatestState {
    /// Sets what is called after every change (the control loop's wake-up); once only.
    pub fn on_change(&self, notify: impl Fn() + Send + Sync + 'static) {
        if self.notify.set(Box::new(notify)).is_err() {
            tracing::warn!("LatestState::on_change called twice; the second is ignored.");
        }
    }

    fn changed(&self) {
        if let Some(notify) = self.notify.get() {
            notify();
        }
    }

    /// Records a reading unless a newer one of the same room and metric is already there.
    pub fn update(&self, room: &str, metric: Metric, latest: Latest) {
        {
            let mut map = self.inner.write().unwrap_or_else(|p| p.into_inner());
            match map.get_mut(&(room.to_owned(), metric)) {
                Some(current) if current.ts > latest.ts => return,
                Some(current) => *current = latest,
                None => {
                    map.insert((room.to_owned(), metric), latest);
                }
            }
        }
        self.changed();
    }

    /// Marks the values of `room` that came from `source` as bad, with the fault's kind;
    /// the next good reading of each clears it.
    pub fn mark_bad(&self, room: &str, source: &Source, fault: &'static str) {
        {
            let mut map = self.inner.write().unwrap_or_else(|p| p.into_inner());
            for ((r, _), latest) in map.iter_mut() {
                if r == room && latest.source == *source {
                    latest.fault = Some(fault);
                }
            }
        }
        self.changed();
    }

    /// The latest reading of `metric` in `room`.
    pub fn get(&self, room: &str, metric: Metric) -> Option<Latest> {
        let map = self.inner.read().unwrap_or_else(|p| p.into_inner());
        map.get(&(room.to_owned(), metric)).cloned()
    }

    /// Everything, ordered by room then metric.
    pub fn snapshot(&self) -> Vec<((String, Metric), Latest)> {
        let map = self.inner.read().unwrap_or_else(|p| p.into_inner());
        map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

impl crate::control::Observations for LatestState {
    fn observe(&self, room: &str, metric: Metric) -> Option<crate::control::Observation> {
        let map = self.inner.read().unwrap_or_else(|p| p.into_inner());
        map.get(&(room.to_owned(), metric))
            .map(|latest| crate::control::Observation {
                value: latest.value,
                ts: latest.ts,
                fault: latest.fault,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latest(value: f64, ts: UnixMillis) -> Latest {
        Latest {
            value,
            ts,
            source: Source::Sensor("s".into()),
            fault: None,
        }
    }

    #[test]
    fn newer_readings_replace_older_ones_and_not_the_reverse() {
        let state = LatestState::default();
        state.update("r", Metric::Co2, latest(900.0, 10));
        state.update("r", Metric::Co2, latest(950.0, 20));
        state.update("r", Metric::Co2, latest(100.0, 15)); // late arrival, older
        state.update("q", Metric::Co2, latest(1.0, 1));
        assert_eq!(state.get("r", Metric::Co2).unwrap().value, 950.0);
        assert_eq!(state.get("r", Metric::Humidity), None);
        assert_eq!(state.snapshot().len(), 2);
    }

    #[test]
    fn a_failing_source_marks_only_its_own_values_bad_until_a_good_one_arrives() {
        let state = LatestState::default();
        let other = Latest {
            source: Source::Node("n".into()),
            ..latest(800.0, 10)
        };
        state.update("r", Metric::Co2, other);
        state.update("r", Metric::Temperature, latest(20.0, 10));
        state.mark_bad("r", &Source::Sensor("s".into()), "crc");
        assert_eq!(
            state.get("r", Metric::Temperature).unwrap().fault,
            Some("crc")
        );
        assert_eq!(state.get("r", Metric::Co2).unwrap().fault, None);
        state.update("r", Metric::Temperature, latest(20.1, 20));
        assert_eq!(state.get("r", Metric::Temperature).unwrap().fault, None);
    }
}
