//! Limit: when a request may leave, and what happens when it fails.
//!
//! One [`Limiter`] per provider bundles:
//! - a governor limiter for requests: one cell every `1/rps` seconds, `burst` cells;
//! - a governor limiter for characters when `chars_per_minute > 0`: one cell per
//!   character, a minute's worth as the burst. A request larger than that burst takes
//!   its cells in burst-sized pieces, so it waits longer but never fails or panics;
//! - the requests in flight ([`inflight`]): as many as the rate times the observed
//!   latency needs (Little's law), plus headroom, up to the provider's `concurrency`
//!   cap; a place is held for one attempt, not during backoff. So `rps` alone reaches
//!   the rate whatever the latency, up to the cap;
//! - the retry loop, whose decisions come from the pure table in [`retry`];
//! - a breaker: once the quota is exhausted, the key is refused, the service blocks
//!   us (a captcha page, or an undocumented service's third 429 in a row without
//!   `Retry-After`), two attempts in a row cannot connect, or [`EXHAUSTED_TRIP`] calls
//!   in a row used up their retries
//!   on timeouts, resets or 5xx (a server that accepts connections and never
//!   answers), every later [`Limiter::call`] fails at once with that error, so a run
//!   without network, quota or a working server ends in bounded time instead of
//!   retrying every paragraph;
//! - a shared pause: a `429` makes every caller wait, not only the one that got it;
//! - adaptive pacing ([`adaptive`]): when the server answers 429 although we keep to
//!   the configured rate, its real limit is lower. The rate drops to what the server
//!   was seen to accept (multiplicative decrease when that cannot be measured), grows
//!   back within seconds to just under that limit (or the rate the 429 came at), then
//!   creeps above it slowly (additive increase), so a run finishes near the server's
//!   real limit instead of bouncing off it, and a lone 429 costs seconds; the rate
//!   that worked is reported.
//!
//! - a shared pacer ([`Limiter::with_shared_pacer`]): when runs share a store (a
//!   `--cache-dir` or a `--cache` URL), every process using the same service and key
//!   also takes its request slots from one GCRA row in it ([`crate::cache::Pacer`]),
//!   after its own governor and adaptive pace, so four processes told `--rps 8` send 8
//!   requests a second together, not 32; a 429 hands the slot back
//!   ([`crate::cache::Pacer::throttled`]), which slows every process down a little
//!   while the process that met it follows its own adaptive pace.
//!
//! This is the only module that sleeps to pace requests (the pipeline only sleeps
//! between looks at a paragraph another process is translating). It knows nothing of URLs or JSON: it sees
//! [`ProviderError`] classes only. Every attempt counts in [`Stats`], including
//! one that timed out on our side: the API may have processed (and billed) it.

pub mod adaptive;
pub mod inflight;
pub mod retry;

use std::future::Future;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use crate::cache::{Pacer, Permit};
use crate::config::ProviderSettings;
use crate::provider::ProviderError;
use retry::{Decision, RetryPolicy, Streaks};

/// Calls in a row that used up their retries on transient failures before the
/// breaker trips: with the shipped LibreTranslate settings (120 s timeout, 4 retries)
/// a hung server stops a run after about 3 × 5 × 120 s ÷ concurrency, not after that
/// much per batch of the corpus.
pub const EXHAUSTED_TRIP: u32 = 3;

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
pub struct Limiter {
    requests: Option<DefaultDirectRateLimiter>,
    chars: Option<CharLimiter>,
    in_flight: inflight::InFlight,
    policy: RetryPolicy,
    /// Set once: the error every later call returns at once.
    breaker: OnceLock<ProviderError>,
    /// Attempts in a row, across calls, that could not connect.
    unreachable_streak: AtomicU32,
    /// Answers in a row, across calls, that were 429 without `Retry-After`.
    bare_429_streak: AtomicU32,
    /// Calls in a row that gave up on transient failures (reset by a call carrying
    /// text that succeeds).
    exhausted_streak: AtomicU32,
    /// No request leaves before this instant (set by a 429).
    paused_until: Mutex<Option<Instant>>,
    /// The rate actually used once the server showed a lower limit.
    pace: adaptive::Pace,
    counters: Counters,
    /// A daily character allowance the service documents (MyMemory's 5,000), and
    /// what was sent to it today before this run; `None` when it has none.
    daily: Option<Daily>,
    /// A request sent past the end of `daily` by our count was answered.
    daily_larger: AtomicBool,
    /// The request rate shared with every process using the same store, service and
    /// key; when set, requests wait for it after the governor and the adaptive pace.
    shared: Option<Pacer>,
}

