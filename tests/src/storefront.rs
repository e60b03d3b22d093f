//! The storefront API for tests: a real PostgreSQL (its own, or a [`crate::Cloud`]'s) and
//! the `cloud-api` binary on a fixed free port, with tenants, farms, products and keys made
//! through its admin CLI.
//!
//! Like [`crate::Cloud`], it finds `cloud-api` next to the test binary
//! ([`crate::workspace_bin`]); `cargo test --workspace` builds it.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::{
    free_port, temp_dir, try_http_exchange, wait_until, workspace_bin, Postgres, Process, TempDir,
};

/// How long the service may take to start.
const START: Duration = Duration::from_secs(60);

/// A running `cloud-api`.
pub struct Storefront {
    /// The running service (`None` while stopped).
    pub service: Option<Process>,
    /// `127.0.0.1:PORT` of the service; the same across restarts.
    pub addr: String,
    /// The PostgreSQL server, when the storefront has its own (database `farm`).
    pub postgres: Option<Postgres>,
    config: PathBuf,
    bin: PathBuf,
    _dir: TempDir,
}

/// One product of [`Storefront::tenant`]: (SKU, unit, shelf life in days).
pub type ProductSpec<'a> = (&'a str, &'a str, u32);

impl Storefront {
    /// Its own PostgreSQL and the service; `extra` is added to the config (e.g.
    /// `"[rate_limit]\nper_second = 5\n"`; `[http]` keys join the `[http]` table).
    pub fn start(extra: &str) -> Storefront {
        let postgres = Postgres::start();
        let url = postgres.create_database("farm");
        let mut storefront = Storefront::start_on(&url, extra);
        storefront.postgres = Some(postgres);
        storefront
    }

    /// The service on the database at `url` (e.g. a [`crate::Cloud`]'s, to share it with
    /// sync-service).
    pub fn start_on(url: &str, extra: &str) -> Storefront {
        let dir = temp_dir();
        let port = free_port();
        let config = dir.path().join("cloud-api.toml");
        // A generous pool and rate limit unless `extra` says otherwise: tests that race
        // requests want them to race in PostgreSQL, not in the pool's queue.
        // `extra`'s own `[http]` keys join the `[http]` table written here.
        let (http, rest) = match extra.split_once("[http]\n") {
            Some((before, after)) => {
                let end = after.find("\n[").map_or(after.len(), |i| i + 1);
                (&after[..end], format!("{before}{}", &after[end..]))
            }
            None => ("", extra.to_owned()),
        };
        let mut text = format!(
            "[http]\nlisten = \"127.0.0.1:{port}\"\n{http}\n\
             [postgres]\nurl = \"{url}\"\npool_size = 64\n\n"
        );
        if !rest.contains("[rate_limit]") {
            text.push_str("[rate_limit]\nper_second = 100000\nburst = 100000\n\n");
        }
        text.push_str(&rest);
        std::fs::write(&config, text).expect("write the cloud-api config");
        let mut storefront = Storefront {
            service: None,
            addr: format!("127.0.0.1:{port}"),
            postgres: None,
            config,
            bin: workspace_bin("cloud-api"),
            _dir: dir,
        };
        storefront.start_service();
        storefront
    }

    /// Starts the service (again) and waits until it listens.
    pub fn start_service(&mut self) {
        let process = crate::start_service("cloud-api", &self.bin, &self.config, &self.addr);
        self.service = Some(process);
        // Tests run with the read cache live (unless their config turns it off), so what
        // they see does not depend on when the stock listener happens to connect.
        let config = std::fs::read_to_string(&self.config).unwrap_or_default();
        if !config.contains("read_cache_max_age = \"0s\"") {
            wait_until("the stock listener connects", START, || {
                self.metric("farm_api_read_cache_live") == 1.0
            });
        }
    }

    /// A value from the service's `/metrics` (0 if absent).
    pub fn metric(&self, series: &str) -> f64 {
        crate::metric(&self.addr, series).unwrap_or(0.0)
    }

