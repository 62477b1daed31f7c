//! Looking into a cache directory from outside, as a user with `sqlite3` would:
//! SQLite's own integrity check and the source texts it holds.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The database file of the cache in `dir`.
pub fn db(dir: &Path) -> PathBuf {
    dir.join(tarjama::cache::FORMAT_DIR)
        .join(tarjama::cache::DB_FILE)
}

/// `PRAGMA integrity_check` of the cache in `dir` (`"ok"` when sound).
pub fn integrity(dir: &Path) -> String {
    let c = rusqlite::Connection::open(db(dir)).unwrap();
    let rows: Vec<String> = c
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    rows.join("; ")
}

/// The source texts with a translation in the cache in `dir` (empty when there is
/// no database or no table yet), as the cache normalizes them for its key.
pub fn sources(dir: &Path) -> HashSet<String> {
    if !db(dir).is_file() {
        return HashSet::new();
    }
    let c = rusqlite::Connection::open(db(dir)).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    let tables: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'translations'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if tables == 0 {
        // A run killed between creating the file and its table.
        return HashSet::new();
    }
    let mut stmt = c.prepare("SELECT source FROM translations").unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A text as [`sources`] holds it.
pub fn key_text(text: &str) -> String {
    tarjama::cache::normalize_key_text(text)
}
