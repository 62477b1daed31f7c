//! The streaming run: documents flow in, batches flow out, outputs are written as
//! soon as a document is complete.
//!
//! One coordinator owns all run state and is the only one that changes it; the
//! network work happens in batch futures that own nothing but the batch and a shared
//! [`Sender`](super::send::Sender). The loop:
//! 1. admit documents (read, segment, detect, look up the memory) while fewer than a
//!    bounded number of paragraphs wait for a translation, packing what the memory
//!    lacks into batches; a document whose outputs the output directory's record
//!    shows current for the same input, chain and cache version
//!    ([`super::outputs`]) is counted from the record instead, with no lookup;
//! 2. launch ready batches, at most `concurrency` at once, each first looked up in
//!    the memory again: another run sharing the cache may have stored some of its
//!    texts since their document was admitted, and those are not sent twice;
//! 3. apply one finished batch: cache each answer as it arrives, complete the
//!    paragraphs it finishes, hand every document that is now complete to the
//!    writer thread ([`super::writer`]).
//!
//! A dry run goes through the same loop ([`Sink::Count`]): the same admission,
//! lookups, deduplication, splitting and packing; a ready batch is counted instead
//! of sent, and a complete document is dropped instead of written. So what
//! `--dry-run` says a run would send is what the run's own planning would send.
//!
//! **State, typed.** Documents are [`DocId`]s and their paragraphs [`ParaRef`]s; a
//! paragraph's slot is open until its outcome is decided ([`Slot`]). Every distinct
//! text met in the run ([`TextId`]) is in one [`TextState`]: seen (decided from the
//! memory), being fetched by a unit, or fetched in this run by a service. A unit
//! ([`UnitId`]) is a distinct text being fetched, with the paragraphs waiting for
//! it; its [`UnitState`] holds its plan: the service it is cut for and its pieces,
//! each queued, in flight or back. A [`PieceId`] names its unit and the plan it was
//! cut for, so a piece of an abandoned plan (its service left the chain since) is
//! recognised wherever it turns up, with no table of pieces to keep in step. No
//! lookup in these tables assumes its entry is there: an answer for a unit that is
//! gone, or a paragraph already decided, is ignored.
//!
//! **Memory stays bounded** by the backlog, not the corpus: the reader thread keeps
//! at most 32 documents and 64 MiB of input ahead of the coordinator, a finished
//! document is handed to the writer and dropped, and a text fetched in this run is
//! remembered by its 16-byte id and the service that translated it, not its
//! translation: a later occurrence reads the answer back from the cache, where it
//! was stored when it arrived. Identical paragraphs share one unit while it is
//! fetched. Partly filled batches are sent when the input is exhausted or nothing
//! else is in flight.
//!
//! **The chain** ([`Chain`]) adds one idea to this loop: every unit is planned for
//! one service of the chain, its pieces cut to that service's limits and packed by
//! that service's packer. When a service leaves the chain (its breaker tripped) or
//! refuses a language, the units it held are re-planned whole for the next service
//! ([`Coordinator::replan`]): their pieces still queued or in flight belong to an
//! older plan and are dropped before sending or ignored when they come back, and the
//! unit is cut again for the next service's limits, so one paragraph is never
//! translated by two services. Lookups try each service's cache key in chain order,
//! and each translated paragraph remembers which service it came from, for JSONL
//! `provider`.
//!
//! **Other processes.** Every cache access goes through
//! [`Memory`](super::memory::Memory). A batch's future claims its pieces with leases
//! just before sending ([`super::claim`]): what another process stored meanwhile
//! comes back as arrived and is served like a piece found by [`Coordinator::still_missing`];
//! what another process holds comes back as pending and is waited for by a future of
//! its own, apart from the requests in flight (which it takes no place among), until
//! it arrives or is ours to send (then it goes back into its service's packer). Its
//! unit stays planned meanwhile, and its paragraphs wait in it exactly as they wait
//! for a piece in flight.

use std::collections::{BTreeMap, HashMap, VecDeque};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc::error::TryRecvError;

use crate::align::Outcome;
use crate::cache::{CacheKey, Hit, Origin};
use crate::error::{Error, Result};
use crate::model::{FileError, Flag, InputFile, PreparedDoc, Provenance, RunReport};
use crate::write;

use super::chain::{Chain, ServiceId};
use super::claim;
use super::ids::{DocId, ParaRef, PieceId, TextId, UnitId, UnitIds};
use super::memory::{KeyMaker, Memory, ParaKeys};
use super::outputs::{self, Inputs, Record};
use super::plan::{Batch, Packer, Piece, split};
use super::prepared::Preparer;
use super::reader::{Admitted, Read, spawn_reader};
use super::send::PieceResult;
use super::writer::{Job, Target, Writer, Written};
use super::{Ctx, Estimate, Events, Snapshot, initial_outcome};

/// A paragraph of an admitted document.
enum Slot {
    /// Waiting for its text's translation.
    Open,
    /// Decided: its outcome, and the service that translated it (the chain's first
    /// when none did).
    Decided(Outcome, ServiceId),
}

/// One document waiting for translations.
struct DocState {
    doc: PreparedDoc,
    slots: Vec<Slot>,
    /// How many slots are open.
    open: usize,
    /// What its outcomes are made from ([`outputs::inputs_digest`]), when the
    /// cache served every one as it was admitted.
    inputs: Option<String>,
}

