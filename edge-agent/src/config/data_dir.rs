//! The one filesystem check of validation: can the agent use (or create) its data directory?
//!
//! Invariant: this only looks. It creates, opens for writing and modifies nothing, so
//! `edge-agent validate` (systemd `ExecStartPre`) is safe to run against a live system.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::{access, Access};

/// Checks that `dir` is an existing writable directory, or does not exist yet and its
/// nearest existing ancestor is a writable directory (`run` creates it). The error is a
/// one-line message for the `agent.data_dir` problem.
pub(super) fn check_data_dir(dir: &Path) -> Result<(), String> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => writable(dir)
            .map_err(|err| format!("data directory {} is not writable: {err}", dir.display())),
        Ok(_) => Err(format!("{} exists but is not a directory", dir.display())),
        Err(err) if is_absent(&err) => {
            if fs::symlink_metadata(dir).is_ok() {
                return Err(format!(
                    "{} is a symbolic link to something that does not exist",
                    dir.display()
                ));
            }
            check_creatable(dir)
        }
        Err(err) => Err(format!("cannot inspect {}: {err}", dir.display())),
    }
}

/// `dir` does not exist: its nearest existing ancestor must be a writable directory.
fn check_creatable(dir: &Path) -> Result<(), String> {
    for ancestor in dir.ancestors().skip(1) {
        let ancestor = as_dir(ancestor);
        match fs::metadata(&ancestor) {
            Ok(meta) if meta.is_dir() => {
                return writable(&ancestor).map_err(|err| {
                    format!(
                        "{} does not exist and cannot be created: {} is not writable: {err}",
                        dir.display(),
                        ancestor.display()
                    )
                });
            }
            Ok(_) => {
                return Err(format!(
                    "{} cannot be created: {} is not a directory",
                    dir.display(),
                    ancestor.display()
                ));
            }
            Err(err) if is_absent(&err) => continue,
            Err(err) => return Err(format!("cannot inspect {}: {err}", ancestor.display())),
        }
    }
    Err(format!(
        "{} cannot be created: none of its parent directories exists",
        dir.display()
    ))
}

/// The empty parent of a relative path (`"farm-data"`) is the working directory.
fn as_dir(path: &Path) -> PathBuf {
    if path.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        path.to_path_buf()
    }
}

/// Missing, or a path through something that is not a directory (`file/sub`).
fn is_absent(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Whether this process may create entries in `dir` (write and search permission).
fn writable(dir: &Path) -> io::Result<()> {
    access(dir, Access::WRITE_OK | Access::EXEC_OK).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> tempfile::TempDir {
        tempfile::tempdir().expect("temp dir")
    }

    fn entries(dir: &Path) -> Vec<PathBuf> {
        let mut names: Vec<PathBuf> = fs::read_dir(dir)
            .expect("read temp dir")
            .map(|entry| entry.expect("dir entry").path())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn existing_writable_directory_is_fine() {
        let tmp = temp();
        assert_eq!(check_data_dir(tmp.path()), Ok(()));
    }

    #[test]
    fn missing_directory_under_writable_one_is_fine_and_not_created() {
        let tmp = temp();
        let dir = tmp.path().join("a").join("b").join("data");
        assert_eq!(check_data_dir(&dir), Ok(()));
        assert!(entries(tmp.path()).is_empty(), "nothing may be created");
    }

    #[test]
    fn relative_directory_resolves_against_working_directory() {
        // The working directory of `cargo test` is the crate directory, which exists.
        assert_eq!(
            check_data_dir(Path::new("no-such-dir-for-config-test/data")),
            Ok(())
        );
        assert!(!Path::new("no-such-dir-for-config-test").exists());
    }

    #[test]
    fn regular_file_is_rejected_and_left_alone() {
        let tmp = temp();
        let file = tmp.path().join("data");
        fs::write(&file, "not a dir").expect("write file");
        let err = check_data_dir(&file).expect_err("a file is not a data dir");
        assert!(err.ends_with("exists but is not a directory"), "{err}");
        assert_eq!(
            fs::read_to_string(&file).expect("still a file"),
            "not a dir"
        );
        assert_eq!(entries(tmp.path()), vec![file]);
    }

    #[test]
    fn path_beneath_regular_file_is_rejected_and_nothing_created() {
        let tmp = temp();
        let file = tmp.path().join("file");
        fs::write(&file, "x").expect("write file");
        let dir = file.join("sub").join("data");
        let err = check_data_dir(&dir).expect_err("cannot create under a file");
        assert!(
            err.contains(&format!("{} is not a directory", file.display())),
            "{err}"
        );
        assert!(file.is_file());
        assert_eq!(entries(tmp.path()), vec![file]);
    }

    #[test]
    fn dangling_symlink_is_rejected() {
        let tmp = temp();
        let link = tmp.path().join("data");
        std::os::unix::fs::symlink(tmp.path().join("gone"), &link).expect("symlink");
        let err = check_data_dir(&link).expect_err("dangling symlink");
        assert!(err.contains("symbolic link"), "{err}");
        assert!(!tmp.path().join("gone").exists());
    }
}
