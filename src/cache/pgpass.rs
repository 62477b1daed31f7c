//! PostgreSQL's password file (`~/.pgpass`), read the way libpq reads it.
//!
//! tokio-postgres reads no password file itself, and no small, maintained crate does only
//! this, so this module follows the format PostgreSQL documents
//! (<https://www.postgresql.org/docs/current/libpq-pgpass.html>):
//! - lines `hostname:port:database:username:password`; `#` starts a comment line;
//! - each of the first four fields is a literal or `*` (matches anything);
//! - `\:` and `\\` stand for `:` and `\` inside a field;
//! - the first matching line wins;
//! - `localhost` also matches a Unix-socket connection;
//! - the file is `PGPASSFILE`, else `~/.pgpass` (`%APPDATA%\postgresql\pgpass.conf` on
//!   Windows); on Unix a file that the group or others may read is ignored, with a
//!   warning, as libpq does.
//!
//! Like libpq, the password field ends at the next unescaped `:`.

use std::path::{Path, PathBuf};

/// What a connection is matched on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target<'a> {
    /// Host name, or `localhost` for a Unix socket.
    pub host: &'a str,
    /// Port number.
    pub port: u16,
    /// Database name.
    pub database: &'a str,
    /// User name.
    pub user: &'a str,
}

/// The password of the first line of `text` that matches `target`.
#[must_use]
pub fn lookup(text: &str, target: &Target<'_>) -> Option<String> {
    let port = target.port.to_string();
    let wanted = [target.host, port.as_str(), target.database, target.user];
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .find_map(|line| {
            let fields = split(line);
            if fields.len() < 5 {
                return None;
            }
            let matches = fields[..4]
                .iter()
                .zip(wanted)
                .all(|((raw, value), want)| raw == "*" || value == want);
            matches.then(|| fields[4].1.clone())
        })
}

/// Split a line into at most five fields at unescaped `:`; each field as written and
/// unescaped (`*` is a wildcard only when written bare).
fn split(line: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let (mut raw, mut value) = (String::new(), String::new());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                raw.push(c);
                if let Some(next) = chars.next() {
                    raw.push(next);
                    value.push(next);
                }
            }
            ':' => {
                fields.push((std::mem::take(&mut raw), std::mem::take(&mut value)));
                if fields.len() == 5 {
                    return fields;
                }
            }
            _ => {
                raw.push(c);
                value.push(c);
            }
        }
    }
    fields.push((raw, value));
    fields
}

/// The password file to read: `PGPASSFILE`, else the platform's default place.
/// `env` reads an environment variable.
#[must_use]
pub fn path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(p) = env("PGPASSFILE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if cfg!(windows) {
        env("APPDATA").map(|d| Path::new(&d).join("postgresql").join("pgpass.conf"))
    } else {
        env("HOME").map(|h| Path::new(&h).join(".pgpass"))
    }
}

/// Read the password file at `path`: `Ok(None)` when there is none; `Err(warning)` when
/// it exists but is not used (readable by others, not a file, unreadable).
///
/// # Errors
/// The warning to show; the file is then ignored, as libpq ignores it.
pub fn read(path: &Path) -> Result<Option<String>, Unused> {
    let meta = match fs_err::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Unused::Unreadable(e.kind())),
    };
    if !meta.is_file() {
        return Err(Unused::NotAFile(path.to_path_buf()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(Unused::OpenToOthers(path.to_path_buf()));
        }
    }
    fs_err::read_to_string(path)
        .map(Some)
        .map_err(|e| Unused::Unreadable(e.kind()))
}

/// Why a password file that exists is not used (shown as a warning; libpq ignores
/// such a file too). Only the kind of an I/O error is kept: its text names no secret,
/// but the file's content must never get near a message.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unused {
    /// It cannot be read.
    #[error("cannot read the password file: {0}")]
    Unreadable(std::io::ErrorKind),
    /// A directory or a device.
    #[error("password file {} is not a plain file; ignored", .0.display())]
    NotAFile(std::path::PathBuf),
    /// Readable by the group or others.
    #[error(
        "password file {} has group or world access; it is ignored (run `chmod 0600 {}`)",
        .0.display(),
        .0.display()
    )]
    OpenToOthers(std::path::PathBuf),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target<'a>(host: &'a str, port: u16, database: &'a str, user: &'a str) -> Target<'a> {
        Target {
            host,
            port,
            database,
            user,
        }
    }

    #[test]
    fn first_matching_line_wins_with_wildcards_and_escapes() {
        let text = "# hostname:port:database:username:password\n\
                    db.example:5432:tm:alice:first\n\
                    *:*:tm:alice:second\n\
                    db.example:*:*:*:fallback\n\
                    h\\:x:5432:d\\\\b:bob:p\\:a\\\\ss:ignored after\r\n\
                    short:line\n";
        assert_eq!(
            lookup(text, &target("db.example", 5432, "tm", "alice")).as_deref(),
            Some("first")
        );
        assert_eq!(
            lookup(text, &target("other", 6000, "tm", "alice")).as_deref(),
            Some("second")
        );
        assert_eq!(
            lookup(text, &target("db.example", 6000, "other", "carol")).as_deref(),
            Some("fallback")
        );
        assert_eq!(
            lookup(text, &target("h:x", 5432, "d\\b", "bob")).as_deref(),
            Some("p:a\\ss")
        );
        assert_eq!(lookup(text, &target("nowhere", 1, "x", "y")), None);
        // An escaped star is a literal star, not a wildcard.
        assert_eq!(lookup("\\*:*:*:*:pw\n", &target("h", 1, "d", "u")), None);
        assert_eq!(
            lookup("\\*:*:*:*:pw\n", &target("*", 1, "d", "u")).as_deref(),
            Some("pw")
        );
    }

    #[test]
    fn pgpassfile_wins_and_open_files_are_ignored() {
        let env = |k: &str| match k {
            "PGPASSFILE" => Some("/x/pass".to_string()),
            "HOME" => Some("/home/a".to_string()),
            _ => None,
        };
        assert_eq!(path(&env), Some(PathBuf::from("/x/pass")));
        let env = |k: &str| (k == "HOME").then(|| "/home/a".to_string());
        if cfg!(unix) {
            assert_eq!(path(&env), Some(PathBuf::from("/home/a/.pgpass")));
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        assert_eq!(read(&file), Ok(None));
        fs_err::write(&file, "*:*:*:*:secret\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs_err::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            let warning = read(&file).unwrap_err().to_string();
            assert!(
                warning.contains("chmod 0600") && !warning.contains("secret"),
                "{warning}"
            );
            fs_err::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert_eq!(read(&file).unwrap().as_deref(), Some("*:*:*:*:secret\n"));
    }
}
