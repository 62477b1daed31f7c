//! The store's protocol on the local SQLite file: leases, the pacer and daily
//! allowances next to the `translations` table, so processes on one machine that share
//! a `--cache-dir` claim, pace and count through the file.
//!
//! Tables, created beside `translations` when a [`super::Store`] opens the cache (the
//! synchronous [`Cache`] never reads them):
//! - `leases (key, owner, until_ms, attempts)`: one row per paragraph being translated
//!   by some process, keyed like its `translations` row. A separate table rather than a
//!   nullable `target` in `translations` because SQLite runs one write transaction at a
//!   time for the whole file: a claim (`BEGIN IMMEDIATE`, "is it done?", upsert the
//!   lease where it expired) and a completion (insert the translation, delete the
//!   lease) cannot interleave, so there is no moment when another process sees neither
//!   row, which is the reason PostgreSQL keeps both in one row. It also leaves the
//!   `translations` format, its checksums and every reader of it unchanged.
//! - `pacer (service, account, tat_ms, interval_ms, step_ms, epoch, changed_ms,
//!   seen_ms)`: GCRA, one row per service and key (the account is a hash of the key).
//! - `allowance (service, account, day, chars)`: characters sent per service, key and
//!   UTC day. A counter per service and day alone is this table with `account = ''`.
//! - `shared_sync (source, reviewed_ms)`: how far the reviewed entries of a shared
//!   memory were copied into this file.
//!
//! Times are SQLite's `unixepoch('subsec')` in milliseconds: the system clock, the one
//! clock every process on the machine reads (<https://sqlite.org/lang_datefunc.html>).
//! A clock step (NTP) moves lease ends and the pacer's schedule with it, which costs at
//! worst a lease taken over early (the first answer stored still wins) or a pause.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::{Cache, CacheKey, Hit, Origin, Stored, cache_err};
use crate::error::Result;

/// The current time in milliseconds, as SQL.
const NOW_MS: &str = "(unixepoch('subsec') * 1000.0)";

/// Create the store's tables if they are missing.
///
/// # Errors
/// The database cannot be written.
pub(crate) fn init(cache: &Cache) -> Result<()> {
    let conn = cache.lock();
    let deadline = std::time::Instant::now() + super::BUSY_TIMEOUT;
    loop {
        match conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS leases (
                 key      BLOB PRIMARY KEY,
                 owner    TEXT NOT NULL,
                 until_ms REAL NOT NULL,
                 attempts INTEGER NOT NULL DEFAULT 1
             );
             CREATE TABLE IF NOT EXISTS pacer (
                 service     TEXT NOT NULL,
                 account     TEXT NOT NULL,
                 tat_ms      REAL NOT NULL,
                 interval_ms REAL NOT NULL,
                 step_ms     REAL NOT NULL,
                 epoch       INTEGER NOT NULL DEFAULT 0,
                 changed_ms  REAL NOT NULL,
                 seen_ms     REAL NOT NULL,
                 PRIMARY KEY (service, account)
             );
             CREATE TABLE IF NOT EXISTS allowance (
                 service TEXT NOT NULL,
                 account TEXT NOT NULL DEFAULT '',
                 day     TEXT NOT NULL,
                 chars   INTEGER NOT NULL DEFAULT 0,
                 PRIMARY KEY (service, account, day)
             );
             CREATE TABLE IF NOT EXISTS shared_sync (
                 source      TEXT PRIMARY KEY,
                 reviewed_ms REAL NOT NULL
             );",
        ) {
            Err(e) if super::is_busy(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other.map_err(|e| cache_err(cache.path(), e)),
        }
    }
}

/// Run `f` in a write transaction taken at once (`BEGIN IMMEDIATE`): other processes'
/// writes wait for it, so what it reads stays true until it commits.
fn write<T>(cache: &Cache, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
    let mut conn = cache.lock();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| cache_err(cache.path(), e))?;
    let out = f(&tx).map_err(|e| cache_err(cache.path(), e))?;
    tx.commit().map_err(|e| cache_err(cache.path(), e))?;
    Ok(out)
}