/// A documented daily character allowance and what was sent today before this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Daily {
    /// Characters the service takes a day.
    pub allowance: u64,
    /// Characters sent to it earlier today (from the cache's count).
    pub sent_before: u64,
}

/// The characters-per-minute limiter and its burst.
#[derive(Debug)]
struct CharLimiter {
    limiter: DefaultDirectRateLimiter,
    burst: NonZeroU32,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    chars_sent: AtomicU64,
    /// Characters of requests holding a place in flight and not counted as sent yet.
    chars_on_the_way: AtomicU64,
    retries: AtomicU64,
    http_429: AtomicU64,
}

impl Limiter {
    /// Build from the provider's settings.
    #[must_use]
    pub fn new(settings: &ProviderSettings) -> Limiter {
        Limiter {
            requests: request_limiter(settings.rps, settings.burst),
            chars: char_limiter(settings.chars_per_minute),
            in_flight: inflight::InFlight::new(max_in_flight(settings)),
            policy: RetryPolicy::from_settings(settings),
            breaker: OnceLock::new(),
            unreachable_streak: AtomicU32::new(0),
            bare_429_streak: AtomicU32::new(0),
            exhausted_streak: AtomicU32::new(0),
            paused_until: Mutex::new(None),
            pace: adaptive::Pace::new(settings.rps),
            counters: Counters::default(),
            daily: None,
            daily_larger: AtomicBool::new(false),
            shared: None,
        }
    }

    /// Also take request slots from `pacer`, shared with every process using the
    /// same store, service and key; a 429 is handed back to it, slowing every process
    /// down.
    #[must_use]
    pub fn with_shared_pacer(mut self, pacer: Pacer) -> Limiter {
        self.shared = Some(pacer);
        self
    }

    /// The service documents a daily character allowance: no more requests are in
    /// flight than what is left of it can carry, so its end is sent one at a time. A
    /// service that says "spent" refuses every request in flight at that moment.
    #[must_use]
    pub fn with_daily_allowance(mut self, daily: Daily) -> Limiter {
        self.daily = Some(daily);
        self
    }

    /// The most requests that may be in flight with one of `chars` characters
    /// under the daily allowance: any number while it fits in what is left (by our
    /// count, which includes the requests already past their place in flight), else
    /// one, so that only the end of a known allowance goes alone. Once a request sent
    /// past the end by our count was answered, the service's allowance is evidently
    /// larger than we knew (an e-mail, a key, a count of its own): no bound.
    fn daily_most(&self, chars: usize) -> usize {
        let Some(d) = self.daily else {
            return usize::MAX;
        };
        if self.daily_larger.load(Ordering::Relaxed) || self.daily_left(d) >= chars as u64 {
            usize::MAX
        } else {
            1
        }
    }

    /// What is left of the daily allowance by our count: sent, and on the way.
    fn daily_left(&self, d: Daily) -> u64 {
        d.allowance.saturating_sub(self.daily_used(d))
    }

    /// The characters of the day by our count: sent before this run, sent, and on
    /// the way.
    fn daily_used(&self, d: Daily) -> u64 {
        d.sent_before
            + self.counters.chars_sent.load(Ordering::Relaxed)
            + self.counters.chars_on_the_way.load(Ordering::Relaxed)
    }

    /// The most requests this limiter lets be in flight at once (the provider's
    /// `concurrency`): a caller launching more than this only makes them queue here.
    #[must_use]
    pub fn max_in_flight(&self) -> usize {
        self.in_flight.cap()
    }

