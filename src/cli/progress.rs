//! Progress and summaries on stderr: an indicatif bar on a terminal, plain lines
//! otherwise; `-q` silences all but errors.
//!
//! The progress line shows the request rate reached over the last few seconds
//! beside the configured one (`19.8 of 20 requests/s`), so a run held below its
//! `rps` (by latency, 429s or the cap on requests in flight) shows it while it
//! runs; the time left is estimated at the rate reached.

use std::collections::VecDeque;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::model::FileError;
use crate::pipeline::{Events, RunOptions, RunOutcome, Snapshot};

/// How many untranslated paragraphs the summary lists one by one.
const MISSING_LISTED: usize = 20;

/// The span the reached rate is measured over.
const RATE_WINDOW: Duration = Duration::from_secs(5);
/// The shortest span a rate is computed from.
const RATE_MIN_SPAN: Duration = Duration::from_secs(1);

/// Requests sent at recent moments, for the rate reached over the last
/// [`RATE_WINDOW`].
#[derive(Debug, Default)]
struct RateWindow {
    samples: VecDeque<(Instant, u64)>,
}

impl RateWindow {
    /// Note that `requests` had been sent by `at`; the rate over the window, once the
    /// window spans at least [`RATE_MIN_SPAN`] since the first request.
    fn record(&mut self, at: Instant, requests: u64) -> Option<f64> {
        if requests == 0 {
            return None; // nothing sent yet: start-up does not count
        }
        if self.samples.back().is_none_or(|&(t, _)| at > t) {
            self.samples.push_back((at, requests));
        }
        // Keep the newest sample older than the window as its left edge.
        while self.samples.len() > 2 && at.duration_since(self.samples[1].0) >= RATE_WINDOW {
            self.samples.pop_front();
        }
        let &(t0, r0) = self.samples.front()?;
        let span = at.duration_since(t0);
        (span >= RATE_MIN_SPAN).then(|| requests.saturating_sub(r0) as f64 / span.as_secs_f64())
    }
}

/// The terminal side of [`Events`].
pub(crate) struct Progress {
    quiet: bool,
    verbose: u8,
    rps: f64,
    bar: Option<ProgressBar>,
    last_line: Mutex<usize>,
    window: Mutex<RateWindow>,
}

impl Progress {
    /// A bar when stderr is a terminal and not quiet; plain lines otherwise. `rps` is
    /// the configured rate, for the ETA.
    pub(crate) fn new(quiet: bool, verbose: u8, rps: f64) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::hidden();
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{bar:24}] {pos}/{len} paragraphs · {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Progress {
            quiet,
            verbose,
            rps,
            bar,
            last_line: Mutex::new(0),
            window: Mutex::new(RateWindow::default()),
        }
    }

    fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) if !bar.is_hidden() => bar.suspend(|| eprintln!("{line}")),
            _ => eprintln!("{line}"),
        }
    }

    /// Paragraphs in the whole run: exact once every document is done, estimated from
    /// the documents done so far before that (documents are read as the run goes).
    fn paragraphs_total(s: &Snapshot) -> usize {
        if s.docs_done == 0 || s.docs_done >= s.docs_total {
            return s.paragraphs_done.max(s.waiting);
        }
        s.paragraphs_done * s.docs_total / s.docs_done
    }

    /// `3 cached, 20 waiting, 2/5 documents · 40 requests, 9120 characters sent · 4.8 of 5 requests/s · ETA 1 min 02 s`
    fn message(&self, s: &Snapshot) -> String {
        let reached =
            (self.window.lock()).map_or(None, |mut w| w.record(Instant::now(), s.requests));
        message(s, self.rps, reached)
    }
}

impl Events for Progress {
    fn file_error(&self, e: &FileError) {
        self.println(&format!("error: {}: {}", e.file, e.message));
    }

    fn warn(&self, msg: &str) {
        if !self.quiet {
            self.println(&format!("warning: {msg}"));
        }
    }

