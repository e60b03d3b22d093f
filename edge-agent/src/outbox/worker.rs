//! The outbox thread and [`Outbox`], the handle producers use.
//!
//! SQLite is blocking, so one plain thread owns the [`Store`]. Readings arrive through a
//! bounded channel and are committed together at most `commit_interval` after the first of
//! them arrived; an event commits at once (durably) and answers with its seq.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use farm_protocol::{Seq, UnixMillis};
use tokio::sync::oneshot;

use crate::now_ms;

use super::{NewEvent, NewReading, OutboxError, OutboxSettings, OutboxStats, Pending, Store};

/// Readings the channel holds before producers' readings are dropped (and counted).
const QUEUE_CAPACITY: usize = 65_536;
/// Buffered readings that trigger a commit before `commit_interval` is up.
const COMMIT_AT_ROWS: usize = 20_000;
/// Buffered readings kept while commits fail; beyond it the oldest are dropped (counted).
const MAX_BUFFERED: usize = 500_000;
/// How often synced history is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// At most one log line per this while commits keep failing.
const ERROR_LOG_EVERY: Duration = Duration::from_secs(10);

type Reply<T> = oneshot::Sender<Result<T, OutboxError>>;

enum Msg {
    Reading(NewReading),
    Event(NewEvent, Reply<Seq>),
    Ack(Seq, Reply<()>),
    Pending {
        after: Seq,
        max_readings: usize,
        max_events: usize,
        reply: Reply<Option<Pending>>,
    },
    Flush(Reply<Seq>),
    Backlog(Reply<(u64, Option<UnixMillis>)>),
    Read(Box<dyn FnOnce(&Store) + Send>),
    Shutdown(Reply<Seq>),
}

#[derive(Default)]
struct SharedStats {
    committed_seq: AtomicU64,
    acked_seq: AtomicU64,
    evicted: AtomicU64,
    pruned: AtomicU64,
    dropped: AtomicU64,
    commit_errors: AtomicU64,
    used_bytes: AtomicU64,
    max_bytes: AtomicU64,
}

