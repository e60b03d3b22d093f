//! Errors of the outbox.

use std::path::PathBuf;

use farm_protocol::{Metric, Seq};

/// What can go wrong with the outbox.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The file at the outbox path is not an SQLite database. It was left untouched.
    #[error("{path}: not an SQLite database (bad header); move it away or point data_dir elsewhere; the file was not modified")]
    NotSqlite {
        /// The outbox path.
        path: PathBuf,
    },
    /// The file is an SQLite database of some other program. It was left untouched.
    #[error("{path}: an SQLite database that is not an edge-agent outbox (application_id {application_id:#010x}); the file was not modified")]
    Foreign {
        /// The outbox path.
        path: PathBuf,
        /// The file's application id.
        application_id: u32,
    },
    /// The outbox was written by a newer edge-agent.
    #[error("{path}: outbox schema version {found} is newer than this edge-agent understands ({supported}); upgrade edge-agent")]
    NewerSchema {
        /// The outbox path.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build writes.
        supported: u32,
    },
    /// SQLite's integrity check failed. The file was left untouched.
    #[error("{path}: the outbox is corrupt ({detail}); move it away to start a new one (its unsynced data is lost unless recovered with `sqlite3 .recover`); the file was not modified")]
    Corrupt {
        /// The outbox path.
        path: PathBuf,
        /// What SQLite reported.
        detail: String,
    },
    /// A filesystem error around the outbox file.
    #[error("{path}: {source}")]
    Io {
        /// The outbox path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An SQLite error while using the outbox.
    #[error("outbox {context}: {source}")]
    Sqlite {
        /// What the outbox was doing.
        context: &'static str,
        /// The cause.
        source: rusqlite::Error,
    },
    /// A stored event could not be decoded.
    #[error("outbox event seq {seq} cannot be decoded: {detail}")]
    BadEvent {
        /// The event's seq.
        seq: Seq,
        /// Why.
        detail: String,
    },
    /// The reading's value is NaN, infinite or outside its metric's physical range; it was not
    /// stored.
    #[error("{metric} value {value} is outside the physical range; not stored")]
    Implausible {
        /// The metric.
        metric: Metric,
        /// The value.
        value: f64,
    },
    /// An acknowledgement for seqs the outbox never handed out.
    #[error("ack of seq {acked} is beyond the last seq handed out ({last})")]
    AckBeyondEnd {
        /// The seq acknowledged.
        acked: Seq,
        /// The last seq handed out.
        last: Seq,
    },
    /// The outbox thread's queue is full; the reading was dropped (and counted).
    #[error("outbox queue is full; reading dropped")]
    QueueFull,
    /// The outbox thread has stopped.
    #[error("the outbox has been closed")]
    Closed,
}

/// Adds what the outbox was doing to an SQLite error.
pub(crate) trait Context<T> {
    /// Wraps the error with `context`.
    fn context(self, context: &'static str) -> Result<T, OutboxError>;
}

impl<T> Context<T> for Result<T, rusqlite::Error> {
    fn context(self, context: &'static str) -> Result<T, OutboxError> {
        self.map_err(|source| OutboxError::Sqlite { context, source })
    }
}
