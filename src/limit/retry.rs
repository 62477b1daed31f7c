//! The retry decision table: what to do after one failed attempt.
//!
//! [`decide`] is a pure function of the failure class, how many retries were already
//! made, the failures in a row that span calls ([`Streaks`]: attempts that could not
//! reach the endpoint, 429s without `Retry-After`), and a jitter value, so the whole
//! policy is tested below as one table: a change of policy shows up as a diff of that
//! table. [`Limiter`](super::Limiter) applies the decision: it sleeps, retries, or
//! trips its breaker.
//!
//! | failure | decision |
//! |---|---|
//! | `RateLimited` | retry after `Retry-After` (capped at `retry_max_ms`) or the backoff, up to `max_retries`; from an undocumented service, the [`BARE_429_TRIP`]th 429 in a row without `Retry-After` is a block |
//! | `Transient` | retry after the backoff, up to `max_retries` |
//! | `Unreachable` | one quick retry; the second attempt in a row that cannot connect trips the breaker |
//! | `QuotaExhausted`, `AuthFailed`, `Misconfigured` | trip the breaker: no later request can succeed |
//! | `Blocked` | trip the breaker at once: retrying a captcha page only prolongs the block |
//! | `BadRequest`, `Malformed` | give up at once: the caller splits the batch, nothing is cached |
//!
//! The backoff is `retry_base_ms · 2^retries`, times a jitter factor in
//! `[0.75, 1.25)`, capped at `retry_max_ms`.

use std::time::Duration;

use crate::config::ProviderSettings;
use crate::provider::ProviderError;

/// Attempts in a row that could not connect before the breaker trips.
pub const UNREACHABLE_TRIP: u32 = 2;

/// The longest wait before the one quick retry of an unreachable endpoint.
pub const QUICK_RETRY: Duration = Duration::from_millis(250);

/// 429 answers in a row without `Retry-After` after which an undocumented service is
/// taken as blocked: it has no documented limit to wait for, and one that keeps
/// refusing without saying how long has stopped serving this machine for now.
pub const BARE_429_TRIP: u32 = 3;

/// The retry settings of one provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries of retryable failures.
    pub max_retries: u32,
    /// First backoff delay.
    pub base: Duration,
    /// Longest backoff or `Retry-After` wait.
    pub max: Duration,
    /// An undocumented service (no documented rate limit): [`BARE_429_TRIP`] 429s in
    /// a row without `Retry-After` block it.
    pub undocumented: bool,
}

impl RetryPolicy {
    /// The policy from a provider's config table.
    #[must_use]
    pub fn from_settings(settings: &ProviderSettings) -> RetryPolicy {
        RetryPolicy {
            max_retries: settings.max_retries,
            base: Duration::from_millis(settings.retry_base_ms),
            max: Duration::from_millis(settings.retry_max_ms.max(settings.retry_base_ms)),
            undocumented: crate::provider::about(settings).unofficial,
        }
    }
}

/// Failures in a row that span calls, each count including the failure being
/// decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Streaks {
    /// Attempts in a row that could not connect.
    pub unreachable: u32,
    /// Answers in a row that were 429 without `Retry-After`.
    pub bare_429: u32,
}

/// What to do after a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Wait this long, then send again.
    Retry(Duration),
    /// Return the failure to the caller; later calls may still succeed.
    GiveUp,
    /// Return the failure and fail every later call at once with it.
    Trip,
    /// Trip the breaker as [`ProviderError::Blocked`]: the failure (a 429 without
    /// `Retry-After` from an undocumented service, again) means the service has
    /// stopped serving this machine.
    Block,
}

/// Decide after one failed attempt.
///
/// `retries_done` counts the retries already made for this call; `streaks` the
/// failures in a row across calls, this one included; `jitter` is a random number in
/// `[0, 1)`.
#[must_use]
pub fn decide(
    policy: &RetryPolicy,
    error: &ProviderError,
    retries_done: u32,
    streaks: Streaks,
    jitter: f64,
) -> Decision {
    let budget_left = retries_done < policy.max_retries;
    match error {
        ProviderError::QuotaExhausted(_)
        | ProviderError::AuthFailed(_)
        | ProviderError::Misconfigured(_)
        | ProviderError::Blocked(_) => Decision::Trip,
        ProviderError::BadRequest(_)
        | ProviderError::Malformed(_)
        | ProviderError::UnsupportedPair(_) => Decision::GiveUp,
        ProviderError::RateLimited {
            retry_after: None, ..
        } if policy.undocumented && streaks.bare_429 >= BARE_429_TRIP => Decision::Block,
        ProviderError::Unreachable(_) if streaks.unreachable >= UNREACHABLE_TRIP => Decision::Trip,
        ProviderError::Unreachable(_) if budget_left => {
            Decision::Retry(policy.base.min(QUICK_RETRY))
        }
        ProviderError::RateLimited {
            retry_after: Some(wait),
            ..
        } if budget_left => Decision::Retry((*wait).min(policy.max)),
        ProviderError::RateLimited { .. } | ProviderError::Transient(_) if budget_left => {
            Decision::Retry(backoff(policy, retries_done, jitter))
        }
        _ => Decision::GiveUp,
    }
}

