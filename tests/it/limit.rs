//! The limiter against the emulators, timed on the server side: request spacing,
//! the concurrency bound, Retry-After, retries and the breaker.
//!
//! Timing: only lower bounds are asserted, that a wait the limit demands happened (a
//! loaded machine can only make it longer); an arrival may come up to `EARLY` before
//! its ideal time (timer granularity). That something did *not* wait is shown
//! without a clock: the wait it must skip is set to an hour or more, so taking it
//! would trip the hang guard of [`wait::finishes`].

use crate::common;

use std::time::{Duration, Instant};

use common::client::texts;
use common::emulator::{Api, Behaviour, Emulator};
use common::wait;
use futures::future::join_all;
use tarjama::config::{Config, ProviderKind, ProviderSettings};
use tarjama::limit::{Limiter, Stats};
use tarjama::provider::{Provider, ProviderError};
use tarjama::secret::ApiKey;

/// How much earlier than ideal a request may arrive.
const EARLY: Duration = Duration::from_millis(15);

/// Fast test settings: no rate limit to speak of, small retry delays.
fn settings(kind: ProviderKind, endpoint: &str) -> ProviderSettings {
    let mut s = Config::builtin().providers[kind.as_str()].clone();
    s.endpoint = endpoint.to_string();
    s.rps = 1000.0;
    s.burst = 100;
    s.concurrency = 8;
    s.chars_per_minute = 0;
    s.timeout_secs = 2.0;
    s.connect_timeout_secs = 1.0;
    s.max_retries = 3;
    s.retry_base_ms = 10;
    s.retry_max_ms = 2000;
    s
}

/// `n` concurrent calls of one text each through `limiter` and `p`.
async fn fire(
    limiter: &Limiter,
    p: &Provider,
    n: usize,
) -> Vec<Result<Vec<String>, ProviderError>> {
    let batch = texts(&["مرحبا"]);
    let batch = &batch;
    join_all((0..n).map(|_| limiter.call(5, move || p.translate("ar", "en", batch)))).await
}

fn gaps(arrivals: &[Instant]) -> Vec<Duration> {
    let mut sorted = arrivals.to_vec();
    sorted.sort();
    sorted.windows(2).map(|w| w[1] - w[0]).collect()
}

#[tokio::test]
async fn requests_are_spaced_by_rps() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    let mut s = settings(ProviderKind::Libretranslate, &emu.url());
    (s.rps, s.burst) = (10.0, 1);
    let (p, limiter) = (Provider::new("lt", &s, None).unwrap(), Limiter::new(&s));
    let started = Instant::now();
    let results = fire(&limiter, &p, 6).await;
    assert!(results.iter().all(Result::is_ok));
    for gap in gaps(&emu.arrivals()) {
        assert!(
            gap >= Duration::from_millis(100) - EARLY,
            "gap {gap:?} under 100 ms"
        );
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(500) - EARLY, "{took:?}");
    assert_eq!(
        limiter.stats(),
        Stats {
            requests: 6,
            chars_sent: 30,
            retries: 0,
            http_429: 0
        }
    );
}

#[tokio::test]
async fn burst_goes_at_once_then_the_rate_applies() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    let mut s = settings(ProviderKind::Libretranslate, &emu.url());
    (s.rps, s.burst) = (5.0, 3);
    let (p, limiter) = (Provider::new("lt", &s, None).unwrap(), Limiter::new(&s));
    fire(&limiter, &p, 4).await;
    let mut at = emu.arrivals();
    at.sort();
    assert!(
        at[3] - at[0] >= Duration::from_millis(200) - EARLY,
        "4th came after {:?}",
        at[3] - at[0]
    );
    // The burst goes at once: at one request an hour, a burst of 3 spread out by the
    // rate would never finish.
    let hourly = Emulator::start(Api::LibreTranslate).await;
    let mut s = settings(ProviderKind::Libretranslate, &hourly.url());
    (s.rps, s.burst) = (1.0 / 3600.0, 3);
    let (p, limiter) = (Provider::new("lt", &s, None).unwrap(), Limiter::new(&s));
    let results = wait::finishes("a burst of 3 at once", fire(&limiter, &p, 3)).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(hourly.count(), 3);
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    emu.set_delay(Duration::from_millis(150));
    let mut s = settings(ProviderKind::Libretranslate, &emu.url());
    s.concurrency = 2;
    let (p, limiter) = (Provider::new("lt", &s, None).unwrap(), Limiter::new(&s));
    let results = fire(&limiter, &p, 6).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(emu.count(), 6);
    assert_eq!(emu.max_in_flight(), 2, "the server saw more than 2 at once");
}