/// What lets the coordinator find a document's outputs current without looking
/// anything up ([`Record::current`]).
struct Shortcut {
    /// The output directory's record as the run found it.
    record: Record,
    target: Target,
    build: [u8; 32],
    /// The chain's services: names and key parts.
    chain: String,
    /// The version of the cache's entries when the run began.
    version: [u8; 16],
}

impl Shortcut {
    /// The digest of what the outcomes of `rel`, admitted from `made_from`, are made
    /// of when the cache serves them all.
    fn inputs(&self, rel: &str, made_from: &[u8; 32]) -> String {
        let (t, c) = (&self.target, &self.chain);
        outputs::inputs_digest(&self.build, t, rel, made_from, c, &self.version)
    }
}

/// What the run knows of a distinct text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TextState {
    /// Met and decided (from the memory, or nothing could take it): a later
    /// occurrence is looked up again.
    Seen,
    /// Being fetched by this unit.
    Fetching(UnitId),
    /// Translated in this run by this service; its answer is in the memory. (In a dry
    /// run: would be.)
    Fetched(ServiceId),
}

/// A distinct text being fetched, and the paragraphs waiting for it.
struct Unit {
    from: String,
    text: String,
    id: TextId,
    waiters: Vec<ParaRef>,
    state: UnitState,
}

/// Where a unit stands.
enum UnitState {
    /// Cut into pieces for one service: queued in its packer, in flight, or back.
    Planned(Plan),
}

/// A unit cut for one service.
struct Plan {
    service: ServiceId,
    /// Counts the unit's plans; its pieces carry it.
    number: u32,
    parts: Vec<Part>,
    /// Parts not back yet.
    left: usize,
}

/// One piece of a plan.
struct Part {
    text: String,
    /// Its translation, or why there is none, once back.
    back: Option<std::result::Result<String, Flag>>,
}

/// What the coordinator does with ready batches and complete documents.
enum Sink {
    /// A real run: batches are sent; documents aligned and written.
    Write {
        writer: Writer,
        /// Services of the translated rows of documents handed to the writer and
        /// not yet confirmed written (counted for `report.json` once they are).
        rows: HashMap<DocId, Vec<ServiceId>>,
    },
    /// A dry run: batches are counted; documents dropped.
    Count(Estimate),
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
    /// A dry run's counts.
    pub estimate: Option<Estimate>,
}

/// All state of a streaming run.
pub struct Coordinator<'a> {
    ctx: &'a Ctx<'a>,
    memory: Memory<'a>,
    events: &'a dyn Events,
    chain: Chain,
    docs: HashMap<DocId, DocState>,
    texts: HashMap<TextId, TextState>,
    units: HashMap<UnitId, Unit>,
    unit_ids: UnitIds,
    /// One packer per service of the chain.
    packers: Vec<Packer>,
    /// Batches ready to go, with the service they are for.
    ready: VecDeque<(ServiceId, Batch)>,
    waiting_paragraphs: usize,
    sink: Sink,
    /// Finding documents current before looking them up (a real run with a cache).
    shortcut: Option<Shortcut>,
    report: RunReport,
    missing: Vec<(String, usize, String)>,
    write_errors: Vec<Error>,
    docs_total: usize,
    docs_done: usize,
    paragraphs_done: usize,
}

impl<'a> Coordinator<'a> {
    /// A coordinator for one run; a dry run when `ctx.opts.dry_run`.
    ///
    /// # Errors
    /// The chain is empty.
    pub(super) fn new(
        ctx: &'a Ctx<'a>,
        memory: Memory<'a>,
        events: &'a dyn Events,
        errors: Vec<FileError>,
    ) -> Result<Self> {
        let opts = ctx.opts;
        let chain = Chain::new(&opts.chain, &opts.to)?;
        let packers = chain.ids().map(|s| Packer::new(chain.limits(s))).collect();
        let target = Target {
            out_dir: opts.out_dir.clone(),
            formats: opts.formats.clone(),
            options: opts.write,
            to: opts.to.clone(),
            first: chain.name(ServiceId::FIRST).to_string(),
        };
        // A dry run reads the record too: a document it shows current would send
        // nothing.
        let record = Record::load(&opts.out_dir);
        let build = super::prepared::build_identity();
        let shortcut = build
            .zip(memory.version())
            .map(|(build, version)| Shortcut {
                record: record.view(),
                target: target.clone(),
                build,
                chain: (chain.key_parts().iter())
                    .map(|(name, options)| format!("{name}\t{options}\n"))
                    .collect(),
                version,
            });
        let sink = if opts.dry_run {
            Sink::Count(Estimate::default())
        } else {
            Sink::Write {
                writer: Writer::spawn(target, record),
                rows: HashMap::new(),
            }
        };
        Ok(Coordinator {
            ctx,
            memory,
            events,
            chain,
            docs: HashMap::new(),
            texts: HashMap::new(),
            units: HashMap::new(),
            unit_ids: UnitIds::default(),
            packers,
            ready: VecDeque::new(),
            waiting_paragraphs: 0,
            sink,
            shortcut,
            report: RunReport {
                errors,
                ..RunReport::default()
            },
            missing: Vec::new(),
            write_errors: Vec::new(),
            docs_total: 0,
            docs_done: 0,
            paragraphs_done: 0,
        })
    }

