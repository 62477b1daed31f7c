//! `translate cache copy FROM TO`, and which shared translation memory a command uses.
//!
//! `cache copy` seeds a shared memory from one analyst's cache directory, or takes a
//! local copy of the shared one (each side a cache directory or a `postgres://` URL):
//! reviewed entries stay reviewed, machine entries keep their provider and options,
//! nothing the destination holds is replaced, and one line on stdout gives the counts.
//!
//! [`shared_url`] is the one rule for the shared memory's URL: `--cache URL`, else the
//! `TARJAMA_CACHE` environment variable, else the config's `[cache] url`, else none
//! (the local cache alone). A bad URL is a usage error (exit 2) naming where it came
//! from, and never shows its password.

use std::io::Write;

use crate::cache::copy::{self, Side};
use crate::cache::dsn::{self, CACHE_ENV, Chosen};
use crate::cache::{CacheUrl, outage};
use crate::config::Config;
use crate::error::Error;
use crate::secret::Keyring;

use super::ExitStatus;

/// What to do with a translation memory.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Copy every translation from FROM to TO (each a cache directory or a postgres:// URL)
    Copy {
        /// Where to read: a cache directory, or postgres://user@host/database
        #[arg(value_name = "FROM")]
        from: String,
        /// Where to add what it lacks: a cache directory (created if needed), or a URL
        #[arg(value_name = "TO")]
        to: String,
    },
}

/// Run a `cache` action; returns the exit code.
///
/// # Errors
/// A side cannot be opened, read or written; a bad URL or a FROM without a cache is a
/// usage error.
pub async fn run(action: &Action) -> Result<ExitStatus, Error> {
    match action {
        Action::Copy { from, to } => {
            let keyring = Keyring::os();
            let source = Side::open(from, true, &keyring, outage::PATIENCE).await?;
            let dest = Side::open(to, false, &keyring, outage::PATIENCE).await?;
            if source.describe() == dest.describe() {
                return Err(Error::Usage(format!(
                    "cache copy: FROM and TO are the same cache ({})",
                    source.describe()
                )));
            }
            let done = copy::copy(&source, &dest).await?;
            let _ = writeln!(
                std::io::stdout().lock(),
                "{}",
                done.line(&source.describe(), &dest.describe())
            );
            Ok(ExitStatus::Success)
        }
    }
}

/// The shared memory a command uses: `--cache` (`flag`), else `TARJAMA_CACHE`, else the
/// config's `[cache] url`, else `None`.
///
/// # Errors
/// The chosen value is not a usable `postgres://` URL (a usage error for the flag and
/// the environment, a config error for the file).
pub fn shared_url(flag: Option<&str>, config: &Config) -> Result<Option<CacheUrl>, Error> {
    let env = std::env::var(CACHE_ENV).ok();
    let Some((chosen, text)) = dsn::choose(flag, env.as_deref(), config.cache.url.as_deref())
    else {
        return Ok(None);
    };
    CacheUrl::parse(text).map(Some).map_err(|m| match chosen {
        Chosen::Config => Error::Config {
            path: config
                .source
                .clone()
                .unwrap_or_else(|| "<built-in config>".into()),
            what: format!("[cache] url: {m}"),
            source: None,
        },
        other => Error::Usage(format!("{}: {m}", other.name())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_url_names_its_source_and_hides_its_password() {
        let mut config = Config::builtin();
        config.cache.url = Some("postgres://desk:pw-in-config@h:notaport/tm".into());
        let e = shared_url(None, &config).unwrap_err();
        let text = e.to_string();
        assert!(
            e.is_usage() && text.contains("[cache] url") && !text.contains("pw-in-config"),
            "{text}"
        );
        let e = shared_url(Some("cache/"), &config).unwrap_err().to_string();
        assert!(
            e.starts_with("--cache:") && e.contains("--cache-dir"),
            "{e}"
        );
        let url = shared_url(Some("postgres://a@h/tm"), &config)
            .unwrap()
            .unwrap();
        assert_eq!(url.to_string(), "postgres://a@h:5432/tm");
    }
}
