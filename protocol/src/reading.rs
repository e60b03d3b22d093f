//! One measured value, as buffered on the edge and sent in a sync batch.

use serde::{Deserialize, Serialize};

use crate::{Metric, Seq, UnixMillis};

/// Where a reading came from: a sensor wired to the edge device, or a growing-room node that
/// published it over MQTT. On the wire this is one key, `"sensor": "<name>"` or
/// `"node": "<name>"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A sensor attached to the edge device (I2C, 1-Wire, simulated), by its configured name.
    Sensor(String),
    /// A growing-room node publishing over MQTT, by its node id.
    Node(String),
}

impl Source {
    /// The sensor or node name.
    pub fn name(&self) -> &str {
        match self {
            Source::Sensor(name) | Source::Node(name) => name,
        }
    }
}

/// One value of one metric, at one time, in one room (DESIGN.md §3.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// The device's sequence number for this reading.
    pub seq: Seq,
    /// When it was measured, ms since the Unix epoch (device clock).
    pub ts: UnixMillis,
    /// The growing room it describes.
    pub room: String,
    /// The sensor or node that measured it.
    #[serde(flatten)]
    pub source: Source,
    /// What was measured.
    pub metric: Metric,
    /// The value, in the metric's unit ([`Metric::unit`]).
    pub value: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_has_sensor_or_node_key() {
        let r = Reading {
            seq: 7,
            ts: 1_700_000_000_123,
            room: "fruiting-1".into(),
            source: Source::Node("esp32-a".into()),
            metric: Metric::Co2,
            value: 850.0,
        };
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"seq":7,"ts":1_700_000_000_123_i64,"room":"fruiting-1",
                "node":"esp32-a","metric":"co2","value":850.0})
        );
        let back: Reading = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);

        let sensor = serde_json::json!({"seq":1,"ts":5,"room":"r","sensor":"sht4x-1",
            "metric":"humidity","value":91.5});
        let parsed: Reading = serde_json::from_value(sensor).unwrap();
        assert_eq!(parsed.source, Source::Sensor("sht4x-1".into()));
    }

    #[test]
    fn reading_without_source_or_with_unknown_metric_is_rejected() {
        let no_source = serde_json::json!({"seq":1,"ts":5,"room":"r","metric":"co2","value":1.0});
        assert!(serde_json::from_value::<Reading>(no_source).is_err());
        let bad_metric = serde_json::json!({"seq":1,"ts":5,"room":"r","node":"n",
            "metric":"co3","value":1.0});
        assert!(serde_json::from_value::<Reading>(bad_metric).is_err());
    }
}
