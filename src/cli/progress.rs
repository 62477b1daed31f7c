//! Progress and summaries on stderr: an indicatif bar on a terminal, plain lines
//! otherwise; `-q` silences all but errors.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::model::FileError;
use crate::pipeline::{Events, RunOptions, RunOutcome, Snapshot};

/// How many untranslated paragraphs the summary lists one by one.
const MISSING_LISTED: usize = 20;

/// The terminal side of [`Events`].
pub struct Progress {
    quiet: bool,
    verbose: u8,
    rps: f64,
    bar: Option<ProgressBar>,
    started: std::time::Instant,
    last_line: Mutex<usize>,
}

impl Progress {
    /// A bar when stderr is a terminal and not quiet; plain lines otherwise. `rps` is
    /// the configured rate, for the ETA.
    pub fn new(quiet: bool, verbose: u8, rps: f64) -> Progress {
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
            started: std::time::Instant::now(),
            last_line: Mutex::new(0),
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

    /// `3 cached, 20 waiting, 2/5 documents · 40 requests, 9120 characters sent · 4.8 requests/s · ETA 1 min 02 s`
    fn message(&self, s: &Snapshot) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = s.requests as f64 / secs;
        let left = s.docs_total.saturating_sub(s.docs_done);
        // Requests still to send, at the pace of the documents done so far, over the
        // configured rate: the rate limit, not this machine, sets the time left.
        let eta = (s.docs_done > 0 && s.requests > 0).then(|| {
            let per_doc = s.requests as f64 / s.docs_done as f64;
            Duration::from_secs_f64(per_doc * left as f64 / self.rps.max(1e-3))
        });
        let eta = eta.map_or(String::new(), |d| format!(" · ETA {}", human_duration(d)));
        format!(
            "{} cached, {} waiting, {}/{} documents · {} requests, {} characters sent · {rate:.1} requests/s{eta}",
            s.from_cache, s.waiting, s.docs_done, s.docs_total, s.requests, s.chars_sent
        )
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

/// The end-of-run summary on stderr.
pub fn summary(opts: &RunOptions, outcome: &RunOutcome) {
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
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}