    fn dry(&self) -> bool {
        matches!(self.sink, Sink::Count(_))
    }

    fn estimate(&mut self) -> Option<&mut Estimate> {
        match &mut self.sink {
            Sink::Count(est) => Some(est),
            Sink::Write { .. } => None,
        }
    }

    /// Most paragraphs waiting for a translation before no more documents are read.
    fn backlog_cap(&self) -> usize {
        (4 * self.chain.max_concurrency() * self.chain.max_texts()).max(2000)
    }

    /// Run over `files` to the end.
    ///
    /// # Errors
    /// The cache cannot be read or written, or a provider cannot be built.
    pub async fn run(mut self, files: Vec<InputFile>) -> Result<Finished> {
        self.docs_total = files.len();
        if !self.dry() {
            self.events.start(files.len());
        }
        let concurrency = self.chain.max_concurrency();
        let opts = self.ctx.opts;
        let preparer = Preparer::new(
            opts.from.clone(),
            opts.to.clone(),
            KeyMaker::new(&self.chain),
            self.memory.for_reader(),
        );
        let mut docs = spawn_reader(files, preparer);
        let mut exhausted = false;
        let mut in_flight = FuturesUnordered::new();
        let mut waits: Waits = FuturesUnordered::new();
        loop {
            // Admit what the reader has ready, without waiting for it.
            while !exhausted && self.can_admit(concurrency) {
                match docs.try_recv() {
                    Ok(item) => self.admit_read(item)?,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => exhausted = true,
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
                if self.dry() {
                    self.count(&batch)?;
                    continue;
                }
                // The pair check runs inside the batch's future, like the request: it
                // goes through the service's limiter, whose permits the batches in
                // flight may hold, and only the futures polled here give them back.
                let memory = &self.memory;
                let store = memory.store().cloned();
                let sender =
                    (self.chain).sender(service, |name| memory.sent_today(name), store.as_ref())?;
                let keys: Vec<CacheKey> = (batch.pieces.iter())
                    .map(|p| self.chain.key(service, &batch.from, &p.text))
                    .collect();
                in_flight.push(async move {
                    if !sender.supports(&batch.from).await {
                        return (service, Sent::Refused(batch));
                    }
                    let sent = match &store {
                        Some(store) => {
                            Sent::Claimed(claim::send(store, &sender, batch, keys).await)
                        }
                        None => Sent::Done(sender.send_batch(batch).await),
                    };
                    (service, sent)
                });
            }
            self.memory.flush().await?;
            let may_read = !exhausted && self.can_admit(concurrency);
            if in_flight.is_empty() && waits.is_empty() {
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
                    Sent::Claimed(claimed) => {
                        let claimed = claimed?;
                        self.arrived(service, claimed.arrived)?;
                        self.apply(service, claimed.results)?;
                        self.wait_for(&mut waits, service, claimed.pending);
                    }
                    Sent::Refused(batch) => {
                        self.chain.refuse(service, &batch.from);
                        self.replan_batch(service, &batch)?;
                    }
                },
                Some((service, from, waited)) = waits.next() => {
                    let waited = waited?;
                    self.arrived(service, waited.arrived)?;
                    self.requeue(service, &from, waited.ours);
                    self.progress();
                    self.wait_for(&mut waits, service, waited.pending);
                }
                item = docs.recv(), if may_read => match item {
                    Some(item) => self.admit_read(item)?,
                    None => exhausted = true,
                },
            }
        }
        self.memory.flush().await?;
        debug_assert!(self.docs.is_empty(), "every document finished");
        if let Sink::Write { writer, .. } = &mut self.sink {
            for written in writer.finish() {
                self.take_written(written);
            }
        }
        let estimate = match self.sink {
            Sink::Count(est) => Some(est),
            Sink::Write { .. } => None,
        };
        Ok(Finished {
            report: self.report,
            missing: self.missing,
            chain: self.chain,
            write_errors: self.write_errors,
            estimate,
        })
    }

    /// Whether another document may be read: the backlog of paragraphs waiting for a
    /// translation, and of batches waiting to leave, are below their bounds.
    fn can_admit(&self, concurrency: usize) -> bool {
        self.waiting_paragraphs < self.backlog_cap() && self.ready.len() < 2 * concurrency
    }

    /// Hand over every service's partly filled batches.
    fn flush_packers(&mut self) {
        for (service, packer) in self.chain.ids().zip(self.packers.iter_mut()) {
            self.ready
                .extend(packer.flush().into_iter().map(|b| (service, b)));
        }
    }

    fn admit_read(&mut self, (d, read): Read) -> Result<()> {
        match read {
            Ok(admitted) => self.admit(d, admitted),
            Err(e) => {
                self.events.file_error(&e);
                self.report.errors.push(e);
                self.docs_total -= 1;
                Ok(())
            }
        }
    }

