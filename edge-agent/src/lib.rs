//! The farm edge agent.
//!
//! # Layout
//! - [`config`]: the TOML config file, parsed and validated into typed settings.
#![deny(missing_docs)]

pub mod config;
