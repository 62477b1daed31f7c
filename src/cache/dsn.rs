//! The shared cache's address: a `postgres://` URL, where its password comes from, and
//! how it is printed (never with the password).
//!
//! The URL is libpq's URI form as tokio-postgres parses it
//! (<https://docs.rs/tokio-postgres/latest/tokio_postgres/config/struct.Config.html>,
//! <https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS>):
//! `postgres://user@host:port/database?sslmode=require`. Two libpq parameters that
//! tokio-postgres does not know are read here: `sslrootcert=FILE` (the PEM certificates
//! that sign the server's, for a server with its own certificate authority) and
//! `sslmode=verify-ca|verify-full`, which mean `require` here because rustls always
//! checks the certificate and the host name.
//!
//! The password, in this order: the URL's, `PGPASSWORD`, the password file
//! ([`super::pgpass`]), the OS keyring entry `translate auth set cache` stores
//! ([`crate::secret::cache_password`]). It goes into the connection settings only:
//! [`CacheUrl`]'s `Display` and `Debug` rebuild the address from user, hosts, ports and
//! database, so no form of the URL that could hold a password is ever printed, and
//! [`redact`] cleans a string that did not even parse.
//!
//! Which URL a command uses: `--cache URL`, else `TARJAMA_CACHE`, else the config's
//! `[cache] url`, else none (the local cache alone); see [`choose`].

use std::fmt;
use std::path::{Path, PathBuf};

use crate::secret::{self, ApiKey, Keyring};

use super::pgpass;

/// Environment variable naming the shared cache when `--cache` is not given.
pub(crate) const CACHE_ENV: &str = "TARJAMA_CACHE";

/// How long a connection attempt may take when the URL does not say
/// (`connect_timeout`): an unreachable server is then reported within this time.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// TCP keepalive idle time when the URL does not say (the OS default is two hours):
/// a server that vanished without closing the connection is noticed within a minute.
const KEEPALIVE_IDLE: std::time::Duration = std::time::Duration::from_secs(20);
/// tokio-postgres' own default keepalive idle time: a URL that left it alone.
const TOKIO_POSTGRES_KEEPALIVE_IDLE: std::time::Duration = std::time::Duration::from_secs(7200);

/// A parsed `postgres://` URL. Prints as `postgres://user@host:port/database`.
#[derive(Clone)]
pub struct CacheUrl {
    config: tokio_postgres::Config,
    root_cert: Option<PathBuf>,
    shown: String,
}

/// Where the password came from (for messages; never the password).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordSource {
    /// The URL itself.
    Url,
    /// `PGPASSWORD`.
    Env,
    /// A line of the password file.
    PgPass(PathBuf),
    /// The OS keyring (`translate auth set cache`).
    Keyring,
}

impl fmt::Display for PasswordSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordSource::Url => f.write_str("the URL"),
            PasswordSource::Env => f.write_str("PGPASSWORD"),
            PasswordSource::PgPass(p) => write!(f, "{}", p.display()),
            PasswordSource::Keyring => f.write_str("the OS keyring (translate auth set cache)"),
        }
    }
}

/// The settings to connect with, password included.
pub struct Connect {
    /// tokio-postgres' settings (its `Debug` hides the password).
    pub config: tokio_postgres::Config,
    /// Where the password came from, if there is one.
    pub password: Option<PasswordSource>,
    /// The password, to scrub from any text before it is shown.
    pub secret: Option<ApiKey>,
    /// Why a password file was not used, to be shown as warnings.
    pub warnings: Vec<String>,
}

/// Why a shared cache URL cannot be used. Each names the URL without its password.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    /// Not `postgres://` or `postgresql://`.
    #[error("`{shown}` is not a postgres:// URL (a local cache is chosen with --cache-dir)")]
    NotPostgres {
        /// The URL, password hidden.
        shown: String,
    },
    /// tokio-postgres refuses it. Its error is kept as text with the password
    /// scrubbed, not as a source: its message may quote the URL.
    #[error("{shown}: {why}")]
    Invalid {
        /// The URL, password hidden.
        shown: String,
        /// tokio-postgres' reason, password scrubbed.
        why: String,
    },
    /// No host.
    #[error("{shown}: the URL names no host")]
    NoHost {
        /// The URL, password hidden.
        shown: String,
    },
}

