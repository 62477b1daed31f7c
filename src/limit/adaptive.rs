//! Adaptive pacing: finish near the server's real limit when it is lower than the
//! configured one.
//!
//! Until the first 429 this does nothing: governor keeps the configured rate and
//! burst. A 429 received for a request sent at the current pacing epoch (older
//! requests' 429s are echoes of a problem already answered) ends the epoch and lowers
//! the rate (multiplicative decrease):
//! - the first time, to half the configured rate, or to what the server accepted so
//!   far if that is lower (the server's own burst inflates early counts, so they only
//!   ever lower the rate here);
//! - later, to what the server accepted during the epoch that just ended, times a small
//!   margin: while we pace at a rate above the server's limit its bucket is empty, so
//!   successes per second during the epoch measure the limit itself.
//!
//! From then on requests are spaced `1/rate` apart with no burst. Without a 429 the
//! rate grows again, at two speeds:
//! - quickly (a fifth of the configured rate every second) back up to a ceiling: just
//!   under the rate of the first 429, so a lone 429 at the configured rate (two
//!   requests that met on the way) costs a few seconds, not the rest of the run; after
//!   a later 429, the limit its epoch measured (no quick growth when there was no
//!   measurement). A 429 during quick growth returns to the rate it started from and
//!   ends it: what was accepted while growing measures the client's ramp;
//! - above it, by a small fixed step after each quiet stretch (additive increase)
//!   towards the configured rate, so a limit that rises again is found again.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Fraction of the measured accepted rate to settle on.
const MARGIN: f64 = 0.97;
/// Fewest successes in an epoch for its rate to be trusted.
const MIN_SAMPLES: usize = 6;
/// Shortest epoch whose rate is trusted.
const MIN_EPOCH: Duration = Duration::from_millis(500);
/// How long without a 429 before the rate may grow above the ceiling.
const INCREASE_EVERY: Duration = Duration::from_secs(15);
/// How much it grows each time, as a share of the configured rate.
const INCREASE_STEP: f64 = 0.02;
/// How long without a 429 before the rate may grow back towards the ceiling.
const RECOVER_EVERY: Duration = Duration::from_secs(1);
/// How much it grows back each time, as a share of the configured rate.
const RECOVER_STEP: f64 = 0.2;
/// The lowest rate, as a share of the configured rate.
const FLOOR: f64 = 0.01;

/// Shared pacing state of one provider.
#[derive(Debug)]
pub struct Pace {
    configured: f64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Current rate once adapted; `None` before the first 429.
    rate: Option<f64>,
    /// The rate set at the last decrease: what the server was seen to accept.
    settled: Option<f64>,
    /// What the rate grows back to quickly (see the module doc); never below the
    /// rate set at the last decrease.
    ceiling: f64,
    /// The rate quick growth started from, while the rate grows quickly.
    quick_from: Option<f64>,
    /// Earliest departure of the next request once adapted.
    next: Instant,
    /// Bumped at every decrease.
    epoch: u64,
    /// When the current epoch started.
    epoch_started: Instant,
    /// Successes in the current epoch.
    epoch_successes: usize,
    /// When the rate last changed.
    changed: Instant,
}

