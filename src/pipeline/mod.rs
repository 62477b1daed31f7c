//! Pipeline: the orchestration of one run.
//!
//! Owns the order of the stages and nothing of their internals: walk and read the
//! inputs ([`ingest`]), cut and classify paragraphs ([`segment`]), tag languages
//! ([`detect`]), collapse identical texts across the whole run ([`plan`]), serve what
//! the [`cache`] holds, batch the rest within the provider's limits, send batches
//! concurrently through the [`limit`]er, check every reply ([`validate`]) before it is
//! cached, then [`align`] and [`write`].
//!
//! `--offline` is built in, not checked here and there: an offline run never builds a
//! provider at all, so nothing can be sent. `--dry-run` stops before the network and
//! before any file is written, and returns an [`Estimate`].
//!
//! [`ingest`]: crate::ingest
//! [`segment`]: crate::segment
//! [`detect`]: crate::detect
//! [`cache`]: crate::cache
//! [`limit`]: crate::limit
//! [`align`]: crate::align
//! [`write`]: crate::write

pub mod plan;
pub mod validate;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::align::{self, Outcome};
use crate::cache::{Cache, CacheKey, Lookup, Origin};
use crate::config::ProviderSettings;
use crate::error::{Error, Result};
use crate::limit::Limiter;
use crate::model::{
    AlignedDoc, DocCounts, FileError, Paragraph, PreparedDoc, RunReport, SourceDoc, flags,
};
use crate::provider::{BatchLimits, Provider, ProviderError};
use crate::write::{self, Format};
use crate::{detect, ingest, secret, segment};
use plan::{Batch, Piece, Units};

/// Everything a run needs, flags and config already merged.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Files and directories to translate.
    pub inputs: Vec<PathBuf>,
    /// Target language.
    pub to: String,
    /// Source language; `None` detects per document.
    pub from: Option<String>,
    /// Provider config name.
    pub provider_name: String,
    /// Provider settings with overrides applied.
    pub provider: ProviderSettings,
    /// Output directory.
    pub out_dir: PathBuf,
    /// Cache directory.
    pub cache_dir: PathBuf,
    /// Output formats.
    pub formats: Vec<Format>,
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
    /// How long the configured rate limit makes that take, at best.
    pub duration: Duration,
}

/// How a run went.
#[derive(Clone, Debug, Default)]
pub struct RunOutcome {
    /// The report (also written as `report.json` unless dry-run).
    pub report: RunReport,
    /// Set for `--dry-run`.
    pub estimate: Option<Estimate>,
    /// Untranslated content: `(doc, index, flag)`.
    pub missing: Vec<(String, usize, String)>,
    /// Why the provider stopped being used, if it did (quota, unreachable, auth).
    pub provider_problem: Option<String>,
    /// `(configured, worked)` requests per second when the server's 429s made the run
    /// slow down.
    pub adapted_rate: Option<(f64, f64)>,
}

/// What the pipeline tells the terminal. Every method has a no-op default.
pub trait Events: Send + Sync {
    /// An input could not be used.
    fn file_error(&self, _e: &FileError) {}
    /// Something the user should know (repaired cache entry, rejected reply ...).
    fn warn(&self, _msg: &str) {}
    /// Translation starts: `to_send` distinct texts to fetch, `cached` paragraphs served.
    fn start(&self, _to_send: usize, _cached: usize) {}
    /// `n` more distinct texts are finished (translated or given up).
    fn advance(&self, _n: usize) {}
    /// Translation is over.
    fn finish(&self) {}
    /// A document's outputs are written.
    fn written(&self, _rel: &str) {}
}

/// Events that go nowhere.
pub struct Silent;
impl Events for Silent {}