impl CacheUrl {
    /// Whether `text` is a URL this module takes (`postgres://` or `postgresql://`),
    /// as opposed to a cache directory.
    #[must_use]
    pub(crate) fn is_url(text: &str) -> bool {
        let t = text.trim_start();
        ["postgres://", "postgresql://"]
            .iter()
            .any(|p| t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p))
    }

    /// Parse a URL.
    ///
    /// # Errors
    /// Not a `postgres://` URL, or a bad part; the message shows the URL without its
    /// password.
    pub fn parse(text: &str) -> Result<CacheUrl, UrlError> {
        let text = text.trim();
        if !CacheUrl::is_url(text) {
            return Err(UrlError::NotPostgres {
                shown: redact(text),
            });
        }
        let (rest, root_cert) = libpq_only_params(text);
        let config: tokio_postgres::Config =
            rest.parse()
                .map_err(|e: tokio_postgres::Error| UrlError::Invalid {
                    shown: redact(text),
                    why: scrub_text(&e.to_string(), text),
                })?;
        if config.get_hosts().is_empty() {
            return Err(UrlError::NoHost {
                shown: redact(text),
            });
        }
        let shown = show(&config);
        Ok(CacheUrl {
            config,
            root_cert,
            shown,
        })
    }

    /// `postgres://user@host:port/database`: the address without password or options.
    #[must_use]
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// `sslrootcert`: PEM certificates to trust instead of the system's.
    #[must_use]
    pub(crate) fn root_cert(&self) -> Option<&Path> {
        self.root_cert.as_deref()
    }

    /// The connection settings with the password from its first source: the URL,
    /// `PGPASSWORD`, the password file, the keyring. `env` reads an environment
    /// variable (`|k| std::env::var(k).ok()` in the program).
    #[must_use]
    pub fn connect(&self, env: &dyn Fn(&str) -> Option<String>, keyring: &Keyring) -> Connect {
        let mut config = self.config.clone();
        if config.get_user().is_none()
            && let Some(user) = env("USER").or_else(|| env("USERNAME"))
        {
            config.user(user);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_keepalives_idle() == TOKIO_POSTGRES_KEEPALIVE_IDLE {
            config.keepalives_idle(KEEPALIVE_IDLE);
        }
        if config.get_application_name().is_none() {
            config.application_name("tarjama");
        }
        let mut warnings = Vec::new();
        let found = match config.get_password() {
            Some(p) => Some((
                ApiKey::new(String::from_utf8_lossy(p).into_owned()),
                PasswordSource::Url,
            )),
            None => self.password_elsewhere(&config, env, keyring, &mut warnings),
        };
        let (secret, password) = match found {
            Some((key, source)) => {
                config.password(key.expose());
                (Some(key), Some(source))
            }
            None => (None, None),
        };
        Connect {
            config,
            password,
            secret,
            warnings,
        }
    }

    fn password_elsewhere(
        &self,
        config: &tokio_postgres::Config,
        env: &dyn Fn(&str) -> Option<String>,
        keyring: &Keyring,
        warnings: &mut Vec<String>,
    ) -> Option<(ApiKey, PasswordSource)> {
        if let Some(p) = env("PGPASSWORD").filter(|p| !p.is_empty()) {
            return Some((ApiKey::new(p), PasswordSource::Env));
        }
        if let Some(path) = pgpass::path(env) {
            match pgpass::read(&path) {
                Ok(Some(text)) => {
                    let host = match config.get_hosts().first() {
                        Some(tokio_postgres::config::Host::Tcp(h)) => h.as_str(),
                        _ => "localhost",
                    };
                    let user = config.get_user().unwrap_or_default();
                    let target = pgpass::Target {
                        host,
                        port: config.get_ports().first().copied().unwrap_or(5432),
                        database: config.get_dbname().unwrap_or(user),
                        user,
                    };
                    if let Some(p) = pgpass::lookup(&text, &target) {
                        return Some((ApiKey::new(p), PasswordSource::PgPass(path)));
                    }
                }
                Ok(None) => {}
                Err(w) => warnings.push(w.to_string()),
            }
        }
        secret::cache_password(keyring).map(|k| (k, PasswordSource::Keyring))
    }
}

impl fmt::Display for CacheUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for CacheUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheUrl({})", self.shown)
    }
}

