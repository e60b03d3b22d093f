//! The cloud side's PostgreSQL schema, owned here and shared with sync-service, and (with
//! issue 7) the storefront API.
//!
//! # Layout
//! - [`db`]: the migrations and the function that applies them.
#![deny(missing_docs)]

pub mod db;
