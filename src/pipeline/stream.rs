//! The streaming run: documents flow in, batches flow out, outputs are written as
//! soon as a document is complete.
//!
//! One coordinator owns all run state and is the only one that changes it; the
//! network work happens in batch futures that own nothing but the batch and a shared
//! [`Sender`](super::send::Sender). The loop:
//! 1. admit documents (read, segment, detect, look up the cache) while fewer than a
//!    bounded number of paragraphs wait for a translation, packing what the cache
//!    lacks into batches;
//! 2. launch ready batches, at most `concurrency` at once, each first looked up in
//!    the cache again: another run sharing the cache may have stored some of its
//!    texts since their document was admitted, and those are not sent twice;
//! 3. apply one finished batch: cache each answer as it arrives, complete the
//!    paragraphs it finishes, write every document that is now complete.
//!
//! Memory stays bounded by the backlog, not the corpus: the reader thread keeps at
//! most 32 documents and 64 MiB of input ahead of the coordinator, and a finished
//! document is written and dropped. Identical paragraphs share one in-flight request; a later
//! occurrence of a text already fetched in this run reuses that answer. Partly
//! filled batches are sent when the input is exhausted or nothing else is in flight.
//!
//! The chain ([`Chain`]) adds one idea to this loop, kept in a few places: every
//! distinct text (a *unit*) is planned for one service of the chain, its pieces cut
//! to that service's limits and packed by that service's packer. When a service
//! leaves the chain (its breaker tripped) or refuses a language, the units it held
//! are re-planned whole for the next service ([`Coordinator::replan`]): their pieces
//! still queued or in flight are forgotten (a batch drops pieces it no longer owns
//! before it is sent, and answers for them are ignored), and the unit is cut again
//! for the next service's limits, so one paragraph is never translated by two
//! services. Lookups try each service's cache key in chain order, and each
//! translated paragraph remembers which service it came from, for JSONL `provider`.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::align::{self, Outcome};
use crate::cache::{Cache, CacheKey, Hit, Lookup, Origin};
use crate::error::{Error, Result};
use crate::model::{
    AlignedDoc, DocCounts, FileError, InputFile, PreparedDoc, Provenance, RunReport, flags,
};
use crate::{ingest, write};

use super::chain::Chain;
use super::plan::{Batch, Packer, Piece, split};
use super::send::PieceResult;
use super::{Ctx, Events, Snapshot, initial_outcome, prepare, seen_key};

/// One document waiting for translations.
struct DocState {
    doc: PreparedDoc,
    outcomes: Vec<Option<Outcome>>,
    /// The service of the chain that translated each paragraph (0 for none).
    by: Vec<usize>,
    waiting: usize,
}

/// One distinct text being fetched.
struct UnitState {
    from: String,
    text: String,
    waiters: Vec<(usize, usize)>,
    /// The service of the chain its pieces are planned for.
    service: usize,
    /// Its pieces (those still out, and those back).
    piece_ids: Vec<usize>,
    pieces_left: usize,
    split: bool,
    parts: Vec<(usize, std::result::Result<String, &'static str>)>,
}

/// What the coordinator hands back when the input is done.
pub struct Finished {
    /// Counts of the documents written, and the inputs that could not be used.
    pub report: RunReport,
    /// Untranslated content: `(doc, index, flag)`.
    pub missing: Vec<(String, usize, String)>,
    /// The chain: its counters, states and messages.
    pub(super) chain: Chain,
    /// Outputs that could not be written.
    pub write_errors: Vec<Error>,
}

/// All state of a streaming run.
pub struct Coordinator<'a> {
    ctx: &'a Ctx<'a>,
    cache: &'a Cache,
    events: &'a dyn Events,
    chain: Chain,
    docs: HashMap<usize, DocState>,
    units: HashMap<(String, String), usize>,
    unit_state: HashMap<usize, UnitState>,
    next_unit: usize,
    /// Piece id → (unit, piece text).
    pieces: HashMap<usize, (usize, String)>,
    next_piece: usize,
    /// One packer per service of the chain.
    packers: Vec<Packer>,
    /// Batches ready to go, with the service they are for.
    ready: VecDeque<(usize, Batch)>,
    /// Texts fetched in this run, and by which service: later occurrences reuse the
    /// answer.
    fetched: HashMap<(String, String), (String, usize)>,
    /// Every distinct text seen, to count what deduplication saved.
    seen: HashSet<[u8; 16]>,
    waiting_paragraphs: usize,
    writer: Writer,
    report: RunReport,
    missing: Vec<(String, usize, String)>,
    write_errors: Vec<Error>,
    docs_total: usize,
    docs_done: usize,
    paragraphs_done: usize,
}

