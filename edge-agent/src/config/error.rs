//! What can be wrong with a config file. Validation collects every problem it finds, so an
//! operator fixes the file in one round instead of one error per restart.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Why a config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read (missing, unreadable, not UTF-8).
    #[error("{}: cannot read config file: {source}", path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The file is not valid TOML. Nothing else is checked then.
    #[error("{}:{line}:{column}: TOML syntax error: {message}", path.display())]
    Syntax {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column (in characters) of the error.
        column: usize,
        /// What the parser expected or found.
        message: String,
    },
    /// The file is valid TOML but its settings are not: every problem found, in file-section
    /// order. Displayed as one `<file>: <key>: <message>` line per problem.
    #[error("{}", ProblemLines { path, problems })]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// Every problem found; never empty.
        problems: Vec<Problem>,
    },
}

/// One thing wrong with one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The full key path, e.g. `outbox.commit_interval` or `sensors[1].name`.
    pub key: String,
    /// What is wrong, on one line.
    pub message: String,
}

impl Problem {
    /// A problem with `key`. Line breaks in `message` are flattened to keep one line each.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        let message: String = message.into();
        Problem {
            key: key.into(),
            message: message.lines().collect::<Vec<_>>().join("; "),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl ConfigError {
    /// The problems of an [`Invalid`](ConfigError::Invalid) file; empty for other errors.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Invalid { problems, .. } => problems,
            ConfigError::Read { .. } | ConfigError::Syntax { .. } => &[],
        }
    }
}

/// Displays problems one per line, each prefixed with the file.
struct ProblemLines<'a> {
    path: &'a std::path::Path,
    problems: &'a [Problem],
}

impl fmt::Display for ProblemLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}: {problem}", self.path.display())?;
        }
        Ok(())
    }
}
