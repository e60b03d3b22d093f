//! The uplink loop: one batch in flight, in seq order.
//!
//! `pending()` → [`encode`] on a blocking thread → POST → act on the [`Outcome`]:
//! - delivered: ack `min(acked_seq, last_seq)` (a watermark beyond this batch must not ack
//!   rows the service never got from it), then the next batch at once if this one was full
//!   (catching up at full speed), else wait `interval`. While a full batch is in flight the
//!   next one is read and encoded (still one request at a time); it is used only if the
//!   batch in flight is delivered whole, else thrown away and read again;
//! - retry: the *same* encoded batch again after a [`Backoff`] delay;
//! - split (413): the same range again with half the limits, back to the configured limits
//!   after the next delivery;
//! - unauthorized (401) or rejected (other 4xx): one critical alarm event, then the loop
//!   ends; the rows stay in the outbox and the rest of the agent runs on.
//!
//! The task is aborted at shutdown wherever it waits; a batch in flight is simply sent again
//! next time (the service is idempotent, DESIGN.md §3.3).

use std::sync::Arc;
use std::time::{Duration, Instant};

use farm_protocol::{EventKind, Seq, Severity};
use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};
use uuid::Uuid;

use super::backoff::Backoff;
use super::batch::{encode, Limits, Prepared};
use super::client::{SyncClient, UplinkError};
use super::outcome::{ErrorKind, Outcome};
use super::status::{SyncState, SyncStatus};
use crate::config::SyncConfig;
use crate::outbox::{NewEvent, Outbox};

/// While failures go on, at most one warning per this (the first failure always logs).
const WARN_EVERY: Duration = Duration::from_secs(60);

/// What the loop does after a step.
enum Next {
    /// Send the next batch at once.
    Now,
    /// Wait, then go on.
    After(Duration),
    /// Syncing is over until restart.
    Stop,
}

/// A backlog being sent at full speed: counted for the "caught up" log line.
struct CatchUp {
    started: Instant,
    batches: u64,
    readings: u64,
    events: u64,
}

/// The uplink task: build with [`Uplink::new`], run with [`Uplink::run`].
pub struct Uplink {
    config: SyncConfig,
    device_id: String,
    outbox: Outbox,
    client: SyncClient,
    status: Arc<SyncStatus>,
    rng: SmallRng,
    /// The limits of the next batch read from the outbox (smaller after a 413).
    limits: Limits,
    /// A batch to send again (after a retryable failure).
    current: Option<Prepared>,
    /// The batch after the one just delivered, read while that one was in flight.
    prefetched: Option<Prepared>,
    /// Failures since the last delivery.
    failures: u32,
    last_warning: Option<Instant>,
    catch_up: Option<CatchUp>,
}

impl Uplink {
    /// Reads the token (and CA bundle) and builds the HTTP client; sends nothing yet.
    pub fn new(
        config: SyncConfig,
        device_id: String,
        outbox: Outbox,
        status: Arc<SyncStatus>,
    ) -> Result<Self, UplinkError> {
        let client = SyncClient::new(&config)?;
        status.update(|s| s.state = SyncState::Idle);
        Ok(Uplink {
            limits: configured(&config),
            config,
            device_id,
            outbox,
            client,
            status,
            rng: SmallRng::seed_from_u64(Uuid::new_v4().as_u64_pair().0),
            current: None,
            prefetched: None,
            failures: 0,
            last_warning: None,
            catch_up: None,
        })
    }

    /// Sends batches until syncing stops for good; at shutdown the task is aborted.
    pub async fn run(mut self) {
        let url = self.client.url().clone();
        tracing::info!(%url, batch_readings = self.config.batch_readings, "Syncing to the cloud.");
        if url.scheme() == "http" {
            tracing::warn!(%url, "sync.url is plain http: the device token and the data travel unencrypted.");
        }
        loop {
            match self.step().await {
                // Other tasks get their turn between batches even on a busy link.
                Next::Now => tokio::task::yield_now().await,
                Next::After(wait) => tokio::time::sleep(wait).await,
                Next::Stop => return,
            }
        }
    }

