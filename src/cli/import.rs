//! `translate import <FILE>... [--cache-dir DIR] [--cache URL]`: store human corrections
//! as reviewed translations, through the store: with a shared memory (`--cache`,
//! `TARJAMA_CACHE` or the config's `[cache] url`) they go there and into the local
//! cache, and the machine translations of every machine count for the rule.
//!
//! Each file is read and stored on its own ([`crate::import`] decides its format and
//! which units are corrections): one line per file on stderr, `imported N corrections
//! from FILE (M unchanged, K skipped: reasons)`, or one `error:` line naming the file
//! (and the line when known) for a file that cannot be used; the other files are still
//! imported. Exit code 0 when every file was imported, 3 when some file failed, 1 when
//! the cache cannot be opened or written.

use std::path::{Path, PathBuf};

use crate::cache::Store;
use crate::config::Config;
use crate::error::Error;
use crate::import;

use super::{Args, ExitStatus};

/// Import every file into the cache under `cache_dir` and the shared memory, if any;
/// returns the exit code.
///
/// # Errors
/// A bad config or URL (exit code 2); a cache cannot be opened or written (exit code 1).
pub async fn run(
    args: &Args,
    files: &[PathBuf],
    cache_dir: &Path,
    cache: Option<&str>,
) -> Result<ExitStatus, Error> {
    let config = Config::load(args.config.as_deref())?;
    let url = super::cache::shared_url(cache, &config)?;
    let (store, notice) = Store::open(cache_dir, url.as_ref()).await?;
    if let Some(n) = notice {
        eprintln!("warning: {n}");
    }
    let mut failed = 0usize;
    for file in files {
        let name = file.display().to_string();
        let parsed = match fs_err::read(file) {
            Ok(bytes) => import::parse(&bytes).map_err(|e| e.to_string()),
            Err(e) => Err(io_message(&e)),
        };
        match parsed {
            Ok(parsed) => {
                let summary = import::store_in(&store, &parsed).await?;
                eprintln!("{}", summary.line(&name));
            }
            Err(message) => {
                failed += 1;
                eprintln!("error: {name}: {message}; nothing imported from it");
            }
        }
    }
    Ok(if failed == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Incomplete
    })
}

/// An I/O error without the path (the caller names the file).
fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ if e.raw_os_error() == Some(21) => "is a directory".into(),
        _ => format!("cannot read it: {}", std::io::Error::from(e.kind())),
    }
}