#[tokio::test]
async fn retry_after_is_honoured_and_counted() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    emu.push(Behaviour::Status429 {
        retry_after: Some(1),
    });
    let s = settings(ProviderKind::Libretranslate, &emu.url());
    let (p, limiter) = (Provider::new("lt", &s, None).unwrap(), Limiter::new(&s));
    fire(&limiter, &p, 1).await.remove(0).unwrap();
    let at = emu.arrivals();
    assert_eq!(at.len(), 2);
    assert!(
        at[1] - at[0] >= Duration::from_secs(1) - EARLY,
        "retried after {:?}",
        at[1] - at[0]
    );
    assert_eq!(
        limiter.stats(),
        Stats {
            requests: 2,
            chars_sent: 10,
            retries: 1,
            http_429: 1
        }
    );
}

#[tokio::test]
async fn retry_after_is_capped_at_retry_max() {
    let emu = Emulator::start(Api::MyMemory).await;
    // A Retry-After date a day away: waited out, it would trip the hang guard.
    emu.push(Behaviour::Status429Date { secs: 86_400 });
    emu.push(Behaviour::Status429 { retry_after: None });
    let mut s = settings(ProviderKind::Mymemory, &emu.url());
    s.retry_max_ms = 300;
    let (p, limiter) = (Provider::new("mm", &s, None).unwrap(), Limiter::new(&s));
    wait::finishes(
        "a Retry-After capped at retry_max_ms",
        fire(&limiter, &p, 1),
    )
    .await
    .remove(0)
    .unwrap();
    let at = emu.arrivals();
    assert_eq!(at.len(), 3);
    let capped = at[1] - at[0];
    assert!(capped >= Duration::from_millis(300) - EARLY, "{capped:?}");
    // No Retry-After: the backoff (10 ms × 2 ± 25 %); the decision table in
    // `limit::retry` pins which wait each answer gets.
    assert_eq!(limiter.stats().http_429, 2);
}

/// A 429 pauses every caller, not only the one that received it.
#[tokio::test]
async fn a_429_pauses_other_callers_too() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    emu.push(Behaviour::Status429 {
        retry_after: Some(1),
    });
    let s = settings(ProviderKind::Libretranslate, &emu.url());
    let (p, limiter) = (Provider::new("lt", &s, None).unwrap(), Limiter::new(&s));
    let batch = texts(&["مرحبا"]);
    let first = limiter.call(5, || p.translate("ar", "en", &batch));
    let second = async {
        wait::until_async("the first caller's 429", || limiter.stats().http_429 == 1).await;
        limiter.call(5, || p.translate("ar", "en", &batch)).await
    };
    let (a, b) = tokio::join!(first, second);
    a.unwrap();
    b.unwrap();
    let at = emu.arrivals();
    assert_eq!(at.len(), 3);
    for later in &at[1..] {
        assert!(
            *later - at[0] >= Duration::from_secs(1) - EARLY,
            "{:?}",
            *later - at[0]
        );
    }
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    emu.push_n(Behaviour::Status500, 2);
    let s = settings(ProviderKind::Libretranslate, &emu.url());
    let (p, limiter) = (Provider::new("lt", &s, None).unwrap(), Limiter::new(&s));
    let got = fire(&limiter, &p, 1).await.remove(0).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(emu.count(), 3);
    assert_eq!(
        limiter.stats(),
        Stats {
            requests: 3,
            chars_sent: 15,
            retries: 2,
            http_429: 0
        }
    );
}

