//! The entry points: [`parse`] checks text, [`load`] reads a file and also checks the data
//! directory and the files `[sync]` names. Order: TOML syntax (stops at the first error,
//! which has a line and column) → schema per section (`raw.rs`) → semantic checks
//! (`build.rs`) → data directory and sync files (`load` only). All problems after the syntax
//! stage are collected and returned together.

use std::fs;
use std::path::Path;

use super::build::{build, Parts};
use super::data_dir::check_data_dir;
use super::error::{ConfigError, Problem};
use super::raw::{read_sections, SECTIONS};
use super::settings::Config;

/// Reads, parses and validates the config file at `path`, including that the data
/// directory exists and is writable or can be created and that the `[sync]` token (and CA)
/// files can be read. Creates and modifies nothing.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let (parts, mut problems) = check(path, &text)?;
    if let Some(Some(sync)) = &parts.sync {
        super::sync::check_files(sync, &mut problems);
    }
    if let Some(agent) = &parts.agent {
        if !agent.data_dir.as_os_str().is_empty() {
            if let Err(message) = check_data_dir(&agent.data_dir) {
                problems.push(Problem::new("agent.data_dir", message));
            }
        }
    }
    finish(path, parts, problems)
}

/// Parses and validates config `text` as if read from `path` (used in messages and stored
/// in [`Config::path`]). Looks at no file: the data directory is checked by [`load`].
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let (parts, problems) = check(path, text)?;
    finish(path, parts, problems)
}

/// Syntax, schema and semantic checks; fails early only on a syntax error.
fn check(path: &Path, text: &str) -> Result<(Parts, Vec<Problem>), ConfigError> {
    let doc: toml::Table = toml::from_str(text).map_err(|err| {
        let (line, column) = err
            .span()
            .map_or((1, 1), |span| line_column(text, span.start));
        ConfigError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: err.message().lines().collect::<Vec<_>>().join("; "),
        }
    })?;
    let mut problems = Vec::new();
    let raw = read_sections(doc, &mut problems);
    let parts = build(raw, &mut problems);
    Ok((parts, problems))
}

/// The config if nothing is wrong, else every problem in file-section order.
fn finish(path: &Path, parts: Parts, mut problems: Vec<Problem>) -> Result<Config, ConfigError> {
    problems.sort_by_key(|problem| rank(&problem.key));
    match (
        parts.agent,
        parts.outbox,
        parts.simulation,
        parts.mqtt,
        parts.http,
        parts.control,
        parts.sync,
        parts.panel,
    ) {
        (
            Some(agent),
            Some(outbox),
            Some(simulation),
            Some(mqtt),
            Some(http),
            Some(control),
            Some(sync),
            Some(panel),
        ) if problems.is_empty() => Ok(Config {
            path: path.to_path_buf(),
            agent,
            outbox,
            simulation,
            mqtt,
            http,
            sensors: parts.sensors,
            actuators: parts.actuators,
            control,
            sync,
            products: parts.products,
            panel,
        }),
        // A section is `None` only after its problem was recorded, so `problems` is not
        // empty here.
        _ => Err(ConfigError::Invalid {
            path: path.to_path_buf(),
            problems,
        }),
    }
}

/// Where a problem's key sorts: unknown top-level keys first, then the sections in
/// [`SECTIONS`] order, array entries (`sensors[2]`, `loops[0]`) by index. The sort is stable, so problems of one key keep
/// the order they were found in.
fn rank(key: &str) -> (usize, usize) {
    let (section, rest) = key.split_at(key.find(['.', '[']).unwrap_or(key.len()));
    let section = SECTIONS
        .iter()
        .position(|known| *known == section)
        .map_or(0, |i| i + 1);
    let index = rest
        .strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .and_then(|index| index.parse().ok())
        .unwrap_or(0);
    (section, index)
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}