    /// Decide every paragraph of a new document that can be decided now.
    fn admit(&mut self, d: DocId, admitted: Admitted) -> Result<()> {
        let Admitted {
            doc,
            mut keys,
            made_from,
        } = admitted;
        let inputs = (self.shortcut.as_ref())
            .zip(made_from)
            .map(|(s, m)| s.inputs(&doc.rel, &m));
        if let Some(inputs) = &inputs
            && self.admit_current(&doc, &keys, inputs)
        {
            return Ok(());
        }
        // Served from the cache alone as it is admitted: nothing sent or waited for,
        // nothing failed.
        let mut pure = inputs.is_some();
        let mut state = DocState {
            slots: doc.paragraphs.iter().map(|_| Slot::Open).collect(),
            open: 0,
            doc,
            inputs: None,
        };
        let dry = self.dry();
        // First what needs no memory: fixed outcomes, texts being fetched, repeats in
        // a dry run. The rest is looked up at once.
        let mut asks: Vec<Ask> = Vec::new();
        for (i, p) in state.doc.paragraphs.iter().enumerate() {
            if let Some(o) = initial_outcome(p, &self.ctx.opts.to) {
                pure &= !matches!(o, Outcome::Failed(_));
                state.slots[i] = Slot::Decided(o, ServiceId::FIRST);
                continue;
            }
            let keys = match keys.get_mut(i).and_then(Option::take) {
                Some(keys) => keys,
                // The reader keys every paragraph that needs a translation.
                None => KeyMaker::new(&self.chain).keys(&p.src_lang, &p.source),
            };
            let id = keys.id();
            let known = self.texts.get(&id).copied();
            if known.is_some() {
                self.report.chars_deduplicated += p.source.chars().count() as u64;
            }
            if let Some(est) = self.estimate() {
                est.content_paragraphs += 1;
                est.deduplicated_paragraphs += usize::from(known.is_some());
            }
            let waiter = ParaRef { doc: d, index: i };
            match known {
                Some(TextState::Fetching(u)) if self.join(u, waiter) => {
                    pure = false;
                    state.open += 1;
                    continue;
                }
                // A dry run neither sends nor writes: a repeat is only counted.
                Some(_) if dry => {
                    state.slots[i] = Slot::Decided(Outcome::NotSent, ServiceId::FIRST);
                    continue;
                }
                Some(_) => {}
                None => {
                    self.texts.insert(id, TextState::Seen);
                }
            }
            let fetched = match known {
                Some(TextState::Fetched(s)) => Some(s),
                _ => None,
            };
            asks.push(Ask {
                index: i,
                keys,
                id,
                repeated: known.is_some(),
                fetched,
            });
        }
        let texts: Vec<(&str, &str, &ParaKeys)> = (asks.iter())
            .map(|a| {
                let p = &state.doc.paragraphs[a.index];
                (p.src_lang.as_str(), p.source.as_str(), &a.keys)
            })
            .collect();
        let found = self.memory.first_hits(&self.chain, &texts)?;
        let mut deferred = Vec::new();
        for (ask, found) in asks.into_iter().zip(found) {
            let p = &state.doc.paragraphs[ask.index];
            if let Some((hit, service)) = found {
                pure &= ask.fetched.is_none();
                if !ask.repeated {
                    self.report.chars_from_cache += p.source.chars().count() as u64;
                    if let Some(est) = self.estimate() {
                        est.cached_paragraphs += 1;
                    }
                }
                let (outcome, by) = served(hit, service, ask.fetched);
                state.slots[ask.index] = Slot::Decided(outcome, by);
                continue;
            }
            pure = false;
            if self.ctx.opts.offline {
                let o = Outcome::Failed(Flag::OfflineMiss);
                state.slots[ask.index] = Slot::Decided(o, ServiceId::FIRST);
                continue;
            }
            // An earlier paragraph of this document may have started its unit.
            let waiter = ParaRef {
                doc: d,
                index: ask.index,
            };
            if let Some(&TextState::Fetching(u)) = self.texts.get(&ask.id)
                && self.join(u, waiter)
            {
                state.open += 1;
                continue;
            }
            match self.chain.service_for(&p.src_lang) {
                Some(service) => {
                    state.open += 1;
                    let unit = (p.src_lang.clone(), p.source.clone(), ask.id);
                    deferred.extend(self.new_unit(unit, waiter, service)?);
                }
                None => {
                    let o = Outcome::Failed(self.chain.give_up(&p.src_lang));
                    state.slots[ask.index] = Slot::Decided(o, ServiceId::FIRST);
                }
            }
        }
        if pure {
            state.inputs = inputs;
        }
        self.waiting_paragraphs += state.open;
        self.docs.insert(d, state);
        // Pieces a previous run cached may complete units now; a document with
        // nothing (left) to wait for is finished now.
        if !deferred.is_empty() {
            self.apply_inner(deferred, true)?;
        }
        if self.docs.get(&d).is_some_and(|s| s.open == 0) {
            self.finish_doc(d);
        }
        Ok(())
    }

