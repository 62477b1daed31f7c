//! API keys: a type that cannot be printed, and where a provider's key comes from.
//!
//! Lookup order: the environment variable named by the provider's `key_env`, then the
//! OS keyring (service [`KEYRING_SERVICE`], user = provider name). The key is held in
//! [`ApiKey`], whose `Debug` and `Display` print `****` and the last four characters
//! at most, so a key cannot reach a log, an error or an output by accident.
//!
//! The shared cache's database password (`translate auth set cache`) is kept the same
//! way, under user [`CACHE_USER`], and held in an [`ApiKey`] too; it is the last of its
//! sources (after the URL, `PGPASSWORD` and `~/.pgpass`; see `cache::dsn`).

use std::fmt;

/// Keyring service name under which keys are stored.
pub const KEYRING_SERVICE: &str = "tarjama";

/// An API key. Printing it shows `****` only.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wrap a key.
    #[must_use]
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key itself, for the one place that puts it on the wire.
    #[must_use]
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `…abcd`: the last four characters, for `auth show`.
    #[must_use]
    pub(crate) fn last4(&self) -> String {
        let n = self.0.chars().count();
        let tail: String = self.0.chars().skip(n.saturating_sub(4)).collect();
        format!("…{tail}")
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(****)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// Where a key was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum KeySource {
    /// The named environment variable.
    Env(String),
    /// The OS keyring.
    Keyring,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Env(v) => write!(f, "environment variable {v}"),
            KeySource::Keyring => write!(f, "OS keyring (service `{KEYRING_SERVICE}`)"),
        }
    }
}

/// Environment variable that keeps tarjama away from the OS keyring (CI, containers).
pub const NO_KEYRING_ENV: &str = "TARJAMA_NO_KEYRING";

/// Where keys are kept: the OS keyring (Keychain, Credential Manager, Secret
/// Service), or keyring's in-memory mock store for tests. Entries are service
/// [`KEYRING_SERVICE`], user = provider name.
pub struct Keyring {
    /// `None`: the OS keyring; `Some`: a given store (the mock).
    store: Option<std::sync::Arc<keyring_core::CredentialStore>>,
}

impl Keyring {
    /// The OS keyring.
    #[must_use]
    pub fn os() -> Keyring {
        Keyring { store: None }
    }

    /// keyring's mock credential store: in memory, for tests.
    ///
    /// # Panics
    /// If the mock store cannot be created (it always can).
    #[must_use]
    pub fn mock() -> Keyring {
        let store: std::sync::Arc<keyring_core::CredentialStore> =
            keyring_core::mock::Store::new().expect("the mock store is always available");
        Keyring { store: Some(store) }
    }

    /// Whether the OS keyring is switched off by [`NO_KEYRING_ENV`].
    #[must_use]
    pub fn disabled(&self) -> bool {
        self.store.is_none() && std::env::var_os(NO_KEYRING_ENV).is_some()
    }

    fn entry(&self, provider: &str) -> Result<keyring_core::Entry, KeyringError> {
        if self.disabled() {
            return Err(KeyringError::Disabled);
        }
        match &self.store {
            Some(store) => store.build(KEYRING_SERVICE, provider, None),
            None => keyring::Entry::new(KEYRING_SERVICE, provider).map(|e| e.inner),
        }
        .map_err(KeyringError::Unavailable)
    }

    /// The stored key, if any.
    ///
    /// # Errors
    /// The keyring cannot be reached.
    pub fn get(&self, provider: &str) -> Result<Option<ApiKey>, KeyringError> {
        match self.entry(provider)?.get_password() {
            Ok(k) if !k.trim().is_empty() => Ok(Some(ApiKey::new(k.trim()))),
            Ok(_) | Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(KeyringError::Read(e)),
        }
    }

    /// Store a key.
    ///
    /// # Errors
    /// The keyring cannot be reached or written.
    pub fn set(&self, provider: &str, key: &ApiKey) -> Result<(), KeyringError> {
        self.entry(provider)?
            .set_password(key.expose())
            .map_err(KeyringError::Write)
    }

    /// Delete a key; `false` when there was none.
    ///
    /// # Errors
    /// The keyring cannot be reached or written.
    pub(crate) fn delete(&self, provider: &str) -> Result<bool, KeyringError> {
        match self.entry(provider)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(KeyringError::Delete(e)),
        }
    }
}

