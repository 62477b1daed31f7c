//! Cache: every translation on disk, crash-safe, shared by concurrent runs.
//!
//! Storage is one SQLite database per cache directory, `<dir>/v2/translations.sqlite3`,
//! chosen on purpose over one file per entry:
//! - **Crash safety**: each answer is committed in its own transaction in WAL mode, so a
//!   `kill -9` at any moment leaves a database the next run opens without error and
//!   every answer committed before the kill is kept.
//! - **Concurrent runs**: SQLite's locking lets two or more processes read and write one
//!   cache at once without corruption (writers wait on `busy_timeout`).
//! - **Speed**: a cached rerun of hundreds of thousands of paragraphs is that many
//!   indexed point lookups in one file, not that many `open` calls.
//!
//! The format version is in the path (`v2`: rows in a rowid table with the key in a
//! unique index small enough to stay in memory; `v1` kept whole rows, kilobytes each,
//! in the key's B-tree, so every lookup read several pages). The directory is marked
//! with `CACHEDIR.TAG` and a `.gitignore`. Keys come from [`CacheKey`], an explicit stable
//! serialization hashed with BLAKE3 (never `derive(Hash)`, never the API key). The key
//! fields are stored beside the translation with a checksum over all of them and
//! compared on read, so a collision, a torn or a tampered entry is detected: it is
//! reported, deleted and fetched again, never served.
//!
//! Reviewed translations (human corrections stored by `translate import`) live in the
//! same table under a key without provider and options ([`CacheKey::reviewed`]): a
//! lookup finds one before any machine entry of any provider, and a machine answer,
//! stored under its own key, never replaces it. [`Cache::machine_targets`] lists what
//! the machines answered for a text, so an import can tell an edited translation from
//! an untouched one.
//!
//! [`Store`] ([`store`]) is the asynchronous API over the same file or, with a
//! `postgres://` URL, over a translation memory shared by many machines
//! ([`pg`], the local file staying as a write-through layer), with leases so no
//! paragraph is sent twice, a shared pacer and daily allowances. [`Cache`] stays the
//! synchronous API of the local file.
//!
//! A second, small table, `allowance`, counts the characters sent to each service per
//! key (a hash of it, see [`Bucket`]) and UTC day: runs count through
//! [`Store::allowance`], and `--dry-run` reads it ([`Cache::chars_today`]) to tell how
//! much of a daily allowance (MyMemory's 5,000 characters) this cache has already
//! spent today. It is the store's table, so runs sharing the file share one count.
//! It was added without a format change: a run creates it with `CREATE TABLE IF NOT
//! EXISTS` in an existing `v2` database, older binaries never look at it, and a cache
//! without it counts as nothing sent. The former per-provider `usage` table of older
//! versions is still read (today's count of an older binary still counts). The day is
//! SQLite's own `date('now')`, which is UTC.
//!
//! A third table, `prepared`, added the same way, keeps each input's prepared
//! document (its paragraphs, kinds and languages, as the pipeline made them) under
//! an id the pipeline chooses (the input's path and languages) with a digest of
//! everything it was made from (the input's bytes, the options, the build of the
//! program): a rerun of an unchanged input reads it back instead of decoding,
//! segmenting and detecting again ([`Cache::prepared`], [`Cache::put_prepared`]).
//! One row per id, replaced when the input changes; a checksum over digest and body
//! is checked on read, and a damaged row is simply not used.
//!
//! A fourth, `meta`, holds the version of the translations ([`Cache::version`]):
//! random bytes that triggers on `translations` replace on every insert, update and
//! delete, so a rerun can tell in one read that no entry changed since its outputs
//! were rendered. Added the same way; the triggers fire for older binaries too.

pub mod copy;
pub mod dsn;
mod key;
pub mod local;
pub mod outage;
pub mod pg;
pub mod pgpass;
pub mod store;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

pub use dsn::CacheUrl;
pub use key::{CacheKey, normalize_key_text};
pub use store::{
    Allowance, Bucket, Completed, Found, Held, Pacer, Permit, Rate, SLOWDOWN, Store, Take,
};

use crate::error::{Error, Result};

/// Name of the on-disk format directory.
pub const FORMAT_DIR: &str = "v2";
/// Database file inside [`FORMAT_DIR`].
pub const DB_FILE: &str = "translations.sqlite3";

/// Where a cached translation came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A translation API.
    Machine,
    /// A human correction (wins over machine output, never overwritten by it).
    Reviewed,
}

impl Origin {
    /// The key an entry of this origin for `key` is stored under: a reviewed entry
    /// without provider and options.
    fn key<'k>(self, key: &'k CacheKey) -> std::borrow::Cow<'k, CacheKey> {
        match self {
            Origin::Reviewed => std::borrow::Cow::Owned(key.reviewed()),
            Origin::Machine => std::borrow::Cow::Borrowed(key),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Origin::Machine => "machine",
            Origin::Reviewed => "reviewed",
        }
    }
}

impl CacheKey {
    /// The id an entry of `origin` for this key is stored under (a reviewed entry's
    /// without provider and options), as [`Cache::present`] takes them.
    #[must_use]
    pub fn entry_id(&self, origin: Origin) -> [u8; 32] {
        origin.key(self).id(origin.as_str())
    }
}

