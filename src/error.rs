//! The library's fatal errors and how each is worded.
//!
//! Per-file problems are not errors here: they are collected as
//! [`FileError`](crate::model::FileError)s and the run goes on. What remains are the
//! failures that stop a run before or while it starts: a bad flag or config file
//! (exit code 2) and anything else that makes going on pointless (exit code 1).
//!
//! Each variant says what failed (the file, line or URL) and keeps what caused it as
//! its [`source`](std::error::Error::source), not flattened into text: the command
//! line prints the chain as `Caused by:` lines, and code can still ask the cause
//! what it was (a full disk, a missing file). What the user can do about it is a
//! separate [`hint`](Error::hint), printed after the chain. Messages never contain a
//! key or a password.

use std::path::PathBuf;

/// The cause kept under an error: any error, boxed.
pub(crate) type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A fatal error: the run cannot start or cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file cannot be used.
    #[error("{path}: {what}")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong, with line and column where known.
        what: String,
        /// What caused it (the file system's error), if anything did.
        #[source]
        source: Option<Cause>,
    },
    /// The command line asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// The cache cannot be opened or written.
    #[error("cache {path}: {what}")]
    Cache {
        /// The cache directory or file, or the shared cache's printable URL.
        path: PathBuf,
        /// What failed.
        what: String,
        /// What caused it (SQLite's or the file system's error).
        #[source]
        source: Option<Cause>,
        /// What to do about it.
        hint: Option<String>,
    },
    /// An output could not be written.
    #[error("{path}: {what}")]
    Output {
        /// The output file or directory.
        path: PathBuf,
        /// What failed.
        what: String,
        /// What caused it.
        #[source]
        source: Option<Cause>,
    },
    /// The OS keyring cannot be used.
    #[error(transparent)]
    Keyring(#[from] crate::secret::KeyringError),
    /// Another error, with what the user can do about it.
    #[error("{source}")]
    Hinted {
        /// The error. Its message is this one's; its causes follow.
        #[source]
        source: Box<Error>,
        /// What to do.
        hint: String,
    },
    /// Anything else.
    #[error("{what}")]
    Other {
        /// What failed.
        what: String,
        /// What caused it.
        #[source]
        source: Option<Cause>,
    },
}

impl Error {
    /// Whether this is the user's to fix on the command line or in the config (exit 2).
    #[must_use]
    pub(crate) fn is_usage(&self) -> bool {
        match self {
            Error::Config { .. } | Error::Usage(_) => true,
            Error::Hinted { source, .. } => source.is_usage(),
            _ => false,
        }
    }

    /// This error with `hint` as what to do about it.
    #[must_use]
    pub(crate) fn with_hint(self, hint: impl Into<String>) -> Error {
        Error::Hinted {
            source: Box::new(self),
            hint: hint.into(),
        }
    }

    /// What the user can do about it, when there is something to say.
    #[must_use]
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Cache { hint, .. } => hint.as_deref(),
            Error::Hinted { hint, .. } => Some(hint),
            Error::Keyring(e) => e.hint(),
            _ => None,
        }
    }

    /// An [`Error::Other`] caused by `source`.
    pub fn other(what: impl Into<String>, source: impl Into<Cause>) -> Error {
        Error::Other {
            what: what.into(),
            source: Some(source.into()),
        }
    }

    /// An [`Error::Output`] for `path` caused by `source`.
    pub fn output(
        path: impl Into<PathBuf>,
        what: impl Into<String>,
        source: Option<Cause>,
    ) -> Error {
        Error::Output {
            path: path.into(),
            what: what.into(),
            source,
        }
    }
}

/// The causes under `e`, outermost first (not `e` itself).
/// A cause whose text its parent already shows (some errors print their source's
/// message in their own) is left out.
#[must_use]
pub(crate) fn causes(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut shown = e.to_string();
    let mut out = Vec::new();
    for cause in std::iter::successors(e.source(), |c| c.source()) {
        let text = cause.to_string();
        if !text.is_empty() && !shown.contains(&text) {
            out.push(text.clone());
        }
        shown = text;
    }
    out
}

/// `e` and its causes on one line, `: `-separated, for the one-line messages of a
/// file that could not be used (the run goes on, so there is no chain printed).
#[must_use]
pub(crate) fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    for cause in causes(e) {
        out.push_str(": ");
        out.push_str(&cause);
    }
    out
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