/// Why the OS keyring could not be used. keyring's errors never carry the secret
/// (its `BadEncoding` holds bytes read back, which we do not print: only its
/// `Display`, which names no content).
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// Switched off by [`NO_KEYRING_ENV`].
    #[error("the OS keyring is switched off ({NO_KEYRING_ENV} is set)")]
    Disabled,
    /// No keyring on this machine, or it refused to open the entry.
    #[error("the OS keyring is not available")]
    Unavailable(#[source] keyring_core::Error),
    /// Reading failed.
    #[error("cannot read the OS keyring")]
    Read(#[source] keyring_core::Error),
    /// Writing failed.
    #[error("cannot write the OS keyring")]
    Write(#[source] keyring_core::Error),
    /// Deleting failed.
    #[error("cannot delete from the OS keyring")]
    Delete(#[source] keyring_core::Error),
}

impl KeyringError {
    /// What to do about it.
    #[must_use]
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            KeyringError::Disabled => Some(
                "unset TARJAMA_NO_KEYRING to use the OS keyring, or give the key in an \
                 environment variable (`translate providers` names each provider's; \
                 PGPASSWORD for the shared cache)",
            ),
            KeyringError::Unavailable(_) => Some(
                "give the key in an environment variable instead (`translate providers` \
                 names each provider's; PGPASSWORD for the shared cache)",
            ),
            _ => None,
        }
    }
}

/// Find a provider's key: `key_env` first, then the OS keyring. `None` when neither
/// has one (or the keyring is not available on this machine).
#[must_use]
pub(crate) fn resolve(provider: &str, key_env: Option<&str>) -> Option<(ApiKey, KeySource)> {
    resolve_in(&Keyring::os(), provider, key_env)
}

/// [`resolve`] with a given keyring.
#[must_use]
pub(crate) fn resolve_in(
    keyring: &Keyring,
    provider: &str,
    key_env: Option<&str>,
) -> Option<(ApiKey, KeySource)> {
    if let Some(var) = key_env
        && let Ok(v) = std::env::var(var)
        && !v.trim().is_empty()
    {
        return Some((ApiKey::new(v.trim()), KeySource::Env(var.to_string())));
    }
    if keyring.disabled() {
        return None;
    }
    match keyring.get(provider) {
        Ok(Some(k)) => Some((k, KeySource::Keyring)),
        Ok(None) => None,
        Err(e) => {
            tracing::debug!("no key for {provider}: {e}");
            None
        }
    }
}

/// Keyring user under which `translate auth set cache` keeps the shared cache's
/// database password (the service is [`KEYRING_SERVICE`], as for the providers' keys).
pub const CACHE_USER: &str = "cache";

/// The shared cache's database password from `keyring`, if one is stored. `None` too
/// when the keyring is switched off or cannot be reached (said at debug level only).
#[must_use]
pub fn cache_password(keyring: &Keyring) -> Option<ApiKey> {
    if keyring.disabled() {
        return None;
    }
    match keyring.get(CACHE_USER) {
        Ok(found) => found,
        Err(e) => {
            tracing::debug!("no shared cache password from the keyring: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_keyring_set_get_delete_and_lookup_order() {
        let kr = Keyring::mock();
        assert_eq!(kr.get("deepl").unwrap(), None);
        kr.set("deepl", &ApiKey::new("abc-SECRET-4321:fx")).unwrap();
        assert_eq!(kr.get("deepl").unwrap().unwrap().last4(), "…1:fx");
        let (k, src) = resolve_in(&kr, "deepl", Some("TARJAMA_TEST_UNSET_VAR")).unwrap();
        assert_eq!(
            (k.expose(), src),
            ("abc-SECRET-4321:fx", KeySource::Keyring)
        );
        assert!(kr.delete("deepl").unwrap());
        assert!(!kr.delete("deepl").unwrap());
        assert_eq!(resolve_in(&kr, "deepl", None), None);
    }

    #[test]
    fn cache_password_lives_beside_the_provider_keys() {
        let kr = Keyring::mock();
        assert_eq!(cache_password(&kr), None);
        kr.set(CACHE_USER, &ApiKey::new("db-pass-9876")).unwrap();
        assert_eq!(cache_password(&kr).unwrap().expose(), "db-pass-9876");
        assert_eq!(kr.get("deepl").unwrap(), None);
    }

    #[test]
    fn key_never_prints() {
        let k = ApiKey::new("sk-secret-1234");
        assert_eq!(format!("{k}"), "****");
        assert_eq!(format!("{k:?}"), "ApiKey(****)");
        assert_eq!(k.last4(), "…1234");
    }
}
