//! Limit: when a request may leave, and what happens when it fails.
//!
//! Stub: signatures only.

use std::future::Future;

use crate::config::ProviderSettings;
use crate::provider::ProviderError;

/// Counters for `report.json`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests sent, retries included.
    pub requests: u64,
    /// Characters sent, retries included.
    pub chars_sent: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// Rate-limit answers received.
    pub http_429: u64,
}

/// One provider's rate, concurrency, retry and breaker state.
#[derive(Debug)]
pub struct Limiter;

impl Limiter {
    /// Build from the provider's settings.
    #[must_use]
    pub fn new(settings: &ProviderSettings) -> Limiter {
        let _ = settings;
        todo!()
    }

    /// Run one request of `chars` characters through the limits, retrying what is
    /// retryable. Fails fast once the provider's quota is exhausted or it is unreachable.
    ///
    /// # Errors
    /// The last failure once retries are exhausted, or the breaker's failure.
    pub async fn call<T, F, Fut>(&self, chars: usize, f: F) -> Result<T, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let _ = (chars, f);
        todo!()
    }

    /// Counters so far.
    #[must_use]
    pub fn stats(&self) -> Stats {
        todo!()
    }
}