/// Take out the libpq parameters tokio-postgres does not know: `sslrootcert=FILE`
/// (returned), `sslmode=verify-ca|verify-full` (sent as `require`).
fn libpq_only_params(text: &str) -> (String, Option<PathBuf>) {
    let Some((base, query)) = text.split_once('?') else {
        return (text.to_string(), None);
    };
    let mut root = None;
    let mut kept = Vec::new();
    for param in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = param.split_once('=').unwrap_or((param, ""));
        match (k, v) {
            ("sslrootcert", v) => {
                let decoded = percent_decode(v);
                root = Some(PathBuf::from(decoded));
            }
            ("sslmode", "verify-ca" | "verify-full") => kept.push("sslmode=require".to_string()),
            _ => kept.push(param.to_string()),
        }
    }
    if kept.is_empty() {
        (base.to_string(), root)
    } else {
        (format!("{base}?{}", kept.join("&")), root)
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `postgres://user@host:port,host2:port/database`.
fn show(config: &tokio_postgres::Config) -> String {
    let user = config
        .get_user()
        .map(|u| format!("{}@", encode(u)))
        .unwrap_or_default();
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                tokio_postgres::config::Host::Tcp(h) if h.contains(':') => format!("[{h}]"),
                tokio_postgres::config::Host::Tcp(h) => h.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(p) => encode(&p.to_string_lossy()),
            };
            match ports.get(i).or(ports.first()) {
                Some(p) => format!("{host}:{p}"),
                None => host,
            }
        })
        .collect();
    let db = config.get_dbname().map(encode).unwrap_or_default();
    format!("postgres://{user}{}/{db}", hosts.join(","))
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A URL-like text with any password taken out: the part after `user:` in the
/// credentials and any `password=` parameter, the way tokio-postgres would read them.
/// For texts that may not parse, in error messages.
#[must_use]
pub fn redact(text: &str) -> String {
    let (scheme, rest) = match text.find("://") {
        Some(i) => (&text[..i + 3], &text[i + 3..]),
        None => ("", text),
    };
    let rest = match rest.split_once('@') {
        Some((creds, after)) => {
            let user = creds.split(':').next().unwrap_or_default();
            format!("{user}@{after}")
        }
        None => rest.to_string(),
    };
    let mut out = String::from(scheme);
    for piece in rest.split_inclusive(['?', '&', ' ']) {
        let (body, sep) = match piece.chars().last() {
            Some(c @ ('?' | '&' | ' ')) => (&piece[..piece.len() - 1], c.to_string()),
            _ => (piece, String::new()),
        };
        match body.split_once('=') {
            Some((k, _)) if k.trim().eq_ignore_ascii_case("password") => {
                out.push_str(k);
                out.push_str("=****");
            }
            _ => out.push_str(body),
        }
        out.push_str(&sep);
    }
    out
}

/// `text` with every occurrence of the password in `url` replaced (belt and braces
/// for messages from the database client).
fn scrub_text(text: &str, url: &str) -> String {
    let config: Option<tokio_postgres::Config> = url.parse().ok();
    match config.as_ref().and_then(|c| c.get_password()) {
        Some(p) if !p.is_empty() => text.replace(&*String::from_utf8_lossy(p), "****"),
        _ => text.to_string(),
    }
}

/// Replace every occurrence of `secret` in `text` with `****`.
#[must_use]
pub(crate) fn scrub(text: &str, secret: Option<&ApiKey>) -> String {
    match secret {
        Some(s) if !s.expose().is_empty() => text.replace(s.expose(), "****"),
        _ => text.to_string(),
    }
}

/// Where the chosen URL came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chosen {
    /// `--cache`.
    Flag,
    /// `TARJAMA_CACHE`.
    Env,
    /// The config file's `[cache] url`.
    Config,
}

impl Chosen {
    /// How messages name it.
    #[must_use]
    pub(crate) fn name(self) -> &'static str {
        match self {
            Chosen::Flag => "--cache",
            Chosen::Env => CACHE_ENV,
            Chosen::Config => "[cache] url",
        }
    }
}