/// A translation read from the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The translation.
    pub target: String,
    /// Machine or reviewed.
    pub origin: Origin,
}

/// What a lookup found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A good entry.
    Hit(Hit),
    /// Nothing stored.
    Miss,
    /// A broken entry was found, deleted, and must be fetched again.
    Repaired(String),
}

/// One text to look up under several providers' keys ([`Cache::get_first`]).
#[derive(Clone, Copy, Debug)]
pub struct Probe<'a> {
    /// Source language.
    pub from: &'a str,
    /// Target language.
    pub to: &'a str,
    /// The text, normalized as keys normalize it ([`normalize_key_text`]).
    pub text: &'a str,
    /// `(provider, options)` of each provider whose entry would do, in order of
    /// preference.
    pub providers: &'a [(&'a str, &'a str)],
    /// The entry ids ([`CacheKey::entry_id`]): the reviewed entry's first, then each
    /// provider's machine entry, in the order of `providers` (see [`Probe::ids_of`]).
    pub ids: &'a [[u8; 32]],
}

impl Probe<'_> {
    /// The ids a probe of `text` (normalized) in `from` → `to` under `providers`
    /// looks up: the reviewed entry's, then each provider's machine entry's.
    #[must_use]
    pub fn ids_of(from: &str, to: &str, text: &str, providers: &[(&str, &str)]) -> Vec<[u8; 32]> {
        let key = |provider: &str, options: &str| CacheKey {
            provider: provider.to_string(),
            options: options.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            text: text.to_string(),
        };
        let mut ids = Vec::with_capacity(providers.len() + 1);
        ids.push(key("", "").entry_id(Origin::Reviewed));
        ids.extend((providers.iter()).map(|&(p, o)| key(p, o).entry_id(Origin::Machine)));
        ids
    }
}

/// What [`Cache::get_first`] found for one text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FirstHit {
    /// The entry to serve, and the position in its group of the key it was found
    /// under (a reviewed entry, which holds under every key, counts as the first).
    pub hit: Option<(Hit, usize)>,
    /// Damaged entries met on the way: deleted, to be fetched again.
    pub repaired: Vec<String>,
}

/// Ids per statement of [`Cache::get_first`] and [`Cache::present`] (well under
/// SQLite's limit on parameters).
const ID_BATCH: usize = 256;

/// An open cache.
#[derive(Debug)]
pub struct Cache {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// Opened for a dry run: damaged entries are reported, not deleted.
    read_only: bool,
}

impl Cache {
    /// Open (creating if needed) the cache under `dir`.
    ///
    /// A database file that is not a database at all is moved aside to
    /// `translations.sqlite3.corrupt` and a new one started; the caller gets the
    /// notice through [`Cache::open_with_notice`].
    ///
    /// # Errors
    /// The directory cannot be created or the database cannot be opened.
    pub fn open(dir: &Path) -> Result<Cache> {
        Cache::open_with_notice(dir).map(|(c, _)| c)
    }

    /// Like [`Cache::open`], also returning a notice when a corrupt file was set aside.
    ///
    /// # Errors
    /// See [`Cache::open`].
    pub fn open_with_notice(dir: &Path) -> Result<(Cache, Option<String>)> {
        let vdir = dir.join(FORMAT_DIR);
        fs_err::create_dir_all(&vdir).map_err(|e| cache_err(dir, e))?;
        mark_cache_dir(dir);
        let path = vdir.join(DB_FILE);
        match Cache::open_db(&path) {
            Ok(c) => Ok((c, None)),
            Err(e) if is_not_a_database(&e) => {
                let aside = path.with_extension("sqlite3.corrupt");
                fs_err::rename(&path, &aside).map_err(|e| cache_err(&path, e))?;
                for ext in ["sqlite3-wal", "sqlite3-shm"] {
                    let _ = fs_err::remove_file(path.with_extension(ext));
                }
                let c = Cache::open_db(&path).map_err(|e| cache_err(&path, e))?;
                let notice = format!(
                    "cache {} was not a readable database; moved it to {} and started a new one",
                    path.display(),
                    aside.display()
                );
                Ok((c, Some(notice)))
            }
            Err(e) => Err(cache_err(&path, e)),
        }
    }

    /// Open an existing cache without creating anything (for `--dry-run`, which
    /// writes nothing). `None` when there is no cache yet.
    ///
    /// # Errors
    /// The database exists but cannot be opened.
    pub(crate) fn open_existing(dir: &Path) -> Result<Option<Cache>> {
        let path = dir.join(FORMAT_DIR).join(DB_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| cache_err(&path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| cache_err(&path, e))?;
        // One read transaction for the whole dry run: a consistent snapshot, and no
        // lock taken and released per lookup. It ends when the connection closes.
        conn.execute_batch("PRAGMA cache_size = -16384; BEGIN")
            .map_err(|e| cache_err(&path, e))?;
        Ok(Some(Cache {
            conn: Mutex::new(conn),
            path,
            read_only: true,
        }))
    }

    /// Open the database, waiting while another run holds a lock on it. Setting WAL
    /// mode and creating the table take locks that SQLite's busy handler does not
    /// always wait for, so the whole open is retried for a while.
    fn open_db(path: &Path) -> rusqlite::Result<Cache> {
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match Cache::try_open_db(path) {
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => return other,
            }
        }
    }