impl<'a> Coordinator<'a> {
    /// A coordinator for one run.
    pub fn new(
        ctx: &'a Ctx<'a>,
        cache: &'a Cache,
        events: &'a dyn Events,
        errors: Vec<FileError>,
    ) -> Self {
        let chain = Chain::new(&ctx.opts.chain, &ctx.opts.to);
        let packers = (0..chain.len())
            .map(|i| Packer::new(chain.limits(i)))
            .collect();
        Coordinator {
            ctx,
            cache,
            events,
            chain,
            docs: HashMap::new(),
            units: HashMap::new(),
            unit_state: HashMap::new(),
            next_unit: 0,
            pieces: HashMap::new(),
            next_piece: 0,
            packers,
            ready: VecDeque::new(),
            fetched: HashMap::new(),
            seen: HashSet::new(),
            waiting_paragraphs: 0,
            writer: Writer::spawn(
                ctx.opts.out_dir.clone(),
                ctx.opts.formats.clone(),
                ctx.opts.write,
            ),
            report: RunReport {
                errors,
                ..RunReport::default()
            },
            missing: Vec::new(),
            write_errors: Vec::new(),
            docs_total: 0,
            docs_done: 0,
            paragraphs_done: 0,
        }
    }

    /// Most paragraphs waiting for a translation before no more documents are read.
    fn backlog_cap(&self) -> usize {
        (4 * self.chain.max_concurrency() * self.chain.max_texts()).max(2000)
    }

    /// Run over `files` to the end.
    pub async fn run(mut self, files: Vec<InputFile>) -> Result<Finished> {
        self.docs_total = files.len();
        self.events.start(files.len());
        let concurrency = self.chain.max_concurrency();
        let mut docs = spawn_reader(files, self.ctx.opts.from.clone(), self.ctx.opts.to.clone());
        let mut exhausted = false;
        let mut in_flight = FuturesUnordered::new();
        loop {
            // Admit what the reader has ready, without waiting for it.
            while !exhausted && self.can_admit(concurrency) {
                match docs.try_recv() {
                    Ok(item) => self.admit_read(item)?,
                    Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                    Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => exhausted = true,
                }
            }
            // Partly filled batches go when no more text can come to fill them: the
            // input is exhausted, or the backlog is full with nothing in flight.
            let blocked =
                !self.can_admit(concurrency) && in_flight.is_empty() && self.ready.is_empty();
            if exhausted || blocked {
                self.flush_packers();
            }
            while in_flight.len() < concurrency
                && let Some((service, batch)) = self.ready.pop_front()
            {
                let Some(batch) = self.still_missing(service, batch)? else {
                    continue;
                };
                if !self.chain.takes(service, &batch.from) {
                    self.replan_batch(service, &batch)?;
                    continue;
                }
                // The pair check runs inside the batch's future, like the request: it
                // goes through the service's limiter, whose permits the batches in
                // flight may hold, and only the futures polled here give them back.
                let sender = self.chain.sender(service, self.cache)?;
                in_flight.push(async move {
                    if !sender.supports(&batch.from).await {
                        return (service, Sent::Refused(batch));
                    }
                    (service, Sent::Done(sender.send_batch(batch).await))
                });
            }
            let may_read = !exhausted && self.can_admit(concurrency);
            if in_flight.is_empty() {
                let idle = self.ready.is_empty() && self.packers.iter().all(Packer::is_empty);
                if exhausted && idle {
                    break;
                }
                if may_read {
                    match docs.recv().await {
                        Some(item) => self.admit_read(item)?,
                        None => exhausted = true,
                    }
                }
                continue;
            }
            tokio::select! {
                Some((service, sent)) = in_flight.next() => match sent {
                    Sent::Done(results) => self.apply(service, results)?,
                    Sent::Refused(batch) => {
                        self.chain.refuse(service, &batch.from);
                        self.replan_batch(service, &batch)?;
                    }
                },
                item = docs.recv(), if may_read => match item {
                    Some(item) => self.admit_read(item)?,
                    None => exhausted = true,
                },
            }
        }
        debug_assert!(self.docs.is_empty(), "every document written");
        let writer = std::mem::replace(&mut self.writer, Writer::disabled());
        let done = writer.finish();
        self.drain_writes(done);
        Ok(Finished {
            report: self.report,
            missing: self.missing,
            chain: self.chain,
            write_errors: self.write_errors,
        })
    }