/// Run the pipeline.
///
/// # Errors
/// The cache cannot be opened or written, or an output cannot be written.
pub async fn run(opts: &RunOptions, events: &dyn Events) -> Result<RunOutcome> {
    let started = Instant::now();
    let mut report = RunReport::default();
    let docs = read_inputs(opts, events, &mut report.errors);
    if docs.is_empty() && report.errors.is_empty() {
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
    let cache = open_cache(opts, events)?;
    let limits = provider_limits(&opts.provider);
    let options = crate::provider::cache_options(&opts.provider);
    let key =
        |from: &str, text: &str| CacheKey::new(&opts.provider_name, &options, from, &opts.to, text);

    // Decide every paragraph's fate; collect distinct texts still to fetch.
    let mut outcomes: Vec<Vec<Option<Outcome>>> = Vec::with_capacity(docs.len());
    let mut units = Units::default();
    let mut content = 0;
    for (d, doc) in docs.iter().enumerate() {
        let mut row = Vec::with_capacity(doc.paragraphs.len());
        for (i, p) in doc.paragraphs.iter().enumerate() {
            let fate = initial_outcome(p, &opts.to);
            if fate.is_none() {
                content += 1;
                units.add(&p.src_lang, &p.source, (d, i));
            }
            row.push(fate);
        }
        outcomes.push(row);
    }
    let mut results: Vec<Option<Outcome>> = vec![None; units.list.len()];
    let chars = |u: &plan::Unit| u.text.chars().count() as u64;
    report.chars_deduplicated = units
        .list
        .iter()
        .map(|u| (u.occurrences.len() as u64 - 1) * chars(u))
        .sum();
    let mut cached_paragraphs = 0;
    if let Some(cache) = &cache {
        for (u, unit) in units.list.iter().enumerate() {
            match cache.get(&key(&unit.from, &unit.text))? {
                Lookup::Hit(hit) => {
                    cached_paragraphs += unit.occurrences.len();
                    report.chars_from_cache += chars(unit);
                    results[u] = Some(Outcome::Translated {
                        target: hit.target,
                        cached: true,
                        reviewed: hit.origin == Origin::Reviewed,
                    });
                }
                Lookup::Repaired(msg) => events.warn(&msg),
                Lookup::Miss => {}
            }
        }
    }
    let wanted: Vec<usize> = (0..units.list.len())
        .filter(|&u| results[u].is_none())
        .collect();
    let pieces = plan::pieces(&units.list, &wanted, &limits);
    // Pieces of a split paragraph are cached one by one as they arrive, so a run that
    // stops half-way through a long paragraph does not ask for its first pieces again.
    let piece_hits = lookup_pieces(cache.as_ref(), &units.list, &pieces, &key, events)?;
    report.chars_from_cache += (pieces.iter().zip(&piece_hits))
        .filter(|(_, hit)| hit.is_some())
        .map(|(p, _)| p.chars as u64)
        .sum::<u64>();
    let batches = plan::pack(&pieces, &units.list, &limits, |i| piece_hits[i].is_none());

    let mut outcome = RunOutcome::default();
    if opts.dry_run {
        let to_send: usize = wanted
            .iter()
            .map(|&u| units.list[u].occurrences.len())
            .sum();
        outcome.estimate = Some(Estimate {
            documents: docs.len(),
            content_paragraphs: content,
            cached_paragraphs,
            deduplicated_paragraphs: to_send - wanted.len(),
            paragraphs: wanted.len(),
            characters: (pieces.iter().zip(&piece_hits))
                .filter(|(_, hit)| hit.is_none())
                .map(|(p, _)| p.chars)
                .sum(),
            requests: batches.len(),
            duration: rate_duration(&opts.provider, &batches),
        });
        outcome.report = report;
        outcome.report.wall_ms = elapsed_ms(started);
        return Ok(outcome);
    }

    events.start(wanted.len(), cached_paragraphs);
    if opts.offline {
        for &u in &wanted {
            results[u] = Some(Outcome::Failed(flags::OFFLINE_MISS));
        }
        events.advance(wanted.len());
    } else if !wanted.is_empty() {
        let sender = Sender::new(opts)?;
        let cache = cache.as_ref().expect("a real run opens the cache");
        let fetched = sender
            .fetch_all(
                &Work {
                    units: &units.list,
                    pieces: &pieces,
                    piece_hits,
                },
                batches,
                cache,
                &key,
                events,
            )
            .await?;
        for (u, r) in fetched {
            results[u] = Some(r);
        }
        let stats = sender.limiter.stats();
        report.requests = stats.requests;
        report.chars_sent = stats.chars_sent;
        report.retries = stats.retries;
        report.http_429 = stats.http_429;
        outcome.provider_problem = sender.problem();
        outcome.adapted_rate = sender.limiter.adapted_rate();
    }
    events.finish();

    // Spread unit results back to every occurrence, align and write.
    for (u, unit) in units.list.iter().enumerate() {
        let r = results[u]
            .clone()
            .unwrap_or(Outcome::Failed(flags::PROVIDER_ERROR));
        for &(d, i) in &unit.occurrences {
            outcomes[d][i] = Some(r.clone());
        }
    }
    fs_err::create_dir_all(&opts.out_dir).map_err(|e| Error::Output {
        path: opts.out_dir.clone(),
        message: format!("cannot create output directory: {}", e.kind()),
    })?;
    let mut write_errors = Vec::new();
    let mut claimed: HashMap<PathBuf, String> = HashMap::new();
    for (doc, row) in docs.iter().zip(outcomes) {
        let html = write::output_path(&opts.out_dir, &doc.rel, &opts.to, "html");
        if let Some(first) = claimed.get(&html) {
            let e = FileError {
                file: doc.rel.clone(),
                message: format!(
                    "its outputs would overwrite those of {first} ({}); not written. \
                     Rename one of them or translate them with different --out directories",
                    html.display()
                ),
            };
            events.file_error(&e);
            report.errors.push(e);
            continue;
        }
        claimed.insert(html, doc.rel.clone());
        let row: Vec<Outcome> = row
            .into_iter()
            .map(|o| o.expect("every paragraph decided"))
            .collect();
        let aligned = align::align(doc, row, &opts.to, &opts.provider_name);
        collect_missing(&aligned, &mut outcome.missing);
        match write::write_document(&opts.out_dir, &aligned, &opts.formats) {
            Ok(_) => events.written(&aligned.rel),
            Err(e) => write_errors.push(e),
        }
        report.add_doc(DocCounts::of(&aligned));
    }
    let counts: Vec<DocCounts> = report.docs.clone();
    write::write_index(&opts.out_dir, &counts, &opts.to, &opts.formats)?;
    report.wall_ms = elapsed_ms(started);
    write::write_report(&opts.out_dir, &report)?;
    if let Some(e) = write_errors.into_iter().next() {
        return Err(e);
    }
    outcome.report = report;
    Ok(outcome)
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Walk, read, segment and detect every input; unusable files become `errors`.
fn read_inputs(
    opts: &RunOptions,
    events: &dyn Events,
    errors: &mut Vec<FileError>,
) -> Vec<PreparedDoc> {
    let walk = ingest::collect(&opts.inputs, &excluded_dirs(opts));
    for e in walk.errors {
        events.file_error(&e);
        errors.push(e);
    }
    let out = fs_err::canonicalize(&opts.out_dir).ok();
    let mut docs = Vec::with_capacity(walk.files.len());
    let inputs = walk
        .files
        .iter()
        .filter(|f| !is_own_output(&f.path, out.as_deref(), &opts.to));
    for file in inputs {
        match ingest::read(file) {
            Ok(doc) => docs.push(prepare(doc, opts.from.as_deref(), &opts.to)),
            Err(e) => {
                events.file_error(&e);
                errors.push(e);
            }
        }
    }
    docs
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
fn is_own_output(path: &std::path::Path, out: Option<&std::path::Path>, to: &str) -> bool {
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
    let langs: Vec<String> = segments.iter().map(|s| detect::detect(&s.text)).collect();
    let doc_lang = match from {
        Some(f) => f.to_string(),
        None => {
            let texts: Vec<&str> = segments
                .iter()
                .filter(|s| s.kind.is_content())
                .map(|s| s.text.as_str())
                .collect();
            detect::document_language(&texts)
        }
    };
    let paragraphs = segments
        .into_iter()
        .zip(langs)
        .enumerate()
        .map(|(index, (s, lang))| {
            let src_lang = if lang == "und" && !s.kind.is_content() {
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
        None if detected == "und" => doc_lang.to_string(),
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

fn open_cache(opts: &RunOptions, events: &dyn Events) -> Result<Option<Cache>> {
    if opts.dry_run {
        return Cache::open_existing(&opts.cache_dir);
    }
    let (cache, notice) = Cache::open_with_notice(&opts.cache_dir)?;
    if let Some(n) = notice {
        events.warn(&n);
    }
    Ok(Some(cache))
}

fn provider_limits(s: &ProviderSettings) -> BatchLimits {
    crate::provider::batch_limits(s)
}

/// The least time the rate limits allow for these batches (burst included).
fn rate_duration(s: &ProviderSettings, batches: &[Batch]) -> Duration {
    let n = batches.len() as f64;
    let by_requests = ((n - f64::from(s.burst)).max(0.0)) / s.rps;
    let chars: usize = batches.iter().map(|b| b.chars).sum();
    let by_chars = if s.chars_per_minute > 0 {
        let cpm = f64::from(s.chars_per_minute);
        ((chars as f64 - cpm).max(0.0)) / cpm * 60.0
    } else {
        0.0
    };
    Duration::from_secs_f64(by_requests.max(by_chars))
}

fn collect_missing(doc: &AlignedDoc, out: &mut Vec<(String, usize, String)>) {
    for row in doc.rows.iter().filter(|r| r.is_untranslated()) {
        let flag = row.flags.first().cloned().unwrap_or_default();
        out.push((doc.rel.clone(), row.index, flag));
    }
}

/// The network side of a run: provider, limiter, and the per-batch failure handling.
struct Sender {
    provider: Provider,
    limiter: Limiter,
    to: String,
    concurrency: usize,
    key_hint: String,
    problem: std::sync::Mutex<Option<String>>,
}

/// A piece's fate after its batch came back.
type PieceResult = (usize, Result<String, &'static str>);

/// What a real run has to fetch: the distinct texts, their pieces, and the pieces the
/// cache already holds (`Some` translation).
struct Work<'a> {
    units: &'a [plan::Unit],
    pieces: &'a [Piece],
    piece_hits: Vec<Option<String>>,
}

/// Look up, in the cache, each piece of the paragraphs that are split into several.
fn lookup_pieces(
    cache: Option<&Cache>,
    units: &[plan::Unit],
    pieces: &[Piece],
    key: &dyn Fn(&str, &str) -> CacheKey,
    events: &dyn Events,
) -> Result<Vec<Option<String>>> {
    let mut per_unit: HashMap<usize, usize> = HashMap::new();
    for p in pieces {
        *per_unit.entry(p.unit).or_default() += 1;
    }
    let mut hits = vec![None; pieces.len()];
    let Some(cache) = cache else { return Ok(hits) };
    for (i, p) in pieces
        .iter()
        .enumerate()
        .filter(|(_, p)| per_unit[&p.unit] > 1)
    {
        match cache.get(&key(&units[p.unit].from, &p.text))? {
            Lookup::Hit(hit) => hits[i] = Some(hit.target),
            Lookup::Repaired(msg) => events.warn(&msg),
            Lookup::Miss => {}
        }
    }
    Ok(hits)
}

impl Sender {
    fn new(opts: &RunOptions) -> Result<Sender> {
        let key = secret::resolve(&opts.provider_name, opts.provider.key_env());
        let key_hint = match opts.provider.key_env() {
            Some(v) => format!(
                "the key is read from ${v}, then from the OS keyring (service `{}`, user `{}`)",
                secret::KEYRING_SERVICE,
                opts.provider_name
            ),
            None => format!(
                "the key is read from the OS keyring (service `{}`, user `{}`)",
                secret::KEYRING_SERVICE,
                opts.provider_name
            ),
        };
        let provider = Provider::new(&opts.provider_name, &opts.provider, key.map(|(k, _)| k))?;
        Ok(Sender {
            provider,
            limiter: Limiter::new(&opts.provider),
            to: opts.to.clone(),
            concurrency: opts.provider.concurrency.max(1),
            key_hint,
            problem: std::sync::Mutex::new(None),
        })
    }

    fn problem(&self) -> Option<String> {
        self.problem.lock().ok().and_then(|p| p.clone())
    }

    /// Source languages the provider does not translate into the target, found before
    /// any text is sent. A failing languages endpoint is not a verdict: the
    /// translation requests then meet whatever is wrong and are handled as usual.
    async fn unsupported_sources(&self, batches: &[Batch]) -> std::collections::BTreeSet<String> {
        let froms: std::collections::BTreeSet<&str> =
            batches.iter().map(|b| b.from.as_str()).collect();
        let mut refused = std::collections::BTreeSet::new();
        for from in froms {
            // Through the limiter: it counts as a request, and a slow or failing
            // languages endpoint is retried like any other call.
            let check = self
                .limiter
                .call(0, || self.provider.check_pair(from, &self.to));
            match check.await {
                Ok(()) => {}
                Err(e @ ProviderError::UnsupportedPair(_)) => {
                    self.note_problem(&e);
                    refused.insert(from.to_string());
                }
                Err(e) => tracing::debug!("could not check {from} → {}: {e}", self.to),
            }
        }
        refused
    }

    fn note_problem(&self, e: &ProviderError) {
        let msg = match e {
            ProviderError::UnsupportedPair(_) => format!(
                "{e}; nothing was sent for these paragraphs. hint: `translate providers` lists the configured providers; choose one with --provider NAME"
            ),
            ProviderError::Unreachable(_) => format!(
                "{e} ({}); hint: use --offline to serve from the cache only, --endpoint URL for another server, or --provider NAME",
                self.provider.name()
            ),
            ProviderError::QuotaExhausted(_) => format!(
                "{}: {e}; stopped sending to it. Rerun later (the cache keeps everything done so far) or use --provider NAME",
                self.provider.name()
            ),
            ProviderError::AuthFailed(_) => {
                format!("{}: {e}; {}", self.provider.name(), self.key_hint)
            }
            _ => return,
        };
        if let Ok(mut p) = self.problem.lock()
            && p.is_none()
        {
            *p = Some(msg);
        }
    }

    /// Send every batch, `concurrency` at a time, caching each distinct text as soon as
    /// all its pieces are back. Returns each unit's outcome.
    async fn fetch_all(
        &self,
        work: &Work<'_>,
        batches: Vec<Batch>,
        cache: &Cache,
        key: &dyn Fn(&str, &str) -> CacheKey,
        events: &dyn Events,
    ) -> Result<Vec<(usize, Outcome)>> {
        let (units, pieces) = (work.units, work.pieces);
        let mut remaining: HashMap<usize, usize> = HashMap::new();
        let mut parts: HashMap<usize, Vec<PieceResult>> = HashMap::new();
        let mut ready: Vec<PieceResult> = Vec::new();
        for (i, p) in pieces.iter().enumerate() {
            *remaining.entry(p.unit).or_default() += 1;
            if let Some(hit) = &work.piece_hits[i] {
                ready.push((i, Ok(hit.clone())));
            }
        }
        let unsupported = self.unsupported_sources(&batches).await;
        let (refused, batches): (Vec<Batch>, Vec<Batch>) = batches
            .into_iter()
            .partition(|b| unsupported.contains(&b.from));
        for b in refused {
            ready.extend(
                b.pieces
                    .into_iter()
                    .map(|i| (i, Err(flags::UNSUPPORTED_PAIR))),
            );
        }
        let concurrency = self.concurrency;
        let sent = futures::stream::iter(batches)
            .map(|b| self.send_batch(b, pieces))
            .buffer_unordered(concurrency);
        let mut stream = futures::stream::iter([ready]).chain(sent).boxed();
        let mut out = Vec::new();
        while let Some(done) = stream.next().await {
            let mut finished_units = 0;
            for (pi, r) in done {
                let unit = pieces[pi].unit;
                let split = remaining[&unit] > 1 || parts.contains_key(&unit);
                if let (true, Ok(t), None) = (split, &r, &work.piece_hits[pi]) {
                    let u = &units[unit];
                    cache.put(&key(&u.from, &pieces[pi].text), t, Origin::Machine)?;
                }
                parts.entry(unit).or_default().push((pi, r));
                let left = remaining.get_mut(&unit).expect("unit counted");
                *left -= 1;
                if *left > 0 {
                    continue;
                }
                finished_units += 1;
                let mut got = parts.remove(&unit).unwrap_or_default();
                got.sort_by_key(|(pi, _)| *pi);
                let from_cache = got.iter().all(|(pi, _)| work.piece_hits[*pi].is_some());
                let outcome = match got
                    .into_iter()
                    .map(|(_, r)| r)
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(texts) => {
                        let target = texts.join(" ");
                        let u = &units[unit];
                        cache.put(&key(&u.from, &u.text), &target, Origin::Machine)?;
                        Outcome::Translated {
                            target,
                            cached: from_cache,
                            reviewed: false,
                        }
                    }
                    Err(flag) => Outcome::Failed(flag),
                };
                out.push((unit, outcome));
            }
            events.advance(finished_units);
        }
        Ok(out)
    }

    /// One batch, with the failure handling that needs no retry policy: a malformed
    /// answer or a refused batch is split in halves down to single texts; a reply that
    /// is not a translation is retried once on its own.
    async fn send_batch(&self, batch: Batch, pieces: &[Piece]) -> Vec<PieceResult> {
        let mut out = Vec::new();
        let mut stack: Vec<(Vec<usize>, bool)> = vec![(batch.pieces, false)];
        while let Some((ids, is_retry)) = stack.pop() {
            let texts: Vec<String> = ids.iter().map(|&i| pieces[i].text.clone()).collect();
            let chars = ids.iter().map(|&i| pieces[i].chars).sum();
            let from = batch.from.as_str();
            let reply = self
                .limiter
                .call(chars, || self.provider.translate(from, &self.to, &texts))
                .await;
            match reply {
                Ok(translations) if translations.len() != ids.len() => {
                    let e = ProviderError::Malformed(format!(
                        "{} translations for {} texts",
                        translations.len(),
                        ids.len()
                    ));
                    if ids.len() > 1 {
                        let (a, b) = ids.split_at(ids.len() / 2);
                        stack.push((b.to_vec(), is_retry));
                        stack.push((a.to_vec(), is_retry));
                    } else {
                        out.push((ids[0], Err(failure_flag(&e))));
                    }
                }
                Ok(translations) => {
                    for (&i, t) in ids.iter().zip(translations) {
                        match validate::check(&pieces[i].text, &t, &self.to) {
                            Ok(()) => out.push((i, Ok(t.trim().to_string()))),
                            Err(_) if !is_retry => stack.push((vec![i], true)),
                            Err(why) => {
                                tracing::warn!(
                                    "rejected reply ({why:?}) for a {}-character text",
                                    pieces[i].chars
                                );
                                out.push((i, Err(flags::REJECTED_REPLY)));
                            }
                        }
                    }
                }
                Err(ProviderError::Malformed(_) | ProviderError::BadRequest(_))
                    if ids.len() > 1 =>
                {
                    let (a, b) = ids.split_at(ids.len() / 2);
                    stack.push((b.to_vec(), is_retry));
                    stack.push((a.to_vec(), is_retry));
                }
                Err(e) => {
                    self.note_problem(&e);
                    let flag = failure_flag(&e);
                    out.extend(ids.into_iter().map(|i| (i, Err(flag))));
                }
            }
        }
        out
    }
}

fn failure_flag(e: &ProviderError) -> &'static str {
    match e {
        ProviderError::QuotaExhausted(_) => flags::QUOTA_EXHAUSTED,
        ProviderError::Unreachable(_) => flags::UNREACHABLE,
        ProviderError::BadRequest(_) => flags::BAD_REQUEST,
        ProviderError::Malformed(_) => flags::REJECTED_REPLY,
        ProviderError::UnsupportedPair(_) => flags::UNSUPPORTED_PAIR,
        _ => flags::PROVIDER_ERROR,
    }
}