    fn try_open_db(path: &Path) -> rusqlite::Result<Cache> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // 16 MiB of page cache (the default is 2 MiB): a cached rerun reads the index
        // and the entries of the whole corpus.
        conn.pragma_update(None, "cache_size", -16384)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS translations (
                key      BLOB PRIMARY KEY,
                provider TEXT NOT NULL,
                options  TEXT NOT NULL,
                src      TEXT NOT NULL,
                tgt      TEXT NOT NULL,
                source   TEXT NOT NULL,
                target   TEXT NOT NULL,
                origin   TEXT NOT NULL,
                checksum BLOB NOT NULL
            );
            CREATE TABLE IF NOT EXISTS usage (
                provider TEXT NOT NULL,
                day      TEXT NOT NULL,
                chars    INTEGER NOT NULL,
                PRIMARY KEY (provider, day)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS allowance (
                service TEXT NOT NULL,
                account TEXT NOT NULL DEFAULT '',
                day     TEXT NOT NULL,
                chars   INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (service, account, day)
            );
            CREATE TABLE IF NOT EXISTS prepared (
                id       TEXT PRIMARY KEY,
                digest   BLOB NOT NULL,
                body     BLOB NOT NULL,
                checksum BLOB NOT NULL
            );
            CREATE TABLE IF NOT EXISTS meta (
                name  TEXT PRIMARY KEY,
                value BLOB NOT NULL
            );
            INSERT OR IGNORE INTO meta (name, value) VALUES ('version', randomblob(16));
            CREATE TRIGGER IF NOT EXISTS translations_version_insert
                AFTER INSERT ON translations BEGIN
                UPDATE meta SET value = randomblob(16) WHERE name = 'version';
            END;
            CREATE TRIGGER IF NOT EXISTS translations_version_update
                AFTER UPDATE ON translations BEGIN
                UPDATE meta SET value = randomblob(16) WHERE name = 'version';
            END;
            CREATE TRIGGER IF NOT EXISTS translations_version_delete
                AFTER DELETE ON translations BEGIN
                UPDATE meta SET value = randomblob(16) WHERE name = 'version';
            END;",
        )?;
        Ok(Cache {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            read_only: false,
        })
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The version of the translations: 16 random bytes that every insert, update
    /// and delete of an entry replaces (by triggers inside the database, so every
    /// writer, whichever program or version, changes it). The same version means
    /// the same entries; a new or a restored database never has the version of
    /// another. `None` for a database without it (an older one opened read-only).
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn version(&self) -> Result<Option<[u8; 16]>> {
        let conn = self.lock();
        let value: rusqlite::Result<Vec<u8>> =
            conn.query_row("SELECT value FROM meta WHERE name = 'version'", [], |r| {
                r.get(0)
            });
        match value {
            Ok(v) => Ok(<[u8; 16]>::try_from(v.as_slice()).ok()),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) if e.to_string().contains("no such table") => Ok(None),
            Err(e) => Err(cache_err(&self.path, e)),
        }
    }

    /// Look a translation up. A reviewed entry for the same languages and text (from
    /// any provider's point of view) wins over a machine one of `key`'s provider. A
    /// broken entry is deleted and reported as [`Lookup::Repaired`].
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn get(&self, key: &CacheKey) -> Result<Lookup> {
        self.get_in(&self.lock(), key)
    }

    /// [`Cache::get`] on a connection already locked.
    fn get_in(&self, conn: &Connection, key: &CacheKey) -> Result<Lookup> {
        let mut found = Lookup::Miss;
        let ids = [Origin::Reviewed, Origin::Machine].map(|o| (o, o.key(key).id(o.as_str())));
        // One prepared (and cached) statement for both origins: a cached rerun of a
        // large corpus is this lookup, hundreds of thousands of times.
        let mut rows: Vec<(Origin, Stored)> = {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT provider, options, src, tgt, source, target, origin, checksum, key
                     FROM translations WHERE key IN (?1, ?2)",
                )
                .map_err(|e| cache_err(&self.path, e))?;
            let found = stmt
                .query_map(params![&ids[0].1[..], &ids[1].1[..]], |r| {
                    let id: Vec<u8> = r.get(8)?;
                    Ok((id, Stored::from_row(r)?))
                })
                .map_err(|e| cache_err(&self.path, e))?;
            let mut rows = Vec::new();
            for row in found {
                let (id, stored) = row.map_err(|e| cache_err(&self.path, e))?;
                if let Some((origin, _)) = ids.iter().find(|(_, i)| i[..] == id[..]) {
                    rows.push((*origin, stored));
                }
            }
            rows
        };
        rows.sort_by_key(|(o, _)| *o != Origin::Reviewed);
        for (origin, stored) in rows {
            let okey = origin.key(key);
            let id = okey.id(origin.as_str());
            if stored.matches(&okey, origin) {
                return Ok(Lookup::Hit(Hit {
                    target: stored.target,
                    origin,
                }));
            }
            if !self.read_only {
                conn.execute("DELETE FROM translations WHERE key = ?1", params![&id[..]])
                    .map_err(|e| cache_err(&self.path, e))?;
            }
            found = Lookup::Repaired(format!(
                "cache entry for {} → {} ({} characters) was damaged; deleted, fetching again",
                key.from,
                key.to,
                key.text.chars().count()
            ));
        }
        Ok(found)
    }

    /// Look several keys up in one read transaction (one lock for all of them: a
    /// document's paragraphs at once).
    ///
    /// # Errors
    /// The database cannot be read.
    pub(crate) fn get_many(&self, keys: &[CacheKey]) -> Result<Vec<Lookup>> {
        if self.read_only || keys.len() < 2 {
            return keys.iter().map(|k| self.get(k)).collect();
        }
        // One lock throughout: the store's tasks use this connection too, and must
        // not find a transaction of ours open.
        let conn = self.lock();
        conn.execute_batch("BEGIN")
            .map_err(|e| cache_err(&self.path, e))?;
        let found: Result<Vec<Lookup>> = keys.iter().map(|k| self.get_in(&conn, k)).collect();
        // COMMIT also ends the transaction after a failed lookup.
        let end = conn.execute_batch("COMMIT");
        let found = found?;
        end.map_err(|e| cache_err(&self.path, e))?;
        Ok(found)
    }

    /// Look texts up under several providers' keys each ([`Probe`]): for each text, a
    /// reviewed entry, else the machine entry of the first provider that has a good
    /// one.
    ///
    /// Every id of every probe is looked up at once, in sorted batches of one
    /// statement each (`WHERE key IN (…)`), in one read transaction: a text costs one
    /// index probe per id whether it is found or not, and no statement per key. Only
    /// the entries found are read and checked. Damaged entries met on the way are
    /// deleted (unless the cache was opened for a dry run) and reported, and the
    /// next key is tried.
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn get_first(&self, probes: &[Probe<'_>]) -> Result<Vec<FirstHit>> {
        let mut ids: Vec<[u8; 32]> = (probes.iter())
            .flat_map(|p| p.ids.iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let conn = self.lock();
        let in_tx = !self.read_only && conn.is_autocommit();
        if in_tx {
            conn.execute_batch("BEGIN")
                .map_err(|e| cache_err(&self.path, e))?;
        }
        let found = self.rows_by_id(&conn, &ids);
        let out = found.and_then(|mut rows| {
            (probes.iter())
                .map(|probe| self.first_of(&conn, probe, &mut rows))
                .collect::<Result<Vec<FirstHit>>>()
        });
        // COMMIT also ends the transaction after a failed lookup.
        let end = if in_tx {
            conn.execute_batch("COMMIT")
        } else {
            Ok(())
        };
        let out = out?;
        end.map_err(|e| cache_err(&self.path, e))?;
        Ok(out)
    }

    /// Which of `ids` (entry ids, [`CacheKey::id`]) have an entry, from the key index
    /// alone: no entry is read or checked, so a damaged one counts as present. For
    /// `--dry-run`, which only counts what a run would send; a run reads and checks
    /// what it serves ([`Cache::get_first`]).
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn present(&self, ids: &[[u8; 32]]) -> Result<std::collections::HashSet<[u8; 32]>> {
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let conn = self.lock();
        let mut found = std::collections::HashSet::with_capacity(sorted.len());
        for chunk in sorted.chunks(ID_BATCH) {
            let slots = chunk.len().next_power_of_two();
            let sql = format!(
                "SELECT key FROM translations WHERE key IN ({})",
                vec!["?"; slots].join(",")
            );
            let mut stmt = conn
                .prepare_cached(&sql)
                .map_err(|e| cache_err(&self.path, e))?;
            let last = chunk[chunk.len() - 1];
            let args = (0..slots).map(|i| chunk.get(i).copied().unwrap_or(last));
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, Vec<u8>>(0))
                .map_err(|e| cache_err(&self.path, e))?;
            for id in rows {
                let id = id.map_err(|e| cache_err(&self.path, e))?;
                if let Ok(id) = <[u8; 32]>::try_from(id.as_slice()) {
                    found.insert(id);
                }
            }
        }
        Ok(found)
    }

    /// The stored rows of `ids` (sorted), read in batches of one statement each.
    fn rows_by_id(
        &self,
        conn: &Connection,
        ids: &[[u8; 32]],
    ) -> Result<std::collections::HashMap<[u8; 32], Stored>> {
        let mut rows = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(ID_BATCH) {
            // Few distinct statement shapes (powers of two, the last id repeated to
            // fill), so the prepared statements stay in rusqlite's cache.
            let slots = chunk.len().next_power_of_two();
            let sql = format!(
                "SELECT provider, options, src, tgt, source, target, origin, checksum, key
                 FROM translations WHERE key IN ({})",
                vec!["?"; slots].join(",")
            );
            let mut stmt = conn
                .prepare_cached(&sql)
                .map_err(|e| cache_err(&self.path, e))?;
            let last = chunk[chunk.len() - 1];
            let args = (0..slots).map(|i| chunk.get(i).copied().unwrap_or(last));
            let found = stmt
                .query_map(rusqlite::params_from_iter(args), |r| {
                    let id: Vec<u8> = r.get(8)?;
                    Ok((id, Stored::from_row(r)?))
                })
                .map_err(|e| cache_err(&self.path, e))?;
            for row in found {
                let (id, stored) = row.map_err(|e| cache_err(&self.path, e))?;
                if let Ok(id) = <[u8; 32]>::try_from(id.as_slice()) {
                    rows.insert(id, stored);
                }
            }
        }
        Ok(rows)
    }

    /// The first good entry of `probe` among `rows` (see [`Cache::get_first`]);
    /// damaged ones are deleted (unless read-only), reported and taken out of `rows`.
    fn first_of(
        &self,
        conn: &Connection,
        probe: &Probe<'_>,
        rows: &mut std::collections::HashMap<[u8; 32], Stored>,
    ) -> Result<FirstHit> {
        let mut first = FirstHit::default();
        for (at, id) in probe.ids.iter().enumerate() {
            let Some(stored) = rows.get(id) else {
                continue;
            };
            // The key it must hold, made only for an entry found.
            let (origin, (provider, options), position) = match at.checked_sub(1) {
                None => (Origin::Reviewed, ("", ""), 0),
                Some(i) => match probe.providers.get(i) {
                    Some(&p) => (Origin::Machine, p, i),
                    None => continue,
                },
            };
            let key = CacheKey {
                provider: provider.to_string(),
                options: options.to_string(),
                from: probe.from.to_string(),
                to: probe.to.to_string(),
                text: probe.text.to_string(),
            };
            if stored.matches(&key, origin) {
                first.hit = Some((
                    Hit {
                        target: stored.target.clone(),
                        origin,
                    },
                    position,
                ));
                return Ok(first);
            }
            rows.remove(id);
            if !self.read_only {
                conn.execute("DELETE FROM translations WHERE key = ?1", params![&id[..]])
                    .map_err(|e| cache_err(&self.path, e))?;
            }
            first.repaired.push(format!(
                "cache entry for {} → {} ({} characters) was damaged; deleted, fetching again",
                key.from,
                key.to,
                key.text.chars().count()
            ));
        }
        Ok(first)
    }

    /// Store a translation. A machine translation never overwrites a reviewed one
    /// (they are stored under different ids and the reviewed one wins on read). A
    /// reviewed one is stored without `key`'s provider and options.
    ///
    /// # Errors
    /// The database cannot be written (disk full, read-only).
    pub fn put(&self, key: &CacheKey, target: &str, origin: Origin) -> Result<()> {
        Cache::put_in(&self.lock(), &self.path, key, target, origin)
    }

    /// Store several reviewed translations in one transaction: all or none.
    ///
    /// # Errors
    /// The database cannot be written; nothing was stored.
    pub fn put_reviewed(&self, entries: &[(CacheKey, String)]) -> Result<()> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| cache_err(&self.path, e))?;
        for (key, target) in entries {
            Cache::put_in(&tx, &self.path, key, target, Origin::Reviewed)?;
        }
        tx.commit().map_err(|e| cache_err(&self.path, e))
    }

    fn put_in(
        conn: &Connection,
        path: &Path,
        key: &CacheKey,
        target: &str,
        origin: Origin,
    ) -> Result<()> {
        let key = origin.key(key);
        let id = key.id(origin.as_str());
        let sum = key.checksum(origin.as_str(), target);
        conn.prepare_cached(
            "INSERT OR REPLACE INTO translations
                 (key, provider, options, src, tgt, source, target, origin, checksum)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .and_then(|mut stmt| {
            stmt.execute(params![
                &id[..],
                key.provider,
                key.options,
                key.from,
                key.to,
                key.text,
                target,
                origin.as_str(),
                &sum[..]
            ])
        })
        .map_err(|e| cache_err(path, e))?;
        Ok(())
    }

    /// Every machine translation stored for each `(from, to, text)` in `texts`, any
    /// provider and options, as stored (damaged entries left out). `text` is
    /// normalized like a key's. One pass over the table, for `translate import`.
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn machine_targets(&self, texts: &[(String, String, String)]) -> Result<Vec<Vec<String>>> {
        let mut wanted: std::collections::HashMap<(&str, &str, String), Vec<usize>> =
            std::collections::HashMap::new();
        for (i, (from, to, text)) in texts.iter().enumerate() {
            wanted
                .entry((from.as_str(), to.as_str(), normalize_key_text(text)))
                .or_default()
                .push(i);
        }
        let mut found = vec![Vec::new(); texts.len()];
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT provider, options, src, tgt, source, target, origin, checksum
                 FROM translations WHERE origin = 'machine'",
            )
            .map_err(|e| cache_err(&self.path, e))?;
        let rows = stmt
            .query_map([], Stored::from_row)
            .map_err(|e| cache_err(&self.path, e))?;
        for row in rows {
            let stored = row.map_err(|e| cache_err(&self.path, e))?;
            let Some(at) = wanted.get(&(
                stored.src.as_str(),
                stored.tgt.as_str(),
                stored.source.clone(),
            )) else {
                continue;
            };
            let key = CacheKey::new(
                &stored.provider,
                &stored.options,
                &stored.src,
                &stored.tgt,
                &stored.source,
            );
            if stored.matches(&key, Origin::Machine) {
                for &i in at {
                    found[i].push(stored.target.clone());
                }
            }
        }
        Ok(found)
    }

    /// Count `chars` more characters sent to `provider` today (UTC), with no key
    /// named (runs count under their key's account through [`Store::allowance`]: the
    /// same table).
    ///
    /// # Errors
    /// The database cannot be written.
    pub fn add_chars_today(&self, provider: &str, chars: u64) -> Result<()> {
        let chars = i64::try_from(chars).unwrap_or(i64::MAX);
        self.lock()
            .prepare_cached(
                "INSERT INTO allowance (service, account, day, chars)
                 VALUES (?1, '', date('now'), ?2)
                 ON CONFLICT (service, account, day) DO UPDATE
                     SET chars = allowance.chars + excluded.chars",
            )
            .and_then(|mut stmt| stmt.execute(params![provider, chars]))
            .map_err(|e| cache_err(&self.path, e))?;
        Ok(())
    }

    /// Characters sent to `provider` today (UTC) by runs on this cache, whatever key
    /// they used; 0 for a cache made before the count existed. What runs of an older
    /// tarjama counted today (the former `usage` table) is included.
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn chars_today(&self, provider: &str) -> Result<u64> {
        let conn = self.lock();
        let mut total = 0u64;
        for (table, sql) in [
            (
                "allowance",
                "SELECT sum(chars) FROM allowance WHERE service = ?1 AND day = date('now')",
            ),
            (
                "usage",
                "SELECT sum(chars) FROM usage WHERE provider = ?1 AND day = date('now')",
            ),
        ] {
            let has_table: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    params![table],
                    |r| r.get(0),
                )
                .map_err(|e| cache_err(&self.path, e))?;
            if has_table == 0 {
                continue;
            }
            let chars: Option<i64> = conn
                .query_row(sql, params![provider], |r| r.get(0))
                .map_err(|e| cache_err(&self.path, e))?;
            total += chars.map_or(0, |c| u64::try_from(c).unwrap_or(0));
        }
        Ok(total)
    }

    /// Another connection to the same database, for another thread: like this one,
    /// read-write, or a read-only snapshot for a dry run.
    ///
    /// # Errors
    /// The database cannot be opened.
    pub(crate) fn reopen(&self) -> Result<Cache> {
        if self.read_only {
            let dir = self
                .path
                .parent()
                .and_then(Path::parent)
                .unwrap_or(&self.path);
            return Cache::open_existing(dir)?.ok_or_else(|| Error::Cache {
                path: self.path.clone(),
                what: "the cache disappeared while in use".into(),
                source: None,
                hint: None,
            });
        }
        Cache::open_db(&self.path).map_err(|e| cache_err(&self.path, e))
    }

    /// The prepared document stored as `id` (see [`Cache::put_prepared`]) when it was
    /// stored with `digest`; `None` otherwise, or when the entry is damaged or the
    /// cache has no such table (one written by an older version, read by a dry run).
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn prepared(&self, id: &str, digest: &[u8; 32]) -> Result<Option<Vec<u8>>> {
        let conn = self.lock();
        let mut stmt = match conn
            .prepare_cached("SELECT digest, body, checksum FROM prepared WHERE id = ?1")
        {
            Ok(stmt) => stmt,
            Err(e) if e.to_string().contains("no such table") => return Ok(None),
            Err(e) => return Err(cache_err(&self.path, e)),
        };
        let row = stmt
            .query_row(params![id], |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })
            .optional()
            .map_err(|e| cache_err(&self.path, e))?;
        Ok(row
            .filter(|(d, body, sum)| d[..] == digest[..] && sum[..] == prepared_sum(d, body))
            .map(|(_, body, _)| body))
    }

    /// Store prepared documents `(id, digest, body)` in one transaction, each
    /// replacing what was stored as its `id` before: a derived copy of an input (its
    /// paragraphs, kinds and languages) that a later run reuses while the input's
    /// `digest` is the same. Nothing is stored by a cache opened for a dry run.
    ///
    /// # Errors
    /// The database cannot be written.
    pub fn put_prepared(&self, entries: &[(String, [u8; 32], Vec<u8>)]) -> Result<()> {
        if self.read_only || entries.is_empty() {
            return Ok(());
        }
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(|e| cache_err(&self.path, e))?;
        for (id, digest, body) in entries {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO prepared (id, digest, body, checksum)
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    id,
                    &digest[..],
                    body,
                    &prepared_sum(digest, body)[..]
                ])
            })
            .map_err(|e| cache_err(&self.path, e))?;
        }
        tx.commit().map_err(|e| cache_err(&self.path, e))
    }

    /// Number of entries.
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn len(&self) -> Result<u64> {
        self.lock()
            .query_row("SELECT COUNT(*) FROM translations", [], |r| r.get(0))
            .map_err(|e| cache_err(&self.path, e))
    }

    /// Whether the cache holds nothing.
    ///
    /// # Errors
    /// The database cannot be read.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One row as stored.