    /// Whether another document may be read: the backlog of paragraphs waiting for a
    /// translation, and of batches waiting to leave, are below their bounds.
    fn can_admit(&self, concurrency: usize) -> bool {
        self.waiting_paragraphs < self.backlog_cap() && self.ready.len() < 2 * concurrency
    }

    /// Hand over every service's partly filled batches.
    fn flush_packers(&mut self) {
        for (service, packer) in self.packers.iter_mut().enumerate() {
            self.ready
                .extend(packer.flush().into_iter().map(|b| (service, b)));
        }
    }

    fn admit_read(
        &mut self,
        (d, read): (usize, std::result::Result<PreparedDoc, FileError>),
    ) -> Result<()> {
        match read {
            Ok(doc) => self.admit(d, doc),
            Err(e) => {
                self.events.file_error(&e);
                self.report.errors.push(e);
                self.docs_total -= 1;
                Ok(())
            }
        }
    }

    /// Look `texts` (`(from, text)`) up under each service's key in chain order; the
    /// first hit wins (a reviewed entry matches under any). A damaged entry is
    /// reported and counts as missing.
    fn lookup(&self, texts: &[(&str, &str)]) -> Result<Vec<Option<(Hit, usize)>>> {
        let mut found: Vec<Option<(Hit, usize)>> = vec![None; texts.len()];
        for service in 0..self.chain.len() {
            let open: Vec<usize> = (0..texts.len()).filter(|&i| found[i].is_none()).collect();
            if open.is_empty() {
                break;
            }
            let keys: Vec<CacheKey> = (open.iter())
                .map(|&i| self.chain.key(service, texts[i].0, texts[i].1))
                .collect();
            for (i, lookup) in open.into_iter().zip(self.cache.get_many(&keys)?) {
                match lookup {
                    Lookup::Hit(hit) => found[i] = Some((hit, service)),
                    Lookup::Repaired(msg) => self.events.warn(&msg),
                    Lookup::Miss => {}
                }
            }
        }
        Ok(found)
    }

