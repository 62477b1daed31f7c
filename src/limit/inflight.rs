//! Requests in flight: as many as the rate and the latency need, up to a cap.
//!
//! By Little's law a service answering in `L` seconds can be sent `R` requests a
//! second only with `R × L` requests in flight. A fixed number in flight therefore
//! caps the rate at `in flight / L` whatever the configured `rps`: 2 in flight at
//! 300 ms never exceed 6.7 requests a second. So the number allowed here follows the
//! rate and the latency observed:
//!
//! `limit = ⌈HEADROOM × rate × (srtt + 4 × rttvar)⌉ + 1`, between 1 and the cap,
//!
//! where `rate` is the pacing rate of the moment (the configured one, or the lower
//! one [`super::adaptive`] settled on after 429s) and `srtt`/`rttvar` are the smoothed
//! latency of answered requests and its mean deviation, kept as TCP keeps its
//! round-trip time (RFC 6298: gains 1/8 and 1/4). The deviation term covers the
//! slower answers, `HEADROOM` the estimate's lag, and the `+ 1` the request that
//! holds a permit while it waits for its departure slot. The rate limiter, not this
//! count, sets how fast requests leave; this count only keeps latency from capping
//! the rate, and keeps a slowing server from being sent more and more at once.
//!
//! Before the first answer nothing is known of the latency, nor whether the service
//! will take anything at all: a spent quota or a refused key refuses every request
//! already sent. So, like TCP's initial window, at most [`START`] go out until the
//! first answer, which sets the limit; the cost is one round trip at a reduced rate
//! at the start of a run. The cap is the provider's `concurrency` setting: what the
//! service accepts at once.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

/// Margin over the estimated need, for the estimate's lag.
const HEADROOM: f64 = 1.25;
/// Requests in flight before the first answer.
pub const START: usize = 2;
/// Gain of the smoothed latency (RFC 6298's alpha).
const ALPHA: f64 = 1.0 / 8.0;
/// Gain of the latency deviation (RFC 6298's beta).
const BETA: f64 = 1.0 / 4.0;

/// The in-flight count of one provider and the limit it may reach.
#[derive(Debug)]
pub struct InFlight {
    cap: usize,
    state: Mutex<State>,
    /// Woken when a permit is returned or the limit rises.
    changed: Notify,
}

#[derive(Debug)]
struct State {
    in_flight: usize,
    limit: usize,
    /// Smoothed latency and its mean deviation, in seconds, once measured.
    latency: Option<(f64, f64)>,
}

/// One request's place in flight; returned when dropped.
#[derive(Debug)]
pub struct Permit<'a> {
    owner: &'a InFlight,
}

impl InFlight {
    /// At most `cap` requests in flight (at least 1).
    #[must_use]
    pub fn new(cap: usize) -> InFlight {
        let cap = cap.max(1);
        InFlight {
            cap,
            state: Mutex::new(State {
                in_flight: 0,
                limit: START.min(cap),
                latency: None,
            }),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The most requests ever allowed in flight at once.
    #[must_use]
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// How many may be in flight now.
    #[must_use]
    pub fn limit(&self) -> usize {
        self.lock().limit
    }

    /// How many are in flight now.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    /// The smoothed latency of answered requests, once one was answered.
    #[must_use]
    pub fn latency(&self) -> Option<Duration> {
        (self.lock().latency).map(|(srtt, _)| Duration::from_secs_f64(srtt))
    }

    /// Wait until fewer than the limit are in flight, and take a place.
    pub async fn acquire(&self) -> Permit<'_> {
        self.acquire_within(|| usize::MAX).await
    }

    /// Wait until fewer than the limit and than `most()` are in flight, and take a
    /// place: for a request that must not overlap more than `most() - 1` others
    /// (near the end of a known quota, where every request in flight when the
    /// service says "spent" is a request refused). `most` is asked again each time a
    /// place is looked for, as what it depends on changes while a request waits.
    pub async fn acquire_at_most(&self, most: impl Fn() -> usize) -> Permit<'_> {
        self.acquire_within(most).await
    }

