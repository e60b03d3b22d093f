//! The schema's migrations, applied in order, each once, each in its own transaction.
//!
//! `schema_migrations` records what has been applied. Concurrent starts (sync-service and
//! cloud-api migrate at start-up) serialize on a transaction-level advisory lock, so each
//! migration runs exactly once. A database with a migration this build does not know is
//! refused: an older binary must not run against a newer schema.

use tokio_postgres::Client;

/// The migrations, in order: (version, name, SQL).
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "devices_and_sync",
        include_str!("../migrations/0001_devices_and_sync.sql"),
    ),
    (
        2,
        "products_and_lots",
        include_str!("../migrations/0002_products_and_lots.sql"),
    ),
    (
        3,
        "storefront",
        include_str!("../migrations/0003_storefront.sql"),
    ),
    (
        4,
        "stock_notify",
        include_str!("../migrations/0004_stock_notify.sql"),
    ),
];

/// The advisory lock key that serializes migrations ("FARM" in ASCII).
const LOCK_KEY: i64 = 0x4641_524d;

/// Why the schema could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// PostgreSQL refused or failed a statement.
    #[error("migration {version} ({name}): {source}")]
    Failed {
        /// The migration's version.
        version: i32,
        /// The migration's name.
        name: &'static str,
        /// What PostgreSQL said.
        source: tokio_postgres::Error,
    },
    /// The bookkeeping itself failed (connection lost, no permission).
    #[error("schema_migrations: {0}")]
    Bookkeeping(#[from] tokio_postgres::Error),
    /// The database has migrations this build does not know.
    #[error(
        "the database is at schema version {found}, newer than this build's {known}; \
         run a newer release"
    )]
    Newer {
        /// The highest version applied in the database.
        found: i32,
        /// The highest version this build knows.
        known: i32,
    },
}

/// Applies every migration not applied yet; returns the versions it applied.
pub async fn migrate(client: &mut Client) -> Result<Vec<i32>, MigrateError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             )",
        )
        .await
        .or_else(ignore_concurrent_create)?;
    let known = MIGRATIONS.last().map_or(0, |m| m.0);
    let mut applied = Vec::new();
    for &(version, name, sql) in MIGRATIONS {
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
            .await?;
        let found: Option<i32> = tx
            .query_one("SELECT max(version) FROM schema_migrations", &[])
            .await?
            .get(0);
        if let Some(found) = found.filter(|&f| f > known) {
            return Err(MigrateError::Newer { found, known });
        }
        let done = tx
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[&version],
            )
            .await?
            .is_some();
        if done {
            continue;
        }
        let failed = |source| MigrateError::Failed {
            version,
            name,
            source,
        };
        tx.batch_execute(sql).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&version, &name],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version, name, "Migration applied.");
        applied.push(version);
    }
    Ok(applied)
}

/// Two processes creating `schema_migrations` at once: one of them gets a unique violation
/// on the catalog; the table exists either way.
fn ignore_concurrent_create(e: tokio_postgres::Error) -> Result<(), tokio_postgres::Error> {
    let code = e.code().map(|c| c.code());
    if code == Some("23505") || code == Some("42P07") {
        Ok(())
    } else {
        Err(e)
    }
}
