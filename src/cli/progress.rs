//! Progress and summaries on stderr: an indicatif bar on a terminal, plain lines
//! otherwise; `-q` silences all but errors.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::model::FileError;
use crate::pipeline::{Events, RunOptions, RunOutcome};

/// How many untranslated paragraphs the summary lists one by one.
const MISSING_LISTED: usize = 20;

/// The terminal side of [`Events`].
pub struct Progress {
    quiet: bool,
    verbose: u8,
    bar: Option<ProgressBar>,
    plain: Mutex<PlainState>,
}

#[derive(Default)]
struct PlainState {
    total: usize,
    done: usize,
    last_reported: usize,
}

impl Progress {
    /// A bar when stderr is a terminal and not quiet; plain lines otherwise.
    pub fn new(quiet: bool, verbose: u8) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::hidden();
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} translating [{bar:30}] {pos}/{len} paragraphs {per_sec} ETA {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        Progress {
            quiet,
            verbose,
            bar,
            plain: Mutex::new(PlainState::default()),
        }
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

    fn start(&self, to_send: usize, cached: usize) {
        if self.quiet {
            return;
        }
        if let Some(bar) = &self.bar {
            bar.set_length(to_send as u64);
            bar.set_message(format!("({cached} from cache)"));
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(200));
        } else {
            if let Ok(mut s) = self.plain.lock() {
                s.total = to_send;
            }
            eprintln!(
                "{cached} paragraphs from the cache, {to_send} distinct paragraphs to translate"
            );
        }
    }

    fn advance(&self, n: usize) {
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
            return;
        }
        let Ok(mut s) = self.plain.lock() else { return };
        s.done += n;
        // A line per tenth of the work, so logs stay short.
        let step = (s.total / 10).max(1);
        if !self.quiet && s.total > 0 && (s.done - s.last_reported >= step || s.done == s.total) {
            s.last_reported = s.done;
            eprintln!("processed {}/{} paragraphs", s.done, s.total);
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

impl Progress {
    fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) if !bar.is_hidden() => bar.suspend(|| eprintln!("{line}")),
            _ => eprintln!("{line}"),
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
    if let Some((configured, worked)) = outcome.adapted_rate {
        eprintln!(
            "the server rate-limited {configured} requests/s; {worked:.2} requests/s worked. \
             hint: put `rps = {worked:.2}` in [providers.{}] (or pass --rps {worked:.2})",
            opts.provider_name
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
