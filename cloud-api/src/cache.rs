//! The read cache of product availability (`GET /v1/products/{sku}`), kept exact by
//! PostgreSQL notifications.
//!
//! Every change to a product's lots, holds or row notifies channel `farm_stock` with the
//! product's id (migration 4), whoever makes it (this process, another instance,
//! sync-service). A listener connection drops the product's entries when it hears one. An
//! entry also ends at the next moment its availability changes by the clock alone (a hold or
//! a lot expiring) and after `http.read_cache_max_age` at most. While the listener is not
//! connected nothing is cached or served from the cache.
//!
//! Races: a read that started before a change and finishes after its notification must not
//! store its (old) answer. Each fill remembers the cache's generation before its query and
//! stores only if no notification came in between. This process's own writes drop their
//! products at once, before answering, so a client reads its own hold; another process's
//! change is seen as soon as its notification arrives (milliseconds).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A ready answer: compact JSON and its ETag.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The body.
    pub body: Arc<str>,
    /// Its weak ETag, `W/"…"`.
    pub etag: Arc<str>,
}

#[derive(Debug)]
struct Entry {
    product_id: i64,
    answer: Answer,
    until: Instant,
}

/// Cached answers by (tenant, SKU).
#[derive(Debug)]
pub struct ReadCache {
    max_age: Duration,
    entries: Mutex<HashMap<(i64, String), Entry>>,
    generation: AtomicU64,
    live: AtomicBool,
    /// Notifications heard (for `/metrics` and tests).
    pub notifications: AtomicU64,
    /// Reads answered from the cache.
    pub hits: AtomicU64,
}

/// Above this many entries the cache starts over (a bound on memory).
const MAX_ENTRIES: usize = 100_000;

impl ReadCache {
    /// A cache keeping answers at most `max_age` (zero: never).
    pub fn new(max_age: Duration) -> ReadCache {
        ReadCache {
            max_age,
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
            live: AtomicBool::new(false),
            notifications: AtomicU64::new(0),
            hits: AtomicU64::new(0),
        }
    }

    /// Whether answers are being cached (the listener is connected).
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// The cached answer for `sku` of `tenant`, if any and still valid.
    pub fn get(&self, tenant: i64, sku: &str) -> Option<Answer> {
        if !self.is_live() {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(&(tenant, sku.to_owned()))?;
        if entry.until <= Instant::now() {
            return None;
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(entry.answer.clone())
    }

    /// The generation to pass to [`ReadCache::put`]; take it before the query.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores `answer` (read at `generation`, valid for `valid_for` by the clock) unless a
    /// change was heard since or the cache is not live.
    pub fn put(
        &self,
        generation: u64,
        key: (i64, String),
        product_id: i64,
        answer: Answer,
        valid_for: Option<Duration>,
    ) {
        let lifetime = valid_for.map_or(self.max_age, |v| v.min(self.max_age));
        if lifetime.is_zero() || !self.is_live() {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        // Checked under the lock that `forget` also takes: no change slips in between.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        let until = Instant::now() + lifetime;
        entries.insert(
            key,
            Entry {
                product_id,
                answer,
                until,
            },
        );
    }

    /// Drops every answer about `product_id` (a change was made or heard).
    pub fn forget(&self, product_id: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            entries.retain(|_, e| e.product_id != product_id);
        }
    }

    /// Drops everything and sets whether the cache is live.
    fn reset(&self, live: bool) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            entries.clear();
            self.live.store(live, Ordering::Release);
        }
    }
}

/// Listens on `farm_stock` through its own connection to `config`, for ever: drops the
/// products it hears about; on a lost connection stops caching, reconnects after a second
/// and starts again from empty.
pub async fn listen(cache: Arc<ReadCache>, config: tokio_postgres::Config) {
    if cache.max_age.is_zero() {
        return;
    }
    loop {
        match config.connect(tokio_postgres::NoTls).await {
            Ok((client, mut connection)) => {
                let listening = {
                    // The LISTEN needs the connection driven while it runs.
                    let listen = client.batch_execute("LISTEN farm_stock");
                    tokio::pin!(listen);
                    loop {
                        tokio::select! {
                            result = &mut listen => break result,
                            message = std::future::poll_fn(|cx| connection.poll_message(cx)) => {
                                if message.is_none() { break Ok(()); }
                            }
                        }
                    }
                };
                match listening {
                    Ok(()) => {
                        cache.reset(true);
                        tracing::info!("Listening for stock changes; availability is cached.");
                        hear(&cache, &mut connection).await;
                        cache.reset(false);
                        tracing::warn!(
                            "Lost the stock-change listener; caching stops until it is back."
                        );
                    }
                    Err(e) => tracing::warn!(error = %e, "LISTEN farm_stock failed; retrying."),
                }
                drop(client);
            }
            Err(e) => {
                tracing::debug!(error = %e, "Stock-change listener cannot connect; retrying.")
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Drops what each notification names until the connection ends.
async fn hear(
    cache: &ReadCache,
    connection: &mut tokio_postgres::Connection<
        tokio_postgres::Socket,
        tokio_postgres::tls::NoTlsStream,
    >,
) {
    while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
        match message {
            Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                cache.notifications.fetch_add(1, Ordering::Relaxed);
                match n.payload().parse() {
                    Ok(product_id) => cache.forget(product_id),
                    Err(_) => cache.reset(true),
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "Stock-change listener failed.");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> Answer {
        Answer {
            body: text.into(),
            etag: "W/\"x\"".into(),
        }
    }

    fn live() -> ReadCache {
        let cache = ReadCache::new(Duration::from_secs(60));
        cache.reset(true);
        cache
    }

    #[test]
    fn nothing_is_cached_while_not_listening() {
        let cache = ReadCache::new(Duration::from_secs(60));
        cache.put(cache.generation(), (1, "A".into()), 7, answer("a"), None);
        assert!(cache.get(1, "A").is_none());
    }

    #[test]
    fn a_change_drops_the_product_and_blocks_fills_that_started_before_it() {
        let cache = live();
        let before = cache.generation();
        cache.put(before, (1, "A".into()), 7, answer("a"), None);
        cache.put(before, (1, "B".into()), 8, answer("b"), None);
        assert_eq!(&*cache.get(1, "A").unwrap().body, "a");
        assert!(
            cache.get(2, "A").is_none(),
            "another tenant's SKU A is another key"
        );
        cache.forget(7);
        assert!(cache.get(1, "A").is_none());
        assert_eq!(&*cache.get(1, "B").unwrap().body, "b");
        // A read that began before the change must not store its old answer.
        cache.put(before, (1, "A".into()), 7, answer("old"), None);
        assert!(cache.get(1, "A").is_none());
        cache.put(cache.generation(), (1, "A".into()), 7, answer("new"), None);
        assert_eq!(&*cache.get(1, "A").unwrap().body, "new");
    }

    #[test]
    fn an_answer_ends_when_the_clock_changes_it() {
        let cache = live();
        cache.put(
            cache.generation(),
            (1, "A".into()),
            7,
            answer("a"),
            Some(Duration::ZERO),
        );
        assert!(cache.get(1, "A").is_none());
        let off = ReadCache::new(Duration::ZERO);
        off.reset(true);
        off.put(off.generation(), (1, "A".into()), 7, answer("a"), None);
        assert!(off.get(1, "A").is_none());
    }
}