    /// Count a document whose outputs are current for `inputs` ([`Record::current`])
    /// as if its paragraphs had been looked up and written, without doing either;
    /// `false` (nothing done) when they are not current, or when a text of it is
    /// one this run is fetching (it would not be served as before).
    fn admit_current(
        &mut self,
        doc: &PreparedDoc,
        keys: &[Option<ParaKeys>],
        inputs: &str,
    ) -> bool {
        let Some(s) = &self.shortcut else {
            return false;
        };
        let key = outputs::key(&s.target, &doc.rel);
        let Some((counts, rows)) = s.record.current(&key, inputs, &s.target.out_dir) else {
            return false;
        };
        let Some(services) = (rows.iter())
            .map(|&(i, n)| Some((self.chain.service(i as usize)?, n)))
            .collect::<Option<Vec<(ServiceId, u32)>>>()
        else {
            return false;
        };
        let mut texts = Vec::new();
        for (i, p) in doc.paragraphs.iter().enumerate() {
            match keys.get(i).and_then(Option::as_ref) {
                Some(k) => texts.push((k.id(), p.source.chars().count() as u64)),
                None if initial_outcome(p, &self.ctx.opts.to).is_some() => {}
                None => return false,
            }
        }
        let busy = |t: &TextId| {
            matches!(
                self.texts.get(t),
                Some(TextState::Fetching(_) | TextState::Fetched(_))
            )
        };
        if texts.iter().any(|(t, _)| busy(t)) {
            return false;
        }
        // What admitting it would have counted: each text from the cache, once.
        for (id, chars) in texts {
            let repeated = self.texts.insert(id, TextState::Seen).is_some();
            if repeated {
                self.report.chars_deduplicated += chars;
            } else {
                self.report.chars_from_cache += chars;
            }
            if let Some(est) = self.estimate() {
                est.content_paragraphs += 1;
                est.deduplicated_paragraphs += usize::from(repeated);
                est.cached_paragraphs += usize::from(!repeated);
            }
        }
        self.docs_done += 1;
        self.paragraphs_done += doc.paragraphs.len();
        if let Some(est) = self.estimate() {
            est.documents += 1;
            return true;
        }
        if let Some(e) = self.claim_output(&doc.rel) {
            self.events.file_error(&e);
            self.report.errors.push(e);
            self.progress();
            return true;
        }
        for (s, n) in services {
            (0..n).for_each(|_| self.chain.add_row(s));
        }
        self.report.add_doc(counts);
        self.events.written(&doc.rel);
        self.progress();
        true
    }

    /// Add `waiter` to unit `u`'s paragraphs; `false` when there is no such unit.
    fn join(&mut self, u: UnitId, waiter: ParaRef) -> bool {
        match self.units.get_mut(&u) {
            Some(unit) => {
                unit.waiters.push(waiter);
                true
            }
            None => false,
        }
    }

    /// Start fetching a distinct text `(from, text, id)` through `service` (see
    /// [`Coordinator::plan`]).
    fn new_unit(
        &mut self,
        (from, text, id): (String, String, TextId),
        waiter: ParaRef,
        service: ServiceId,
    ) -> Result<Vec<PieceResult>> {
        let u = self.unit_ids.new_id();
        self.texts.insert(id, TextState::Fetching(u));
        if let Some(est) = self.estimate() {
            est.paragraphs += 1;
        }
        let plan = Plan {
            service,
            number: 0,
            parts: Vec::new(),
            left: 0,
        };
        self.units.insert(
            u,
            Unit {
                from,
                text,
                id,
                waiters: vec![waiter],
                state: UnitState::Planned(plan),
            },
        );
        self.plan(u, service)
    }

    /// Plan unit `u` (again) for `service`: its pieces, cut to the service's limits,
    /// go to the service's packer, or come from the memory when a previous run
    /// stored them (returned, to be applied once the document is registered). The
    /// pieces of an earlier plan are abandoned.
    fn plan(&mut self, u: UnitId, service: ServiceId) -> Result<Vec<PieceResult>> {
        let Some(unit) = self.units.get(&u) else {
            return Ok(Vec::new());
        };
        let UnitState::Planned(old) = &unit.state;
        let number = old.number + 1;
        let parts = split(&unit.text, &self.chain.limits(service));
        let from = unit.from.clone();
        let cached = if parts.len() > 1 {
            let keys: Vec<_> = (parts.iter())
                .map(|part| self.chain.key(service, &from, part))
                .collect();
            self.memory.hits(&keys)?
        } else {
            vec![None]
        };
        let mut served = Vec::new();
        for (k, (part, hit)) in parts.iter().zip(cached).enumerate() {
            let id = PieceId {
                unit: u,
                plan: number,
                part: u32::try_from(k).unwrap_or(u32::MAX),
            };
            match hit {
                Some(hit) => {
                    self.report.chars_from_cache += part.chars().count() as u64;
                    served.push((id, Ok(hit.target)));
                }
                None => {
                    let piece = Piece::new(id, part.clone());
                    if let Some(batch) = self.packers[service.index()].push(&from, piece) {
                        self.ready.push_back((service, batch));
                    }
                }
            }
        }
        let plan = Plan {
            service,
            number,
            left: parts.len(),
            parts: (parts.into_iter())
                .map(|text| Part { text, back: None })
                .collect(),
        };
        if let Some(unit) = self.units.get_mut(&u) {
            unit.state = UnitState::Planned(plan);
        }
        Ok(served)
    }

    /// The plan a piece belongs to, when it is still its unit's current one and the
    /// piece is not back yet.
    fn current(&self, id: PieceId) -> Option<(&Unit, &Plan)> {
        let unit = self.units.get(&id.unit)?;
        let UnitState::Planned(plan) = &unit.state;
        let part = plan.parts.get(usize::try_from(id.part).ok()?)?;
        (plan.number == id.plan && part.back.is_none()).then_some((unit, plan))
    }