    /// Decide every paragraph of a new document that can be decided now.
    fn admit(&mut self, d: usize, doc: PreparedDoc) -> Result<()> {
        let n = doc.paragraphs.len();
        let mut state = DocState {
            outcomes: vec![None; n],
            by: vec![0; n],
            waiting: 0,
            doc,
        };
        // First what needs no cache: fixed outcomes, texts in flight, texts fetched
        // earlier in the run. The rest is looked up in one read transaction per
        // service of the chain.
        let mut lookups: Vec<(usize, bool)> = Vec::new();
        for i in 0..n {
            let p = &state.doc.paragraphs[i];
            if let Some(o) = initial_outcome(p, &self.ctx.opts.to) {
                state.outcomes[i] = Some(o);
                continue;
            }
            let key = (p.src_lang.clone(), p.source.clone());
            let repeated = !self.seen.insert(seen_key(&key.0, &key.1));
            if repeated {
                self.report.chars_deduplicated += key.1.chars().count() as u64;
            }
            if let Some(&u) = self.units.get(&key) {
                self.unit_state
                    .get_mut(&u)
                    .expect("unit")
                    .waiters
                    .push((d, i));
                state.waiting += 1;
            } else if let Some((target, service)) = self.fetched.get(&key) {
                state.outcomes[i] = Some(Outcome::Translated {
                    target: target.clone(),
                    cached: false,
                    reviewed: false,
                });
                state.by[i] = *service;
            } else {
                lookups.push((i, repeated));
            }
        }
        let texts: Vec<(&str, &str)> = (lookups.iter())
            .map(|&(i, _)| {
                let p = &state.doc.paragraphs[i];
                (p.src_lang.as_str(), p.source.as_str())
            })
            .collect();
        let found = self.lookup(&texts)?;
        let mut deferred = Vec::new();
        for ((i, repeated), found) in lookups.into_iter().zip(found) {
            let p = &state.doc.paragraphs[i];
            let (from, text) = (p.src_lang.clone(), p.source.clone());
            if let Some((hit, service)) = found {
                if !repeated {
                    self.report.chars_from_cache += text.chars().count() as u64;
                }
                let reviewed = hit.origin == Origin::Reviewed;
                state.outcomes[i] = Some(Outcome::Translated {
                    target: hit.target,
                    cached: true,
                    reviewed,
                });
                state.by[i] = if reviewed { 0 } else { service };
                continue;
            }
            if self.ctx.opts.offline {
                state.outcomes[i] = Some(Outcome::Failed(flags::OFFLINE_MISS));
                continue;
            }
            if let Some(&u) = self.units.get(&(from.clone(), text.clone())) {
                self.unit_state
                    .get_mut(&u)
                    .expect("unit")
                    .waiters
                    .push((d, i));
                state.waiting += 1;
                continue;
            }
            match self.chain.service_for(&from) {
                Some(service) => {
                    state.waiting += 1;
                    deferred.extend(self.new_unit(from, text, (d, i), service)?);
                }
                None => state.outcomes[i] = Some(Outcome::Failed(self.chain.give_up(&from))),
            }
        }
        self.waiting_paragraphs += state.waiting;
        self.docs.insert(d, state);
        // Pieces a previous run cached may complete units now; a document with
        // nothing (left) to wait for is written now.
        if !deferred.is_empty() {
            self.apply_inner(deferred, true)?;
        }
        if self.docs.get(&d).is_some_and(|s| s.waiting == 0) {
            self.finish_doc(d);
        }
        Ok(())
    }

    /// Start fetching a distinct text through `service` (see [`Coordinator::plan`]).
    fn new_unit(
        &mut self,
        from: String,
        text: String,
        waiter: (usize, usize),
        service: usize,
    ) -> Result<Vec<PieceResult>> {
        let u = self.next_unit;
        self.next_unit += 1;
        self.units.insert((from.clone(), text.clone()), u);
        self.unit_state.insert(
            u,
            UnitState {
                from,
                text,
                waiters: vec![waiter],
                service,
                piece_ids: Vec::new(),
                pieces_left: 0,
                split: false,
                parts: Vec::new(),
            },
        );
        self.plan(u, service)
    }

    /// Plan unit `u` for `service`: its pieces, cut to the service's limits, go to
    /// the service's packer, or come from the cache when a previous run stored them
    /// (returned, to be applied once the document is registered).
    fn plan(&mut self, u: usize, service: usize) -> Result<Vec<PieceResult>> {
        let (from, text) = {
            let unit = &self.unit_state[&u];
            (unit.from.clone(), unit.text.clone())
        };
        let parts = split(&text, &self.chain.limits(service));
        let split = parts.len() > 1;
        let mut ids = Vec::with_capacity(parts.len());
        let mut cached_parts = Vec::new();
        for part in parts {
            let id = self.next_piece;
            self.next_piece += 1;
            ids.push(id);
            if split
                && let Lookup::Hit(hit) = self.cache.get(&self.chain.key(service, &from, &part))?
            {
                self.report.chars_from_cache += part.chars().count() as u64;
                cached_parts.push((id, Ok(hit.target)));
                self.pieces.insert(id, (u, part));
                continue;
            }
            self.pieces.insert(id, (u, part.clone()));
            if let Some(batch) = self.packers[service].push(&from, Piece::new(id, part)) {
                self.ready.push_back((service, batch));
            }
        }
        let unit = self.unit_state.get_mut(&u).expect("unit");
        unit.service = service;
        unit.split = split;
        unit.pieces_left = ids.len();
        unit.piece_ids = ids;
        Ok(cached_parts)
    }