    /// How many requests may be in flight now: the rate times the observed latency,
    /// plus headroom, within [`Limiter::max_in_flight`].
    #[must_use]
    pub fn in_flight_limit(&self) -> usize {
        self.in_flight.limit()
    }

    /// `Some((configured, worked))` when the server's 429s made the limiter slow down:
    /// the configured requests per second and the rate it settled on.
    #[must_use]
    pub fn adapted_rate(&self) -> Option<(f64, f64)> {
        self.pace.worked()
    }

    /// Run one request of `chars` characters through the limits, retrying what is
    /// retryable. Fails fast once the provider's quota is exhausted or it is unreachable.
    ///
    /// # Errors
    /// The last failure once retries are exhausted, or the breaker's failure.
    pub async fn call<T, F, Fut>(&self, chars: usize, mut f: F) -> Result<T, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let mut retries_done = 0;
        loop {
            let epoch = self.pace.epoch();
            let error = match self.attempt(chars, retries_done > 0, &mut f).await {
                Ok(value) => {
                    self.pace.success();
                    self.bare_429_streak.store(0, Ordering::Relaxed);
                    // A languages check (no characters) answering proves nothing
                    // about the translate endpoint.
                    if chars > 0 {
                        self.exhausted_streak.store(0, Ordering::Relaxed);
                    }
                    return Ok(value);
                }
                Err(Attempt::Blocked(e)) => return Err(e),
                Err(Attempt::Failed(e, permit)) => {
                    if let ProviderError::RateLimited { retry_after, .. } = &e {
                        self.shared_throttled(permit, *retry_after).await;
                    }
                    e
                }
            };
            if let ProviderError::RateLimited { .. } = error {
                self.pace.rate_limited(epoch);
                self.in_flight.set_rate(self.pace.rate());
            }
            match retry::decide(
                &self.policy,
                &error,
                retries_done,
                self.note_failure(&error),
                rand::random::<f64>(),
            ) {
                Decision::Retry(wait) => {
                    self.before_retry(&error, wait);
                    tokio::time::sleep(wait).await;
                    retries_done += 1;
                }
                Decision::GiveUp => return Err(self.gave_up(error)),
                Decision::Trip => return Err(self.trip(error)),
                Decision::Block => {
                    let blocked = ProviderError::Blocked(format!(
                        "{} answers in a row were 429 without Retry-After; an undocumented \
                         service gives no limit to wait for, so it has stopped serving this \
                         machine for now ({error})",
                        retry::BARE_429_TRIP
                    ));
                    return Err(self.trip(blocked));
                }
            }
        }
    }

    /// Counters so far.
    #[must_use]
    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            requests: c.requests.load(Ordering::Relaxed),
            chars_sent: c.chars_sent.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            http_429: c.http_429.load(Ordering::Relaxed),
        }
    }

    /// The error every call now fails with, once the breaker has tripped.
    #[must_use]
    pub fn tripped(&self) -> Option<&ProviderError> {
        self.breaker.get()
    }

    /// One attempt: a place in flight, the rate limits, then the request. The time a
    /// translation takes to come back feeds the in-flight limit.
    async fn attempt<T, F, Fut>(&self, chars: usize, retry: bool, f: &mut F) -> Result<T, Attempt>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        self.check_breaker()?;
        // A languages check (no characters) takes no place in flight: it is one
        // small request, and the pipeline makes it inline, while the batches it
        // launched hold the places; were it to wait for one, nothing would poll them
        // to give one back.
        let _permit = if chars > 0 {
            Some(
                (self.in_flight)
                    .acquire_at_most(|| self.daily_most(chars))
                    .await,
            )
        } else {
            None
        };
        // From its place in flight until it is counted as sent (or given up), the
        // request's characters are on the way: the next request's look at the daily
        // allowance sees them.
        let on_the_way = OnTheWay::new(&self.counters.chars_on_the_way, chars as u64);
        let permit = self.wait_turn(chars).await?;
        // The breaker may have tripped while this attempt queued.
        self.check_breaker()?;
        // Past the end: nothing was left before this request (whose own characters
        // are on the way already). One that only uses up what was left is not past it.
        let past_daily_end = (self.daily)
            .is_some_and(|d| self.daily_used(d).saturating_sub(chars as u64) >= d.allowance);
        self.count(chars, retry);
        drop(on_the_way);
        let sent = Instant::now();
        let result = f().await;
        if past_daily_end && result.is_ok() && chars > 0 {
            self.daily_larger.store(true, Ordering::Relaxed);
        }
        // A request that never reached the service (no connection) sent nothing:
        // the report and the day's count keep only what left this machine.
        if let Err(ProviderError::Unreachable(_)) = &result {
            self.uncount(chars, retry);
        }
        // A languages check (no characters) says little about translation latency.
        if result.is_ok() && chars > 0 {
            self.in_flight.observe(sent.elapsed(), self.pace.rate());
        }
        result.map_err(|e| Attempt::Failed(e, permit))
    }

    /// A 429 for the request sent with `permit` from the shared pacer: every process
    /// slows down. A store that cannot be written is only logged here: the run's next
    /// store operation meets it (and waits for the database, or stops).
    async fn shared_throttled(&self, permit: Option<Permit>, retry_after: Option<Duration>) {
        if let (Some(pacer), Some(permit)) = (&self.shared, permit)
            && let Err(e) = pacer.throttled(&permit, retry_after).await
        {
            tracing::warn!("could not slow the shared pacer down: {e}");
        }
    }

    fn check_breaker(&self) -> Result<(), Attempt> {
        match self.breaker.get() {
            Some(e) => Err(Attempt::Blocked(e.clone())),
            None => Ok(()),
        }
    }

    /// Wait for a shared 429 pause, a request slot (the shared pacer's, whose permit
    /// is returned, or this process's own cell) and `chars` character cells.
    async fn wait_turn(&self, chars: usize) -> Result<Option<Permit>, Attempt> {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
        // When runs share a store, a slot of the rate all of them share; then this
        // process's own pace (the configured rate, lowered by its own 429s as
        // `adaptive` rules). In that order: a shared slot is reserved through the
        // database and slept for, which jitters by milliseconds, and the local
        // governor after it restores exact spacing (a run alone otherwise met the
        // server's bucket early now and then, and took a 429 for it).
        let permit = match &self.shared {
            Some(pacer) => Some(pacer.until_ready().await.map_err(|e| {
                // Only after the store's own patience with an absent database.
                Attempt::Blocked(ProviderError::Transient(format!(
                    "the shared pacer cannot be used: {e}"
                )))
            })?),
            None => None,
        };
        if let Some(l) = &self.requests {
            l.until_ready().await;
        }
        self.pace.wait().await;
        if let Some(c) = &self.chars {
            c.take(chars).await;
        }
        Ok(permit)
    }

    fn count(&self, chars: usize, retry: bool) {
        let c = &self.counters;
        c.requests.fetch_add(1, Ordering::Relaxed);
        c.chars_sent.fetch_add(chars as u64, Ordering::Relaxed);
        if retry {
            c.retries.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Take back a [`Limiter::count`] for a request that never left.
    fn uncount(&self, chars: usize, retry: bool) {
        let c = &self.counters;
        c.requests.fetch_sub(1, Ordering::Relaxed);
        c.chars_sent.fetch_sub(chars as u64, Ordering::Relaxed);
        if retry {
            c.retries.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Record a failure; returns the streaks including it.
    fn note_failure(&self, error: &ProviderError) -> Streaks {
        if let ProviderError::RateLimited { .. } = error {
            self.counters.http_429.fetch_add(1, Ordering::Relaxed);
        }
        let bare_429 = if let ProviderError::RateLimited {
            retry_after: None, ..
        } = error
        {
            self.bare_429_streak.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.bare_429_streak.store(0, Ordering::Relaxed);
            0
        };
        let unreachable = if let ProviderError::Unreachable(_) = error {
            self.unreachable_streak.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            // Any answer, even an error, proves the endpoint is reachable.
            self.unreachable_streak.store(0, Ordering::Relaxed);
            0
        };
        Streaks {
            unreachable,
            bare_429,
        }
    }

    /// Before sleeping `wait` to retry: a 429 pauses every caller, and a server that
    /// asks for more than `retry_max_ms` is told no, with a warning.
    fn before_retry(&self, error: &ProviderError, wait: Duration) {
        let ProviderError::RateLimited { retry_after, .. } = error else {
            return;
        };
        if let Some(asked) = retry_after
            && *asked > wait
        {
            tracing::warn!(
                "the server asked to wait {}s; waiting retry_max_ms ({}ms) instead",
                asked.as_secs(),
                wait.as_millis()
            );
        }
        let until = Instant::now() + wait;
        self.pace.paused(until);
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_none_or(|t| t < until) {
            *paused = Some(until);
        }
    }

    /// Trip the breaker with `error` (the first trip wins) and return its error.
    /// A call gives up with `error`: the breaker trips when it is the
    /// [`EXHAUSTED_TRIP`]th in a row to give up on transient failures.
    fn gave_up(&self, error: ProviderError) -> ProviderError {
        let transient = matches!(
            error,
            ProviderError::Transient(_) | ProviderError::RateLimited { .. }
        );
        if transient && self.exhausted_streak.fetch_add(1, Ordering::Relaxed) + 1 >= EXHAUSTED_TRIP
        {
            return self.trip(error);
        }
        error
    }

    fn trip(&self, error: ProviderError) -> ProviderError {
        let first = self.breaker.get_or_init(|| {
            tracing::warn!("stopping all requests to this provider: {error}");
            error.clone()
        });
        first.clone()
    }
}

/// Characters counted as on the way while this lives.
struct OnTheWay<'a>(&'a AtomicU64, u64);

impl<'a> OnTheWay<'a> {
    fn new(counter: &'a AtomicU64, chars: u64) -> OnTheWay<'a> {
        counter.fetch_add(chars, Ordering::Relaxed);
        OnTheWay(counter, chars)
    }
}

impl Drop for OnTheWay<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(self.1, Ordering::Relaxed);
    }
}

/// Why an attempt did not produce a value.
enum Attempt {
    /// The breaker had tripped: nothing was sent.
    Blocked(ProviderError),
    /// The request was sent and failed; the shared pacer's permit it was sent with.
    Failed(ProviderError, Option<Permit>),
}

impl CharLimiter {
    /// Take `n` cells, in burst-sized pieces when `n` is larger than the burst.
    async fn take(&self, n: usize) {
        let mut left = u64::try_from(n).unwrap_or(u64::MAX);
        if left > u64::from(self.burst.get()) {
            tracing::debug!(
                "a request of {n} characters is over the per-minute burst of {}; it waits in pieces",
                self.burst
            );
        }
        while left > 0 {
            let piece = left.min(u64::from(self.burst.get()));
            left -= piece;
            let cells = NonZeroU32::new(u32::try_from(piece).unwrap_or(u32::MAX))
                .unwrap_or(NonZeroU32::MIN);
            // `cells` never exceeds the burst, so capacity is always sufficient.
            let _ = self.limiter.until_n_ready(cells).await;
        }
    }
}

/// The most requests a provider may have in flight at once: its `concurrency`
/// setting (at least 1). The pipeline launches no more batches than this at a time.
#[must_use]
pub fn max_in_flight(settings: &ProviderSettings) -> usize {
    settings.concurrency.max(1)
}

/// `rps` requests per second with a burst; `None` when the rate is too high to
/// express (no limit).
fn request_limiter(rps: f64, burst: u32) -> Option<DefaultDirectRateLimiter> {
    let period = Duration::try_from_secs_f64(1.0 / rps).ok()?;
    let quota =
        Quota::with_period(period)?.allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
    Some(RateLimiter::direct(quota))
}

/// `per_minute` characters per minute, a minute's worth as burst; `None` for 0.
fn char_limiter(per_minute: u32) -> Option<CharLimiter> {
    let burst = NonZeroU32::new(per_minute)?;
    let quota = Quota::with_period(Duration::from_secs(60) / per_minute)?.allow_burst(burst);
    Some(CharLimiter {
        limiter: RateLimiter::direct(quota),
        burst,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(max_retries: u32) -> Limiter {
        let mut s = crate::config::Config::builtin().providers["libretranslate"].clone();
        (s.max_retries, s.retry_base_ms, s.rps) = (max_retries, 1, 1000.0);
        Limiter::new(&s)
    }

    async fn timeout(l: &Limiter, chars: usize, sent: &AtomicU32) -> Result<(), ProviderError> {
        l.call(chars, || async {
            sent.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(ProviderError::Transient("no answer in time".into()))
        })
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_languages_check_goes_out_while_every_place_in_flight_is_held() {
        let mut s = crate::config::Config::builtin().providers["libretranslate"].clone();
        (s.rps, s.concurrency) = (1000.0, 1);
        let l = Limiter::new(&s);
        // A batch holds the only place and is not polled again until the check is
        // done (as the pipeline's coordinator awaits the check inline).
        let mut held = Box::pin(l.call(10, std::future::pending::<Result<(), ProviderError>>));
        assert!(futures::poll!(held.as_mut()).is_pending());
        assert_eq!(l.in_flight.in_flight(), 1);
        let check = l.call(0, || async { Ok::<_, ProviderError>("languages") });
        let answer = tokio::time::timeout(Duration::from_secs(5), check).await;
        assert_eq!(
            answer.expect("the check waited for a place").unwrap(),
            "languages"
        );
    }

    /// Far from the end of a daily allowance, requests overlap up to the limit; near
    /// it, no more are in flight than what is left can carry, so the last one waits
    /// until nothing else is in flight.
    #[tokio::test(start_paused = true)]
    async fn near_the_end_of_a_daily_allowance_requests_go_one_at_a_time() {
        let mut s = crate::config::Config::builtin().providers["libretranslate"].clone();
        (s.rps, s.concurrency) = (1000.0, 8);
        let daily = |sent_before| Daily {
            allowance: 5_000,
            sent_before,
        };
        let far = Limiter::new(&s).with_daily_allowance(daily(0));
        let mut first = Box::pin(far.call(250, std::future::pending::<Result<(), ProviderError>>));
        assert!(futures::poll!(first.as_mut()).is_pending());
        let mut second = Box::pin(far.call(250, std::future::pending::<Result<(), ProviderError>>));
        assert!(futures::poll!(second.as_mut()).is_pending());
        assert_eq!(
            far.in_flight.in_flight(),
            2,
            "far from the end: overlapping"
        );

        // 400 left: room for one request of 250 in flight.
        let near = Limiter::new(&s).with_daily_allowance(daily(4_600));
        let mut first = Box::pin(near.call(250, std::future::pending::<Result<(), ProviderError>>));
        assert!(futures::poll!(first.as_mut()).is_pending());
        assert_eq!(near.in_flight.in_flight(), 1);
        let second = near.call(250, || async { Ok::<_, ProviderError>(()) });
        let waited = tokio::time::timeout(Duration::from_secs(5), second).await;
        assert!(waited.is_err(), "the second request overlapped the first");
        drop(first);
        near.call(250, || async { Ok::<_, ProviderError>(()) })
            .await
            .expect("alone, it goes");

        // A request that only uses up what was left, answered, says nothing of a
        // larger allowance: the next one still goes alone.
        let last = Limiter::new(&s).with_daily_allowance(daily(4_750));
        last.call(250, || async { Ok::<_, ProviderError>(()) })
            .await
            .expect("it fits");
        assert_eq!(last.daily_most(250), 1, "at the end: alone");

        // Past the end by our count, one at a time until a request is answered
        // there: then the allowance is larger than we knew, and requests overlap.
        let past = Limiter::new(&s).with_daily_allowance(daily(5_000));
        let mut first = Box::pin(past.call(250, std::future::pending::<Result<(), ProviderError>>));
        assert!(futures::poll!(first.as_mut()).is_pending());
        let second = past.call(250, || async { Ok::<_, ProviderError>(()) });
        let waited = tokio::time::timeout(Duration::from_secs(5), second).await;
        assert!(
            waited.is_err(),
            "past the end, before any answer, it overlapped"
        );
        drop(first);
        past.call(250, || async { Ok::<_, ProviderError>(()) })
            .await
            .expect("alone, it goes, and is answered");
        assert_eq!(
            past.daily_most(250),
            usize::MAX,
            "answered past the end: overlapping again"
        );
    }

    #[tokio::test]
    async fn calls_that_keep_timing_out_trip_the_breaker() {
        let (l, sent) = (limiter(1), AtomicU32::new(0));
        for _ in 0..EXHAUSTED_TRIP {
            assert!(timeout(&l, 10, &sent).await.is_err());
        }
        assert!(l.tripped().is_some());
        assert_eq!(sent.load(Ordering::SeqCst), EXHAUSTED_TRIP * 2);
        assert!(timeout(&l, 10, &sent).await.is_err());
        assert_eq!(
            sent.load(Ordering::SeqCst),
            EXHAUSTED_TRIP * 2,
            "sent after the trip"
        );
    }

    /// An undocumented service's third 429 in a row without `Retry-After`, across
    /// calls, trips the breaker as blocked; a documented one keeps retrying.
    #[tokio::test]
    async fn bare_429s_in_a_row_block_an_undocumented_service() {
        let mut s = crate::config::Config::builtin().providers["libretranslate"].clone();
        (s.max_retries, s.retry_base_ms, s.rps) = (1, 1, 1000.0);
        let documented = Limiter::new(&s);
        s.kind = crate::config::ProviderKind::Edge;
        let undocumented = Limiter::new(&s);
        let sent = AtomicU32::new(0);
        async fn call(l: &Limiter, sent: &AtomicU32) -> Result<(), ProviderError> {
            l.call(10, || async {
                sent.fetch_add(1, Ordering::SeqCst);
                Err(ProviderError::RateLimited {
                    retry_after: None,
                    message: "HTTP 429".into(),
                })
            })
            .await
        }
        for _ in 0..2 {
            assert!(matches!(
                call(&documented, &sent).await,
                Err(ProviderError::RateLimited { .. })
            ));
        }
        assert!(documented.tripped().is_none());
        sent.store(0, Ordering::SeqCst);
        // Two attempts (one retry), then the third 429 in a row blocks.
        assert!(matches!(
            call(&undocumented, &sent).await,
            Err(ProviderError::RateLimited { .. })
        ));
        let e = call(&undocumented, &sent).await.unwrap_err();
        assert!(
            matches!(&e, ProviderError::Blocked(m) if m.contains("3 answers in a row")),
            "{e:?}"
        );
        assert_eq!(sent.load(Ordering::SeqCst), 3);
        assert!(matches!(
            undocumented.tripped(),
            Some(ProviderError::Blocked(_))
        ));
    }

    #[tokio::test]
    async fn a_translation_in_between_resets_the_count_a_languages_check_does_not() {
        let (l, sent) = (limiter(0), AtomicU32::new(0));
        let ok = |chars| l.call(chars, || async { Ok::<_, ProviderError>(()) });
        for _ in 1..EXHAUSTED_TRIP {
            assert!(timeout(&l, 10, &sent).await.is_err());
        }
        ok(10).await.unwrap();
        for _ in 1..EXHAUSTED_TRIP {
            assert!(timeout(&l, 10, &sent).await.is_err());
        }
        assert!(l.tripped().is_none());
        ok(0).await.unwrap();
        assert!(timeout(&l, 10, &sent).await.is_err());
        assert!(l.tripped().is_some());
    }
}
