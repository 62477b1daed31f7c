//! Pipeline: the orchestration of one run.
//!
//! Owns the order of the stages and nothing of their internals: walk and read the
//! inputs ([`ingest`]), cut and classify paragraphs ([`segment`]), tag languages
//! ([`detect`]), serve what the [`cache`] holds, pack the rest into batches within the
//! provider's limits ([`plan`]), send them concurrently through the [`limit`]er
//! ([`send`]), check every reply ([`validate`]) before it is cached, then [`align`]
//! and [`write`] each document as soon as it is complete ([`stream`]). A run may use
//! a chain of providers, each taking over the paragraphs of the one before when it
//! leaves ([`chain`]).
//!
//! `--offline` is built in, not checked here and there: an offline run never builds a
//! provider at all, so nothing can be sent. `--dry-run` stops before the network and
//! before any file is written, and returns an [`Estimate`], with a plan of how much
//! each service of the chain is likely to take today.
//!
//! [`ingest`]: crate::ingest
//! [`segment`]: crate::segment
//! [`detect`]: crate::detect
//! [`cache`]: crate::cache
//! [`limit`]: crate::limit
//! [`align`]: crate::align
//! [`write`]: crate::write

pub mod chain;
mod claim;
pub mod ids;
mod memory;
mod outputs;
pub mod plan;
mod prepared;
mod reader;
pub mod send;
pub mod stream;
pub mod validate;
mod writer;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::align::Outcome;
use crate::cache::{Cache, Store};
use crate::config::ProviderSettings;
use crate::error::{Error, Result};
use crate::model::{FileError, InputFile, Lang, Paragraph, PreparedDoc, RunReport, SourceDoc};
use crate::provider::{self, Allowance, KeyNeed};
use crate::write::{self, Format};
use crate::{detect, ingest, segment};
pub use chain::Service;
use memory::Memory;

/// Everything a run needs, flags and config already merged.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Files and directories to translate.
    pub inputs: Vec<PathBuf>,
    /// Target language.
    pub to: String,
    /// Source language; `None` detects per document.
    pub from: Option<String>,
    /// The providers to use, in order: a chain of one or more (overrides applied).
    pub chain: Vec<Service>,
    /// Output directory.
    pub out_dir: PathBuf,
    /// Cache directory.
    pub cache_dir: PathBuf,
    /// A shared translation memory (`--cache URL`), with the cache directory as its
    /// local layer; not used with `offline` (no connection) or `dry_run`.
    pub cache_url: Option<crate::cache::CacheUrl>,
    /// Output formats.
    pub formats: Vec<Format>,
    /// Format choices (`--tmx-unit`).
    pub write: write::WriteOptions,
    /// Serve from the cache only; never connect.
    pub offline: bool,
    /// Do everything up to the network, then report; write nothing.
    pub dry_run: bool,
}

/// What a dry run found a real run would do.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Estimate {
    /// Documents read.
    pub documents: usize,
    /// Content paragraphs in the run (all occurrences).
    pub content_paragraphs: usize,
    /// Of those, served by the cache.
    pub cached_paragraphs: usize,
    /// Of those, identical to another paragraph of the run (sent once).
    pub deduplicated_paragraphs: usize,
    /// Distinct paragraphs a real run would send.
    pub paragraphs: usize,
    /// Characters (Unicode code points) it would send.
    pub characters: usize,
    /// Requests it would send.
    pub requests: usize,
    /// How long the configured rate limit makes that take, at best (the first
    /// service's).
    pub duration: Duration,
    /// How many of those characters each service of the chain is likely to take
    /// today, in chain order.
    pub plan: Vec<PlanEntry>,
}

/// One service of the chain in a dry run's plan.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanEntry {
    /// The `[providers.<name>]` table.
    pub name: String,
    /// Its documented free allowance.
    pub allowance: Allowance,
    /// An undocumented service (no guarantee it answers).
    pub unofficial: bool,
    /// It needs a key and none is set: it will take nothing.
    pub no_key: bool,
    /// Characters this cache sent it today (UTC).
    pub sent_today: u64,
    /// Characters it is likely to take.
    pub takes: u64,
}

