//! Opening the outbox file: refuse anything that is not our own healthy outbox without
//! touching it, then create or check the schema and set the connection up.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::error::{Context, OutboxError};
use super::{OutboxSettings, Synchronous};

/// `PRAGMA application_id` of an outbox: "FRMO".
pub(crate) const APPLICATION_ID: u32 = 0x4652_4d4f;
/// `PRAGMA user_version` this build writes.
pub(crate) const SCHEMA_VERSION: u32 = 1;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

const CREATE: &str = "
CREATE TABLE sources (
    id   INTEGER PRIMARY KEY,
    room TEXT NOT NULL,
    kind INTEGER NOT NULL,            -- 0 = sensor, 1 = node
    name TEXT NOT NULL,
    UNIQUE (room, kind, name)
);
CREATE TABLE readings (
    seq    INTEGER PRIMARY KEY,
    ts     INTEGER NOT NULL,          -- unix ms
    source INTEGER NOT NULL,          -- sources.id
    metric INTEGER NOT NULL,          -- farm_protocol::Metric::code
    value  REAL NOT NULL
);
CREATE TABLE events (
    seq  INTEGER PRIMARY KEY,
    id   BLOB NOT NULL UNIQUE,        -- UUID, 16 bytes
    ts   INTEGER NOT NULL,            -- unix ms
    kind TEXT NOT NULL,
    body TEXT NOT NULL                -- JSON of farm_protocol::EventKind
);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES
    ('next_seq', 1), ('acked_seq', 0), ('evicted', 0), ('pruned', 0), ('clean_shutdown', 0);
";

/// Opens (creating if absent) the outbox at `path`.
///
/// An existing file is first inspected without writing: a file that is not SQLite, another
/// program's database, a newer schema or a corrupt database is refused and left as it was.
pub(crate) fn open(path: &Path, settings: &OutboxSettings) -> Result<Connection, OutboxError> {
    let existing = match std::fs::metadata(path) {
        Ok(meta) => meta.len() > 0,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(source) => {
            return Err(OutboxError::Io {
                path: path.to_owned(),
                source,
            })
        }
    };
    if existing {
        inspect(path)?;
    }
    let conn = Connection::open(path).context("open")?;
    configure(&conn, path, settings)?;
    if existing {
        // Until Store::close_cleanly says otherwise, the next start checks the file.
        set_clean_shutdown(&conn, false)?;
    }
    if !existing {
        conn.execute_batch(&format!(
            "BEGIN; {CREATE} PRAGMA application_id = {APPLICATION_ID}; \
             PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        ))
        .context("create schema")?;
        // Move the header into the main file now, so a later inspection sees our id.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .context("checkpoint")?;
    }
    Ok(conn)
}

/// Checks an existing file read-only: header, application id, version, integrity.
fn inspect(path: &Path) -> Result<(), OutboxError> {
    let mut header = [0u8; 100];
    let read = File::open(path)
        .and_then(|mut f| f.read(&mut header))
        .map_err(|source| OutboxError::Io {
            path: path.to_owned(),
            source,
        })?;
    if read < header.len() || &header[..16] != SQLITE_MAGIC {
        return Err(OutboxError::NotSqlite {
            path: path.to_owned(),
        });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let corrupt = |e: rusqlite::Error| OutboxError::Corrupt {
        path: path.to_owned(),
        detail: e.to_string(),
    };
    let conn = Connection::open_with_flags(path, flags).map_err(corrupt)?;
    let pragma = |name: &str| -> Result<u32, OutboxError> {
        conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get::<_, i64>(0))
            .map(|v| v as u32)
            .map_err(corrupt)
    };
    let application_id = pragma("application_id")?;
    if application_id != APPLICATION_ID {
        return Err(OutboxError::Foreign {
            path: path.to_owned(),
            application_id,
        });
    }
    let found = pragma("user_version")?;
    if found > SCHEMA_VERSION {
        return Err(OutboxError::NewerSchema {
            path: path.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    // A full read of the file is slow on an SD card: only after a crash or power cut, which is
    // when damage happens. A clean shutdown leaves clean_shutdown = 1.
    let clean: Option<i64> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'clean_shutdown'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(corrupt)?;
    if clean != Some(1) {
        let verdict: String = conn
            .query_row("PRAGMA quick_check(1)", [], |row| row.get(0))
            .map_err(corrupt)?;
        if verdict != "ok" {
            return Err(OutboxError::Corrupt {
                path: path.to_owned(),
                detail: verdict,
            });
        }
    }
    Ok(())
}

/// Per-connection settings: WAL, durability level, and a WAL sized to the quota.
fn configure(conn: &Connection, path: &Path, settings: &OutboxSettings) -> Result<(), OutboxError> {
    let page_size: u64 = 4096;
    // Keep the WAL small against the quota: at most a quarter of it, at most 1000 pages.
    let wal_pages = (settings.max_bytes / page_size / 4).clamp(16, 1000);
    let synchronous = match settings.synchronous {
        Synchronous::Normal => "NORMAL",
        Synchronous::Full => "FULL",
    };
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .context("set WAL")?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OutboxError::Io {
            path: path.to_owned(),
            source: std::io::Error::other(format!(
                "SQLite cannot use WAL here (journal_mode stays {mode}); put data_dir on a local filesystem"
            )),
        });
    }
    conn.execute_batch(&format!(
        "PRAGMA synchronous = {synchronous};
         PRAGMA wal_autocheckpoint = {wal_pages};
         PRAGMA journal_size_limit = {};
         PRAGMA temp_store = MEMORY;",
        wal_pages * page_size
    ))
    .context("configure")?;
    Ok(())
}

/// Records whether the outbox was closed cleanly (see `inspect`).
pub(crate) fn set_clean_shutdown(conn: &Connection, clean: bool) -> Result<(), OutboxError> {
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('clean_shutdown', ?1)",
        [i64::from(clean)],
    )
    .context("mark shutdown")?;
    Ok(())
}
