//! Start-up and serving: connect to PostgreSQL (and bring the schema up to date), bind, log
//! the address, sweep expired holds and listen for stock changes in the background, serve
//! until `shutdown` completes.

use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::config::Config;
use crate::http::{app, AppState, SWEEP_EVERY};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// PostgreSQL could not be reached or migrated.
    #[error("PostgreSQL: {0}")]
    Postgres(String),
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

/// A pool of `size` connections to `url` (checked by the config). Sessions run in UTC (the
/// answers' times) and a statement running longer than `statement_timeout` is cancelled.
pub fn pool(
    url: &str,
    size: usize,
    statement_timeout: Option<Duration>,
) -> Result<deadpool_postgres::Pool, StartError> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| StartError::Postgres(e.to_string()))?;
    let mut options = "-c TimeZone=UTC".to_owned();
    if let Some(timeout) = statement_timeout {
        options.push_str(&format!(" -c statement_timeout={}", timeout.as_millis()));
    }
    config.options(&options);
    let manager = deadpool_postgres::Manager::new(config, tokio_postgres::NoTls);
    deadpool_postgres::Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(10)))
        .build()
        .map_err(|e| StartError::Postgres(e.to_string()))
}

/// Applies the schema's migrations through a connection from `pool`.
pub async fn migrate(pool: &deadpool_postgres::Pool) -> Result<Vec<i32>, StartError> {
    let mut client = pool
        .get()
        .await
        .map_err(|e| StartError::Postgres(e.to_string()))?;
    let client: &mut tokio_postgres::Client = &mut client;
    crate::db::migrate(client)
        .await
        .map_err(|e| StartError::Postgres(e.to_string()))
}

/// Runs the service until `shutdown` completes; in-flight requests finish first.
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let pool = pool(
        &config.postgres.url,
        config.postgres.pool_size,
        Some(config.http.request_timeout),
    )?;
    migrate(&pool).await?;
    let listen = config.http.listen;
    let pg_config: tokio_postgres::Config = config
        .postgres
        .url
        .parse()
        .map_err(|e: tokio_postgres::Error| StartError::Postgres(e.to_string()))?;
    let state = Arc::new(AppState::new(config, pool));
    let listener_task = tokio::spawn(crate::cache::listen(state.cache.clone(), pg_config));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: listen,
            source,
        })?;
    let local = listener.local_addr().map_err(StartError::Serve)?;
    tracing::info!(service = %"HTTP", address = %local, "Listening.");
    let sweeper = tokio::spawn(sweep_forever(state.clone()));
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(StartError::Serve);
    sweeper.abort();
    listener_task.abort();
    served
}

/// Marks expired holds every [`SWEEP_EVERY`] (they stopped counting when they expired; this
/// is bookkeeping) and forgets day-old idempotency keys.
async fn sweep_forever(state: Arc<AppState>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    loop {
        every.tick().await;
        let swept = match state.pool.get().await {
            Ok(db) => sweep(&**db).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match swept {
            Ok(n) => {
                state.metrics.holds_expired.fetch_add(n, Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "Sweeping expired holds failed; will retry."),
        }
    }
}

/// Marks held reservations past their expiry `expired`; returns how many.
async fn sweep(db: &impl tokio_postgres::GenericClient) -> Result<u64, tokio_postgres::Error> {
    let expired = db
        .query(
            "UPDATE reservations SET status = 'expired', closed_at = expires_at
             WHERE status = 'held' AND expires_at <= now() RETURNING id",
            &[],
        )
        .await?;
    let ids: Vec<Uuid> = expired.iter().map(|r| r.get(0)).collect();
    db.execute(
        "UPDATE reservation_items SET held_until = NULL WHERE reservation_id = ANY($1)",
        &[&ids],
    )
    .await?;
    db.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - interval '1 day'",
        &[],
    )
    .await?;
    Ok(ids.len() as u64)
}

/// Logs to stderr at `info` (or as `RUST_LOG` says), in colour on a terminal.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

/// The multi-threaded runtime the cloud binaries run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// A future registered at once (so a signal during start-up is not lost) that completes on the first SIGTERM or SIGINT.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{signal, SignalKind};
    let streams = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        match streams {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM received."),
                    _ = int.recv() => tracing::info!("SIGINT received."),
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "Cannot listen for signals; stop with SIGKILL.");
                std::future::pending::<()>().await;
            }
        }
    }
}