struct Stored {
    provider: String,
    options: String,
    src: String,
    tgt: String,
    source: String,
    target: String,
    origin: String,
    checksum: Vec<u8>,
}

impl Stored {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
        Ok(Stored {
            provider: r.get(0)?,
            options: r.get(1)?,
            src: r.get(2)?,
            tgt: r.get(3)?,
            source: r.get(4)?,
            target: r.get(5)?,
            origin: r.get(6)?,
            checksum: r.get(7)?,
        })
    }

    fn matches(&self, key: &CacheKey, origin: Origin) -> bool {
        self.provider == key.provider
            && self.options == key.options
            && self.src == key.from
            && self.tgt == key.to
            && self.source == key.text
            && self.origin == origin.as_str()
            && !self.target.trim().is_empty()
            && self.checksum[..] == key.checksum(origin.as_str(), &self.target)[..]
    }
}

/// The checksum of a prepared document: its digest and body hashed together.
fn prepared_sum(digest: &[u8], body: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(b"tarjama-prepared-sum");
    h.update(&(digest.len() as u64).to_le_bytes());
    h.update(digest);
    h.update(body);
    *h.finalize().as_bytes()
}

/// How long a run waits for another run's lock on the cache.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn is_not_a_database(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

fn cache_err(path: &Path, e: impl Into<Failure>) -> Error {
    let failure = e.into();
    let full = failure.disk_full();
    let (what, source): (&str, crate::error::Cause) = match failure {
        Failure::Sqlite(e) => ("cannot use the database", Box::new(e)),
        Failure::Io(e) => ("cannot use the directory", Box::new(e)),
    };
    let what = match full {
        Some(DiskFull::Yes) => "the disk is full".to_string(),
        // SQLite says "disk I/O error" when the WAL cannot grow on a full disk
        // (its unix VFS reports a failed `fallocate` that way, without the errno).
        Some(DiskFull::Maybe) => format!("{what} (disk I/O error: is the disk full?)"),
        None => what.to_string(),
    };
    Error::Cache {
        path: path.to_path_buf(),
        what,
        source: Some(source),
        hint: full.map(|_| {
            "what was cached before is kept: free some space or choose another \
             --cache-dir, then rerun"
                .to_string()
        }),
    }
}

