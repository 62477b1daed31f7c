//! The writer thread: aligns and writes finished documents while the coordinator
//! goes on with the next ones.
//!
//! The coordinator hands over a document with its outcomes ([`Job`]); the thread
//! aligns it ([`align`]), writes every format ([`write`](mod@write)) and answers with the
//! document's counts, or the error that stopped it ([`Written`]). A document counts
//! in the report only once its answer says it was written, so `report.json` never
//! counts a document that is not on disk.
//!
//! Nothing handed over is lost silently: a job the thread can no longer take (it
//! stopped) and a job it took but never answered (it panicked) are both answered by
//! [`Writer::finish`] as errors, naming the document, like a file that could not be
//! written.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::align::{self, Outcome};
use crate::error::{Error, Result};
use crate::model::{DocCounts, PreparedDoc, Provenance};
use crate::write::{self, Format, WriteOptions};

use super::ids::DocId;
use super::outputs::{self, Record};

/// A finished document to align and write.
pub(super) struct Job {
    /// Which document.
    pub doc: DocId,
    /// The document.
    pub prepared: PreparedDoc,
    /// One outcome per paragraph.
    pub outcomes: Vec<Outcome>,
    /// Which service translated each row.
    pub provenance: Provenance,
    /// What the outcomes were made from, when the cache served them all as the
    /// document was admitted (kept in the record, see [`outputs`]).
    pub inputs: Option<outputs::Inputs>,
}

/// What became of a document handed to the writer.
pub(super) struct Written {
    /// Which document.
    pub doc: DocId,
    /// Its path relative to its INPUT.
    pub rel: String,
    /// Its counts, when every output was written.
    pub result: Result<DocCounts>,
}

/// Where and how documents are written.
#[derive(Clone, Debug)]
pub(super) struct Target {
    /// The output directory.
    pub out_dir: PathBuf,
    /// The formats.
    pub formats: Vec<Format>,
    /// Format choices.
    pub options: WriteOptions,
    /// The target language.
    pub to: String,
    /// The chain's first service, the name rows without a translation carry.
    pub first: String,
}

/// Documents queued for the writer thread before the coordinator waits for it.
const WRITE_AHEAD: usize = 16;

/// The thread and what was handed to it and not answered yet.
pub(super) struct Writer {
    tx: Option<mpsc::SyncSender<Job>>,
    done: mpsc::Receiver<Written>,
    thread: Option<JoinHandle<()>>,
    /// Documents handed over and not answered, with their paths.
    open: BTreeMap<DocId, String>,
}

impl Writer {
    /// A writer thread writing to `target`; documents whose outputs are on disk as
    /// this build would render them (by `record`, the output directory's, which it
    /// saves when it ends) are not rendered again ([`outputs`](super::outputs)).
    pub(super) fn spawn(target: Target, record: Record) -> Writer {
        let mut outputs = Outputs {
            record,
            build: super::prepared::build_identity(),
            target,
        };
        Writer::spawn_with(move |job| outputs.write(job))
    }

    /// A writer thread that runs `write` on every job (tests give it failures).
    pub(super) fn spawn_with<F>(mut write: F) -> Writer
    where
        F: FnMut(Job) -> Written + Send + 'static,
    {
        let (tx, rx) = mpsc::sync_channel::<Job>(WRITE_AHEAD);
        let (done_tx, done) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            for job in rx {
                if done_tx.send(write(job)).is_err() {
                    break;
                }
            }
        });
        Writer {
            tx: Some(tx),
            done,
            thread: Some(thread),
            open: BTreeMap::new(),
        }
    }

    /// Hand a document over (waits while the thread is `WRITE_AHEAD` documents
    /// behind). When the thread has stopped, the document is answered as not written
    /// at once (returned).
    pub(super) fn write(&mut self, job: Job) -> Option<Written> {
        let (doc, rel) = (job.doc, job.prepared.rel.clone());
        let Some(tx) = &self.tx else {
            return Some(not_written(doc, rel, "the writer thread stopped"));
        };
        match tx.send(job) {
            Ok(()) => {
                self.open.insert(doc, rel);
                None
            }
            Err(_) => {
                self.tx = None;
                Some(not_written(doc, rel, "the writer thread stopped"))
            }
        }
    }

    /// The documents answered since the last call.
    pub(super) fn drain(&mut self) -> Vec<Written> {
        let answered: Vec<Written> = self.done.try_iter().collect();
        for w in &answered {
            self.open.remove(&w.doc);
        }
        answered
    }

    /// Wait for every document handed over; the answers since the last drain, then
    /// one error for each document the thread never answered (it panicked). Nothing
    /// can be handed over after this.
    pub(super) fn finish(&mut self) -> Vec<Written> {
        drop(self.tx.take());
        let why = match self.thread.take().map(JoinHandle::join) {
            Some(Err(panic)) => {
                let what = (panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".to_string());
                format!("the writer thread failed ({what})")
            }
            _ => "the writer thread ended early".to_string(),
        };
        let mut answered = self.drain();
        answered.extend(
            std::mem::take(&mut self.open)
                .into_iter()
                .map(|(doc, rel)| not_written(doc, rel, &why)),
        );
        answered
    }
}