#[tokio::test]
async fn transient_failures_give_up_after_max_retries() {
    let emu = Emulator::start(Api::MyMemory).await;
    emu.set_mode(Behaviour::Status500);
    let mut s = settings(ProviderKind::Mymemory, &emu.url());
    s.max_retries = 2;
    let (p, limiter) = (Provider::new("mm", &s, None).unwrap(), Limiter::new(&s));
    let e = fire(&limiter, &p, 1).await.remove(0).unwrap_err();
    assert!(matches!(e, ProviderError::Transient(_)), "{e:?}");
    assert_eq!(emu.count(), 3);
    // Not a breaker: the next call is sent.
    emu.set_mode(Behaviour::Normal);
    assert!(fire(&limiter, &p, 1).await.remove(0).is_ok());
}

#[tokio::test]
async fn quota_trips_the_breaker() {
    let emu = Emulator::start(Api::MyMemory).await;
    emu.push(Behaviour::QuotaExhausted);
    let mut s = settings(ProviderKind::Mymemory, &emu.url());
    // One request an hour: a later call that waited for its turn would hang.
    (s.rps, s.burst) = (1.0 / 3600.0, 1);
    let (p, limiter) = (Provider::new("mm", &s, None).unwrap(), Limiter::new(&s));
    let first = fire(&limiter, &p, 1).await.remove(0).unwrap_err();
    assert!(
        matches!(first, ProviderError::QuotaExhausted(_)),
        "{first:?}"
    );
    let later = wait::finishes(
        "calls after the trip failing at once",
        fire(&limiter, &p, 3),
    );
    for r in later.await {
        assert_eq!(r.unwrap_err(), first);
    }
    assert_eq!(
        emu.count(),
        1,
        "a call after the quota ran out reached the server"
    );
    assert_eq!(limiter.tripped(), Some(&first));
    assert_eq!(limiter.stats().requests, 1);
}

/// Calls already queued for a permit when the breaker trips send nothing.
#[tokio::test]
async fn queued_calls_stop_when_the_breaker_trips() {
    let emu = Emulator::start(Api::MyMemory).await;
    emu.set_delay(Duration::from_millis(100));
    emu.push(Behaviour::QuotaExhaustedHttp429);
    let mut s = settings(ProviderKind::Mymemory, &emu.url());
    s.concurrency = 1;
    let (p, limiter) = (Provider::new("mm", &s, None).unwrap(), Limiter::new(&s));
    let results = fire(&limiter, &p, 4).await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(ProviderError::QuotaExhausted(_)))),
        "{results:?}"
    );
    assert_eq!(emu.count(), 1);
}

#[tokio::test]
async fn auth_failure_trips_the_breaker() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    emu.require_api_key("right");
    let s = settings(ProviderKind::Libretranslate, &emu.url());
    let (p, limiter) = (
        Provider::new("lt", &s, Some(ApiKey::new("wrong"))).unwrap(),
        Limiter::new(&s),
    );
    for r in fire(&limiter, &p, 1)
        .await
        .into_iter()
        .chain(fire(&limiter, &p, 2).await)
    {
        assert!(matches!(r, Err(ProviderError::AuthFailed(_))), "{r:?}");
    }
    assert_eq!(emu.count(), 1);
}