    /// The service of unit `u` left the chain or refused its language: plan it whole
    /// for the next service that takes its language, or, when none is left, fail it
    /// with the last service's reason.
    fn replan(&mut self, u: UnitId) -> Result<()> {
        let Some(from) = self.units.get(&u).map(|unit| unit.from.clone()) else {
            return Ok(());
        };
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
                if let Some(unit) = self.units.remove(&u) {
                    self.texts.insert(unit.id, TextState::Seen);
                    self.hand_out(unit.waiters, &Outcome::Failed(flag), ServiceId::FIRST);
                }
            }
        }
        Ok(())
    }

    /// Re-plan the units of a batch that `service` will not send.
    fn replan_batch(&mut self, service: ServiceId, batch: &Batch) -> Result<()> {
        let mut units: Vec<UnitId> = (batch.pieces.iter())
            .filter(|p| {
                self.current(p.id)
                    .is_some_and(|(_, plan)| plan.service == service)
            })
            .map(|p| p.id.unit)
            .collect();
        units.sort_unstable();
        units.dedup();
        for u in units {
            self.replan(u)?;
        }
        Ok(())
    }

    /// A dry run's ready batch: counted as a request and its characters, and its
    /// pieces settled as if sent, so their units and documents finish.
    fn count(&mut self, batch: &Batch) -> Result<()> {
        if let Some(est) = self.estimate() {
            est.requests += 1;
            est.characters += batch.chars;
        }
        let results = (batch.pieces.iter())
            .map(|p| (p.id, Err(Flag::NotSent)))
            .collect();
        self.apply_inner(results, true)
    }

    /// Apply a finished batch of `service`: a failure that means the service is out
    /// (its breaker tripped) or does not translate the language sends the unit to the
    /// next service; everything else is applied as it came.
    fn apply(&mut self, service: ServiceId, results: Vec<PieceResult>) -> Result<()> {
        let sent = self.chain.take_usage(service);
        self.memory.count_sent(self.chain.name(service), sent)?;
        let out = self.chain.note_batch(service);
        let mut replan = Vec::new();
        let mut done = Vec::with_capacity(results.len());
        for (id, r) in results {
            if let Err(flag) = r
                && let Some((unit, plan)) = self.current(id)
                && plan.service == service
                && passes_on(flag, out)
            {
                if flag == Flag::UnsupportedPair {
                    let from = unit.from.clone();
                    self.chain.refuse(service, &from);
                }
                if !replan.contains(&id.unit) {
                    replan.push(id.unit);
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

    /// Settle pieces: each answer for a current piece is kept (and, for a piece of a
    /// split text sent now, cached); a unit whose pieces are all back is completed.
    fn apply_inner(&mut self, results: Vec<PieceResult>, from_cache: bool) -> Result<()> {
        for (id, r) in results {
            let Some(unit) = self.units.get_mut(&id.unit) else {
                continue; // finished, or given up
            };
            let UnitState::Planned(plan) = &mut unit.state;
            let split = plan.parts.len() > 1;
            let Some(part) = (plan
                .parts
                .get_mut(usize::try_from(id.part).unwrap_or(usize::MAX)))
            .filter(|part| plan.number == id.plan && part.back.is_none()) else {
                continue; // an abandoned plan's, or answered already
            };
            if split
                && !from_cache
                && !self.memory.stores_answers()
                && let Ok(t) = &r
            {
                let key = self.chain.key(plan.service, &unit.from, &part.text);
                self.memory.put(&key, t)?;
            }
            part.back = Some(r);
            plan.left -= 1;
            if plan.left == 0 {
                self.complete_unit(id.unit)?;
            }
        }
        Ok(())
    }

    /// The batch without the pieces that another run sharing the cache stored since
    /// they were looked up (when their document was admitted, possibly long before):
    /// those are served from the memory now instead of being sent again; and without
    /// the pieces of plans abandoned since. `None` when nothing is left to send.
    fn still_missing(&mut self, service: ServiceId, mut batch: Batch) -> Result<Option<Batch>> {
        batch.pieces.retain(|p| self.current(p.id).is_some());
        // A dry run's memory is a snapshot: nothing can have arrived since.
        let found = if self.dry() {
            vec![None; batch.pieces.len()]
        } else {
            let keys: Vec<_> = (batch.pieces.iter())
                .map(|p| self.chain.key(service, &batch.from, &p.text))
                .collect();
            self.memory.hits(&keys)?
        };
        let mut arrived = Vec::new();
        let mut left = Vec::new();
        for (piece, hit) in std::mem::take(&mut batch.pieces).into_iter().zip(found) {
            match hit {
                Some(hit) => arrived.push((piece, hit)),
                None => left.push(piece),
            }
        }
        self.arrived(service, arrived)?;
        batch.chars = left.iter().map(|p| p.chars).sum();
        batch.pieces = left;
        Ok((!batch.pieces.is_empty()).then_some(batch))
    }

    /// Pieces whose translation is in the memory now (stored by another run since
    /// they were looked up): served from it, not sent. A piece of a plan abandoned
    /// since is ignored.
    fn arrived(&mut self, service: ServiceId, arrived: Vec<(Piece, Hit)>) -> Result<()> {
        for (piece, hit) in arrived {
            let Some(whole) = (self.current(piece.id)).map(|(_, plan)| plan.parts.len() == 1)
            else {
                continue;
            };
            self.report.chars_from_cache += piece.chars as u64;
            if whole {
                if let Some(unit) = self.units.remove(&piece.id.unit) {
                    self.texts.insert(unit.id, TextState::Seen);
                    let (outcome, by) = served(hit, service, None);
                    self.hand_out(unit.waiters, &outcome, by);
                }
            } else {
                self.apply_inner(vec![(piece.id, Ok(hit.target))], true)?;
            }
        }
        Ok(())
    }

    /// Pieces this run claimed after waiting for another process that gave them up:
    /// back into their service's packer, to be sent. Those of a plan abandoned since
    /// are given back to the store.
    fn requeue(&mut self, service: ServiceId, from: &str, ours: Vec<Piece>) {
        let mut stale = Vec::new();
        for piece in ours {
            if self.current(piece.id).is_none() {
                stale.push(self.chain.key(service, from, &piece.text));
                continue;
            }
            if let Some(batch) = self.packers[service.index()].push(from, piece) {
                self.ready.push_back((service, batch));
            }
        }
        if let (false, Some(store)) = (stale.is_empty(), self.memory.store()) {
            let store = store.clone();
            tokio::spawn(async move {
                if let Err(e) = store.release(&stale).await {
                    tracing::debug!("giving leases back: {e}");
                }
            });
        }
    }

    /// Wait, apart from the requests in flight, for pieces another process holds.
    fn wait_for(&mut self, waits: &mut Waits, service: ServiceId, pending: claim::Pending) {
        let Some(store) = self.memory.store().cloned() else {
            return;
        };
        if pending.is_empty() {
            return;
        }
        // Pieces of one batch share its source language.
        let from = (pending.pieces.first())
            .and_then(|(p, _)| self.units.get(&p.id.unit))
            .map(|u| u.from.clone())
            .unwrap_or_default();
        waits.push(Box::pin(async move {
            (service, from, claim::wait(store, pending).await)
        }));
    }

    /// All pieces of a text are back: cache it whole and hand it to its paragraphs.
    fn complete_unit(&mut self, u: UnitId) -> Result<()> {
        let Some(unit) = self.units.remove(&u) else {
            return Ok(());
        };
        let UnitState::Planned(plan) = unit.state;
        let service = plan.service;
        // A text sent whole was stored by its request's future already.
        let stored = plan.parts.len() == 1 && self.memory.stores_answers();
        let texts: std::result::Result<Vec<String>, Flag> = (plan.parts.into_iter())
            .map(|part| part.back.unwrap_or(Err(Flag::ProviderError)))
            .collect();
        let dry = self.dry();
        let (outcome, by) = match texts {
            Ok(texts) => {
                let target = texts.join(" ");
                if !stored {
                    let key = self.chain.key(service, &unit.from, &unit.text);
                    self.memory.put(&key, &target)?;
                }
                self.texts.insert(unit.id, TextState::Fetched(service));
                let outcome = Outcome::Translated {
                    target,
                    cached: false,
                    reviewed: false,
                };
                (outcome, service)
            }
            Err(flag) => {
                // A dry run's units all end here: counted, as if fetched.
                let state = if dry {
                    TextState::Fetched(service)
                } else {
                    TextState::Seen
                };
                self.texts.insert(unit.id, state);
                (Outcome::Failed(flag), ServiceId::FIRST)
            }
        };
        self.hand_out(unit.waiters, &outcome, by);
        Ok(())
    }

    /// Give every paragraph waiting for a text its outcome (and the service that
    /// translated it); finish the documents that are now complete.
    fn hand_out(&mut self, waiters: Vec<ParaRef>, outcome: &Outcome, service: ServiceId) {
        for w in waiters {
            let Some(state) = self.docs.get_mut(&w.doc) else {
                continue;
            };
            let Some(slot @ Slot::Open) = state.slots.get_mut(w.index) else {
                continue;
            };
            *slot = Slot::Decided(outcome.clone(), service);
            state.open -= 1;
            self.waiting_paragraphs -= 1;
            if state.open == 0 {
                self.finish_doc(w.doc);
            }
        }
    }

    /// Hand a complete document to the writer (a dry run drops it).
    fn finish_doc(&mut self, d: DocId) {
        let Some(state) = self.docs.remove(&d) else {
            return;
        };
        self.docs_done += 1;
        self.paragraphs_done += state.slots.len();
        if let Some(est) = self.estimate() {
            est.documents += 1;
            return;
        }
        let (outcomes, by): (Vec<Outcome>, Vec<ServiceId>) = (state.slots.into_iter())
            .map(|slot| match slot {
                Slot::Decided(outcome, by) => (outcome, by),
                // Not reached: a document is finished when no slot is open.
                Slot::Open => (Outcome::Failed(Flag::ProviderError), ServiceId::FIRST),
            })
            .collect();
        let doc = state.doc;
        for (p, o) in doc.paragraphs.iter().zip(&outcomes) {
            if let Outcome::Failed(flag) = o {
                self.missing
                    .push((doc.rel.clone(), p.index, (*flag).to_string()));
            }
        }
        let (provenance, rows) = self.provenance(&doc, &outcomes, &by);
        let inputs = state.inputs.map(|digest| {
            let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
            for s in &rows {
                *counts.entry(s.index() as u32).or_default() += 1;
            }
            Inputs {
                digest,
                rows: counts.into_iter().collect(),
            }
        });
        if let Some(e) = self.claim_output(&doc.rel) {
            self.events.file_error(&e);
            self.report.errors.push(e);
            return self.progress();
        }
        let job = Job {
            doc: d,
            prepared: doc,
            outcomes,
            provenance,
            inputs,
        };
        if let Sink::Write { writer, rows: open } = &mut self.sink {
            open.insert(d, rows);
            if let Some(failed) = writer.write(job) {
                self.take_written(failed);
            }
        }
        self.progress();
    }

    /// Which service translated each row (`by`, per paragraph), for JSONL `provider`
    /// and the document's header, and the services of the translated rows, for the
    /// report's per-service counts. A human correction is nobody's machine
    /// translation: it keeps the first service's name, as a row without translation
    /// does.
    fn provenance(
        &self,
        doc: &PreparedDoc,
        outcomes: &[Outcome],
        by: &[ServiceId],
    ) -> (Provenance, Vec<ServiceId>) {
        let mut rows = BTreeMap::new();
        let mut services = Vec::new();
        for ((p, o), &service) in doc.paragraphs.iter().zip(outcomes).zip(by) {
            if !matches!(
                o,
                Outcome::Translated {
                    reviewed: false,
                    ..
                }
            ) {
                continue;
            }
            services.push(service);
            if service != ServiceId::FIRST {
                rows.insert(p.index, self.chain.name(service).to_string());
            }
        }
        let names: Vec<&str> = (self.chain.ids())
            .filter(|s| services.contains(s))
            .map(|s| self.chain.name(s))
            .collect();
        let first = self.chain.name(ServiceId::FIRST).to_string();
        let shown = if names.is_empty() {
            first.clone()
        } else {
            names.join(", ")
        };
        (Provenance::new(shown, first, rows), services)
    }

    /// Count what the writer answered: a written document in the report (and its
    /// rows in its services' counts), one that could not be written as an error
    /// naming it.
    fn take_written(&mut self, written: Written) {
        let Sink::Write { rows, .. } = &mut self.sink else {
            return;
        };
        let services = rows.remove(&written.doc).unwrap_or_default();
        match written.result {
            Ok(counts) => {
                for s in services {
                    self.chain.add_row(s);
                }
                self.report.add_doc(counts);
                self.events.written(&written.rel);
            }
            Err(e) => {
                let error = FileError {
                    file: written.rel,
                    message: format!("cannot write its outputs: {}", crate::error::one_line(&e)),
                };
                self.events.file_error(&error);
                self.report.errors.push(error);
                self.write_errors.push(e);
            }
        }
    }

    /// Refuse a document whose outputs would overwrite another's.
    fn claim_output(&mut self, rel: &str) -> Option<FileError> {
        let opts = self.ctx.opts;
        let html = write::output_path(&opts.out_dir, rel, &opts.to, "html");
        let first = self.ctx.claimed.borrow().get(&html).cloned();
        match first {
            Some(first) => Some(FileError {
                file: rel.to_string(),
                message: format!(
                    "its outputs would overwrite those of {first} ({}); not written. \
                     Rename one of them or translate them with different --out directories",
                    html.display()
                ),
            }),
            None => {
                self.ctx.claimed.borrow_mut().insert(html, rel.to_string());
                None
            }
        }
    }

    fn progress(&mut self) {
        if let Sink::Write { writer, .. } = &mut self.sink {
            for written in writer.drain() {
                self.take_written(written);
            }
        } else {
            return;
        }
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

/// A paragraph of a new document to look up.
struct Ask {
    index: usize,
    keys: ParaKeys,
    id: TextId,
    /// Its text was met earlier in the run.
    repeated: bool,
    /// Its text was translated earlier in the run, by this service.
    fetched: Option<ServiceId>,
}

/// The outcome of a paragraph served `hit` as service `service`'s, and the service
/// it counts for; `fetched`: the service that translated its text earlier in this
/// run, if one did (its answer was not in the cache when the run began: not
/// `cached`).
fn served(hit: Hit, service: ServiceId, fetched: Option<ServiceId>) -> (Outcome, ServiceId) {
    let reviewed = hit.origin == Origin::Reviewed;
    let ours = fetched == Some(service) && !reviewed;
    let outcome = Outcome::Translated {
        target: hit.target,
        cached: !ours,
        reviewed,
    };
    (outcome, if reviewed { ServiceId::FIRST } else { service })
}

/// What became of a batch launched for a service.
enum Sent {
    /// Sent: each piece's translation or failure.
    Done(Vec<PieceResult>),
    /// Sent through the store's leases: what this run sent, what arrived from the
    /// memory instead, what another process holds.
    Claimed(Result<claim::Claimed>),
    /// Not sent: the service does not translate its language pair.
    Refused(Batch),
}

/// Pieces waited for: the service and source language of their batch, and what
/// waiting gave.
type Waits = FuturesUnordered<
    std::pin::Pin<
        Box<dyn std::future::Future<Output = (ServiceId, String, Result<claim::Waited>)>>,
    >,
>;

/// Whether a piece that failed with `flag` goes to the next service: when its
/// service is `out` of the chain (quota, key, block, unreachable), or does not
/// translate the pair. A paragraph the service refused or answered badly stays
/// failed: another service would not be asked because of it.
fn passes_on(flag: Flag, out: bool) -> bool {
    match flag {
        Flag::BadRequest | Flag::RejectedReply => false,
        Flag::UnsupportedPair => true,
        _ => out,
    }
}
