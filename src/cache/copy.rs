//! `translate cache copy`: every finished entry of one memory into another.
//!
//! Each side is a cache directory (its SQLite file) or a `postgres://` URL (the shared
//! memory itself, without a local layer). Entries keep what they are: a machine
//! translation keeps its provider and options (so it is found under the same key), a
//! reviewed one stays reviewed and keyed without them. Nothing the destination holds
//! is replaced (its first answer wins, as in a run), except a shared row still
//! pending, which the copy completes. Entries go in pages of [`PAGE`], each page in
//! one statement or transaction, so a copy of any size runs in bounded memory and an
//! interrupted copy can simply be run again.

use std::path::Path;
use std::time::Duration;

use super::dsn::CacheUrl;
use super::local::{self, Entry};
use super::pg::Pg;
use super::store::Store;
use super::{DB_FILE, FORMAT_DIR, Origin};
use crate::error::{Error, Result};
use crate::secret::Keyring;

/// Entries per page.
pub const PAGE: usize = 1000;

/// One side of a copy.
pub enum Side {
    /// A cache directory.
    Local(Store),
    /// A shared memory.
    Shared(Box<Pg>),
}

impl Side {
    /// Open `place`: a `postgres://` URL, else a cache directory, which must already
    /// hold a cache when `must_exist` (the side copied from).
    ///
    /// # Errors
    /// No cache in the directory, a bad URL, or a memory that cannot be opened.
    pub async fn open(
        place: &str,
        must_exist: bool,
        keyring: &Keyring,
        patience: Duration,
    ) -> Result<Side> {
        if CacheUrl::is_url(place) {
            let url = CacheUrl::parse(place).map_err(|e| Error::Usage(e.to_string()))?;
            let connect = url.connect(&|k| std::env::var(k).ok(), keyring);
            let pg = Pg::new(url, connect, patience)?;
            pg.check().await?;
            return Ok(Side::Shared(Box::new(pg)));
        }
        let dir = Path::new(place);
        if must_exist && !dir.join(FORMAT_DIR).join(DB_FILE).is_file() {
            return Err(Error::Usage(format!(
                "{place}: no cache there (expected {})",
                dir.join(FORMAT_DIR).join(DB_FILE).display()
            )));
        }
        let (store, notice) = Store::open_with(dir, None, keyring, patience).await?;
        if let Some(n) = notice {
            tracing::warn!("{n}");
        }
        Ok(Side::Local(store))
    }

    /// How messages name it: the directory's database file, or the URL without password.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Side::Local(s) => s.describe(),
            Side::Shared(pg) => pg.url().to_string(),
        }
    }

    /// The next page after `cursor` (advanced): sound entries and how many damaged ones
    /// were left out; both empty when done.
    async fn page(&self, cursor: &mut Cursor) -> Result<(Vec<Entry>, usize)> {
        match self {
            Side::Local(store) => {
                let after = cursor.rowid;
                let (entries, last, damaged) = store
                    .blocking(move |c| local::entries(c, after, PAGE))
                    .await?;
                cursor.rowid = last;
                Ok((entries, damaged))
            }
            Side::Shared(pg) => {
                let page = pg.entries(&cursor.key, PAGE as i64).await?;
                if let Some((k, _)) = page.last() {
                    cursor.key.clone_from(k);
                }
                Ok((page.into_iter().map(|(_, e)| e).collect(), 0))
            }
        }
    }

    /// Add the entries this side does not hold; how many were added.
    async fn add(&self, entries: Vec<Entry>) -> Result<usize> {
        match self {
            Side::Local(store) => {
                store
                    .blocking(move |c| local::add_entries(c, &entries))
                    .await
            }
            Side::Shared(pg) => pg.add_entries(&entries).await,
        }
    }
}

/// Where a copy is in its source.
#[derive(Default)]
struct Cursor {
    rowid: i64,
    key: Vec<u8>,
}

/// What a copy did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Copied {
    /// Entries read from the source.
    pub read: usize,
    /// Of those, reviewed.
    pub reviewed: usize,
    /// Entries added to the destination.
    pub added: usize,
    /// Entries the destination already held (kept as they were).
    pub kept: usize,
    /// Damaged source entries left out.
    pub damaged: usize,
}

impl Copied {
    /// `copied 120 entries (3 reviewed, 117 machine) from A to B: 118 added, 2 already there`.
    #[must_use]
    pub fn line(&self, from: &str, to: &str) -> String {
        let mut line = format!(
            "copied {} entr{} ({} reviewed, {} machine) from {from} to {to}: {} added, {} already there",
            self.read,
            if self.read == 1 { "y" } else { "ies" },
            self.reviewed,
            self.read - self.reviewed,
            self.added,
            self.kept
        );
        if self.damaged > 0 {
            line.push_str(&format!(", {} damaged left out", self.damaged));
        }
        line
    }
}

/// Copy every finished entry of `from` into `to`.
///
/// # Errors
/// Either side fails; the pages copied before stay copied.
pub async fn copy(from: &Side, to: &Side) -> Result<Copied> {
    let mut done = Copied::default();
    let mut cursor = Cursor::default();
    loop {
        let (entries, damaged) = from.page(&mut cursor).await?;
        done.damaged += damaged;
        if entries.is_empty() && damaged == 0 {
            return Ok(done);
        }
        done.read += entries.len();
        done.reviewed += entries
            .iter()
            .filter(|e| e.origin == Origin::Reviewed)
            .count();
        let n = entries.len();
        let added = to.add(entries).await?;
        done.added += added;
        done.kept += n - added.min(n);
    }
}