/// The handle to the outbox thread. Cheap to clone; producers never block on it.
#[derive(Clone)]
pub struct Outbox {
    tx: SyncSender<Msg>,
    stats: Arc<SharedStats>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Outbox {
    /// Opens the outbox at `path` (see [`Store::open`]) and starts its thread.
    pub fn open(path: &Path, settings: OutboxSettings) -> Result<Self, OutboxError> {
        let store = Store::open(path, settings)?;
        let stats = Arc::new(SharedStats::default());
        publish(&stats, &store);
        let (tx, rx) = sync_channel(QUEUE_CAPACITY);
        let worker = Worker {
            store,
            rx,
            stats: Arc::clone(&stats),
            buffer: Vec::new(),
            last_error_log: None,
        };
        let thread = std::thread::Builder::new()
            .name("outbox".into())
            .spawn(move || worker.run())
            .map_err(|source| OutboxError::Io {
                path: path.to_owned(),
                source,
            })?;
        Ok(Outbox {
            tx,
            stats,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// Queues a reading for the next commit. Never blocks: a full queue drops the reading
    /// and counts it. A NaN or out-of-range value is refused and not stored.
    pub fn append_reading(&self, reading: NewReading) -> Result<(), OutboxError> {
        check_plausible(&reading)?;
        self.tx
            .try_send(Msg::Reading(reading))
            .map_err(|e| match e {
                TrySendError::Full(_) => {
                    self.stats.dropped.fetch_add(1, Relaxed);
                    OutboxError::QueueFull
                }
                TrySendError::Disconnected(_) => OutboxError::Closed,
            })
    }

    /// Queues a reading, waiting while the queue is full: for bulk producers (MQTT ingest,
    /// imports) that should slow down rather than lose data. Not for the control loop.
    pub fn append_reading_blocking(&self, reading: NewReading) -> Result<(), OutboxError> {
        check_plausible(&reading)?;
        self.tx
            .send(Msg::Reading(reading))
            .map_err(|_| OutboxError::Closed)
    }

    /// Commits an event durably (with the readings queued before it) and returns its seq.
    pub async fn append_event(&self, event: NewEvent) -> Result<Seq, OutboxError> {
        self.request(|reply| Msg::Event(event, reply)).await
    }

    /// Queues an event for a durable commit without waiting for it (for tasks that must not
    /// wait on the disk, e.g. sampling). It commits in queue order; a full queue refuses it.
    pub fn record_event(&self, event: NewEvent) -> Result<(), OutboxError> {
        let (reply, _) = oneshot::channel();
        self.tx
            .try_send(Msg::Event(event, reply))
            .map_err(|e| match e {
                TrySendError::Full(_) => OutboxError::QueueFull,
                TrySendError::Disconnected(_) => OutboxError::Closed,
            })
    }

    /// Marks everything `<= seq` synced.
    pub async fn ack(&self, seq: Seq) -> Result<(), OutboxError> {
        self.request(|reply| Msg::Ack(seq, reply)).await
    }

    /// The oldest unsynced items (see [`Store::pending`]).
    pub async fn pending(
        &self,
        max_readings: usize,
        max_events: usize,
    ) -> Result<Option<Pending>, OutboxError> {
        self.pending_after(0, max_readings, max_events).await
    }

    /// The oldest unsynced items with `seq > after` (see [`Store::pending_after`]).
    pub async fn pending_after(
        &self,
        after: Seq,
        max_readings: usize,
        max_events: usize,
    ) -> Result<Option<Pending>, OutboxError> {
        self.request(|reply| Msg::Pending {
            after,
            max_readings,
            max_events,
            reply,
        })
        .await
    }

    /// How many items wait to be synced, and the device time of the oldest (for `/metrics`).
    pub async fn backlog(&self) -> Result<(u64, Option<UnixMillis>), OutboxError> {
        self.request(Msg::Backlog).await
    }

    /// Runs `read` against the store on the outbox thread (after what is queued before it)
    /// and returns its answer: for views that need more than [`Outbox::stats`].
    pub async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Store) -> Result<T, OutboxError> + Send + 'static,
    ) -> Result<T, OutboxError> {
        self.request(|reply: Reply<T>| {
            Msg::Read(Box::new(move |store| {
                let _ = reply.send(read(store));
            }))
        })
        .await
    }

    /// Commits everything queued so far and returns the last committed seq.
    pub async fn flush(&self) -> Result<Seq, OutboxError> {
        self.request(Msg::Flush).await
    }

    /// The counters as of the last commit.
    pub fn stats(&self) -> OutboxStats {
        let s = &self.stats;
        OutboxStats {
            committed_seq: s.committed_seq.load(Relaxed),
            acked_seq: s.acked_seq.load(Relaxed),
            evicted: s.evicted.load(Relaxed),
            pruned: s.pruned.load(Relaxed),
            dropped: s.dropped.load(Relaxed),
            commit_errors: s.commit_errors.load(Relaxed),
            used_bytes: s.used_bytes.load(Relaxed),
            max_bytes: s.max_bytes.load(Relaxed),
        }
    }

    /// Commits what is queued, stops the thread and waits for it. Other clones of the handle
    /// get [`OutboxError::Closed`] afterwards; readings they queued before the close are
    /// committed, later ones are refused.
    pub async fn close(self) -> Result<Seq, OutboxError> {
        let committed = self.request(Msg::Shutdown).await;
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        committed
    }

    async fn request<T>(&self, msg: impl FnOnce(Reply<T>) -> Msg) -> Result<T, OutboxError> {
        let (reply, answer) = oneshot::channel();
        let tx = self.tx.clone();
        let msg = msg(reply);
        // A full queue makes the request wait, but only on this task, never on the caller's
        // thread.
        tokio::task::spawn_blocking(move || tx.send(msg).map_err(drop))
            .await
            .map_err(|_| OutboxError::Closed)?
            .map_err(|_| OutboxError::Closed)?;
        answer.await.map_err(|_| OutboxError::Closed)?
    }
}

struct Worker {
    store: Store,
    rx: Receiver<Msg>,
    stats: Arc<SharedStats>,
    buffer: Vec<NewReading>,
    last_error_log: Option<Instant>,
}

impl Worker {
    fn run(mut self) {
        let interval = self.store.settings().commit_interval;
        let mut deadline: Option<Instant> = None;
        let mut next_prune = Instant::now();
        loop {
            let msg = match deadline {
                // Idle: wake up anyway now and then, so pruning runs on a quiet device too.
                None => self.rx.recv_timeout(PRUNE_EVERY),
                Some(at) => self
                    .rx
                    .recv_timeout(at.saturating_duration_since(Instant::now())),
            };
            let committed = match msg {
                Ok(Msg::Reading(r)) => {
                    self.buffer.push(r);
                    deadline.get_or_insert_with(|| Instant::now() + interval);
                    self.buffer.len() >= COMMIT_AT_ROWS && self.commit(&[]).is_ok()
                }
                Ok(Msg::Event(event, reply)) => {
                    let _ = reply.send(self.commit(&[event]));
                    true
                }
                Ok(Msg::Ack(seq, reply)) => {
                    let _ = reply.send(self.store.ack(seq));
                    publish(&self.stats, &self.store);
                    false
                }
                Ok(Msg::Pending {
                    after,
                    max_readings,
                    max_events,
                    reply,
                }) => {
                    let reply_value = self.store.pending_after(after, max_readings, max_events);
                    let _ = reply.send(reply_value);
                    false
                }
                Ok(Msg::Backlog(reply)) => {
                    let _ = reply.send(self.store.backlog());
                    false
                }
                Ok(Msg::Read(read)) => {
                    read(&self.store);
                    false
                }
                Ok(Msg::Flush(reply)) => {
                    let _ = reply.send(self.commit(&[]));
                    true
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.commit(&[]);
                    true
                }
                Ok(Msg::Shutdown(reply)) => {
                    let _ = reply.send(self.finish());
                    return;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.finish();
                    return;
                }
            };
            if committed || self.buffer.is_empty() {
                // Empty: nothing to wait for. Not empty after a commit: it failed; retry later.
                deadline = (!self.buffer.is_empty()).then(|| Instant::now() + interval);
            }
            if Instant::now() >= next_prune {
                next_prune = Instant::now() + PRUNE_EVERY;
                if let Err(e) = self.store.prune(now_ms()) {
                    tracing::warn!(error = %e, "Outbox pruning failed; will retry.");
                }
                publish(&self.stats, &self.store);
            }
        }
    }

    /// The last commit before the thread ends; marks the file cleanly closed if it worked.
    fn finish(&mut self) -> Result<Seq, OutboxError> {
        let committed = self.commit(&[])?;
        if let Err(e) = self.store.close_cleanly() {
            tracing::warn!(error = %e, "Outbox not marked clean; the next start checks it.");
        }
        Ok(committed)
    }

    /// Commits the buffered readings and `events`; on failure keeps the readings for the
    /// next attempt. Returns the last committed seq.
    fn commit(&mut self, events: &[NewEvent]) -> Result<Seq, OutboxError> {
        if self.buffer.is_empty() && events.is_empty() {
            return Ok(self.store.counters().next_seq - 1);
        }
        match self.store.append(&self.buffer, events) {
            Ok(last) => {
                self.buffer.clear();
                if let Err(e) = self.store.enforce_quota(now_ms()) {
                    tracing::error!(error = %e, "Outbox quota enforcement failed.");
                }
                publish(&self.stats, &self.store);
                Ok(last)
            }
            Err(e) => {
                self.stats.commit_errors.fetch_add(1, Relaxed);
                if self.buffer.len() > MAX_BUFFERED {
                    let excess = self.buffer.len() - MAX_BUFFERED;
                    self.buffer.drain(..excess);
                    self.stats.dropped.fetch_add(excess as u64, Relaxed);
                }
                if self
                    .last_error_log
                    .is_none_or(|t| t.elapsed() >= ERROR_LOG_EVERY)
                {
                    self.last_error_log = Some(Instant::now());
                    tracing::error!(error = %e, buffered = self.buffer.len(), "Outbox commit failed; readings kept in memory and retried.");
                }
                Err(e)
            }
        }
    }
}

/// A NaN or out-of-range value never enters the outbox: the cloud would refuse its batch.
fn check_plausible(reading: &NewReading) -> Result<(), OutboxError> {
    if reading.metric.is_plausible(reading.value) {
        Ok(())
    } else {
        Err(OutboxError::Implausible {
            metric: reading.metric,
            value: reading.value,
        })
    }
}

fn publish(stats: &SharedStats, store: &Store) {
    let c = store.counters();
    stats.committed_seq.store(c.next_seq - 1, Relaxed);
    stats.acked_seq.store(c.acked_seq, Relaxed);
    stats.evicted.store(c.evicted, Relaxed);
    stats.pruned.store(c.pruned, Relaxed);
    stats.max_bytes.store(store.settings().max_bytes, Relaxed);
    if let Ok(used) = store.used_bytes() {
        stats.used_bytes.store(used, Relaxed);
    }
}