/// What failed under a cache error.
enum Failure {
    Sqlite(rusqlite::Error),
    Io(std::io::Error),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Failure {
        Failure::Sqlite(e)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::Io(e)
    }
}

/// Whether a failure says the disk is full.
#[derive(Clone, Copy)]
enum DiskFull {
    /// SQLite's `SQLITE_FULL`, or the file system's `ENOSPC`/`EDQUOT`.
    Yes,
    /// SQLite's `SQLITE_IOERR`: a write, sync or size change failed, which on a
    /// full disk is how a growing WAL fails.
    Maybe,
}

impl Failure {
    /// Told by the error code, never by the message text.
    fn disk_full(&self) -> Option<DiskFull> {
        match self {
            Failure::Sqlite(e) => match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DiskFull) => Some(DiskFull::Yes),
                Some(rusqlite::ErrorCode::SystemIoFailure) => Some(DiskFull::Maybe),
                _ => None,
            },
            Failure::Io(e) => match e.kind() {
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                    Some(DiskFull::Yes)
                }
                _ => None,
            },
        }
    }
}

/// Mark the directory as a cache (CACHEDIR.TAG for backup tools, `.gitignore` so it is
/// never committed). Best effort: failing to mark is not an error.
fn mark_cache_dir(dir: &Path) {
    let tag = dir.join("CACHEDIR.TAG");
    if !tag.exists() {
        let _ = fs_err::write(
            &tag,
            "Signature: 8a477f597d28d172789f06886806bc55\n\
             # This file is a cache directory tag created by tarjama.\n\
             # For information about cache directory tags see https://bford.info/cachedir/\n",
        );
    }
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        let _ = fs_err::write(&ignore, "*\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> CacheKey {
        CacheKey::new("libretranslate", "format=text", "ar", "en", text)
    }

    /// The version changes with every write of an entry, by whatever writes it (a
    /// statement from outside, as an older binary or `sqlite3` would), and with
    /// nothing else; a database made anew never has an earlier one's version.
    #[test]
    fn the_version_changes_with_every_entry_written_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::open(dir.path()).unwrap();
        let v0 = c.version().unwrap().expect("a version");
        let k = key("مرحبا بالعالم");
        c.put(&k, "hello world", Origin::Machine).unwrap();
        let v1 = c.version().unwrap().unwrap();
        assert_ne!(v0, v1);
        assert!(matches!(c.get(&k).unwrap(), Lookup::Hit(_)));
        c.put_prepared(&[("doc".into(), [1; 32], b"body".to_vec())])
            .unwrap();
        assert_eq!(c.version().unwrap().unwrap(), v1, "reads and other tables");
        let raw = rusqlite::Connection::open(c.path()).unwrap();
        raw.execute("UPDATE translations SET target = 'edited'", [])
            .unwrap();
        let v2 = c.version().unwrap().unwrap();
        assert_ne!(v2, v1);
        raw.execute("DELETE FROM translations", []).unwrap();
        assert_ne!(c.version().unwrap().unwrap(), v2);
        drop((c, raw));

        let again = tempfile::tempdir().unwrap();
        let fresh = Cache::open(again.path()).unwrap();
        assert_ne!(fresh.version().unwrap().unwrap(), v0);
    }

    #[test]
    fn put_then_get_and_reviewed_wins() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::open(dir.path()).unwrap();
        let k = key("مرحبا بالعالم");
        assert_eq!(c.get(&k).unwrap(), Lookup::Miss);
        c.put(&k, "hello world", Origin::Machine).unwrap();
        assert_eq!(
            c.get(&k).unwrap(),
            Lookup::Hit(Hit {
                target: "hello world".into(),
                origin: Origin::Machine
            })
        );
        c.put(&k, "Hello, world!", Origin::Reviewed).unwrap();
        c.put(&k, "hello world again", Origin::Machine).unwrap();
        assert_eq!(
            c.get(&k).unwrap(),
            Lookup::Hit(Hit {
                target: "Hello, world!".into(),
                origin: Origin::Reviewed
            })
        );
        assert!(dir.path().join("CACHEDIR.TAG").is_file());
    }

    #[test]
    fn reviewed_entry_holds_for_every_provider_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::open(dir.path()).unwrap();
        let lt = key("جملة   طويلة");
        let other = CacheKey::new("deepl", "formality=default", "ar", "en", "جملة طويلة");
        c.put(&lt, "machine one", Origin::Machine).unwrap();
        c.put(&other, "machine two", Origin::Machine).unwrap();
        c.put_reviewed(&[(lt.clone(), "A long sentence.".into())])
            .unwrap();
        // A later machine answer of either provider does not replace it.
        c.put(&other, "machine three", Origin::Machine).unwrap();
        for k in [
            &lt,
            &other,
            &CacheKey::new("new", "", "ar", "en", "جملة طويلة"),
        ] {
            assert_eq!(
                c.get(k).unwrap(),
                Lookup::Hit(Hit {
                    target: "A long sentence.".into(),
                    origin: Origin::Reviewed
                })
            );
        }
        // Other languages are other texts.
        assert_eq!(
            c.get(&CacheKey::new("deepl", "", "fa", "en", "جملة طويلة"))
                .unwrap(),
            Lookup::Miss
        );
        let mut found = c
            .machine_targets(&[
                ("ar".into(), "en".into(), " جملة\nطويلة ".into()),
                ("ar".into(), "fr".into(), "جملة طويلة".into()),
            ])
            .unwrap();
        found[0].sort();
        assert_eq!(found, vec![vec!["machine one", "machine three"], vec![]]);
    }

    #[test]
    fn tampered_entry_is_repaired_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::open(dir.path()).unwrap();
        let k = key("نص");
        c.put(&k, "text", Origin::Machine).unwrap();
        c.lock()
            .execute("UPDATE translations SET target = 'evil'", [])
            .unwrap();
        assert!(matches!(c.get(&k).unwrap(), Lookup::Repaired(_)));
        assert_eq!(c.get(&k).unwrap(), Lookup::Miss);
    }

    #[test]
    fn characters_sent_today_are_counted_per_provider() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::open(dir.path()).unwrap();
        assert_eq!(c.chars_today("mymemory").unwrap(), 0);
        c.add_chars_today("mymemory", 1_200).unwrap();
        c.add_chars_today("mymemory", 300).unwrap();
        c.add_chars_today("edge", 7).unwrap();
        assert_eq!(c.chars_today("mymemory").unwrap(), 1_500);
        assert_eq!(c.chars_today("edge").unwrap(), 7);
        // Yesterday's count is not today's.
        c.lock()
            .execute(
                "UPDATE allowance SET day = date('now', '-1 day') WHERE service = 'edge'",
                [],
            )
            .unwrap();
        assert_eq!(c.chars_today("edge").unwrap(), 0);
        drop(c);
        // A dry run reads it through its read-only snapshot.
        let ro = Cache::open_existing(dir.path()).unwrap().unwrap();
        assert_eq!(ro.chars_today("mymemory").unwrap(), 1_500);
    }

    /// A cache made before the count existed: its runs add the table, and until then
    /// it reads as nothing sent today; its translations stay readable.
    #[test]
    fn a_cache_without_the_usage_table_keeps_working() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::open(dir.path()).unwrap();
        let k = key("نص قديم");
        c.put(&k, "old text", Origin::Machine).unwrap();
        c.lock()
            .execute_batch("DROP TABLE usage; DROP TABLE allowance")
            .unwrap();
        drop(c);
        let ro = Cache::open_existing(dir.path()).unwrap().unwrap();
        assert_eq!(ro.chars_today("mymemory").unwrap(), 0);
        drop(ro);
        let c = Cache::open(dir.path()).unwrap();
        assert!(matches!(c.get(&k).unwrap(), Lookup::Hit(_)));
        c.add_chars_today("mymemory", 5).unwrap();
        assert_eq!(c.chars_today("mymemory").unwrap(), 5);
    }

    #[test]
    fn garbage_database_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let v = dir.path().join(FORMAT_DIR);
        fs_err::create_dir_all(&v).unwrap();
        fs_err::write(v.join(DB_FILE), vec![0xAB; 8192]).unwrap();
        let (c, notice) = Cache::open_with_notice(dir.path()).unwrap();
        assert!(notice.unwrap().contains("moved it to"));
        assert!(c.is_empty().unwrap());
    }
}
