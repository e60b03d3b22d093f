//! The cloud side's PostgreSQL schema (owned here, shared with sync-service), the storefront
//! API and the admin commands.
//!
//! # Layout
//! - [`db`]: the migrations and the function that applies them.
//! - [`config`]: the config file (and the parts sync-service's shares).
//! - [`run`]: start-up, serving, the sweeper of expired holds.
//! - [`http`]: the router, its layers, health endpoints, caching answers.
//! - [`auth`]: API keys and the rate limit per key.
//! - [`products`]: availability reads.
//! - [`cache`]: the read cache of availability, kept exact by PostgreSQL notifications.
//! - [`reservations`]: holds, commits (first expired, first out), releases.
//! - [`adjustments`]: stock changes that are not sales.
//! - [`request`]: strict JSON bodies, exact quantities, `Idempotency-Key`.
//! - [`error`]: the JSON error answers.
//! - [`metrics`]: the counters at `/metrics`.
//! - [`admin`]: tenants, farms, products, devices and keys from the command line.
//! - [`secrets`]: device tokens and API keys (random, stored as SHA-256).
#![deny(missing_docs)]

pub mod adjustments;
pub mod admin;
pub mod auth;
pub mod cache;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod metrics;
pub mod products;
pub mod request;
pub mod reservations;
pub mod run;
pub mod secrets;