/// How a run went.
#[derive(Clone, Debug, Default)]
pub struct RunOutcome {
    /// The report (also written as `report.json` unless dry-run).
    pub report: RunReport,
    /// Set for `--dry-run`.
    pub estimate: Option<Estimate>,
    /// Untranslated content: `(doc, index, flag)`, in document order.
    pub missing: Vec<(String, usize, String)>,
    /// Why paragraphs were left untranslated, for the closing `error:` message:
    /// when no service of the chain could take some, every service's state and the
    /// ways to finish; otherwise the problem of the service that had them.
    pub provider_problem: Option<String>,
    /// Services that left the chain while others took over (shown as notes; the run
    /// may still be complete).
    pub notes: Vec<String>,
    /// `(service, configured, worked)` requests per second when a server's 429s made
    /// the run slow down.
    pub adapted_rate: Option<(String, f64, f64)>,
}

/// Where a run stands, for the progress display.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Documents written.
    pub docs_done: usize,
    /// Documents in the run.
    pub docs_total: usize,
    /// Paragraphs in the documents written.
    pub paragraphs_done: usize,
    /// Of those, served from the cache.
    pub from_cache: usize,
    /// Requests sent so far.
    pub requests: u64,
    /// Characters sent so far.
    pub chars_sent: u64,
    /// Paragraphs waiting for a translation now.
    pub waiting: usize,
}

/// What the pipeline tells the terminal. Every method has a no-op default.
pub trait Events: Send + Sync {
    /// An input could not be used.
    fn file_error(&self, _e: &FileError) {}
    /// Something the user should know (repaired cache entry, rejected reply ...).
    fn warn(&self, _msg: &str) {}
    /// Translation starts over `documents` documents.
    fn start(&self, _documents: usize) {}
    /// Where the run stands.
    fn progress(&self, _now: &Snapshot) {}
    /// Translation is over.
    fn finish(&self) {}
    /// A document's outputs are written.
    fn written(&self, _rel: &str) {}
}

/// Events that go nowhere.
pub struct Silent;
impl Events for Silent {}

/// What every part of a run shares.
pub struct Ctx<'a> {
    /// The options.
    pub opts: &'a RunOptions,
    /// Output paths already written in this run, and by which input.
    claimed: RefCell<HashMap<PathBuf, String>>,
}

