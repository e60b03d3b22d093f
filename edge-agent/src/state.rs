//! The latest value of every (room, metric): what the control loops and the panel look at.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

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
}

/// The latest-state map, shared between the sampling tasks and its readers. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct LatestState {
    inner: Arc<RwLock<BTreeMap<(String, Metric), Latest>>>,
}

impl LatestState {
    /// Records a reading unless a newer one of the same room and metric is already there.
    pub fn update(&self, room: &str, metric: Metric, latest: Latest) {
        let mut map = self.inner.write().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(&(room.to_owned(), metric)) {
            Some(current) if current.ts > latest.ts => {}
            Some(current) => *current = latest,
            None => {
                map.insert((room.to_owned(), metric), latest);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn latest(value: f64, ts: UnixMillis) -> Latest {
        Latest {
            value,
            ts,
            source: Source::Sensor("s".into()),
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
}