/// Which shared cache URL to use: `--cache`, else `TARJAMA_CACHE`, else the config's
/// `[cache] url`, else none. Blank values count as absent.
#[must_use]
pub fn choose<'a>(
    flag: Option<&'a str>,
    env: Option<&'a str>,
    config: Option<&'a str>,
) -> Option<(Chosen, &'a str)> {
    [
        (Chosen::Flag, flag),
        (Chosen::Env, env),
        (Chosen::Config, config),
    ]
    .into_iter()
    .find_map(|(c, v)| v.filter(|v| !v.trim().is_empty()).map(|v| (c, v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_without_password_from_every_form() {
        let u = CacheUrl::parse("postgres://alice:S3cr%40t-pw@db.example:6543/tm?sslmode=require")
            .unwrap();
        assert_eq!(u.to_string(), "postgres://alice@db.example:6543/tm");
        assert_eq!(
            format!("{u:?}"),
            "CacheUrl(postgres://alice@db.example:6543/tm)"
        );
        let u =
            CacheUrl::parse("postgresql://bob@h/db?password=hunter2&application_name=x").unwrap();
        assert_eq!(u.shown(), "postgres://bob@h:5432/db");
        for bad in [
            "postgres://carol:hunter2@h:notaport/db",
            "postgres://carol@h/db?password=hunter2&bogus=1",
        ] {
            let e = CacheUrl::parse(bad).unwrap_err().to_string();
            assert!(!e.contains("hunter2") && e.contains("carol@h"), "{e}");
        }
        assert_eq!(
            redact("postgres://u:p@ss@h/db?password=x&sslmode=require"),
            "postgres://u@ss@h/db?password=****&sslmode=require"
        );
        assert!(
            CacheUrl::parse("cache/")
                .unwrap_err()
                .to_string()
                .contains("--cache-dir")
        );
        assert!(CacheUrl::parse("postgres:///db").is_err());
    }

    #[test]
    fn libpq_parameters_tokio_postgres_lacks() {
        let u =
            CacheUrl::parse("postgres://a@h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem")
                .unwrap();
        assert_eq!(u.root_cert(), Some(Path::new("/etc/ca.pem")));
        assert_eq!(
            u.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
    }

    #[test]
    fn password_sources_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let pgpass = dir.path().join("pgpass");
        fs_err::write(&pgpass, "h:5432:db:alice:from-file\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs_err::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let file = pgpass.to_string_lossy().into_owned();
        let kr = Keyring::mock();
        kr.set(secret::CACHE_USER, &ApiKey::new("from-keyring"))
            .unwrap();
        let u = CacheUrl::parse("postgres://alice@h/db").unwrap();
        let with = |vars: &'static [(&'static str, &'static str)], file: Option<String>| {
            move |k: &str| {
                if k == "PGPASSFILE" {
                    return file.clone();
                }
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let c = u.connect(
            &with(&[("PGPASSWORD", "from-env")], Some(file.clone())),
            &kr,
        );
        assert_eq!(
            (c.password, c.config.get_password()),
            (Some(PasswordSource::Env), Some(&b"from-env"[..]))
        );
        let c = u.connect(&with(&[], Some(file.clone())), &kr);
        assert_eq!(c.password, Some(PasswordSource::PgPass(pgpass.clone())));
        assert_eq!(c.config.get_password(), Some(&b"from-file"[..]));
        let c = u.connect(&with(&[], None), &kr);
        assert_eq!(
            (c.password, c.config.get_password()),
            (Some(PasswordSource::Keyring), Some(&b"from-keyring"[..]))
        );
        let c = CacheUrl::parse("postgres://alice:in-url@h/db")
            .unwrap()
            .connect(&with(&[("PGPASSWORD", "from-env")], None), &kr);
        assert_eq!(c.password, Some(PasswordSource::Url));
        assert!(!format!("{:?}", c.config).contains("in-url"));
        let c = u.connect(&with(&[], None), &Keyring::mock());
        assert_eq!((c.password, c.secret), (None, None));
    }

    #[test]
    fn flag_then_env_then_config() {
        let (a, b, c) = (
            Some("postgres://a@h/x"),
            Some("postgres://b@h/x"),
            Some("postgres://c@h/x"),
        );
        assert_eq!(choose(a, b, c), Some((Chosen::Flag, "postgres://a@h/x")));
        assert_eq!(choose(None, b, c), Some((Chosen::Env, "postgres://b@h/x")));
        assert_eq!(
            choose(Some(" "), Some(""), c),
            Some((Chosen::Config, "postgres://c@h/x"))
        );
        assert_eq!(choose(None, None, None), None);
    }
}
