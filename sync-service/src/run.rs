//! Start-up and serving: connect to PostgreSQL (and bring the schema up to date), set up the
//! InfluxDB writer, bind, log the address, serve until `shutdown` completes.

use std::future::Future;
use std::sync::Arc;

use crate::app::{app, AppState};
use crate::config::Config;
use crate::influx::Influx;
use crate::metrics::Metrics;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// PostgreSQL could not be reached or migrated.
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    /// The InfluxDB writer could not be set up.
    #[error(transparent)]
    Influx(#[from] crate::influx::SetupError),
    /// The listen address could not be bound.
    #[error("http.listen {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

/// A pool of `size` connections to `url` (checked by the config), sessions in UTC.
pub fn pool(url: &str, size: usize) -> Result<deadpool_postgres::Pool, StartError> {
    cloud_api::run::pool(url, size, None).map_err(|e| StartError::Postgres(e.to_string()))
}

/// Applies the schema's migrations through a connection from `pool`.
pub async fn migrate(pool: &deadpool_postgres::Pool) -> Result<Vec<i32>, StartError> {
    cloud_api::run::migrate(pool)
        .await
        .map_err(|e| StartError::Postgres(e.to_string()))
}

/// Runs the service until `shutdown` completes; in-flight requests finish first.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let pool = pool(&config.postgres.url, config.postgres.pool_size)?;
    migrate(&pool).await?;
    let influx = Influx::new(&config.influxdb)?;
    let http = &config.http;
    let state = Arc::new(AppState {
        pool,
        influx,
        metrics: Metrics::default(),
        max_body: (http.max_body_mib as usize) << 20,
        max_decompressed: (http.max_decompressed_mib as usize) << 20,
        request_timeout: http.request_timeout,
    });
    let listener = tokio::net::TcpListener::bind(http.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: http.listen,
            source,
        })?;
    let local = listener.local_addr().map_err(StartError::Serve)?;
    tracing::info!(service = %"HTTP", address = %local, "Listening.");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(StartError::Serve)
}