    /// One batch: the one to retry, or the next from the outbox; sent and acted upon.
    async fn step(&mut self) -> Next {
        let batch = match self.current.take().or_else(|| self.prefetched.take()) {
            Some(batch) => batch,
            None => match self.prepare(0).await {
                Ok(Some(batch)) => batch,
                Ok(None) => return self.idle(),
                Err(why) => return self.failed(ErrorKind::Local, why, None),
            },
        };
        self.status.update(|s| s.state = SyncState::Sending);
        // A full batch means more is waiting: read and encode it while this one travels
        // (not while splitting after a 413: the next batch gets the configured size again).
        let splitting = self.limits != configured(&self.config);
        let next = async {
            if batch.full && !splitting {
                self.prepare(batch.last_seq).await.ok().flatten()
            } else {
                None
            }
        };
        let (outcome, next) = tokio::join!(self.client.send(batch.body.clone()), next);
        match outcome {
            Outcome::Delivered { acked_seq } => {
                let whole = acked_seq >= batch.last_seq;
                let next_batch = self.delivered(batch, acked_seq).await;
                if whole {
                    self.prefetched = next;
                }
                next_batch
            }
            Outcome::Retry { kind, why } => self.failed(kind, why, Some(batch)),
            Outcome::Split => self.split(batch).await,
            Outcome::Unauthorized { message } => {
                let text = format!(
                    "the sync-service refused the device token (401: {message}); syncing stopped until the agent restarts; check sync.token_file"
                );
                self.stop(ErrorKind::Unauthorized, "sync_unauthorized", text)
                    .await
            }
            Outcome::Rejected { status, message } => {
                let text = format!(
                    "the sync-service refused batch seq {}..={} ({status}: {message}); syncing stopped until the agent restarts; the data stays in the outbox",
                    batch.first_seq, batch.last_seq
                );
                self.stop(ErrorKind::Rejected, "sync_rejected", text).await
            }
        }
    }