    /// Wait until fewer than the limit (and than `most()`) are in flight, and take a
    /// place.
    async fn acquire_within(&self, most: impl Fn() -> usize) -> Permit<'_> {
        loop {
            // Registered before looking, so a permit returned in between wakes us.
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let most = most();
            {
                let mut s = self.lock();
                if s.in_flight < s.limit.min(most) {
                    s.in_flight += 1;
                    return Permit { owner: self };
                }
            }
            notified.await;
        }
    }

    /// A request was answered after `latency` while requests left at `rate` per
    /// second: update the estimate and the limit.
    pub fn observe(&self, latency: Duration, rate: f64) {
        let sample = latency.as_secs_f64();
        let mut s = self.lock();
        s.latency = Some(match s.latency {
            None => (sample, sample / 2.0),
            Some((srtt, rttvar)) => {
                let rttvar = (1.0 - BETA) * rttvar + BETA * (srtt - sample).abs();
                ((1.0 - ALPHA) * srtt + ALPHA * sample, rttvar)
            }
        });
        self.retarget(&mut s, rate);
    }

    /// The pacing rate changed (a 429 lowered it, or it crept back up).
    pub fn set_rate(&self, rate: f64) {
        let mut s = self.lock();
        self.retarget(&mut s, rate);
    }

    fn retarget(&self, s: &mut State, rate: f64) {
        let Some((srtt, rttvar)) = s.latency else {
            return;
        };
        let limit = needed(rate, srtt + 4.0 * rttvar, self.cap);
        let rose = limit > s.limit;
        s.limit = limit;
        if rose {
            self.changed.notify_waiters();
        }
    }

    fn release(&self) {
        self.lock().in_flight -= 1;
        self.changed.notify_waiters();
    }
}

