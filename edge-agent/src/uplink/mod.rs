//! The uplink (DESIGN.md §3.3): sends the outbox's unsynced rows to the sync-service in seq
//! order, one gzip JSON batch at a time, and marks them synced once the service has them.
//!
//! - `run.rs`: [`Uplink`], the loop (one batch in flight) and what it does with each outcome.
//! - `batch.rs`: outbox rows → batch → JSON → gzip; the smaller limits after a 413.
//! - `client.rs`: [`SyncClient`], reqwest over rustls, the device token, one POST.
//! - `outcome.rs`: [`Outcome`] (delivered / retry / split / unauthorized / rejected) from an
//!   HTTP answer; [`ErrorKind`].
//! - `backoff.rs`: [`Backoff`], capped exponential delays with equal jitter.
//! - `status.rs`: [`SyncStatus`], shared with `/metrics`.

mod backoff;
mod batch;
mod client;
mod outcome;
mod run;
mod status;

pub use backoff::Backoff;
pub use batch::{encode, Limits, Prepared};
pub use client::{SyncClient, UplinkError};
pub use outcome::{classify, ErrorKind, Outcome};
pub use run::Uplink;
pub use status::{write_metrics, SyncSnapshot, SyncState, SyncStatus};