    /// The next batch from the outbox after seq `after` (0: from the watermark), encoded off
    /// the runtime's thread; `None` if all is synced.
    async fn prepare(&self, after: Seq) -> Result<Option<Prepared>, String> {
        let pending = self
            .outbox
            .pending_after(after, self.limits.readings, self.limits.events)
            .await
            .map_err(|e| format!("cannot read the outbox: {e}"))?;
        let Some(pending) = pending else {
            return Ok(None);
        };
        let (device_id, limits, level) =
            (self.device_id.clone(), self.limits, self.config.gzip_level);
        tokio::task::spawn_blocking(move || encode(pending, &device_id, limits, level))
            .await
            .map_err(|e| format!("the encoding task failed: {e}"))?
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// Nothing to send: look again after `interval`.
    fn idle(&mut self) -> Next {
        self.finish_catch_up();
        self.status.update(|s| s.state = SyncState::Idle);
        Next::After(self.config.interval)
    }

    /// 200: ack what this batch covered, then go on.
    async fn delivered(&mut self, batch: Prepared, acked_seq: Seq) -> Next {
        if acked_seq < batch.first_seq {
            let why = format!(
                "the sync-service acknowledged only up to seq {acked_seq}, below this batch's first seq {}",
                batch.first_seq
            );
            return self.failed(ErrorKind::BadResponse, why, Some(batch));
        }
        let upto = acked_seq.min(batch.last_seq);
        if let Err(e) = self.outbox.ack(upto).await {
            // Not marked synced: the rows are read and sent again (harmless).
            return self.failed(
                ErrorKind::Local,
                format!("cannot record the ack: {e}"),
                None,
            );
        }
        if self.failures > 0 {
            tracing::info!(
                failures = self.failures,
                "Sync recovered: the cloud accepts batches again."
            );
        }
        self.failures = 0;
        self.limits = configured(&self.config);
        self.status.update(|s| {
            s.state = SyncState::Idle;
            s.batches += 1;
            s.readings += batch.readings as u64;
            s.events += batch.events as u64;
            s.last_success_ms = Some(crate::now_ms());
            s.consecutive_failures = 0;
            s.backoff = None;
        });
        let more = batch.full || upto < batch.last_seq;
        self.track_catch_up(&batch, more).await;
        if more {
            Next::Now
        } else {
            Next::After(self.config.interval)
        }
    }

    /// 413: the same range again in smaller batches, or the end if one item is too large.
    async fn split(&mut self, batch: Prepared) -> Next {
        self.status.update(|s| s.count_error(ErrorKind::TooLarge));
        match Limits::split(&batch) {
            Some(limits) => {
                tracing::info!(
                    first_seq = batch.first_seq,
                    readings = batch.readings,
                    events = batch.events,
                    max_readings = limits.readings,
                    max_events = limits.events,
                    "Batch too large for the sync-service (413); sending it in smaller parts."
                );
                self.limits = limits;
                Next::Now
            }
            None => {
                let text = format!(
                    "the sync-service refused seq {} alone as too large (413); syncing stopped until the agent restarts; the data stays in the outbox",
                    batch.first_seq
                );
                self.stop(ErrorKind::Rejected, "sync_rejected", text).await
            }
        }
    }

    /// A retryable failure: keep `batch` (if any) and back off.
    fn failed(&mut self, kind: ErrorKind, why: String, batch: Option<Prepared>) -> Next {
        self.failures = self.failures.saturating_add(1);
        let backoff = Backoff {
            max: self.config.max_backoff,
        };
        let wait = backoff.delay(self.failures, self.rng.random::<f64>());
        let quiet =
            self.failures > 1 && self.last_warning.is_some_and(|t| t.elapsed() < WARN_EVERY);
        if !quiet {
            self.last_warning = Some(Instant::now());
            tracing::warn!(kind = kind.name(), error = %why, failures = self.failures, retry_in = ?wait, "Sync failed; will retry the same batch.");
        }
        self.current = batch;
        let failures = self.failures;
        self.status.update(|s| {
            s.state = SyncState::BackingOff;
            s.count_error(kind);
            s.last_error = Some(why);
            s.last_error_kind = Some(kind);
            s.consecutive_failures = failures;
            s.backoff = Some(wait);
        });
        Next::After(wait)
    }

    /// Syncing cannot go on without an operator: record one critical alarm and stop.
    async fn stop(&mut self, kind: ErrorKind, code: &str, message: String) -> Next {
        tracing::error!(%code, %message, "Syncing stopped until restart.");
        self.status.update(|s| {
            s.state = SyncState::Stopped;
            s.count_error(kind);
            s.last_error = Some(message.clone());
            s.last_error_kind = Some(kind);
            s.backoff = None;
        });
        let alarm = NewEvent {
            id: Uuid::new_v4(),
            ts: crate::now_ms(),
            kind: EventKind::Alarm {
                room: None,
                code: code.to_owned(),
                severity: Severity::Critical,
                active: true,
                message,
            },
        };
        if let Err(e) = self.outbox.append_event(alarm).await {
            tracing::error!(error = %e, "Sync alarm not recorded.");
        }
        Next::Stop
    }

    /// Counts a delivered batch towards the catch-up; logs when one starts and ends.
    async fn track_catch_up(&mut self, batch: &Prepared, more: bool) {
        if more && self.catch_up.is_none() {
            let waiting = self.outbox.backlog().await.map_or(0, |(n, _)| n);
            tracing::info!(waiting, "Catching up: sending the backlog at full speed.");
            self.catch_up = Some(CatchUp {
                started: Instant::now(),
                batches: 0,
                readings: 0,
                events: 0,
            });
        }
        if let Some(c) = &mut self.catch_up {
            c.batches += 1;
            c.readings += batch.readings as u64;
            c.events += batch.events as u64;
        }
        if !more {
            self.finish_catch_up();
        }
    }

    /// Logs the end of a catch-up, if one was going on.
    fn finish_catch_up(&mut self) {
        if let Some(c) = self.catch_up.take() {
            tracing::info!(
                batches = c.batches,
                readings = c.readings,
                events = c.events,
                took = ?c.started.elapsed(),
                "Caught up: the backlog is synced."
            );
        }
    }
}

/// The batch limits from the config.
fn configured(config: &SyncConfig) -> Limits {
    Limits {
        readings: config.batch_readings,
        events: config.batch_events,
    }
}