    /// `cloud-api <args> --config <config>`, run to completion: (exit code, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (Option<i32>, String, String) {
        crate::run_with_config(&self.bin, args, &self.config)
    }

    /// [`Storefront::cli`] that must succeed; returns stdout.
    pub fn admin(&self, args: &[&str]) -> String {
        let (code, stdout, stderr) = self.cli(args);
        assert_eq!(code, Some(0), "cloud-api {args:?} failed: {stderr}");
        stdout
    }

    /// Creates tenant `tenant` with `farms` and `products` through the CLI and returns a new
    /// API key of it.
    pub fn tenant(&self, tenant: &str, farms: &[&str], products: &[ProductSpec<'_>]) -> String {
        self.admin(&["tenant", "add", "--tenant", tenant]);
        for farm in farms {
            self.admin(&["farm", "add", "--tenant", tenant, "--farm", farm]);
        }
        for (sku, unit, days) in products {
            let days = days.to_string();
            self.admin(&[
                "product",
                "add",
                "--tenant",
                tenant,
                "--sku",
                sku,
                "--name",
                sku,
                "--unit",
                unit,
                "--shelf-life-days",
                &days,
            ]);
        }
        self.key(tenant)
    }

    /// A new API key of `tenant`.
    pub fn key(&self, tenant: &str) -> String {
        let stdout = self.admin(&["key", "add", "--tenant", tenant, "--name", "test"]);
        stdout.trim().to_owned()
    }

    /// `psql` on the storefront's own database.
    pub fn sql(&self, sql: &str) -> String {
        let postgres = self
            .postgres
            .as_ref()
            .expect("the storefront's own PostgreSQL");
        postgres.psql("farm", sql)
    }

    /// Adds a lot of `quantity` of `sku` to `farm` of `tenant`, harvested `age_days` ago
    /// (its best-before follows from the product's shelf life), as sync-service would from a
    /// harvest event; returns the lot id.
    pub fn add_lot(
        &self,
        tenant: &str,
        farm: &str,
        sku: &str,
        quantity: f64,
        age_days: f64,
    ) -> i64 {
        let device = format!("test-{tenant}-{farm}");
        let sql = format!(
            "WITH f AS (SELECT f.id, f.tenant_id FROM farms f JOIN tenants t ON t.id = f.tenant_id
                        WHERE t.slug = '{tenant}' AND f.slug = '{farm}'),
                  d AS (INSERT INTO devices (id, farm_id, token_sha256)
                        SELECT '{device}', id, sha256(gen_random_uuid()::text::bytea) FROM f
                        ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id RETURNING id),
                  e AS (INSERT INTO device_events (event_id, device_id, seq, ts, kind, body)
                        SELECT gen_random_uuid(), d.id, 1, now(), 'harvest', '{{}}' FROM d
                        RETURNING event_id, ts)
             INSERT INTO lots (tenant_id, farm_id, product_id, event_id, lot_code, room,
                               quantity, remaining, harvested_at, best_before)
             SELECT f.tenant_id, f.id, p.id, e.event_id, 'L-' || left(e.event_id::text, 8),
                    'room-1', {quantity}, {quantity},
                    now() - make_interval(secs => {age_days} * 86400),
                    now() - make_interval(secs => {age_days} * 86400)
                          + make_interval(days => p.shelf_life_days)
             FROM f, e, products p WHERE p.tenant_id = f.tenant_id AND p.sku = '{sku}'
             RETURNING id"
        );
        let heard = self.metric("farm_api_stock_notifications_total");
        let id = self.sql(&sql);
        // Like any change made elsewhere (sync-service), the service learns of it by a
        // notification; reads after this one see the lot.
        wait_until("the service hears of the new lot", START, || {
            self.metric("farm_api_stock_notifications_total") > heard
        });
        id.parse()
            .unwrap_or_else(|_| panic!("no lot made for {tenant}/{farm}/{sku}: {id:?}"))
    }

    /// `method path` with `key` (if any), `headers` and a JSON `body`: (status, head, JSON
    /// body, or `Value::Null` when the body is empty or not JSON).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> (u16, String, Value) {
        let bearer = key.map(|k| format!("Bearer {k}"));
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(bearer) = &bearer {
            all.push(("Authorization", bearer));
        }
        if body.is_some()
            && !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            all.push(("Content-Type", "application/json"));
        }
        let (status, head, text) = try_http_exchange(&self.addr, method, path, &all, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        (
            status,
            head,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    /// `GET path` with `key`: (status, JSON body).
    pub fn get(&self, path: &str, key: &str) -> (u16, Value) {
        let (status, _, body) = self.call("GET", path, Some(key), &[], None);
        (status, body)
    }

    /// `POST path` with `key`, an `Idempotency-Key` and the JSON `body`: (status, body).
    pub fn post(&self, path: &str, key: &str, idempotency_key: &str, body: &str) -> (u16, Value) {
        let headers = [("Idempotency-Key", idempotency_key)];
        let (status, _, body) = self.call("POST", path, Some(key), &headers, Some(body));
        (status, body)
    }
}
