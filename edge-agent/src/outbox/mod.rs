//! The durable outbox (DESIGN.md §3.2): every reading and event the agent produces is buffered
//! here, in SQLite, until the cloud has acknowledged it.
//!
//! # Invariants
//! - **Sequence numbers.** Every reading and event gets a `seq` from one per-device counter,
//!   assigned in arrival order when it is committed. `next_seq` is stored in the same
//!   transaction as the rows it numbers, so a seq is never handed out twice — not across
//!   restarts, crashes (`kill -9`) or evictions.
//! - **Durability.** Readings are committed in batches at most `commit_interval` apart (WAL,
//!   `synchronous=NORMAL` by default: a commit survives the process being killed; an OS crash
//!   or power cut may lose the last commits since a checkpoint). An event is committed with
//!   `synchronous=FULL` (the WAL is fsynced) before its seq is returned to the caller.
//! - **Acknowledgement.** `acked_seq` is a watermark: everything `<= acked_seq` is synced.
//! - **Quota.** When the database's used pages exceed `max_bytes`, the oldest readings are
//!   deleted until it is below 90 % of the quota. Synced readings are always older than
//!   unsynced ones, so history goes first; unsynced readings deleted this way are counted as
//!   `evicted` (data lost) and raise an `outbox_eviction` alarm event. Events are never evicted.
//! - **Retention.** Synced readings and events older than `retain_local` are deleted.
//! - **Never waits.** Producers hand readings to the outbox thread through a bounded channel and
//!   never block; if the channel is full the reading is counted as `dropped`.
//!
//! # Layout
//! - `error`: [`OutboxError`].
//! - `schema`: opening the file, refusing foreign or corrupt files, creating the tables.
//! - `store`: [`Store`], the single-threaded SQLite logic (append, pending, ack).
//! - `quota`: eviction over `max_bytes` and pruning after `retain_local`.
//! - `recent`: stored events by kind, newest first (the harvest list).
//! - `series`: [`History`], a room's readings over a range downsampled for the panel's
//!   charts, on its own read-only connection.
//! - `worker`: the thread that owns the store and [`Outbox`], the handle producers use.

mod error;
mod quota;
mod recent;
mod schema;
mod series;
mod stats;
mod store;
mod worker;

pub use crate::config::{OutboxSettings, Synchronous};
pub use error::OutboxError;
pub use series::{Bucket, History, Series};
pub use stats::OutboxStats;
pub use store::{NewEvent, NewReading, Pending, Store, StoreCounters};
pub use worker::Outbox;

/// The file name of the outbox inside the data dir.
pub const FILE_NAME: &str = "outbox.sqlite";