    /// The service of unit `u` left the chain or refused its language: plan it whole
    /// for the next service that takes its language, or, when none is left, fail it
    /// with the last service's reason. Its old pieces are forgotten.
    fn replan(&mut self, u: usize) -> Result<()> {
        let Some(unit) = self.unit_state.get_mut(&u) else {
            return Ok(());
        };
        for id in unit.piece_ids.drain(..) {
            self.pieces.remove(&id);
        }
        unit.parts.clear();
        let from = unit.from.clone();
        match self.chain.service_for(&from) {
            Some(next) => {
                tracing::debug!("re-planning a text for {}", self.chain.name(next));
                let cached = self.plan(u, next)?;
                if !cached.is_empty() {
                    self.apply_inner(cached, true)?;
                }
            }
            None => {
                let flag = self.chain.give_up(&from);
                let unit = self.unit_state.remove(&u).expect("unit");
                self.units.remove(&(unit.from, unit.text));
                self.hand_out(unit.waiters, &Outcome::Failed(flag), 0);
            }
        }
        Ok(())
    }

    /// Re-plan the units of a batch that `service` will not send.
    fn replan_batch(&mut self, service: usize, batch: &Batch) -> Result<()> {
        let mut units: Vec<usize> = (batch.pieces.iter())
            .filter_map(|p| self.pieces.get(&p.id).map(|&(u, _)| u))
            .filter(|u| self.unit_state.get(u).is_some_and(|s| s.service == service))
            .collect();
        units.sort_unstable();
        units.dedup();
        for u in units {
            self.replan(u)?;
        }
        Ok(())
    }

    /// Apply a finished batch of `service`: a failure that means the service is out
    /// (its breaker tripped) or does not translate the language sends the unit to the
    /// next service; everything else is applied as it came.
    fn apply(&mut self, service: usize, results: Vec<PieceResult>) -> Result<()> {
        self.chain.record_usage(service, self.cache)?;
        let out = self.chain.note_batch(service);
        let mut replan = Vec::new();
        let mut done = Vec::with_capacity(results.len());
        for (id, r) in results {
            if let Err(flag) = r
                && let Some(&(u, _)) = self.pieces.get(&id)
                && let Some(unit) = self.unit_state.get(&u)
                && unit.service == service
                && passes_on(flag, out)
            {
                if flag == flags::UNSUPPORTED_PAIR {
                    let from = unit.from.clone();
                    self.chain.refuse(service, &from);
                }
                if !replan.contains(&u) {
                    replan.push(u);
                }
                continue;
            }
            done.push((id, r));
        }
        self.apply_inner(done, false)?;
        for u in replan {
            self.replan(u)?;
        }
        self.progress();
        Ok(())
    }

    fn apply_inner(&mut self, results: Vec<PieceResult>, from_cache: bool) -> Result<()> {
        for (id, r) in results {
            let Some((u, text)) = self.pieces.remove(&id) else {
                continue;
            };
            let unit = self.unit_state.get_mut(&u).expect("unit of piece");
            if unit.split
                && !from_cache
                && let Ok(t) = &r
            {
                let key = self.chain.key(unit.service, &unit.from, &text);
                self.cache.put(&key, t, Origin::Machine)?;
            }
            unit.parts.push((id, r));
            unit.pieces_left -= 1;
            if unit.pieces_left == 0 {
                self.complete_unit(u)?;
            }
        }
        Ok(())
    }

    /// The batch without the pieces that another run sharing the cache stored since
    /// they were looked up (when their document was admitted, possibly long before):
    /// those are served from the cache now instead of being sent again; and without
    /// the pieces of units re-planned for another service since. `None` when nothing
    /// is left to send.
    fn still_missing(&mut self, service: usize, mut batch: Batch) -> Result<Option<Batch>> {
        batch.pieces.retain(|p| self.pieces.contains_key(&p.id));
        let keys: Vec<CacheKey> = (batch.pieces.iter())
            .map(|p| self.chain.key(service, &batch.from, &p.text))
            .collect();
        let found = self.cache.get_many(&keys)?;
        let mut served = Vec::new();
        let mut left = Vec::new();
        for (piece, lookup) in std::mem::take(&mut batch.pieces).into_iter().zip(found) {
            match lookup {
                Lookup::Hit(hit) => served.push((piece, hit)),
                _ => left.push(piece),
            }
        }
        for (piece, hit) in served {
            self.report.chars_from_cache += piece.chars as u64;
            let Some(&(u, _)) = self.pieces.get(&piece.id) else {
                continue;
            };
            let whole = self.unit_state.get(&u).is_some_and(|unit| !unit.split);
            if whole {
                self.pieces.remove(&piece.id);
                let unit = self.unit_state.remove(&u).expect("unit");
                self.units.remove(&(unit.from, unit.text));
                let reviewed = hit.origin == Origin::Reviewed;
                let outcome = Outcome::Translated {
                    target: hit.target,
                    cached: true,
                    reviewed,
                };
                self.hand_out(unit.waiters, &outcome, if reviewed { 0 } else { service });
            } else {
                self.apply_inner(vec![(piece.id, Ok(hit.target))], true)?;
            }
        }
        batch.chars = left.iter().map(|p| p.chars).sum();
        batch.pieces = left;
        Ok((!batch.pieces.is_empty()).then_some(batch))
    }

