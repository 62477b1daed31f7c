//! What a shared-cache operation does when PostgreSQL does not answer: pause and try
//! again, saying so, rather than go on with the local cache alone.
//!
//! Going local silently would break the promises the shared memory makes (no text sent
//! twice, one rate for one key): a run that cannot reach the database does not send.
//! So an operation that fails because the server is unreachable (connection refused,
//! reset or closed, a timeout, the server shutting down or refusing connections for
//! now) is retried with a growing pause (½ s doubling up to 30 s) until the database
//! has been away for [`PATIENCE`]; then the run stops with an error (exit 1), having
//! lost nothing: every answer is in the local cache, and the shared memory keeps the
//! others'. A deadlock or serialization failure is retried at once a few times. Any
//! other error (bad password, a schema from a newer tarjama, a bug) is not retried.
//!
//! The decisions are the pure functions [`classify_io`], [`next`] and [`report`], tested
//! below; [`super::pg`] applies them.

use std::time::Duration;

/// How long the database may be away before a run gives up.
pub const PATIENCE: Duration = Duration::from_secs(600);
/// The first pause.
const FIRST_PAUSE: Duration = Duration::from_millis(500);
/// The longest pause.
const LONGEST_PAUSE: Duration = Duration::from_secs(30);
/// Tries of an operation that met a deadlock or serialization failure.
const CONFLICT_TRIES: u32 = 8;
/// How often a continuing outage is reported again.
const REPORT_EVERY: Duration = Duration::from_secs(60);

/// What kind of failure an operation met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trouble {
    /// The server cannot be reached now: worth waiting for.
    Unreachable,
    /// A deadlock or serialization failure: try again at once.
    Conflict,
    /// Anything else: retrying cannot help.
    Fatal,
}

/// What to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Pause this long, then try again.
    Retry(Duration),
    /// Stop with the error.
    GiveUp,
}

/// The decision after the `attempt`-th failure in a row (1 for the first), the
/// database having been away for `down_for`.
#[must_use]
pub fn next(trouble: Trouble, attempt: u32, down_for: Duration, patience: Duration) -> Step {
    match trouble {
        Trouble::Fatal => Step::GiveUp,
        Trouble::Conflict if attempt >= CONFLICT_TRIES => Step::GiveUp,
        Trouble::Conflict => Step::Retry(Duration::from_millis(10 << attempt.min(6))),
        Trouble::Unreachable if down_for >= patience => Step::GiveUp,
        Trouble::Unreachable => {
            let grown = FIRST_PAUSE.saturating_mul(1 << attempt.saturating_sub(1).min(10));
            Step::Retry(grown.min(LONGEST_PAUSE).min(patience - down_for))
        }
    }
}

/// Whether to say (again) that the database is away: at the first failure, then at
/// most once per [`REPORT_EVERY`].
#[must_use]
pub fn report(attempt: u32, since_last_report: Option<Duration>) -> bool {
    attempt == 1 || since_last_report.is_none_or(|d| d >= REPORT_EVERY)
}

/// The class of a failed socket operation: broken or refused connections and
/// timeouts are worth waiting for; a refused certificate or bad input is not.
#[must_use]
pub fn classify_io(kind: std::io::ErrorKind) -> Trouble {
    use std::io::ErrorKind as K;
    match kind {
        K::InvalidData | K::InvalidInput | K::PermissionDenied | K::Unsupported => Trouble::Fatal,
        _ => Trouble::Unreachable,
    }
}

/// The class of a PostgreSQL error code (SQLSTATE,
/// <https://www.postgresql.org/docs/current/errcodes-appendix.html>): class 08
/// (connection exception), 57P01–57P03 (shutting down, crashed, not accepting
/// connections yet) and 53300 (too many connections) are an outage; 40001 and 40P01
/// a conflict.
#[must_use]
pub(crate) fn classify_sqlstate(code: &str) -> Trouble {
    match code {
        "40001" | "40P01" => Trouble::Conflict,
        "57P01" | "57P02" | "57P03" | "53300" => Trouble::Unreachable,
        c if c.starts_with("08") => Trouble::Unreachable,
        _ => Trouble::Fatal,
    }
}

/// The line shown while waiting.
#[must_use]
pub(crate) fn waiting_message(
    what: &str,
    reason: &str,
    pause: Duration,
    down_for: Duration,
) -> String {
    format!(
        "shared cache {what} is unreachable ({reason}); nothing is sent meanwhile; retrying in {:.1} s \
         (away for {} s, giving up after {} min)",
        pause.as_secs_f64(),
        down_for.as_secs(),
        PATIENCE.as_secs() / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn unreachable_pauses_grow_then_the_run_gives_up() {
        let p = PATIENCE;
        assert_eq!(
            next(Trouble::Unreachable, 1, S(0), p),
            Step::Retry(Duration::from_millis(500))
        );
        assert_eq!(next(Trouble::Unreachable, 2, S(1), p), Step::Retry(S(1)));
        assert_eq!(next(Trouble::Unreachable, 4, S(4), p), Step::Retry(S(4)));
        assert_eq!(next(Trouble::Unreachable, 9, S(100), p), Step::Retry(S(30)));
        assert_eq!(
            next(Trouble::Unreachable, 99, S(100), p),
            Step::Retry(S(30))
        );
        // Never past the patience, and not at all after it.
        assert_eq!(
            next(Trouble::Unreachable, 20, S(590), p),
            Step::Retry(S(10))
        );
        assert_eq!(next(Trouble::Unreachable, 21, S(600), p), Step::GiveUp);
        assert_eq!(
            next(Trouble::Unreachable, 1, S(0), Duration::ZERO),
            Step::GiveUp
        );
    }

    #[test]
    fn conflicts_retry_quickly_and_fatal_errors_never() {
        assert_eq!(
            next(Trouble::Conflict, 1, S(0), PATIENCE),
            Step::Retry(Duration::from_millis(20))
        );
        assert_eq!(
            next(Trouble::Conflict, CONFLICT_TRIES, S(0), PATIENCE),
            Step::GiveUp
        );
        assert_eq!(next(Trouble::Fatal, 1, S(0), PATIENCE), Step::GiveUp);
    }

    #[test]
    fn classes() {
        assert_eq!(classify_sqlstate("08006"), Trouble::Unreachable);
        assert_eq!(classify_sqlstate("57P01"), Trouble::Unreachable);
        assert_eq!(classify_sqlstate("40P01"), Trouble::Conflict);
        assert_eq!(classify_sqlstate("28P01"), Trouble::Fatal); // wrong password
        assert_eq!(classify_sqlstate("42P01"), Trouble::Fatal);
        assert_eq!(
            classify_io(std::io::ErrorKind::ConnectionRefused),
            Trouble::Unreachable
        );
        assert_eq!(
            classify_io(std::io::ErrorKind::TimedOut),
            Trouble::Unreachable
        );
        assert_eq!(classify_io(std::io::ErrorKind::InvalidData), Trouble::Fatal); // TLS
    }

    #[test]
    fn said_once_then_every_minute() {
        assert!(report(1, None));
        assert!(!report(2, Some(S(5))));
        assert!(report(7, Some(S(61))));
        let m = waiting_message("postgres://a@h:5432/tm", "connection refused", S(4), S(12));
        assert!(
            m.contains("retrying in 4.0 s") && m.contains("giving up after 10 min"),
            "{m}"
        );
    }
}