impl Pace {
    /// Pacing for a configured rate of `rps` requests per second.
    #[must_use]
    pub fn new(rps: f64) -> Pace {
        let now = Instant::now();
        Pace {
            configured: rps,
            state: Mutex::new(State {
                rate: None,
                settled: None,
                ceiling: rps * MARGIN,
                quick_from: None,
                next: now,
                epoch: 0,
                epoch_started: now,
                epoch_successes: 0,
                changed: now,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current epoch, to be handed back with a 429.
    #[must_use]
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// The rate requests leave at now: the configured one until a 429, then the
    /// adapted one.
    #[must_use]
    pub fn rate(&self) -> f64 {
        self.lock().rate.unwrap_or(self.configured)
    }

    /// `Some((configured, current))` once a 429 made the rate drop.
    #[must_use]
    pub fn adapted(&self) -> Option<(f64, f64)> {
        self.lock().rate.map(|r| (self.configured, r))
    }

    /// `Some((configured, settled))`: the rate set at the last decrease, which the
    /// server accepted; the rate to put in the config.
    #[must_use]
    pub fn worked(&self) -> Option<(f64, f64)> {
        self.lock().settled.map(|r| (self.configured, r))
    }

    /// Wait for this request's departure slot (no wait before the first 429).
    pub async fn wait(&self) {
        let depart = {
            let mut s = self.lock();
            let Some(rate) = s.rate else { return };
            let now = Instant::now();
            let depart = s.next.max(now);
            s.next = depart + Duration::from_secs_f64(1.0 / rate);
            depart
        };
        tokio::time::sleep_until(depart).await;
    }

    /// A request succeeded.
    pub fn success(&self) {
        let now = Instant::now();
        let mut s = self.lock();
        if now >= s.epoch_started {
            s.epoch_successes += 1;
        }
        let Some(rate) = s.rate.filter(|&r| r < self.configured) else {
            return;
        };
        let quiet = now.duration_since(s.changed);
        let back_to = s.ceiling.min(self.configured);
        let grown = if rate < back_to && quiet >= RECOVER_EVERY {
            s.quick_from.get_or_insert(rate);
            (rate + self.configured * RECOVER_STEP).min(back_to)
        } else if rate >= back_to && quiet >= INCREASE_EVERY {
            (rate + self.configured * INCREASE_STEP).min(self.configured)
        } else {
            return;
        };
        s.rate = Some(grown);
        s.changed = now;
    }

    /// Every request waits until `until` (the server asked for a pause): the epoch's
    /// measurement, and the wait before the rate may grow, start from there, so a
    /// pause does not count as time the server accepted nothing in.
    pub fn paused(&self, until: Instant) {
        let mut s = self.lock();
        if until > s.epoch_started {
            s.epoch_started = until;
            s.epoch_successes = 0;
        }
        s.changed = s.changed.max(until);
    }

    /// A request sent during `epoch` was answered 429.
    pub fn rate_limited(&self, epoch: u64) {
        let now = Instant::now();
        let mut s = self.lock();
        if epoch != s.epoch {
            return; // sent before the last decrease: already answered
        }
        let current = s.rate.unwrap_or(self.configured);
        let span = now.duration_since(s.epoch_started);
        let measured = (s.epoch_successes >= MIN_SAMPLES && span >= MIN_EPOCH)
            .then(|| s.epoch_successes as f64 / span.as_secs_f64() * MARGIN);
        // The first epoch's measurement is inflated by the server's burst, so only
        // the rate of the 429 is known to be too much: grow back quickly to just
        // under it (a lone 429 costs seconds). A 429 while growing back quickly
        // returns to the rate that held before and ends the quick growth (what was
        // accepted while growing measures the client's ramp, not the server). At a
        // steady rate, the epoch measures the server's limit; too short to measure,
        // the rate is lowered a little: the first decrease already halved it, and
        // such a 429 says it is somewhat too high, not twice.
        let climbing = s.quick_from.take();
        let (lowered, ceiling) = match (s.rate, climbing, measured) {
            (None, _, Some(m)) => (m.min(current * 0.5), current * MARGIN),
            (None, _, None) => (current * 0.5, current * MARGIN),
            (Some(_), Some(before), _) => (before, before),
            (Some(_), None, Some(m)) => (m.min(current * 0.9), m),
            (Some(_), None, None) => (current * 0.9, current * 0.9),
        };
        let rate = lowered.max(self.configured * FLOOR);
        s.ceiling = ceiling.max(rate);
        tracing::info!(
            "the server answered 429: slowing from {current:.2} to {rate:.2} requests/s"
        );
        s.rate = Some(rate);
        s.settled = Some(rate);
        s.epoch += 1;
        s.epoch_started = now;
        s.epoch_successes = 0;
        s.changed = now;
        s.next = s.next.max(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_429_lowers_the_rate_to_what_was_accepted_and_it_creeps_back() {
        let p = Pace::new(20.0);
        assert_eq!(p.adapted(), None);
        // First 429 after a burst: half the configured rate at most.
        for _ in 0..25 {
            p.success();
        }
        tokio::time::advance(Duration::from_millis(600)).await;
        p.rate_limited(p.epoch());
        assert_eq!(p.adapted(), Some((20.0, 10.0)));
        // Growing back quickly, a 429: back to the rate that held, and no more
        // quick growth.
        for _ in 0..16 {
            p.success();
            tokio::time::advance(Duration::from_millis(125)).await;
        }
        assert!(p.rate() > 10.0);
        p.rate_limited(p.epoch());
        assert_eq!(p.adapted(), Some((20.0, 10.0)));
        // Then 8 requests/s accepted for 3 s, and a 429: settle just under 8.
        for _ in 0..24 {
            p.success();
            tokio::time::advance(Duration::from_millis(125)).await;
        }
        assert_eq!(p.rate(), 10.0, "no quick growth after a 429 while growing");
        let e = p.epoch();
        p.rate_limited(e);
        let (_, rate) = p.adapted().unwrap();
        assert!((rate - 8.0 * 0.97).abs() < 0.05, "{rate}");
        // An echo from the same epoch does not lower it again.
        p.rate_limited(e);
        assert_eq!(p.adapted().unwrap().1, rate);
        // Requests are now spaced 1/rate apart.
        let t0 = Instant::now();
        for _ in 0..10 {
            p.wait().await;
        }
        let spent = t0.elapsed().as_secs_f64();
        assert!((spent - 9.0 / rate).abs() < 0.05, "{spent}");
        // A quiet stretch later, one success raises it by a step.
        tokio::time::advance(INCREASE_EVERY).await;
        p.success();
        assert!((p.adapted().unwrap().1 - (rate + 0.4)).abs() < 1e-9);
    }

    /// A lone 429 at the configured rate (two requests that met on the way) halves
    /// the rate, which is back just under the configured one within seconds, then
    /// grows only by small steps.
    #[tokio::test(start_paused = true)]
    async fn after_a_lone_429_the_rate_is_back_within_seconds() {
        let p = Pace::new(20.0);
        for _ in 0..200 {
            p.success();
            tokio::time::advance(Duration::from_millis(50)).await;
        }
        p.rate_limited(p.epoch());
        assert_eq!(p.adapted(), Some((20.0, 10.0)));
        let mut at = Vec::new();
        for _ in 0..20 {
            tokio::time::advance(Duration::from_millis(500)).await;
            p.success();
            at.push(p.adapted().unwrap().1);
        }
        // Every second 4 more, up to 97 % of the rate the 429 came at.
        assert_eq!(&at[..4], [10.0, 14.0, 14.0, 18.0]);
        assert!((at[5] - 19.4).abs() < 1e-9, "{at:?}");
        assert!(at.iter().all(|&r| r <= 19.4 + 1e-9), "{at:?}");
        tokio::time::advance(INCREASE_EVERY).await;
        p.success();
        assert!((p.adapted().unwrap().1 - 19.8).abs() < 1e-9);
    }

    /// A server whose limit really is half: the quick climb after the first 429
    /// meets a second one and returns to the rate that held; at that steady rate a
    /// third 429 ends an epoch counted from the end of the pause the server asked
    /// for (not from the 429), which measures the limit.
    #[tokio::test(start_paused = true)]
    async fn an_epoch_measures_the_limit_from_the_end_of_the_pause() {
        let p = Pace::new(20.0);
        p.rate_limited(p.epoch());
        assert_eq!(p.adapted(), Some((20.0, 10.0)));
        p.paused(Instant::now() + Duration::from_secs(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        // 10 answers a second after the pause; the rate climbs meanwhile.
        for _ in 0..20 {
            tokio::time::advance(Duration::from_millis(100)).await;
            p.success();
        }
        assert!(p.rate() > 10.0, "{}", p.rate());
        p.rate_limited(p.epoch());
        assert_eq!(p.rate(), 10.0);
        // At 10: a pause, then 9 answers in 0.9 s, and a 429.
        p.paused(Instant::now() + Duration::from_secs(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        for _ in 0..9 {
            tokio::time::advance(Duration::from_millis(100)).await;
            p.success();
        }
        p.rate_limited(p.epoch());
        // Measured 10 (9.7 with the margin; counted from the 429 it would be half
        // that); a tenth below the rate of the 429 for now.
        assert_eq!(p.rate(), 9.0);
        for _ in 0..50 {
            tokio::time::advance(Duration::from_millis(100)).await;
            p.success();
        }
        let limit = 10.0 * MARGIN;
        assert!(
            (p.rate() - limit).abs() < 1e-9,
            "back to the limit measured, no more"
        );
        tokio::time::advance(INCREASE_EVERY).await;
        p.success();
        assert!((p.rate() - (limit + 0.4)).abs() < 1e-9);
    }

    /// Without a measurement the first 429 halves the rate; a later one at a steady
    /// rate lowers it a little, and nothing quickly climbs back.
    #[tokio::test(start_paused = true)]
    async fn without_measurements_a_429_halves_the_rate_then_lowers_it_a_little() {
        let p = Pace::new(8.0);
        p.rate_limited(p.epoch());
        assert_eq!(p.adapted(), Some((8.0, 4.0)));
        p.rate_limited(p.epoch());
        assert!((p.rate() - 3.6).abs() < 1e-9, "{}", p.rate());
        for _ in 0..3 {
            tokio::time::advance(Duration::from_secs(1)).await;
            p.success();
        }
        assert!((p.rate() - 3.6).abs() < 1e-9, "{}", p.rate());
    }
}