/// The writer thread's state: where to write, and what it wrote before.
struct Outputs {
    target: Target,
    record: Record,
    /// The running build; `None` (not known) renders everything.
    build: Option<[u8; 32]>,
}

impl Outputs {
    /// Write one document, unless its outputs are on disk as they would be written.
    fn write(&mut self, mut job: Job) -> Written {
        let Some(build) = self.build else {
            return write_job(&self.target, job).0;
        };
        let key = outputs::key(&self.target, &job.prepared.rel);
        let digest = outputs::fingerprint(&build, &self.target, &job);
        let inputs = job.inputs.take();
        if let Some(counts) = self.record.unchanged(&key, &digest, &self.target.out_dir) {
            self.record.made_from(&key, inputs);
            return Written {
                doc: job.doc,
                rel: job.prepared.rel,
                result: Ok(counts),
            };
        }
        let (written, files) = write_job(&self.target, job);
        match &written.result {
            Ok(counts) => {
                let out = &self.target.out_dir;
                (self.record).remember(key, (digest, inputs), counts.clone(), out, &files);
            }
            Err(_) => self.record.forget(&key),
        }
        written
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        self.record.save();
    }
}

/// Align and write one document; also the files it wrote.
fn write_job(target: &Target, job: Job) -> (Written, Vec<PathBuf>) {
    let mut aligned = align::align(&job.prepared, job.outcomes, &target.to, &target.first);
    aligned.provider = job.provenance;
    let (result, files) = match write::write_document_with(
        &target.out_dir,
        &aligned,
        &target.formats,
        target.options,
    ) {
        Ok(files) => (Ok(DocCounts::of(&aligned)), files),
        Err(e) => (Err(e), Vec::new()),
    };
    let written = Written {
        doc: job.doc,
        rel: aligned.rel,
        result,
    };
    (written, files)
}

fn not_written(doc: DocId, rel: String, why: &str) -> Written {
    let result = Err(Error::output(
        PathBuf::from(&rel),
        format!("not written: {why}"),
        None,
    ));
    Written { doc, rel, result }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(n: usize) -> Job {
        Job {
            doc: DocId::new(n),
            prepared: PreparedDoc {
                rel: format!("{n}.txt"),
                src_lang: "ar".into(),
                paragraphs: Vec::new(),
            },
            outcomes: Vec::new(),
            provenance: "libretranslate".into(),
            inputs: None,
        }
    }

    fn ok(job: Job) -> Written {
        Written {
            doc: job.doc,
            rel: job.prepared.rel,
            result: Ok(DocCounts::default()),
        }
    }

    fn rels(answers: &[Written], written: bool) -> Vec<String> {
        let mut rels: Vec<String> = (answers.iter())
            .filter(|w| w.result.is_ok() == written)
            .map(|w| w.rel.clone())
            .collect();
        rels.sort();
        rels
    }

    /// A writer that panics on its third document: the two before are written, and
    /// every document handed over from the third on is answered as not written, none
    /// lost.
    #[test]
    fn a_writer_that_panics_loses_no_document() {
        let mut w = Writer::spawn_with(|job| {
            assert!(job.doc != DocId::new(2), "disk on fire");
            ok(job)
        });
        let mut answers = Vec::new();
        for n in 0..6 {
            answers.extend(w.write(job(n)));
        }
        answers.extend(w.finish());
        assert_eq!(answers.len(), 6, "one answer per document");
        assert_eq!(rels(&answers, true), ["0.txt", "1.txt"]);
        assert_eq!(rels(&answers, false), ["2.txt", "3.txt", "4.txt", "5.txt"]);
        let message = (answers.iter())
            .find_map(|w| w.result.as_ref().err())
            .unwrap()
            .to_string();
        assert!(message.contains("not written"), "{message}");
    }

    /// Errors the write function returns come back as they are, per document.
    #[test]
    fn a_failed_write_is_answered_with_its_error() {
        let mut w = Writer::spawn_with(|job| {
            if job.doc == DocId::new(1) {
                return not_written(job.doc, job.prepared.rel, "disk full");
            }
            ok(job)
        });
        let mut answers = Vec::new();
        for n in 0..3 {
            answers.extend(w.write(job(n)));
        }
        answers.extend(w.finish());
        assert_eq!(rels(&answers, false), ["1.txt"]);
        assert_eq!(rels(&answers, true), ["0.txt", "2.txt"]);
    }
}
