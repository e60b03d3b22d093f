//! What the outbox does with a file at its path that is not its own healthy outbox: a clear
//! error, and the file is neither deleted nor modified.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use edge_agent::outbox::{NewReading, OutboxError, OutboxSettings, Store};
use farm_protocol::{Metric, Source};

fn open(path: &Path) -> Result<Store, OutboxError> {
    Store::open(path, OutboxSettings::default())
}

fn assert_refused_and_untouched(path: &Path, check: impl Fn(&OutboxError) -> bool) {
    let before = std::fs::read(path).unwrap();
    let err = open(path).err().expect("the file must be refused");
    assert!(check(&err), "unexpected error: {err}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "error names the file: {err}"
    );
    assert_eq!(
        std::fs::read(path).unwrap(),
        before,
        "the file was modified"
    );
}

/// Fills an outbox at `path` with 20,000 readings, hands the store to `close`, then
/// scribbles over a b-tree page in the middle of the readings table.
fn damage(path: &Path, close: impl FnOnce(Store)) {
    let mut store = open(path).unwrap();
    let readings: Vec<NewReading> = (0..20_000)
        .map(|i| NewReading {
            ts: i,
            room: "r".into(),
            source: Source::Sensor("s".into()),
            metric: Metric::Co2,
            value: 500.0,
        })
        .collect();
    store.append(&readings, &[]).unwrap();
    close(store);
    let mut bytes = std::fs::read(path).unwrap();
    assert!(bytes.len() > 40 * 4096);
    bytes[20 * 4096..21 * 4096].fill(0x5A);
    std::fs::write(path, &bytes).unwrap();
}

#[test]
fn garbage_is_not_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite");
    std::fs::write(&path, vec![0xA5; 8192]).unwrap();
    assert_refused_and_untouched(&path, |e| matches!(e, OutboxError::NotSqlite { .. }));
}

#[test]
fn another_programs_database_is_foreign() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    assert_refused_and_untouched(&path, |e| {
        matches!(
            e,
            OutboxError::Foreign {
                application_id: 0,
                ..
            }
        )
    });
}

#[test]
fn an_outbox_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite");
    drop(open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    assert_refused_and_untouched(&path, |e| {
        matches!(e, OutboxError::NewerSchema { found: 99, .. })
    });
}

#[test]
fn a_damaged_outbox_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite");
    damage(&path, drop); // the last connection checkpoints the WAL
    assert_refused_and_untouched(&path, |e| matches!(e, OutboxError::Corrupt { .. }));
}

#[test]
fn an_empty_file_becomes_a_new_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite");
    std::fs::write(&path, b"").unwrap();
    let store = open(&path).unwrap();
    assert_eq!(store.counters().next_seq, 1);
}

#[test]
fn the_integrity_check_runs_after_a_crash_not_after_a_clean_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox.sqlite");
    damage(&path, |mut store| store.close_cleanly().unwrap());
    // Cleanly closed: start-up skips the full read (fast on an SD card)…
    let store = open(&path).unwrap();
    // …and this run ends without a clean close, as a crash would: the next start reads it all.
    drop(store);
    assert!(matches!(open(&path), Err(OutboxError::Corrupt { .. })));
}
