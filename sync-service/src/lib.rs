//! The cloud sync-service: receives edge batches (DESIGN.md §3.3), writes their telemetry to
//! InfluxDB (§3.4) and their events to PostgreSQL, exactly once however often they arrive.
//!
//! # Layout
//! - [`config`]: the TOML config file.
//! - [`run`]: start-up (pool, migrations, InfluxDB writer, listener) and serving.
//! - [`app`]: state, router, health and readiness.
//! - [`batches`]: `POST /v1/batches`.
//! - [`influx`]: line-protocol encoding and the v1 / v2 writers.
//! - [`store`]: the PostgreSQL side of a batch (watermark, gaps, events).
//! - [`harvests`]: harvest events → lots.
//! - [`devices`]: provisioning and token lookup.
//! - [`error`], [`metrics`]: error answers and counters.

pub mod app;
pub mod batches;
pub mod config;
pub mod devices;
pub mod error;
pub mod harvests;
pub mod influx;
pub mod metrics;
pub mod run;
pub mod store;
