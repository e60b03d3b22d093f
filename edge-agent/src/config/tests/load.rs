//! `load`: reading the file and the read-only data directory check.

use std::fs;
use std::path::{Path, PathBuf};

use super::super::{load, ConfigError};

/// A temp dir holding `config.toml` with `[agent] data_dir = <data_dir>` plus `extra`.
fn config_with_data_dir(data_dir: &Path, extra: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = tmp.path().join("config.toml");
    // A TOML literal string: temp paths contain no single quote.
    let text = format!("[agent]\ndata_dir = '{}'\n{extra}", data_dir.display());
    fs::write(&path, text).expect("write config");
    (tmp, path)
}

/// Sorted paths of the entries of `dir`.
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| entry.expect("dir entry").path())
        .collect();
    paths.sort();
    paths
}

fn problem_lines(err: &ConfigError) -> Vec<String> {
    err.problems().iter().map(ToString::to_string).collect()
}

#[test]
fn missing_data_dir_under_writable_dir_is_fine_and_not_created() {
    let data = tempfile::tempdir().expect("temp dir");
    let data_dir = data.path().join("farm").join("data");
    let (_tmp, path) = config_with_data_dir(&data_dir, "");
    let config = load(&path).expect("valid config");
    assert_eq!(config.path, path);
    assert_eq!(config.agent.data_dir, data_dir);
    assert!(entries(data.path()).is_empty(), "load must create nothing");
}

#[test]
fn existing_data_dir_is_fine() {
    let data = tempfile::tempdir().expect("temp dir");
    let (_tmp, path) = config_with_data_dir(data.path(), "");
    assert_eq!(
        load(&path).expect("valid config").agent.data_dir,
        data.path()
    );
}

#[test]
fn data_dir_that_is_a_regular_file_is_an_error_and_untouched() {
    let data = tempfile::tempdir().expect("temp dir");
    let file = data.path().join("data");
    fs::write(&file, "keep me").expect("write file");
    let (_tmp, path) = config_with_data_dir(&file, "");
    let err = load(&path).expect_err("a file is not a data dir");
    assert_eq!(
        problem_lines(&err),
        vec![format!(
            "agent.data_dir: {} exists but is not a directory",
            file.display()
        )]
    );
    assert!(err
        .to_string()
        .starts_with(&format!("{}: agent.data_dir: ", path.display())));
    assert_eq!(fs::read_to_string(&file).expect("still a file"), "keep me");
    assert_eq!(entries(data.path()), vec![file]);
}

#[test]
fn data_dir_beneath_a_regular_file_is_an_error_and_nothing_created() {
    let data = tempfile::tempdir().expect("temp dir");
    let file = data.path().join("file");
    fs::write(&file, "x").expect("write file");
    let (_tmp, path) = config_with_data_dir(&file.join("sub").join("data"), "");
    let err = load(&path).expect_err("cannot create a dir under a file");
    let problems = err.problems();
    assert_eq!(problems.len(), 1, "{err}");
    assert_eq!(problems[0].key, "agent.data_dir");
    assert!(
        problems[0]
            .message
            .ends_with(&format!("{} is not a directory", file.display())),
        "{err}"
    );
    assert!(file.is_file());
    assert_eq!(entries(data.path()), vec![file]);
}

#[test]
fn data_dir_problem_is_listed_with_the_other_problems() {
    let data = tempfile::tempdir().expect("temp dir");
    let file = data.path().join("data");
    fs::write(&file, "").expect("write file");
    let (_tmp, path) =
        config_with_data_dir(&file, "device_id = \"\"\n[outbox]\nmax_bytes = \"1KiB\"\n");
    let err = load(&path).expect_err("three problems");
    let keys: Vec<&str> = err.problems().iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        vec!["agent.device_id", "agent.data_dir", "outbox.max_bytes"]
    );
}

#[test]
fn missing_config_file_is_a_read_error_naming_the_file() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = tmp.path().join("absent.toml");
    let err = load(&path).expect_err("no file");
    assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
    assert!(err
        .to_string()
        .starts_with(&format!("{}: cannot read config file: ", path.display())));
    assert!(err.problems().is_empty());
}