/// `⌈HEADROOM × rate × latency⌉ + 1`, between 1 and `cap`.
fn needed(rate: f64, latency_secs: f64, cap: usize) -> usize {
    let want = (HEADROOM * rate * latency_secs).ceil() + 1.0;
    if want.is_finite() && want < cap as f64 {
        // Positive and below `cap`, so it fits.
        (want as usize).max(1)
    } else {
        cap
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.owner.release();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::time::Instant;

    use super::*;

    #[test]
    fn the_limit_is_rate_times_latency_plus_headroom_within_the_cap() {
        assert_eq!(needed(20.0, 0.3, 32), 9); // ⌈7.5⌉ + 1
        assert_eq!(needed(20.0, 1.0, 32), 26);
        assert_eq!(needed(20.0, 1.0, 16), 16);
        assert_eq!(needed(2.0, 0.3, 32), 2);
        assert_eq!(needed(0.001, 0.05, 32), 2);
        assert_eq!(needed(10_000.0, 0.05, 16), 16);
        assert_eq!(needed(f64::INFINITY, 1.0, 4), 4);
        assert_eq!(needed(20.0, 0.3, 1), 1);
    }

    /// A client that sends `total` requests through `f`, each taking a permit, then
    /// the next departure slot of a pacer at `rate` (as `Limiter::attempt` does with
    /// governor), then answered by a server that takes `latency(i)`. Returns when the
    /// last answer came, and the most in flight seen.
    async fn run(
        f: &Arc<InFlight>,
        rate: f64,
        total: usize,
        latency: impl Fn(usize) -> Duration,
    ) -> (Duration, usize) {
        let start = Instant::now();
        let seen = Arc::new(AtomicUsize::new(0));
        let slot = Arc::new(std::sync::Mutex::new(start));
        let mut tasks = Vec::new();
        for i in 0..total {
            let (f, seen, slot) = (Arc::clone(f), Arc::clone(&seen), Arc::clone(&slot));
            let took = latency(i);
            tasks.push(tokio::spawn(async move {
                let _permit = f.acquire().await;
                seen.fetch_max(f.in_flight(), Ordering::SeqCst);
                let depart = {
                    let mut next = slot.lock().unwrap();
                    let depart = (*next).max(Instant::now());
                    *next = depart + Duration::from_secs_f64(1.0 / rate);
                    depart
                };
                tokio::time::sleep_until(depart).await;
                tokio::time::sleep(took).await;
                f.observe(took, rate);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        (start.elapsed(), seen.load(Ordering::SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn at_300_ms_the_configured_rate_is_reached_with_about_nine_in_flight() {
        let f = Arc::new(InFlight::new(32));
        let (took, most) = run(&f, 20.0, 400, |_| Duration::from_millis(300)).await;
        // 400 requests at 20/s: the last leaves at 19.95 s and is answered 0.3 s later.
        // Until the first answer, START in flight: one round trip at a reduced rate.
        let ideal = 399.0 / 20.0 + 0.3;
        assert!(took.as_secs_f64() <= ideal * 1.01 + 0.3, "{took:?}");
        assert_eq!(f.limit(), 9);
        assert!(most <= 32, "{most}");
        assert_eq!(f.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn at_1000_ms_the_rate_holds_and_a_low_cap_caps_it() {
        let f = Arc::new(InFlight::new(32));
        let (took, _) = run(&f, 20.0, 400, |_| Duration::from_secs(1)).await;
        assert!(
            took.as_secs_f64() <= (399.0 / 20.0 + 1.0) * 1.01 + 1.0,
            "{took:?}"
        );
        assert_eq!(f.limit(), 26);
        // 16 in flight at 1 s each: 16 requests a second at most.
        let f = Arc::new(InFlight::new(16));
        let (took, most) = run(&f, 20.0, 400, |_| Duration::from_secs(1)).await;
        assert!(took.as_secs_f64() >= 400.0 / 16.0, "{took:?}");
        assert_eq!(most, 16);
    }

    #[tokio::test(start_paused = true)]
    async fn the_limit_follows_the_latency_up_and_down_and_the_rate_down() {
        let f = InFlight::new(64);
        assert_eq!(f.limit(), START, "unknown latency: the initial window");
        for _ in 0..40 {
            f.observe(Duration::from_millis(100), 20.0);
        }
        assert_eq!(f.limit(), 4); // ⌈2.5⌉ + 1
        for _ in 0..40 {
            f.observe(Duration::from_secs(2), 20.0);
        }
        assert!(f.limit() >= 51, "{}", f.limit()); // ⌈50⌉ + 1 and the deviation
        for _ in 0..80 {
            f.observe(Duration::from_millis(100), 20.0);
        }
        assert_eq!(f.limit(), 4);
        // A 429 halved the rate: fewer are needed.
        f.set_rate(10.0);
        assert_eq!(f.limit(), 3);
        // Jittery answers keep more in flight than their mean needs.
        let g = InFlight::new(64);
        for i in 0..200 {
            let ms = if i % 2 == 0 { 100 } else { 500 };
            g.observe(Duration::from_millis(ms), 20.0);
        }
        assert!(g.limit() > needed(20.0, 0.3, 64), "{}", g.limit());
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_limit_are_in_flight_and_a_returned_permit_wakes_a_waiter() {
        let f = Arc::new(InFlight::new(2));
        let a = f.acquire().await;
        let _b = f.acquire().await;
        let waiter = {
            let f = Arc::clone(&f);
            tokio::spawn(async move {
                let _c = f.acquire().await;
                Instant::now()
            })
        };
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!waiter.is_finished(), "a third request went out");
        assert_eq!(f.in_flight(), 2);
        let released = Instant::now();
        drop(a);
        assert_eq!(waiter.await.unwrap(), released);
    }

    #[tokio::test(start_paused = true)]
    async fn a_rising_limit_wakes_waiters() {
        let f = Arc::new(InFlight::new(8));
        for _ in 0..10 {
            f.observe(Duration::from_millis(10), 1.0);
        }
        assert_eq!(f.limit(), 2);
        let _a = f.acquire().await;
        let _b = f.acquire().await;
        let waiter = {
            let f = Arc::clone(&f);
            tokio::spawn(async move { drop(f.acquire().await) })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(!waiter.is_finished());
        f.set_rate(400.0); // ⌈1.25 × 400 × ~0.01⌉ + 1 > 2
        waiter.await.unwrap();
    }
}
