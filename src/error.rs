//! The library's fatal errors and how each is worded.
//!
//! Per-file problems are not errors here: they are collected as
//! [`FileError`](crate::model::FileError)s and the run goes on. What remains are the
//! failures that stop a run before or while it starts: a bad flag or config file
//! (exit code 2) and anything else that makes going on pointless (exit code 1).
//! Messages name the file, line or URL and say what to do; they never contain a key.

use std::path::PathBuf;

/// A fatal error: the run cannot start or cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file cannot be used.
    #[error("{path}: {message}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong, with line and column where known.
        message: String,
    },
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// The cache cannot be opened or written.
    #[error("cache {path}: {message}")]
    Cache {
        /// The cache directory or file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An output could not be written.
    #[error("{path}: {message}")]
    Output {
        /// The output file or directory.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Whether this is the user's to fix on the command line or in the config (exit 2).
    #[must_use]
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Config { .. } | Error::Usage(_))
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