    /// All pieces of a text are back: cache it whole and hand it to its paragraphs.
    fn complete_unit(&mut self, u: usize) -> Result<()> {
        let mut unit = self.unit_state.remove(&u).expect("unit");
        self.units.remove(&(unit.from.clone(), unit.text.clone()));
        unit.parts.sort_by_key(|(id, _)| *id);
        let service = unit.service;
        let (outcome, by) = match unit
            .parts
            .into_iter()
            .map(|(_, r)| r)
            .collect::<std::result::Result<Vec<_>, _>>()
        {
            Ok(texts) => {
                let target = texts.join(" ");
                let key = self.chain.key(service, &unit.from, &unit.text);
                self.cache.put(&key, &target, Origin::Machine)?;
                self.fetched
                    .insert((unit.from, unit.text), (target.clone(), service));
                let outcome = Outcome::Translated {
                    target,
                    cached: false,
                    reviewed: false,
                };
                (outcome, service)
            }
            Err(flag) => (Outcome::Failed(flag), 0),
        };
        self.hand_out(unit.waiters, &outcome, by);
        Ok(())
    }

    /// Give every paragraph waiting for a text its outcome (and the service that
    /// translated it); write the documents that are now complete.
    fn hand_out(&mut self, waiters: Vec<(usize, usize)>, outcome: &Outcome, service: usize) {
        for (d, i) in waiters {
            let state = self.docs.get_mut(&d).expect("waiting document");
            state.outcomes[i] = Some(outcome.clone());
            state.by[i] = service;
            state.waiting -= 1;
            self.waiting_paragraphs -= 1;
            if state.waiting == 0 {
                self.finish_doc(d);
            }
        }
    }

    /// Align and write a complete document, then forget it.
    fn finish_doc(&mut self, d: usize) {
        let state = self.docs.remove(&d).expect("document");
        let outcomes = state
            .outcomes
            .into_iter()
            .map(|o| o.expect("every paragraph decided"))
            .collect();
        let opts = self.ctx.opts;
        let mut aligned = align::align(&state.doc, outcomes, &opts.to, self.chain.name(0));
        aligned.provider = self.provenance(&aligned, &state.by);
        collect_missing(&aligned, &mut self.missing);
        self.docs_done += 1;
        self.paragraphs_done += aligned.rows.len();
        match self.claim_output(&aligned) {
            Some(e) => {
                self.events.file_error(&e);
                self.report.errors.push(e);
            }
            None => {
                self.report.add_doc(DocCounts::of(&aligned));
                self.writer.write(aligned);
            }
        }
        self.progress();
    }

    /// Which service translated each row of `doc` (`by`, per paragraph), counted per
    /// service for the report. A human correction is nobody's machine translation:
    /// it keeps the first service's name, as a row without translation does.
    fn provenance(&mut self, doc: &AlignedDoc, by: &[usize]) -> Provenance {
        let mut rows = BTreeMap::new();
        let mut used = vec![false; self.chain.len()];
        for row in &doc.rows {
            let reviewed = row.flags.iter().any(|f| f == flags::REVIEWED);
            if row.target.is_none() || reviewed {
                continue;
            }
            let service = by.get(row.index).copied().unwrap_or(0);
            self.chain.add_row(service);
            used[service] = true;
            if service != 0 {
                rows.insert(row.index, self.chain.name(service).to_string());
            }
        }
        let names: Vec<&str> = (0..self.chain.len())
            .filter(|&i| used[i])
            .map(|i| self.chain.name(i))
            .collect();
        let shown = if names.is_empty() {
            self.chain.name(0).to_string()
        } else {
            names.join(", ")
        };
        Provenance::new(shown, self.chain.name(0).to_string(), rows)
    }

