//! Tests of the whole config pipeline: `parse` (text only) in `valid.rs` and `bad_input.rs`,
//! `load` (file and data directory) in `load.rs`; `[control]`, actuator timing and the loops in
//! `control.rs` and `loops.rs`; `[[products]]` in `products.rs`; `[panel]` in `panel.rs`. Unit tests of helpers live next to them.

mod bad_input;
mod control;
mod hardware;
mod load;
mod loops;
mod mqtt;
mod panel;
mod products;
mod sync;
mod valid;

use std::path::Path;

use super::{parse, Config, ConfigError, Problem};

/// Parses `text` as `config.toml`, expecting success.
fn parse_ok(text: &str) -> Config {
    match parse(Path::new("config.toml"), text) {
        Ok(config) => config,
        Err(err) => panic!("expected a valid config, got:\n{err}"),
    }
}

/// Parses `text` as `config.toml`, expecting problems; returns them.
fn problems(text: &str) -> Vec<Problem> {
    match parse(Path::new("config.toml"), text) {
        Ok(config) => panic!("expected problems, got {config:?}"),
        Err(ConfigError::Invalid { problems, .. }) => problems,
        Err(other) => panic!("expected problems, got {other}"),
    }
}

/// Expects exactly one problem, on `key`; returns its message.
fn only_problem(text: &str, key: &str) -> String {
    let found = problems(text);
    assert_eq!(found.len(), 1, "expected one problem, got {found:?}");
    assert_eq!(found[0].key, key, "wrong key in {found:?}");
    found[0].message.clone()
}
