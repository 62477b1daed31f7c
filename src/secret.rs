//! API keys: a type that cannot be printed, and where a provider's key comes from.
//!
//! Lookup order: the environment variable named by the provider's `key_env`, then the
//! OS keyring (service [`KEYRING_SERVICE`], user = provider name). The key is held in
//! [`ApiKey`], whose `Debug` and `Display` print `****` and the last four characters
//! at most, so a key cannot reach a log, an error or an output by accident.

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
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `…abcd`: the last four characters, for `auth show`.
    #[must_use]
    pub fn last4(&self) -> String {
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
pub enum KeySource {
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

/// Find a provider's key: `key_env` first, then the keyring. `None` when neither has
/// one (or the keyring is not available on this machine).
#[must_use]
pub fn resolve(provider: &str, key_env: Option<&str>) -> Option<(ApiKey, KeySource)> {
    if let Some(var) = key_env
        && let Ok(v) = std::env::var(var)
        && !v.trim().is_empty()
    {
        return Some((ApiKey::new(v.trim()), KeySource::Env(var.to_string())));
    }
    if std::env::var_os("TARJAMA_NO_KEYRING").is_some() {
        return None;
    }
    let entry = keyring::Entry::new(KEYRING_SERVICE, provider).ok()?;
    match entry.get_password() {
        Ok(k) if !k.is_empty() => Some((ApiKey::new(k), KeySource::Keyring)),
        Ok(_) => None,
        Err(e) => {
            tracing::debug!("no key for {provider} in the OS keyring: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_never_prints() {
        let k = ApiKey::new("sk-secret-1234");
        assert_eq!(format!("{k}"), "****");
        assert_eq!(format!("{k:?}"), "ApiKey(****)");
        assert_eq!(k.last4(), "…1234");
    }
}
