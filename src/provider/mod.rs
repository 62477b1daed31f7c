//! Provider: each translation API's wire format behind one type.
//!
//! Stub: signatures only.

use std::time::Duration;

use crate::config::{ProviderKind, ProviderSettings};
use crate::secret::ApiKey;

/// How one exchange with an API failed. Providers classify; `limit` decides.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Slow down (429 or equivalent); `retry_after` when the server said.
    #[error("rate limited: {message}")]
    RateLimited {
        /// Server-given wait.
        retry_after: Option<Duration>,
        /// What the server said.
        message: String,
    },
    /// The quota is used up: stop sending to this provider, no retry.
    #[error("quota exhausted: {0}")]
    QuotaExhausted(String),
    /// The key is missing, wrong or not allowed: no retry.
    #[error("authentication failed: {0}")]
    AuthFailed(String),
    /// The server refuses this request's content: no retry of the same texts.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 5xx, timeout, reset: retry with backoff.
    #[error("transient failure: {0}")]
    Transient(String),
    /// The endpoint cannot be reached (DNS failure, connection refused).
    #[error("cannot reach {0}")]
    Unreachable(String),
    /// The answer cannot be used (unparseable, wrong count): never cached.
    #[error("malformed reply: {0}")]
    Malformed(String),
}

/// What one request may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// Texts per request.
    pub max_texts: usize,
    /// Characters (code points) per request.
    pub max_chars: usize,
    /// UTF-8 bytes per text (`None`: no limit).
    pub max_bytes_per_text: Option<usize>,
}

/// A configured provider.
#[derive(Debug)]
pub struct Provider;

impl Provider {
    /// Build a provider from its config table and key.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(
        name: &str,
        settings: &ProviderSettings,
        key: Option<ApiKey>,
    ) -> Result<Provider, crate::error::Error> {
        let _ = (name, settings, key);
        todo!()
    }
    /// Config table name.
    #[must_use]
    pub fn name(&self) -> &str {
        todo!()
    }
    /// API kind.
    #[must_use]
    pub fn kind(&self) -> ProviderKind {
        todo!()
    }
    /// Base URL, credentials masked.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        todo!()
    }
    /// Request limits.
    #[must_use]
    pub fn limits(&self) -> BatchLimits {
        todo!()
    }
    /// Options that change the translation, for the cache key.
    #[must_use]
    pub fn cache_options(&self) -> String {
        todo!()
    }
    /// Translate `texts` (our language codes `from`, `to`) in one request.
    ///
    /// # Errors
    /// See [`ProviderError`].
    pub async fn translate(
        &self,
        from: &str,
        to: &str,
        texts: &[String],
    ) -> Result<Vec<String>, ProviderError> {
        let _ = (from, to, texts);
        todo!()
    }
}

/// The options that change a translation, for the cache key (never the key or e-mail).
#[must_use]
pub fn cache_options(settings: &ProviderSettings) -> String {
    let _ = settings;
    todo!()
}

/// A provider's request limits from its settings (MyMemory: one text of ≤ 500 bytes).
#[must_use]
pub fn batch_limits(settings: &ProviderSettings) -> BatchLimits {
    let _ = settings;
    todo!()
}