    fn start(&self, documents: usize) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => {
                bar.set_length(documents as u64);
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(200));
            }
            None => eprintln!("translating {documents} documents"),
        }
    }

    fn progress(&self, now: &Snapshot) {
        if self.quiet {
            return;
        }
        if let Some(bar) = &self.bar {
            bar.set_length(Self::paragraphs_total(now) as u64);
            bar.set_position(now.paragraphs_done as u64);
            bar.set_message(self.message(now));
            return;
        }
        // A line per tenth of the documents, so logs stay short.
        let Ok(mut last) = self.last_line.lock() else {
            return;
        };
        let step = (now.docs_total / 10).max(1);
        if now.docs_done >= *last + step
            || (now.docs_done == now.docs_total && *last < now.docs_done)
        {
            *last = now.docs_done;
            eprintln!("{} paragraphs · {}", now.paragraphs_done, self.message(now));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn written(&self, rel: &str) {
        if self.verbose > 0 {
            self.println(&format!("wrote {rel}"));
        }
    }
}

/// The progress message for `s`, with the configured rate `rps` and the rate
/// `reached` lately (unknown until requests have been sent for a while).
fn message(s: &Snapshot, rps: f64, reached: Option<f64>) -> String {
    let left = s.docs_total.saturating_sub(s.docs_done);
    // Requests still to send, at the pace of the documents done so far, over the rate
    // reached (the configured one until it is known): the rate, not this machine,
    // sets the time left.
    let pace = reached.filter(|r| *r > 0.0).unwrap_or(rps).max(1e-3);
    let eta = (s.docs_done > 0 && s.requests > 0).then(|| {
        let per_doc = s.requests as f64 / s.docs_done as f64;
        Duration::from_secs_f64((per_doc * left as f64 / pace).min(1e9))
    });
    let eta = eta.map_or(String::new(), |d| format!(" · ETA {}", human_duration(d)));
    let rate = match reached {
        Some(r) => format!("{r:.1} of {} requests/s", short_rate(rps)),
        None => format!("rps {}", short_rate(rps)),
    };
    format!(
        "{} cached, {} waiting, {}/{} documents · {} requests, {} characters sent · {rate}{eta}",
        s.from_cache, s.waiting, s.docs_done, s.docs_total, s.requests, s.chars_sent
    )
}

/// `20`, `2.5`, `0.25`: a configured rate without trailing zeros.
fn short_rate(r: f64) -> String {
    let s = format!("{r:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The end-of-run summary on stderr.
pub(crate) fn summary(opts: &RunOptions, outcome: &RunOutcome) {
    let r = &outcome.report;
    eprintln!(
        "{} documents, {} paragraphs: {} translated ({} from cache), {} not sent, {} untranslated; \
         {} requests, {} characters sent, {} retries, {} rate-limited, {} → {}",
        r.documents,
        r.paragraphs,
        r.translated,
        r.from_cache,
        r.skipped,
        r.untranslated,
        r.requests,
        r.chars_sent,
        r.retries,
        r.http_429,
        human_duration(Duration::from_millis(r.wall_ms)),
        opts.out_dir.display(),
    );
    if r.chars_deduplicated + r.chars_from_cache > 0 {
        eprintln!(
            "saved {} characters: {} repeated within the run, {} from the cache",
            r.chars_deduplicated + r.chars_from_cache,
            r.chars_deduplicated,
            r.chars_from_cache
        );
    }
    if let Some((name, configured, worked)) = &outcome.adapted_rate {
        eprintln!(
            "the server rate-limited {configured} requests/s; {worked:.2} requests/s worked. \
             hint: put `rps = {worked:.2}` in [providers.{name}] (or pass --rps {worked:.2})"
        );
    }
    if !outcome.missing.is_empty() {
        eprintln!(
            "{} paragraphs left untranslated (¶ numbers count from 1, as in the HTML):",
            outcome.missing.len()
        );
        for (doc, index, flag) in outcome.missing.iter().take(MISSING_LISTED) {
            eprintln!("  {doc} ¶{} ({flag})", index + 1);
        }
        if outcome.missing.len() > MISSING_LISTED {
            eprintln!(
                "  … and {} more (see the JSONL flags)",
                outcome.missing.len() - MISSING_LISTED
            );
        }
        if opts.offline {
            eprintln!("hint: rerun without --offline to fetch them");
        }
    }
    if !r.errors.is_empty() {
        eprintln!(
            "{} inputs could not be used (listed above and in report.json)",
            r.errors.len()
        );
    }
}

/// `1 h 02 min`, `3 min 05 s`, `4.2 s`.
#[must_use]
pub(crate) fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_reached_is_measured_over_the_last_seconds() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut w = RateWindow::default();
        assert_eq!(w.record(at(0), 0), None, "nothing sent yet");
        assert_eq!(w.record(at(100), 1), None);
        assert_eq!(w.record(at(600), 11), None, "under a second of sending");
        // 20 requests a second from then on.
        let mut last = None;
        for i in 1..=200 {
            last = w.record(at(100 + i * 50), 1 + i);
        }
        assert!((last.unwrap() - 20.0).abs() < 0.01, "{last:?}");
        // Then 5 a second: after a window, only the new rate shows.
        for i in 1..=50 {
            last = w.record(at(10_100 + i * 200), 201 + i);
        }
        assert!((last.unwrap() - 5.0).abs() < 0.01, "{last:?}");
        assert!(w.samples.len() <= 30, "{}", w.samples.len());
    }

    #[test]
    fn the_message_shows_the_rate_reached_and_estimates_at_it() {
        let s = Snapshot {
            docs_done: 10,
            docs_total: 20,
            paragraphs_done: 200,
            from_cache: 0,
            requests: 100,
            chars_sent: 5000,
            waiting: 3,
        };
        let m = message(&s, 20.0, Some(19.84));
        assert!(m.contains("· 19.8 of 20 requests/s · ETA 5.0 s"), "{m}");
        // Held at 5 a second: 100 requests left take 20 s.
        let m = message(&s, 20.0, Some(5.0));
        assert!(m.contains("5.0 of 20 requests/s · ETA 20.0 s"), "{m}");
        let m = message(&s, 2.5, None);
        assert!(m.contains("· rps 2.5 · ETA 40.0 s"), "{m}");
    }
}
