//! `<data_dir>/control.json`: runtime setpoints, loop settings and overrides, kept across
//! restarts.
//!
//! Written whole to a temporary file, fsynced, renamed over the old one and the directory
//! fsynced, so a crash leaves either the old or the new file, never a torn one. A file that
//! cannot be read is moved aside (kept for a person to look at) and the config's values apply.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::manual::ControlMemory;

/// The file's name in the data directory.
pub const FILE_NAME: &str = "control.json";

/// Why the memory file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum MemoryFileError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a control memory; it was moved to `kept`.
    #[error("{path} is not valid ({reason}); moved it to {kept} and using the config's values")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
        /// Where it is now.
        kept: PathBuf,
    },
}

/// Reads the memory; a missing file is an empty memory.
pub fn load(path: &Path) -> Result<ControlMemory, MemoryFileError> {
    let text = match fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ControlMemory::default()),
        Err(source) => {
            return Err(MemoryFileError::Io {
                path: path.to_owned(),
                source,
            })
        }
    };
    serde_json::from_slice(&text).or_else(|e| {
        let kept = path.with_extension("json.bad");
        fs::rename(path, &kept).map_err(|source| MemoryFileError::Io {
            path: path.to_owned(),
            source,
        })?;
        Err(MemoryFileError::Corrupt {
            path: path.to_owned(),
            reason: e.to_string(),
            kept,
        })
    })
}

/// Replaces the file with `memory`, durably.
pub fn save(path: &Path, memory: &ControlMemory) -> Result<(), MemoryFileError> {
    let io = |source| MemoryFileError::Io {
        path: path.to_owned(),
        source,
    };
    let text = serde_json::to_vec_pretty(memory).map_err(|e| io(std::io::Error::other(e)))?;
    let temporary = path.with_extension("json.tmp");
    let mut file = File::create(&temporary).map_err(io)?;
    file.write_all(&text).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    fs::rename(&temporary, path).map_err(io)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use farm_protocol::SwitchState;

    use super::super::controller::Override;
    use super::super::manual::SavedSetpoint;
    use super::super::settings::{SavedLoopSettings, SavedSetting};
    use super::*;

    #[test]
    fn saved_memory_loads_back_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        assert_eq!(load(&path).unwrap(), ControlMemory::default());
        let mut memory = ControlMemory::default();
        memory.setpoints.insert(
            "h".into(),
            SavedSetpoint {
                value: 91.0,
                configured: 90.0,
            },
        );
        memory.overrides.insert(
            "fan".into(),
            Override {
                state: SwitchState::On,
                until: 1_800_000_000_000,
            },
        );
        let band = SavedSetting {
            value: 3.0,
            configured: 4.0,
        };
        let settings = SavedLoopSettings {
            settings: [("band".to_owned(), band)].into(),
        };
        memory.loops.insert("h".into(), settings);
        save(&path, &memory).unwrap();
        assert_eq!(load(&path).unwrap(), memory);
        assert!(!path.with_extension("json.tmp").exists());
    }

    #[test]
    fn a_file_from_before_loop_settings_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let old = r#"{"setpoints": {"h": {"value": 91.0, "configured": 90.0}}, "overrides": {}}"#;
        fs::write(&path, old).unwrap();
        let memory = load(&path).unwrap();
        assert_eq!(memory.setpoints.len(), 1);
        assert!(memory.loops.is_empty());
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_with_a_clear_error_and_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        fs::write(&path, b"{\"setpoints\": [truncated").unwrap();
        let err = load(&path).unwrap_err();
        assert!(matches!(err, MemoryFileError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("control.json.bad"), "{err}");
        assert_eq!(
            fs::read(path.with_extension("json.bad")).unwrap(),
            b"{\"setpoints\": [truncated"
        );
        assert_eq!(load(&path).unwrap(), ControlMemory::default(), "then empty");
    }
}
