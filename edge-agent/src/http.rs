//! The agent's HTTP port: `GET /metrics` in the Prometheus text format. The router is built by
//! [`app`] and served by [`serve`] on a listener the caller binds, so tests use port 0. The
//! control API, harvests and the panel are merged into it by [`crate::agent`].

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::ingest::{IngestStats, NodeTracker};
use crate::outbox::Outbox;
use crate::sampler::SensorCounters;
use crate::uplink::SyncStatus;

/// Where the numbers come from.
#[derive(Clone)]
pub struct Metrics {
    /// The outbox (counters, backlog).
    pub outbox: Outbox,
    /// MQTT ingest counters.
    pub ingest: Arc<IngestStats>,
    /// Room nodes heard, and which are stale.
    pub nodes: Arc<Mutex<NodeTracker>>,
    /// Connected MQTT clients, if the broker is running.
    pub clients: Option<Arc<dyn Fn() -> usize + Send + Sync>>,
    /// Each local sensor's counters.
    pub sensors: Arc<Vec<(String, Arc<SensorCounters>)>>,
    /// The uplink's status (all zeros when sync is off).
    pub sync: Arc<SyncStatus>,
}

/// The HTTP service.
pub fn app(metrics: Metrics) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(metrics)
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The panel counts failed sign-ins per client address, so handlers get the peer's.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn render(State(m): State<Metrics>) -> impl IntoResponse {
    let mut out = String::new();
    let ingest = &m.ingest;
    metric(
        &mut out,
        "farm_mqtt_messages_received_total",
        "counter",
        "MQTT messages received from room nodes.",
        ingest.messages.load(Relaxed),
    );
    metric(
        &mut out,
        "farm_mqtt_readings_accepted_total",
        "counter",
        "Room-node readings accepted into the outbox.",
        ingest.accepted.load(Relaxed),
    );
    let _ = writeln!(
        out,
        "# HELP farm_mqtt_dropped_total Room-node readings or messages dropped, by reason."
    );
    let _ = writeln!(out, "# TYPE farm_mqtt_dropped_total counter");
    for (reason, n) in ingest.dropped() {
        let _ = writeln!(
            out,
            "farm_mqtt_dropped_total{{reason=\"{}\"}} {n}",
            reason.name()
        );
    }
    if let Some(clients) = &m.clients {
        metric(
            &mut out,
            "farm_mqtt_connected_clients",
            "gauge",
            "MQTT clients connected to the embedded broker.",
            clients() as u64,
        );
    }
    let (nodes, stale) = m.nodes.lock().map_or((0, 0), |n| n.counts());
    metric(
        &mut out,
        "farm_mqtt_nodes",
        "gauge",
        "Room nodes heard since start.",
        nodes as u64,
    );
    metric(
        &mut out,
        "farm_mqtt_nodes_stale",
        "gauge",
        "Room nodes silent for longer than node_timeout.",
        stale as u64,
    );

    let s = m.outbox.stats();
    metric(
        &mut out,
        "farm_outbox_committed_seq",
        "gauge",
        "Last seq committed to the outbox.",
        s.committed_seq,
    );
    metric(
        &mut out,
        "farm_outbox_acked_seq",
        "gauge",
        "Everything up to this seq is synced.",
        s.acked_seq,
    );
    metric(
        &mut out,
        "farm_outbox_evicted_total",
        "counter",
        "Unsynced readings evicted over max_bytes (data lost).",
        s.evicted,
    );
    metric(
        &mut out,
        "farm_outbox_dropped_total",
        "counter",
        "Readings dropped because the outbox queue was full.",
        s.dropped,
    );
    metric(
        &mut out,
        "farm_outbox_commit_errors_total",
        "counter",
        "Outbox commits that failed and were retried.",
        s.commit_errors,
    );
    metric(
        &mut out,
        "farm_outbox_used_bytes",
        "gauge",
        "Bytes the outbox database uses.",
        s.used_bytes,
    );
    metric(
        &mut out,
        "farm_outbox_max_bytes",
        "gauge",
        "The outbox quota (outbox.max_bytes).",
        s.max_bytes,
    );
    match m.outbox.backlog().await {
        Ok((depth, oldest)) => {
            metric(
                &mut out,
                "farm_outbox_depth",
                "gauge",
                "Readings and events waiting to be synced.",
                depth,
            );
            let age_ms = oldest.map_or(0, |ts| crate::now_ms().saturating_sub(ts).max(0));
            let _ = writeln!(out, "# HELP farm_outbox_oldest_unsynced_age_seconds Age of the oldest unsynced reading or event (0 if none).");
            let _ = writeln!(out, "# TYPE farm_outbox_oldest_unsynced_age_seconds gauge");
            let _ = writeln!(
                out,
                "farm_outbox_oldest_unsynced_age_seconds {:.3}",
                age_ms as f64 / 1000.0
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "Outbox backlog unavailable for /metrics.");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain")],
                "outbox unavailable\n".to_owned(),
            );
        }
    }
    crate::uplink::write_metrics(&mut out, &m.sync);
    for (name, family, help) in [
        (
            "readings",
            "farm_sensor_readings_total",
            "Values read from local sensors.",
        ),
        (
            "faults",
            "farm_sensor_faults_total",
            "Faulty reads of local sensors.",
        ),
    ] {
        let _ = writeln!(out, "# HELP {family} {help}\n# TYPE {family} counter");
        for (sensor, c) in m.sensors.iter() {
            let n = if name == "readings" {
                c.readings.load(Relaxed)
            } else {
                c.faults.load(Relaxed)
            };
            let _ = writeln!(out, "{family}{{sensor=\"{sensor}\"}} {n}");
        }
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        out,
    )
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}