/// `base · 2^retries_done · (0.75 + jitter/2)`, capped at `max`.
#[must_use]
pub fn backoff(policy: &RetryPolicy, retries_done: u32, jitter: f64) -> Duration {
    let doubled = policy
        .base
        .saturating_mul(2u32.saturating_pow(retries_done.min(31)));
    let factor = 0.75 + jitter.clamp(0.0, 1.0) / 2.0;
    doubled.mul_f64(factor).min(policy.max)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 2,
            base: Duration::from_millis(100),
            max: Duration::from_millis(1000),
            undocumented: false,
        }
    }

    fn streaks(unreachable: u32, bare_429: u32) -> Streaks {
        Streaks {
            unreachable,
            bare_429,
        }
    }

    fn every_class() -> Vec<ProviderError> {
        let s = String::new;
        vec![
            ProviderError::RateLimited {
                retry_after: None,
                message: s(),
            },
            ProviderError::RateLimited {
                retry_after: Some(Duration::from_millis(300)),
                message: s(),
            },
            ProviderError::RateLimited {
                retry_after: Some(Duration::from_secs(3600)),
                message: s(),
            },
            ProviderError::QuotaExhausted(s()),
            ProviderError::AuthFailed(s()),
            ProviderError::BadRequest(s()),
            ProviderError::Transient(s()),
            ProviderError::Unreachable(s()),
            ProviderError::Malformed(s()),
            ProviderError::Blocked(s()),
            ProviderError::Misconfigured(s()),
            ProviderError::UnsupportedPair(s()),
        ]
    }

    /// The class of an error, by an exhaustive `match`: a new variant of
    /// [`ProviderError`] does not compile here until it has a number, and
    /// [`every_class_is_in_the_table`] then fails until it is in [`every_class`].
    fn class_number(e: &ProviderError) -> usize {
        match e {
            ProviderError::RateLimited { .. } => 0,
            ProviderError::QuotaExhausted(_) => 1,
            ProviderError::AuthFailed(_) => 2,
            ProviderError::BadRequest(_) => 3,
            ProviderError::Transient(_) => 4,
            ProviderError::Unreachable(_) => 5,
            ProviderError::Malformed(_) => 6,
            ProviderError::Misconfigured(_) => 7,
            ProviderError::UnsupportedPair(_) => 8,
            ProviderError::Blocked(_) => 9,
        }
    }

    /// How many classes [`class_number`] numbers.
    const CLASSES: usize = 10;

    #[test]
    fn every_class_is_in_the_table() {
        let numbers: std::collections::BTreeSet<usize> =
            every_class().iter().map(class_number).collect();
        assert_eq!(
            numbers,
            (0..CLASSES).collect(),
            "every_class() must hold an example of every ProviderError class"
        );
    }

    fn label(e: &ProviderError) -> String {
        match e {
            ProviderError::RateLimited { retry_after, .. } => {
                format!("RateLimited({:?})", retry_after.map(|d| d.as_millis()))
            }
            other => format!("{other:?}")
                .split('(')
                .next()
                .unwrap_or("")
                .to_string(),
        }
    }

    /// The whole table: every class (see [`every_class_is_in_the_table`]) × retries
    /// done × unreachable streak, jitter 0.5 (factor 1.0), and an undocumented
    /// service's 429s. Edit the expected text when the policy changes on purpose.
    #[test]
    fn decision_table() {
        let mut table = String::new();
        for e in every_class() {
            for retries in 0..=2 {
                let unreachable: &[u32] = if matches!(e, ProviderError::Unreachable(_)) {
                    &[1, 2]
                } else {
                    &[0]
                };
                for &streak in unreachable {
                    let d = show(decide(&policy(), &e, retries, streaks(streak, 0), 0.5));
                    writeln!(
                        table,
                        "{} retries={retries} streak={streak} -> {d}",
                        label(&e)
                    )
                    .unwrap();
                }
            }
        }
        // An undocumented service: 429s without Retry-After, counted across calls.
        let undocumented = RetryPolicy {
            undocumented: true,
            ..policy()
        };
        for e in &every_class()[..2] {
            for retries in 0..=2 {
                for bare in 1..=3 {
                    let d = show(decide(&undocumented, e, retries, streaks(0, bare), 0.5));
                    writeln!(
                        table,
                        "undocumented {} retries={retries} bare_429={bare} -> {d}",
                        label(e)
                    )
                    .unwrap();
                }
            }
        }
        let expected = "\
RateLimited(None) retries=0 streak=0 -> Retry(100ms)
RateLimited(None) retries=1 streak=0 -> Retry(200ms)
RateLimited(None) retries=2 streak=0 -> GiveUp
RateLimited(Some(300)) retries=0 streak=0 -> Retry(300ms)
RateLimited(Some(300)) retries=1 streak=0 -> Retry(300ms)
RateLimited(Some(300)) retries=2 streak=0 -> GiveUp
RateLimited(Some(3600000)) retries=0 streak=0 -> Retry(1000ms)
RateLimited(Some(3600000)) retries=1 streak=0 -> Retry(1000ms)
RateLimited(Some(3600000)) retries=2 streak=0 -> GiveUp
QuotaExhausted retries=0 streak=0 -> Trip
QuotaExhausted retries=1 streak=0 -> Trip
QuotaExhausted retries=2 streak=0 -> Trip
AuthFailed retries=0 streak=0 -> Trip
AuthFailed retries=1 streak=0 -> Trip
AuthFailed retries=2 streak=0 -> Trip
BadRequest retries=0 streak=0 -> GiveUp
BadRequest retries=1 streak=0 -> GiveUp
BadRequest retries=2 streak=0 -> GiveUp
Transient retries=0 streak=0 -> Retry(100ms)
Transient retries=1 streak=0 -> Retry(200ms)
Transient retries=2 streak=0 -> GiveUp
Unreachable retries=0 streak=1 -> Retry(100ms)
Unreachable retries=0 streak=2 -> Trip
Unreachable retries=1 streak=1 -> Retry(100ms)
Unreachable retries=1 streak=2 -> Trip
Unreachable retries=2 streak=1 -> GiveUp
Unreachable retries=2 streak=2 -> Trip
Malformed retries=0 streak=0 -> GiveUp
Malformed retries=1 streak=0 -> GiveUp
Malformed retries=2 streak=0 -> GiveUp
Blocked retries=0 streak=0 -> Trip
Blocked retries=1 streak=0 -> Trip
Blocked retries=2 streak=0 -> Trip
Misconfigured retries=0 streak=0 -> Trip
Misconfigured retries=1 streak=0 -> Trip
Misconfigured retries=2 streak=0 -> Trip
UnsupportedPair retries=0 streak=0 -> GiveUp
UnsupportedPair retries=1 streak=0 -> GiveUp
UnsupportedPair retries=2 streak=0 -> GiveUp
undocumented RateLimited(None) retries=0 bare_429=1 -> Retry(100ms)
undocumented RateLimited(None) retries=0 bare_429=2 -> Retry(100ms)
undocumented RateLimited(None) retries=0 bare_429=3 -> Block
undocumented RateLimited(None) retries=1 bare_429=1 -> Retry(200ms)
undocumented RateLimited(None) retries=1 bare_429=2 -> Retry(200ms)
undocumented RateLimited(None) retries=1 bare_429=3 -> Block
undocumented RateLimited(None) retries=2 bare_429=1 -> GiveUp
undocumented RateLimited(None) retries=2 bare_429=2 -> GiveUp
undocumented RateLimited(None) retries=2 bare_429=3 -> Block
undocumented RateLimited(Some(300)) retries=0 bare_429=1 -> Retry(300ms)
undocumented RateLimited(Some(300)) retries=0 bare_429=2 -> Retry(300ms)
undocumented RateLimited(Some(300)) retries=0 bare_429=3 -> Retry(300ms)
undocumented RateLimited(Some(300)) retries=1 bare_429=1 -> Retry(300ms)
undocumented RateLimited(Some(300)) retries=1 bare_429=2 -> Retry(300ms)
undocumented RateLimited(Some(300)) retries=1 bare_429=3 -> Retry(300ms)
undocumented RateLimited(Some(300)) retries=2 bare_429=1 -> GiveUp
undocumented RateLimited(Some(300)) retries=2 bare_429=2 -> GiveUp
undocumented RateLimited(Some(300)) retries=2 bare_429=3 -> GiveUp
";
        assert_eq!(table, expected);
    }

    fn show(d: Decision) -> String {
        match d {
            Decision::Retry(w) => format!("Retry({}ms)", w.as_millis()),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter_and_a_cap() {
        let p = policy();
        for retries in 0..40 {
            let nominal = p.base.saturating_mul(2u32.saturating_pow(retries.min(31)));
            let low = backoff(&p, retries, 0.0);
            let high = backoff(&p, retries, 0.999_999);
            assert!(high <= p.max, "{retries}: {high:?}");
            assert_eq!(low, nominal.mul_f64(0.75).min(p.max), "{retries}");
            assert!(high >= low);
        }
        assert_eq!(backoff(&p, 0, 0.5), Duration::from_millis(100));
        assert_eq!(backoff(&p, 3, 0.5), Duration::from_millis(800));
        assert_eq!(backoff(&p, 4, 0.5), Duration::from_millis(1000));
    }

    #[test]
    fn quick_retry_is_quick_even_with_a_slow_base() {
        let slow = RetryPolicy {
            base: Duration::from_secs(5),
            ..policy()
        };
        let e = ProviderError::Unreachable("127.0.0.1:9".into());
        assert_eq!(
            decide(&slow, &e, 0, streaks(1, 0), 0.5),
            Decision::Retry(QUICK_RETRY)
        );
    }

    #[test]
    fn no_retry_budget_means_no_retry() {
        let none = RetryPolicy {
            max_retries: 0,
            ..policy()
        };
        for e in every_class() {
            assert_ne!(
                std::mem::discriminant(&decide(&none, &e, 0, streaks(1, 0), 0.5)),
                std::mem::discriminant(&Decision::Retry(Duration::ZERO)),
                "{e:?}"
            );
        }
    }
}