#[tokio::test]
async fn unreachable_fails_fast_twice_then_trips() {
    let port = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let mut s = settings(ProviderKind::Mymemory, &format!("http://127.0.0.1:{port}"));
    // The quick retry must not wait this long (an hour: the hang guard would trip).
    (s.retry_base_ms, s.retry_max_ms) = (3_600_000, 3_600_000);
    let (p, limiter) = (Provider::new("mm", &s, None).unwrap(), Limiter::new(&s));
    let first = wait::finishes(
        "an unreachable server, retried quickly",
        fire(&limiter, &p, 1),
    )
    .await
    .remove(0)
    .unwrap_err();
    assert_eq!(
        first,
        ProviderError::Unreachable(format!("127.0.0.1:{port}"))
    );
    // One attempt and one quick retry, neither of which connected: nothing counts
    // as sent.
    assert_eq!(
        (limiter.stats().requests, limiter.stats().chars_sent),
        (0, 0),
        "nothing left this machine"
    );
    let later = wait::finishes(
        "calls after the trip failing at once",
        fire(&limiter, &p, 20),
    );
    for r in later.await {
        assert_eq!(r.unwrap_err(), first);
    }
    // And no later call even tries: the request itself is never made.
    let tried = std::sync::atomic::AtomicU32::new(0);
    let r = limiter
        .call(10, || async {
            tried.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok::<(), ProviderError>(())
        })
        .await;
    assert_eq!(r.unwrap_err(), first);
    assert_eq!(tried.into_inner(), 0, "later calls must not be sent");
}

#[tokio::test]
async fn hang_times_out_as_transient_and_counts() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    emu.set_mode(Behaviour::Hang);
    let mut s = settings(ProviderKind::Libretranslate, &emu.url());
    (s.timeout_secs, s.max_retries) = (0.2, 1);
    let (p, limiter) = (Provider::new("lt", &s, None).unwrap(), Limiter::new(&s));
    // The server never answers: only the request timeout ends each attempt.
    let e = wait::finishes("timeouts ending hung attempts", fire(&limiter, &p, 1))
        .await
        .remove(0)
        .unwrap_err();
    assert!(matches!(e, ProviderError::Transient(_)), "{e:?}");
    assert_eq!(emu.count(), 2);
    // Timed-out attempts count: the API may have processed them.
    assert_eq!(
        limiter.stats(),
        Stats {
            requests: 2,
            chars_sent: 10,
            retries: 1,
            http_429: 0
        }
    );
    assert!(limiter.tripped().is_none());
}

#[tokio::test]
async fn bad_requests_and_malformed_replies_are_not_retried() {
    let emu = Emulator::start(Api::LibreTranslate).await;
    emu.set_batch_limit(Some(1));
    emu.push(Behaviour::Malformed);
    emu.push(Behaviour::WrongCount);
    let s = settings(ProviderKind::Libretranslate, &emu.url());
    let (p, limiter) = (Provider::new("lt", &s, None).unwrap(), Limiter::new(&s));
    for _ in 0..2 {
        let e = fire(&limiter, &p, 1).await.remove(0).unwrap_err();
        assert!(matches!(e, ProviderError::Malformed(_)), "{e:?}");
    }
    let two = texts(&["a", "b"]);
    let e = limiter
        .call(2, || p.translate("ar", "en", &two))
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::BadRequest(_)), "{e:?}");
    assert_eq!(emu.count(), 3);
    assert_eq!(limiter.stats().retries, 0);
    assert!(limiter.tripped().is_none());
}

/// One cell per character: after a minute's worth, the next request waits; a request
/// larger than the burst waits in pieces instead of failing.
#[tokio::test]
async fn characters_per_minute_are_limited() {
    let mut s = settings(ProviderKind::Libretranslate, "http://127.0.0.1:9");
    s.chars_per_minute = 6000; // 100 per second, burst 6000
    let limiter = Limiter::new(&s);
    let ok = || async { Ok::<_, ProviderError>(()) };
    let started = Instant::now();
    limiter.call(6000, ok).await.unwrap();
    limiter.call(30, ok).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300) - EARLY, "{waited:?}");

    let fresh = Limiter::new(&s);
    let started = Instant::now();
    fresh.call(6050, ok).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(500) - EARLY, "{waited:?}");
    assert_eq!(fresh.stats().chars_sent, 6050);
}
