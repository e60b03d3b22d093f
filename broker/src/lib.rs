//! The embedded MQTT broker of the edge agent; the only crate that will import rumqttd.
//!
//! Not built yet: the broker and telemetry ingest arrive with issue 4 ("Embedded MQTT broker
//! and telemetry ingest from growing rooms"). Until then this crate exports nothing, so no
//! caller can believe it has a broker.
#![deny(missing_docs)]