    /// Report what the writer thread has finished.
    fn drain_writes(&mut self, done: Vec<(String, Result<()>)>) {
        for (rel, result) in done {
            match result {
                Ok(()) => self.events.written(&rel),
                Err(e) => self.write_errors.push(e),
            }
        }
    }

    /// Refuse a document whose outputs would overwrite another's.
    fn claim_output(&mut self, doc: &AlignedDoc) -> Option<FileError> {
        let html = write::output_path(&self.ctx.opts.out_dir, &doc.rel, &self.ctx.opts.to, "html");
        let first = self.ctx.claimed.borrow().get(&html).cloned();
        match first {
            Some(first) => Some(FileError {
                file: doc.rel.clone(),
                message: format!(
                    "its outputs would overwrite those of {first} ({}); not written. \
                     Rename one of them or translate them with different --out directories",
                    html.display()
                ),
            }),
            None => {
                self.ctx.claimed.borrow_mut().insert(html, doc.rel.clone());
                None
            }
        }
    }

    fn progress(&mut self) {
        let done = self.writer.drain();
        self.drain_writes(done);
        let stats = self.chain.stats();
        self.events.progress(&Snapshot {
            docs_done: self.docs_done,
            docs_total: self.docs_total,
            paragraphs_done: self.paragraphs_done,
            from_cache: self.report.from_cache,
            requests: stats.requests,
            chars_sent: stats.chars_sent,
            waiting: self.waiting_paragraphs,
        });
    }
}

/// What became of a batch launched for a service.
enum Sent {
    /// Sent: each piece's translation or failure.
    Done(Vec<PieceResult>),
    /// Not sent: the service does not translate its language pair.
    Refused(Batch),
}

/// Whether a piece that failed with `flag` goes to the next service: when its
/// service is `out` of the chain (quota, key, block, unreachable), or does not
/// translate the pair. A paragraph the service refused or answered badly stays
/// failed: another service would not be asked because of it.
fn passes_on(flag: &str, out: bool) -> bool {
    match flag {
        flags::BAD_REQUEST | flags::REJECTED_REPLY => false,
        flags::UNSUPPORTED_PAIR => true,
        _ => out,
    }
}

/// Read, decode, segment and detect the inputs on a thread of their own, in order,
/// a bounded amount ahead of the coordinator: on two cores the text work and the
/// cache-and-write work overlap.
pub(super) fn spawn_reader(files: Vec<InputFile>, from: Option<String>, to: String) -> Reader {
    spawn_reader_within(files, from, to, READ_AHEAD_BYTES)
}

/// [`spawn_reader`] with a read-ahead budget of `budget` bytes.
fn spawn_reader_within(
    files: Vec<InputFile>,
    from: Option<String>,
    to: String,
    budget: u64,
) -> Reader {
    let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
    let bytes = Arc::new(tokio::sync::Semaphore::new(budget as usize));
    std::thread::spawn(move || {
        for (d, file) in files.into_iter().enumerate() {
            // Reserve the file's size before reading it, so that the documents waiting
            // in the queue never hold more than READ_AHEAD_BYTES of input (a file as
            // large as the whole budget still goes through, alone).
            let size = fs_err::metadata(&file.path).map_or(1, |m| m.len());
            let permits = size.clamp(1, budget) as u32;
            let Ok(permit) =
                futures::executor::block_on(Arc::clone(&bytes).acquire_many_owned(permits))
            else {
                break;
            };
            let read = ingest::read(&file).map(|doc| prepare(doc, from.as_deref(), &to));
            if tx.blocking_send((d, read, permit)).is_err() {
                break; // the run ended early
            }
        }
    });
    Reader { rx }
}

/// The documents [`spawn_reader`] has read, in input order.
pub(super) struct Reader {
    rx: tokio::sync::mpsc::Receiver<(
        usize,
        std::result::Result<PreparedDoc, FileError>,
        tokio::sync::OwnedSemaphorePermit,
    )>,
}

