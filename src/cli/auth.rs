//! `translate auth set|show|delete <provider>`: API keys in the OS keyring.
//!
//! Keys are stored under service `tarjama`, user = provider name. `set` reads the key
//! without echo at a terminal (one line from standard input otherwise, for scripts);
//! `show` says where the key would come from (the provider's environment variable
//! first, then the keyring) and prints its last four characters only.
//!
//! `cache` is not a provider: `translate auth set cache` keeps the shared cache's
//! database password (user `cache`), the last source after the URL, `PGPASSWORD` and
//! `~/.pgpass`.

use std::io::{BufRead, IsTerminal, Write};

use crate::config::Config;
use crate::error::Error;
use crate::secret::{self, ApiKey, KEYRING_SERVICE, KeySource, Keyring};

use super::{Args, ExitStatus};

/// What to do with a key.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Read a key (without echo) and store it in the OS keyring
    Set {
        /// Provider name from the config
        provider: String,
    },
    /// Say where the provider's key comes from, with its last 4 characters only
    Show {
        /// Provider name from the config
        provider: String,
    },
    /// Delete the provider's key from the OS keyring
    Delete {
        /// Provider name from the config
        provider: String,
    },
}

/// Run an `auth` action against the OS keyring.
///
/// # Errors
/// Unknown provider, unreadable config, keyring failure, empty key.
pub fn run(args: &Args, action: &Action) -> Result<ExitStatus, Error> {
    let config = Config::load(args.config.as_deref())?;
    let keyring = Keyring::os();
    let mut out = std::io::stdout().lock();
    match action {
        Action::Set { provider } => {
            check_provider(&config, provider)?;
            let key = read_key(provider)?;
            let msg = set(&keyring, provider, &key)?;
            let _ = writeln!(out, "{msg}");
            Ok(ExitStatus::Success)
        }
        Action::Show { provider } => {
            let (line, found) = show(&config, &keyring, provider)?;
            let _ = writeln!(out, "{line}");
            Ok(if found {
                ExitStatus::Success
            } else {
                ExitStatus::Incomplete
            })
        }
        Action::Delete { provider } => {
            check_provider(&config, provider)?;
            let _ = writeln!(out, "{}", delete(&keyring, provider)?);
            Ok(ExitStatus::Success)
        }
    }
}

fn check_provider(config: &Config, provider: &str) -> Result<(), Error> {
    if provider == secret::CACHE_USER {
        return Ok(());
    }
    config
        .provider(Some(provider), &crate::config::Overrides::default())
        .map(|_| ())
}

/// Store `key` for `provider`.
///
/// # Errors
/// The keyring cannot be written.
pub fn set(keyring: &Keyring, provider: &str, key: &ApiKey) -> Result<String, Error> {
    keyring.set(provider, key)?;
    Ok(format!(
        "stored the key for {provider} in the OS keyring (service `{KEYRING_SERVICE}`, user `{provider}`): {}",
        key.last4()
    ))
}

/// Where `provider`'s key comes from; `false` when there is none.
///
/// # Errors
/// Unknown provider.
pub fn show(config: &Config, keyring: &Keyring, provider: &str) -> Result<(String, bool), Error> {
    if provider == secret::CACHE_USER {
        return Ok(match secret::cache_password(keyring) {
            Some(p) => (
                format!(
                    "cache: database password from the {} (user `cache`), {}",
                    KeySource::Keyring,
                    p.last4()
                ),
                true,
            ),
            None => (
                "cache: no database password in the OS keyring (the URL, PGPASSWORD and \
                 ~/.pgpass come first; run `translate auth set cache` to store one)"
                    .to_string(),
                false,
            ),
        });
    }
    let (_, settings) = config.provider(Some(provider), &crate::config::Overrides::default())?;
    let env = settings.key_env();
    Ok(match secret::resolve_in(keyring, provider, env) {
        Some((key, source @ KeySource::Env(_))) => (
            format!("{provider}: key from the {source}, {}", key.last4()),
            true,
        ),
        Some((key, KeySource::Keyring)) => (
            format!(
                "{provider}: key from the {} (user `{provider}`), {}",
                KeySource::Keyring,
                key.last4()
            ),
            true,
        ),
        None => {
            let hint = match env {
                Some(v) => format!("set ${v} or run `translate auth set {provider}`"),
                None => format!("run `translate auth set {provider}`"),
            };
            (format!("{provider}: no key ({hint})"), false)
        }
    })
}

/// Delete `provider`'s key.
///
/// # Errors
/// The keyring cannot be written.
pub fn delete(keyring: &Keyring, provider: &str) -> Result<String, Error> {
    Ok(if keyring.delete(provider)? {
        format!("deleted the key for {provider} from the OS keyring")
    } else {
        format!("no key for {provider} in the OS keyring; nothing deleted")
    })
}

/// Read a key: without echo at a terminal, one line of standard input otherwise.
fn read_key(provider: &str) -> Result<ApiKey, Error> {
    let key = if std::io::stdin().is_terminal() {
        let what = if provider == secret::CACHE_USER {
            "Database password for the shared cache".to_string()
        } else {
            format!("API key for {provider}")
        };
        rpassword::prompt_password(format!("{what} (input hidden): "))
            .map_err(|e| Error::other("cannot read the key", e))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::other("cannot read the key from standard input", e))?;
        line
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(Error::Usage("no key given; nothing stored".into()));
    }
    Ok(ApiKey::new(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_show_delete_with_the_mock_keyring_never_print_the_key() {
        const KEY: &str = "sk-live-VERY-SECRET-7788";
        let config = Config::builtin();
        let kr = Keyring::mock();
        // The provider's env var is unset in this test process (deepl: DEEPL_AUTH_KEY
        // is never set by the tests).
        let (line, found) = show(&config, &kr, "deepl").unwrap();
        assert!(!found && line.contains("DEEPL_AUTH_KEY"), "{line}");
        let msg = set(&kr, "deepl", &ApiKey::new(KEY)).unwrap();
        let (line, found) = show(&config, &kr, "deepl").unwrap();
        assert!(
            found && line.contains("OS keyring") && line.ends_with("…7788"),
            "{line}"
        );
        for text in [&msg, &line, &delete(&kr, "deepl").unwrap()] {
            assert!(!text.contains(KEY) && !text.contains("SECRET"), "{text}");
        }
        assert!(!show(&config, &kr, "deepl").unwrap().1);
        assert!(show(&config, &kr, "nope").is_err());
    }

    #[test]
    fn the_shared_cache_password_is_kept_under_cache() {
        let (config, kr) = (Config::builtin(), Keyring::mock());
        check_provider(&config, "cache").unwrap();
        assert!(!show(&config, &kr, "cache").unwrap().1);
        set(&kr, "cache", &ApiKey::new("db-SECRET-pass-5150")).unwrap();
        let (line, found) = show(&config, &kr, "cache").unwrap();
        assert!(
            found && line.ends_with("…5150") && !line.contains("SECRET"),
            "{line}"
        );
        assert_eq!(
            secret::cache_password(&kr).unwrap().expose(),
            "db-SECRET-pass-5150"
        );
    }
}