/// Run the pipeline.
///
/// # Errors
/// No input at all (usage), the cache cannot be opened or written, or an output
/// cannot be written.
pub async fn run(opts: &RunOptions, events: &dyn Events) -> Result<RunOutcome> {
    let started = Instant::now();
    let (files, errors) = walk(opts, events);
    if files.is_empty() && errors.is_empty() {
        let inputs: Vec<String> = opts
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        return Err(Error::Usage(format!(
            "no .txt, .md, .html or .htm files found in {}",
            inputs.join(", ")
        )));
    }
    if opts.chain.is_empty() {
        return Err(Error::Usage("no provider to translate with".into()));
    }
    let ctx = Ctx {
        opts,
        claimed: RefCell::new(HashMap::new()),
    };
    if opts.dry_run {
        let cache = Cache::open_existing(&opts.cache_dir)?;
        let memory = Memory::counting(cache.as_ref(), events);
        let finished = stream::Coordinator::new(&ctx, memory, events, errors)?
            .run(files)
            .await?;
        return dry_run_outcome(opts, finished, cache.as_ref(), started);
    }
    // Offline makes no connection: the local layer alone.
    let url = opts.cache_url.as_ref().filter(|_| !opts.offline);
    let (store, notice) = Store::open(&opts.cache_dir, url).await?;
    if let Some(n) = notice {
        events.warn(&n);
    }
    if store.is_shared() {
        tracing::info!("shared translation memory: {}", store.describe());
    }
    fs_err::create_dir_all(&opts.out_dir).map_err(|e| {
        Error::output(
            &opts.out_dir,
            "cannot create output directory",
            Some(Box::new(std::io::Error::from(e.kind()))),
        )
    })?;
    let counts = if opts.offline {
        HashMap::new()
    } else {
        Memory::daily_counts(&store, &opts.chain).await?
    };
    let memory = Memory::of_store(&store, events, counts);
    let finished = stream::Coordinator::new(&ctx, memory, events, errors)?
        .run(files)
        .await?;
    events.finish();
    let mut report = finished.report;
    let mut outcome = RunOutcome::default();
    let chain = &finished.chain;
    let stats = chain.stats();
    report.requests = stats.requests;
    report.chars_sent = stats.chars_sent;
    report.retries = stats.retries;
    report.http_429 = stats.http_429;
    report.providers = chain.report();
    outcome.adapted_rate = chain.adapted_rate();
    report.docs.sort_by(|a, b| a.doc.cmp(&b.doc));
    write::write_index(&opts.out_dir, &report.docs, &opts.to, &opts.formats)?;
    report.wall_ms = elapsed_ms(started);
    write::write_report(&opts.out_dir, &report)?;
    let n = finished.write_errors.len();
    if let Some(first) = finished.write_errors.into_iter().next() {
        let of = n + report.documents;
        return Err(Error::output(
            &opts.out_dir,
            format!(
                "{n} of {of} documents could not be written (each is named above and in \
                 report.json `errors`); the first: {first}"
            ),
            Some(Box::new(first)),
        ));
    }
    let mut missing = finished.missing;
    missing.sort();
    let (left, staying) = chain.problems();
    outcome.provider_problem = match chain.closing(report.untranslated) {
        Some(closing) => Some(closing),
        None if report.untranslated > 0 => {
            outcome.notes = left;
            staying
        }
        // Complete: whatever a service said, another took over.
        None => {
            outcome.notes = left.into_iter().chain(staying).collect();
            None
        }
    };
    outcome.missing = missing;
    outcome.report = report;
    Ok(outcome)
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Walk the inputs; our own outputs are never read back.
fn walk(opts: &RunOptions, events: &dyn Events) -> (Vec<InputFile>, Vec<FileError>) {
    let walk = ingest::collect(&opts.inputs, &excluded_dirs(opts));
    for e in &walk.errors {
        events.file_error(e);
    }
    let out = fs_err::canonicalize(&opts.out_dir).ok();
    let files = walk
        .files
        .into_iter()
        .filter(|f| !is_own_output(&f.path, out.as_deref(), &opts.to))
        .collect();
    (files, walk.errors)
}

/// A dry run's outcome: what the coordinator counted (the first service's pieces
/// and requests), the time the first service's rate makes it take, and the plan of
/// the chain ([`plan_chain`]).
fn dry_run_outcome(
    opts: &RunOptions,
    finished: stream::Finished,
    cache: Option<&Cache>,
    started: Instant,
) -> Result<RunOutcome> {
    let mut est = finished.estimate.unwrap_or_default();
    let first = &opts.chain[0];
    est.duration = rate_duration(&first.settings, est.requests, est.characters);
    est.plan = plan_chain(&opts.chain, est.characters as u64, cache)?;
    let mut report = finished.report;
    report.wall_ms = elapsed_ms(started);
    Ok(RunOutcome {
        report,
        estimate: Some(est),
        ..RunOutcome::default()
    })
}

/// How many of `needed` characters each service of `chain` is likely to take today:
/// in chain order, each takes what its documented allowance leaves (a daily one less
/// what this cache sent it today; a monthly one whole, its use this month being
/// unknown here), nothing when it needs a key and has none, everything left when it
/// has no known limit.
///
/// # Errors
/// The cache cannot be read.
fn plan_chain(chain: &[Service], needed: u64, cache: Option<&Cache>) -> Result<Vec<PlanEntry>> {
    let mut left = needed;
    let mut plan = Vec::with_capacity(chain.len());
    for s in chain {
        let about = provider::about(&s.settings);
        let no_key = about.key == KeyNeed::Required
            && crate::secret::resolve(&s.name, s.settings.key_env()).is_none();
        let sent_today = match cache {
            Some(c) => c.chars_today(&s.name)?,
            None => 0,
        };
        let can = match about.allowance {
            _ if no_key => 0,
            Allowance::Daily(n) => n.saturating_sub(sent_today),
            Allowance::Monthly(n) => n,
            Allowance::Unmetered | Allowance::Unknown => u64::MAX,
        };
        let takes = left.min(can);
        left -= takes;
        plan.push(PlanEntry {
            name: s.name.clone(),
            allowance: about.allowance,
            unofficial: about.unofficial,
            no_key,
            sent_today,
            takes,
        });
    }
    Ok(plan)
}

/// Directories the walk must not enter: the cache always; the output directory when
/// it lies strictly inside an INPUT (`translate docs/ --out docs/out`). When the output
/// directory *is* an INPUT or above one (`translate docs/ --out docs/`), entering it is
/// the point, and [`is_own_output`] drops our own files instead.
fn excluded_dirs(opts: &RunOptions) -> Vec<PathBuf> {
    let mut dirs = vec![opts.cache_dir.clone()];
    let out = fs_err::canonicalize(&opts.out_dir).ok();
    let contains_an_input = out.as_ref().is_some_and(|out| {
        opts.inputs
            .iter()
            .filter_map(|i| fs_err::canonicalize(i).ok())
            .any(|i| i.starts_with(out))
    });
    if !contains_an_input {
        dirs.push(opts.out_dir.clone());
    }
    dirs
}

/// A file this tool wrote: `*.<to>.html`, `*.<to>.md` or `index.html` under `--out`.
fn is_own_output(path: &Path, out: Option<&Path>, to: &str) -> bool {
    let Some(out) = out else { return false };
    let Ok(path) = fs_err::canonicalize(path) else {
        return false;
    };
    if !path.starts_with(out) {
        return false;
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name == "index.html"
        || [".html", ".md"]
            .iter()
            .any(|ext| name.ends_with(&format!(".{to}{ext}")))
}

/// Segment and tag one document. Paragraph languages: the target language when a
/// paragraph is already in it, else `--from` when given, else the paragraph's own
/// Arabic-script language, else the document's.
#[must_use]
pub fn prepare(doc: SourceDoc, from: Option<&str>, to: &str) -> PreparedDoc {
    let segments = segment::segment(&doc.text);
    let texts: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
    let langs = detect::paragraph_languages(&texts);
    let doc_lang = match from {
        Some(f) => f.to_string(),
        None => detect::document_language_of(
            segments
                .iter()
                .zip(&langs)
                .filter(|(s, _)| s.kind.is_content())
                .map(|(s, l)| (s.text.as_str(), l.as_str())),
        ),
    };
    let paragraphs = segments
        .into_iter()
        .zip(langs)
        .enumerate()
        .map(|(index, (s, lang))| {
            let src_lang = if Lang::is_und(&lang) && !s.kind.is_content() {
                lang // page furniture such as `});` has no language; shown as such
            } else {
                paragraph_lang(&lang, &doc_lang, from, to)
            };
            Paragraph {
                index,
                kind: s.kind,
                src_lang,
                source: s.text,
            }
        })
        .collect();
    PreparedDoc {
        rel: doc.rel,
        src_lang: doc_lang,
        paragraphs,
    }
}

fn paragraph_lang(detected: &str, doc_lang: &str, from: Option<&str>, to: &str) -> String {
    if detected == to {
        return detected.to_string();
    }
    match from {
        Some(f) => f.to_string(),
        None if Lang::is_und(detected) => doc_lang.to_string(),
        None => detected.to_string(),
    }
}

/// Paragraphs decided before any lookup: not content, same language, nothing to
/// translate. `None`: it needs a translation.
fn initial_outcome(p: &Paragraph, to: &str) -> Option<Outcome> {
    if !p.kind.is_content() {
        return Some(Outcome::NotSent);
    }
    if p.src_lang == to || !p.source.chars().any(char::is_alphabetic) {
        return Some(Outcome::SameLanguage);
    }
    None
}

/// The least time the rate limits allow for `requests` requests carrying `chars`
/// characters (the burst included).
fn rate_duration(s: &ProviderSettings, requests: usize, chars: usize) -> Duration {
    let by_requests = ((requests as f64 - f64::from(s.burst)).max(0.0)) / s.rps;
    let by_chars = if s.chars_per_minute > 0 {
        let cpm = f64::from(s.chars_per_minute);
        ((chars as f64 - cpm).max(0.0)) / cpm * 60.0
    } else {
        0.0
    };
    Duration::from_secs_f64(by_requests.max(by_chars))
}