impl Reader {
    /// The next document (its position among the inputs, and what reading it gave);
    /// `None` after the last. Taking it frees its share of the read-ahead budget.
    /// Cancel-safe, like the channel under it.
    pub(super) async fn recv(
        &mut self,
    ) -> Option<(usize, std::result::Result<PreparedDoc, FileError>)> {
        self.rx.recv().await.map(|(d, read, _permit)| (d, read))
    }

    /// The next document if one is ready, without waiting (see [`Reader::recv`]).
    pub(super) fn try_recv(
        &mut self,
    ) -> std::result::Result<
        (usize, std::result::Result<PreparedDoc, FileError>),
        tokio::sync::mpsc::error::TryRecvError,
    > {
        self.rx.try_recv().map(|(d, read, _permit)| (d, read))
    }
}

/// Documents read ahead of the coordinator.
const READ_AHEAD: usize = 32;

/// Input bytes read ahead of the coordinator, at most (a document's file size counts
/// from before it is read until the coordinator takes it).
const READ_AHEAD_BYTES: u64 = 64 << 20;

/// Documents queued for the writer thread before the coordinator waits for it.
const WRITE_AHEAD: usize = 16;

/// Renders and writes finished documents on a thread of its own.
struct Writer {
    tx: Option<std::sync::mpsc::SyncSender<AlignedDoc>>,
    done: Option<std::sync::mpsc::Receiver<(String, Result<()>)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn spawn(
        out_dir: std::path::PathBuf,
        formats: Vec<write::Format>,
        opts: write::WriteOptions,
    ) -> Writer {
        let (tx, rx) = std::sync::mpsc::sync_channel::<AlignedDoc>(WRITE_AHEAD);
        let (done_tx, done) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            for doc in rx {
                let result = write::write_document_with(&out_dir, &doc, &formats, opts).map(|_| ());
                if done_tx.send((doc.rel, result)).is_err() {
                    break;
                }
            }
        });
        Writer {
            tx: Some(tx),
            done: Some(done),
            thread: Some(thread),
        }
    }

    fn disabled() -> Writer {
        Writer {
            tx: None,
            done: None,
            thread: None,
        }
    }

    /// Queue a document (waits while the writer is `WRITE_AHEAD` documents behind).
    fn write(&self, doc: AlignedDoc) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(doc);
        }
    }

    /// Documents written since the last call.
    fn drain(&self) -> Vec<(String, Result<()>)> {
        self.done
            .as_ref()
            .map(|d| d.try_iter().collect())
            .unwrap_or_default()
    }

    /// Wait for every queued document; what was written since the last drain.
    fn finish(mut self) -> Vec<(String, Result<()>)> {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.drain()
    }
}

fn collect_missing(doc: &AlignedDoc, out: &mut Vec<(String, usize, String)>) {
    for row in doc.rows.iter().filter(|r| r.is_untranslated()) {
        let flag = row.flags.first().cloned().unwrap_or_default();
        out.push((doc.rel.clone(), row.index, flag));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceFormat;

    #[test]
    fn the_reader_holds_no_more_than_its_byte_budget_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<InputFile> = (0..4)
            .map(|i| {
                let path = dir.path().join(format!("{i}.txt"));
                fs_err::write(&path, "كلمة ".repeat(100)).unwrap(); // 1,000 bytes
                InputFile {
                    path,
                    rel: format!("{i}.txt"),
                    format: SourceFormat::Text,
                }
            })
            .collect();
        // Room for two files' bytes: two are read, the third waits for the first to
        // be taken.
        let mut reader = spawn_reader_within(files, None, "en".into(), 2_500);
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(reader.rx.len(), 2, "read ahead beyond the budget");
        let (first, _) = reader.try_recv().unwrap();
        assert_eq!(first, 0);
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(reader.rx.len(), 2, "taking a document frees its share");
        let rest: Vec<usize> = std::iter::from_fn(|| {
            futures::executor::block_on(reader.recv()).map(|(d, read)| {
                assert!(read.is_ok());
                d
            })
        })
        .collect();
        assert_eq!(rest, [1, 2, 3]);
    }
}