/// Milliseconds left on another process's lease of each key (`None`: no live lease).
/// The lease of a process of this machine that is gone (killed) is deleted: a killed
/// run's paragraphs are taken over at once, not when its leases run out.
///
/// # Errors
/// The database cannot be read.
pub(crate) fn leased(cache: &Cache, keys: &[&CacheKey]) -> Result<Vec<Option<Duration>>> {
    let conn = cache.lock();
    let sql = format!(
        "SELECT until_ms - {NOW_MS}, owner FROM leases WHERE key = ?1 AND until_ms > {NOW_MS}"
    );
    let err = |e: rusqlite::Error| cache_err(cache.path(), e);
    let mut stmt = conn.prepare_cached(&sql).map_err(err)?;
    let mut gone = conn
        .prepare_cached("DELETE FROM leases WHERE key = ?1 AND owner = ?2")
        .map_err(err)?;
    keys.iter()
        .map(|k| {
            let id = k.id("machine");
            let row: Option<(f64, String)> = stmt
                .query_row(params![&id[..]], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(err)?;
            match row {
                Some((_, owner)) if super::store::owner_is_gone(&owner) => {
                    gone.execute(params![&id[..], owner]).map_err(err)?;
                    Ok(None)
                }
                Some((left, _)) => Ok(Some(ms(left))),
                None => Ok(None),
            }
        })
        .collect()
}

/// Claim `keys` (sorted, distinct) for `owner` for `lease`: `true` for each key now
/// held, i.e. neither translated nor leased by another process whose lease is still
/// running (a key already held by `owner` is held again, so a retried claim is safe).
///
/// # Errors
/// The database cannot be written.
pub fn claim(cache: &Cache, keys: &[&CacheKey], owner: &str, lease: Duration) -> Result<Vec<bool>> {
    write(cache, |tx| {
        let mut done =
            tx.prepare_cached("SELECT count(*) FROM translations WHERE key IN (?1, ?2)")?;
        let mut take = tx.prepare_cached(&format!(
            "INSERT INTO leases (key, owner, until_ms) VALUES (?1, ?2, {NOW_MS} + ?3)
             ON CONFLICT (key) DO UPDATE SET owner = excluded.owner,
                 until_ms = excluded.until_ms, attempts = leases.attempts + 1
             WHERE leases.until_ms < {NOW_MS} OR leases.owner = excluded.owner
             RETURNING key"
        ))?;
        keys.iter()
            .map(|k| {
                let ids = [k.id("machine"), k.reviewed().id("reviewed")];
                let n: i64 = done.query_row(params![&ids[0][..], &ids[1][..]], |r| r.get(0))?;
                if n > 0 {
                    return Ok(false);
                }
                let got: Option<Vec<u8>> = take
                    .query_row(
                        params![&ids[0][..], owner, lease.as_secs_f64() * 1000.0],
                        |r| r.get(0),
                    )
                    .optional()?;
                Ok(got.is_some())
            })
            .collect()
    })
}

/// Store machine answers, first writer wins; delete their leases. For each entry:
/// `None` when this answer was stored and is what a lookup now serves, else what is
/// served instead (an earlier answer, or a reviewed translation).
///
/// # Errors
/// The database cannot be written.
pub fn complete(cache: &Cache, done: &[(&CacheKey, &str)]) -> Result<Vec<Option<Hit>>> {
    write(cache, |tx| {
        let mut free = tx.prepare_cached("DELETE FROM leases WHERE key = ?1")?;
        done.iter()
            .map(|(key, target)| {
                let stored = insert(tx, key, target, Origin::Machine)?;
                free.execute(params![&key.id("machine")[..]])?;
                let served = read_hit(tx, key)?;
                Ok(match served {
                    Some(h) if !(stored && h.origin == Origin::Machine) => Some(h),
                    _ => None,
                })
            })
            .collect()
    })
}

/// Insert one entry unless its key is taken; whether it was inserted.
fn insert(
    conn: &Connection,
    key: &CacheKey,
    target: &str,
    origin: Origin,
) -> rusqlite::Result<bool> {
    let key = origin.key(key);
    let id = key.id(origin.as_str());
    let sum = key.checksum(origin.as_str(), target);
    let n = conn
        .prepare_cached(
            "INSERT INTO translations
                 (key, provider, options, src, tgt, source, target, origin, checksum)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (key) DO NOTHING",
        )?
        .execute(params![
            &id[..],
            key.provider,
            key.options,
            key.from,
            key.to,
            key.text,
            target,
            origin.as_str(),
            &sum[..]
        ])?;
    Ok(n == 1)
}

/// What a lookup serves for `key`, read only (a damaged entry counts as none).
fn read_hit(conn: &Connection, key: &CacheKey) -> rusqlite::Result<Option<Hit>> {
    let mut stmt = conn.prepare_cached(
        "SELECT provider, options, src, tgt, source, target, origin, checksum
         FROM translations WHERE key = ?1",
    )?;
    for origin in [Origin::Reviewed, Origin::Machine] {
        let okey = origin.key(key);
        let row = stmt
            .query_row(params![&okey.id(origin.as_str())[..]], Stored::from_row)
            .optional()?;
        if let Some(stored) = row.filter(|s| s.matches(&okey, origin)) {
            return Ok(Some(Hit {
                target: stored.target,
                origin,
            }));
        }
    }
    Ok(None)
}

/// Extend `owner`'s leases of `keys`; how many it still held.
///
/// # Errors
/// The database cannot be written.
pub fn renew(cache: &Cache, keys: &[&CacheKey], owner: &str, lease: Duration) -> Result<usize> {
    write(cache, |tx| {
        let mut stmt = tx.prepare_cached(&format!(
            "UPDATE leases SET until_ms = {NOW_MS} + ?3 WHERE key = ?1 AND owner = ?2"
        ))?;
        let mut n = 0;
        for k in keys {
            n += stmt.execute(params![
                &k.id("machine")[..],
                owner,
                lease.as_secs_f64() * 1000.0
            ])?;
        }
        Ok(n)
    })
}

/// Give up `owner`'s leases of `keys` (an error, Ctrl-C): others may claim them at once.
///
/// # Errors
/// The database cannot be written.
pub fn release(cache: &Cache, keys: &[&CacheKey], owner: &str) -> Result<()> {
    write(cache, |tx| {
        let mut stmt = tx.prepare_cached("DELETE FROM leases WHERE key = ?1 AND owner = ?2")?;
        for k in keys {
            stmt.execute(params![&k.id("machine")[..], owner])?;
        }
        Ok(())
    })
}

/// The pacer row after one acquire: `(seen_ms, tat_ms, step_ms, epoch)`.
pub(crate) type PacerRow = (f64, f64, f64, i64);

/// Reserve the next request slot of a bucket (see [`super::store`] for the rule).
///
/// # Errors
/// The database cannot be written.
pub fn pace(cache: &Cache, service: &str, account: &str, floor_ms: f64) -> Result<PacerRow> {
    let sql = format!(
        "INSERT INTO pacer (service, account, tat_ms, interval_ms, step_ms, epoch, changed_ms, seen_ms)
         VALUES (?1, ?2, {NOW_MS} + ?3, ?3, ?3, 0, {NOW_MS}, {NOW_MS})
         ON CONFLICT (service, account) DO UPDATE SET
             interval_ms = {new},
             changed_ms = CASE WHEN {recover} THEN excluded.seen_ms ELSE pacer.changed_ms END,
             step_ms = max(?3, {new}),
             tat_ms = max(pacer.tat_ms, excluded.seen_ms) + max(?3, {new}),
             seen_ms = excluded.seen_ms
         RETURNING seen_ms, tat_ms, step_ms, epoch",
        new = new_interval_sqlite(),
        recover = recover_sqlite(),
    );
    write(cache, |tx| {
        tx.prepare_cached(&sql)?.query_row(
            params![
                service,
                account,
                floor_ms,
                super::store::RECOVER_AFTER.as_secs_f64() * 1000.0,
                super::store::RECOVER_STEP
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
    })
}

fn recover_sqlite() -> String {
    "(pacer.interval_ms > ?3 AND excluded.seen_ms - pacer.changed_ms >= ?4)".to_string()
}

fn new_interval_sqlite() -> String {
    format!(
        "CASE WHEN {} THEN max(?3, 1000.0 / (1000.0 / pacer.interval_ms + ?5 * 1000.0 / ?3))
         ELSE pacer.interval_ms END",
        recover_sqlite()
    )
}

/// A 429 for a request paced in `epoch`: the first one of the epoch multiplies the
/// bucket's interval by [`super::store::SLOWDOWN`] (at most a hundredfold the configured one); any pushes the next
/// slot past `pause`.
///
/// # Errors
/// The database cannot be written.
pub fn throttled(
    cache: &Cache,
    service: &str,
    account: &str,
    floor_ms: f64,
    epoch: i64,
    pause: Duration,
) -> Result<()> {
    write(cache, |tx| {
        tx.prepare_cached(&format!(
            "UPDATE pacer SET
                 interval_ms = CASE WHEN epoch = ?3 THEN min(max(interval_ms, ?4) * {slow}, ?4 * {cap})
                                    ELSE interval_ms END,
                 changed_ms = CASE WHEN epoch = ?3 THEN {NOW_MS} ELSE changed_ms END,
                 tat_ms = max(tat_ms, {NOW_MS} + max(?5, CASE WHEN epoch = ?3
                     THEN min(max(interval_ms, ?4) * {slow}, ?4 * {cap}) ELSE interval_ms END)),
                 epoch = CASE WHEN epoch = ?3 THEN epoch + 1 ELSE epoch END
             WHERE service = ?1 AND account = ?2",
            cap = super::store::SLOWEST_FACTOR,
            slow = super::store::SLOWDOWN,
        ))?
        .execute(params![
            service,
            account,
            epoch,
            floor_ms,
            pause.as_secs_f64() * 1000.0
        ])?;
        Ok(())
    })
}

/// Count `chars` against today's (UTC) allowance of a bucket when they fit under
/// `limit`: `Ok(Some(used))` after counting, `Ok(None)` when they do not fit.
///
/// # Errors
/// The database cannot be written.
pub fn take(
    cache: &Cache,
    service: &str,
    account: &str,
    chars: u64,
    limit: u64,
) -> Result<Option<u64>> {
    write(cache, |tx| {
        let used: Option<i64> = tx
            .prepare_cached(
                "INSERT INTO allowance (service, account, day, chars)
                 SELECT ?1, ?2, date('now'), ?3 WHERE ?3 <= ?4
                 ON CONFLICT (service, account, day) DO UPDATE
                     SET chars = allowance.chars + excluded.chars
                     WHERE allowance.chars + excluded.chars <= ?4
                 RETURNING chars",
            )?
            .query_row(params![service, account, clamp(chars), clamp(limit)], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(used.map(|u| u.max(0).unsigned_abs()))
    })
}

/// Give back `chars` of today's allowance (a request that failed).
///
/// # Errors
/// The database cannot be written.
pub fn refund(cache: &Cache, service: &str, account: &str, chars: u64) -> Result<()> {
    write(cache, |tx| {
        tx.prepare_cached(
            "UPDATE allowance SET chars = max(0, chars - ?3)
             WHERE service = ?1 AND account = ?2 AND day = date('now')",
        )?
        .execute(params![service, account, clamp(chars)])?;
        Ok(())
    })
}

/// Characters counted today (UTC) for a bucket.
///
/// # Errors
/// The database cannot be read.
pub fn used(cache: &Cache, service: &str, account: &str) -> Result<u64> {
    let conn = cache.lock();
    let used: Option<i64> = conn
        .query_row(
            "SELECT chars FROM allowance WHERE service = ?1 AND account = ?2 AND day = date('now')",
            params![service, account],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| cache_err(cache.path(), e))?;
    Ok(used.unwrap_or(0).max(0).unsigned_abs())
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn ms(v: f64) -> Duration {
    Duration::from_secs_f64((v / 1000.0).max(0.0))
}

/// One stored translation, as `translate cache copy` moves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Machine (with its provider and options) or reviewed (without).
    pub origin: Origin,
    /// The key fields; provider and options are empty for a reviewed entry.
    pub key: CacheKey,
    /// The translation.
    pub target: String,
}

/// Up to `limit` sound entries after `rowid`, in rowid order, the last rowid read and
/// how many damaged entries were left out.
///
/// # Errors
/// The database cannot be read.
pub fn entries(cache: &Cache, after: i64, limit: usize) -> Result<(Vec<Entry>, i64, usize)> {
    let conn = cache.lock();
    let mut stmt = conn
        .prepare_cached(
            "SELECT provider, options, src, tgt, source, target, origin, checksum, rowid
             FROM translations WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
        )
        .map_err(|e| cache_err(cache.path(), e))?;
    let rows = stmt
        .query_map(params![after, clamp(limit as u64)], |r| {
            Ok((Stored::from_row(r)?, r.get::<_, i64>(8)?))
        })
        .map_err(|e| cache_err(cache.path(), e))?;
    let (mut out, mut last, mut damaged) = (Vec::new(), after, 0);
    for row in rows {
        let (stored, rowid) = row.map_err(|e| cache_err(cache.path(), e))?;
        last = rowid;
        let origin = match stored.origin.as_str() {
            "reviewed" => Origin::Reviewed,
            _ => Origin::Machine,
        };
        let key = CacheKey::new(
            &stored.provider,
            &stored.options,
            &stored.src,
            &stored.tgt,
            &stored.source,
        );
        if stored.matches(&key, origin) {
            out.push(Entry {
                origin,
                key,
                target: stored.target,
            });
        } else {
            damaged += 1;
        }
    }
    Ok((out, last, damaged))
}

/// Add entries an earlier writer does not already hold (machine or reviewed, kept as
/// they are); how many were added. One transaction.
///
/// # Errors
/// The database cannot be written.
pub(crate) fn add_entries(cache: &Cache, entries: &[Entry]) -> Result<usize> {
    write(cache, |tx| {
        let mut n = 0;
        for e in entries {
            n += usize::from(insert(tx, &e.key, &e.target, e.origin)?);
        }
        Ok(n)
    })
}

/// Copy translations served by a shared memory into this file, replacing what it held
/// for the same keys (the shared memory is the reference).
///
/// # Errors
/// The database cannot be written.
pub(crate) fn put_copies(cache: &Cache, copies: &[(CacheKey, Hit)]) -> Result<()> {
    write(cache, |tx| {
        let mut free = tx.prepare_cached("DELETE FROM leases WHERE key = ?1")?;
        let mut replace = tx.prepare_cached(
            "INSERT OR REPLACE INTO translations
                 (key, provider, options, src, tgt, source, target, origin, checksum)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for (key, hit) in copies {
            let okey = hit.origin.key(key);
            let o = hit.origin.as_str();
            replace.execute(params![
                &okey.id(o)[..],
                okey.provider,
                okey.options,
                okey.from,
                okey.to,
                okey.text,
                hit.target,
                o,
                &okey.checksum(o, &hit.target)[..]
            ])?;
            free.execute(params![&key.id("machine")[..]])?;
        }
        Ok(())
    })
}

/// How far (server time, ms) reviewed entries of `source` were copied here.
///
/// # Errors
/// The database cannot be read.
pub(crate) fn synced(cache: &Cache, source: &str) -> Result<f64> {
    let conn = cache.lock();
    conn.query_row(
        "SELECT reviewed_ms FROM shared_sync WHERE source = ?1",
        params![source],
        |r| r.get(0),
    )
    .optional()
    .map(|v| v.unwrap_or(0.0))
    .map_err(|e| cache_err(cache.path(), e))
}

/// Remember how far reviewed entries of `source` were copied.
///
/// # Errors
/// The database cannot be written.
pub(crate) fn set_synced(cache: &Cache, source: &str, until_ms: f64) -> Result<()> {
    write(cache, |tx| {
        tx.execute(
            "INSERT INTO shared_sync (source, reviewed_ms) VALUES (?1, ?2)
             ON CONFLICT (source) DO UPDATE SET reviewed_ms = max(reviewed_ms, excluded.reviewed_ms)",
            params![source, until_ms],
        )?;
        Ok(())
    })
}
