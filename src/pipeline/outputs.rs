//! What the writer wrote last time: a rerun of an unchanged corpus renders nothing.
//!
//! Rendering a document's formats is most of a cached rerun's work: the outputs are
//! several times the size of the input, and comparing them with the files on disk
//! (so that unchanged files keep their modification time) means reading them all
//! back. Yet the outputs are a pure function of what the writer is handed: the
//! prepared document, each paragraph's outcome, which service translated which row,
//! the formats and their options, the target language, and the build that renders
//! them. So the writer keeps, per document, a digest of all that ([`fingerprint`]),
//! the counts it reported, and the size and modification time of every file it left
//! on disk. A document whose digest is the same and whose files are all still there
//! with that size and time is not aligned, rendered or compared again; its counts
//! are read back.
//!
//! A rerun can also skip the lookups that make the outcomes. When every paragraph
//! of a document was served from the cache as it was admitted (nothing sent, nothing
//! waited for), its outcomes are a function of the document as prepared, the chain
//! and the cache's entries; the entry then also keeps a digest of those inputs, with
//! the cache's version standing for its entries ([`Inputs`], [`inputs_digest`]), and
//! the services of its translated rows. A later run whose cache has the same version
//! finds the document [`Record::current`] before looking anything up: the
//! coordinator counts it from the record and hands nothing to the writer.
//!
//! The record is `.tarjama-outputs.json` at the top of `--out`, saved when the
//! writer ends. It only ever saves work: a missing, unreadable or stale record, a
//! new build, a file a user deleted or edited (its time changes), or another run
//! that rewrote a file, all make the document be rendered and compared as before.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::model::DocCounts;
use crate::write;

use super::writer::{Job, Target};

/// The record's file name at the top of the output directory.
pub(super) const RECORD: &str = ".tarjama-outputs.json";

/// What the writer left for one document.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Entry {
    /// [`fingerprint`] of what the outputs were made from, in hex.
    digest: String,
    /// The counts reported for it.
    counts: DocCounts,
    /// Every output file, relative to the output directory, with its size and
    /// modification time (nanoseconds since the epoch).
    files: Vec<(String, u64, u128)>,
    /// What the outcomes were made from, when they came from the cache alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    inputs: Option<Inputs>,
}

/// What a document's outcomes were made from when every paragraph was served from
/// the cache as the document was admitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Inputs {
    /// [`inputs_digest`], in hex.
    pub digest: String,
    /// How many translated rows (not the reviewed ones) each service gave, by its
    /// position in the chain, for the report's per-service counts.
    pub rows: Vec<(u32, u32)>,
}

/// The record of an output directory.
#[derive(Debug)]
pub(super) struct Record {
    path: PathBuf,
    /// Shared with the coordinator's view ([`Record::view`]) until the writer
    /// changes it.
    entries: Arc<HashMap<String, Entry>>,
    changed: bool,
}

impl Record {
    /// The record of `out_dir` (empty when there is none or it cannot be read).
    pub(super) fn load(out_dir: &Path) -> Record {
        let path = out_dir.join(RECORD);
        let entries = fs_err::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Record {
            path,
            entries: Arc::new(entries),
            changed: false,
        }
    }

    /// The record as loaded, for the coordinator ([`Record::current`]); what the
    /// writer changes afterwards is not seen through it.
    pub(super) fn view(&self) -> Record {
        Record {
            path: self.path.clone(),
            entries: Arc::clone(&self.entries),
            changed: false,
        }
    }

    /// The counts and row services of a document whose outcomes would be made from
    /// `inputs` ([`inputs_digest`]) and whose outputs are on disk as rendered from
    /// them: nothing needs to be looked up, aligned or written for it.
    pub(super) fn current(
        &self,
        key: &str,
        inputs: &str,
        out_dir: &Path,
    ) -> Option<(DocCounts, Vec<(u32, u32)>)> {
        let e = self.entries.get(key)?;
        let known = e.inputs.as_ref()?;
        let same = known.digest == inputs && files_unchanged(e, out_dir);
        same.then(|| (e.counts.clone(), known.rows.clone()))
    }

    /// The counts of `job`'s document when its outputs on disk are what `digest`
    /// would render.
    pub(super) fn unchanged(&self, key: &str, digest: &str, out_dir: &Path) -> Option<DocCounts> {
        let e = self.entries.get(key)?;
        let same = e.digest == digest && files_unchanged(e, out_dir);
        same.then(|| e.counts.clone())
    }

    /// Remember what the unchanged outputs of `key` were made from this time (see
    /// [`Record::current`]).
    pub(super) fn made_from(&mut self, key: &str, inputs: Option<Inputs>) {
        if self.entries.get(key).is_some_and(|e| e.inputs != inputs)
            && let Some(e) = Arc::make_mut(&mut self.entries).get_mut(key)
        {
            e.inputs = inputs;
            self.changed = true;
        }
    }

    /// Remember that `files` (under `out_dir`) were made from `digest`; a file that
    /// cannot be read back forgets the document.
    pub(super) fn remember(
        &mut self,
        key: String,
        (digest, inputs): (String, Option<Inputs>),
        counts: DocCounts,
        out_dir: &Path,
        files: &[PathBuf],
    ) {
        let stats: Option<Vec<(String, u64, u128)>> = (files.iter())
            .map(|f| {
                let rel = f.strip_prefix(out_dir).ok()?.to_str()?.to_string();
                let (len, mtime) = stat(f)?;
                Some((rel, len, mtime))
            })
            .collect();
        self.changed = true;
        match stats {
            Some(files) => {
                Arc::make_mut(&mut self.entries).insert(
                    key,
                    Entry {
                        digest,
                        counts,
                        files,
                        inputs,
                    },
                );
            }
            None => {
                Arc::make_mut(&mut self.entries).remove(&key);
            }
        }
    }

    /// Forget a document (its outputs could not all be written).
    pub(super) fn forget(&mut self, key: &str) {
        if self.entries.contains_key(key) {
            Arc::make_mut(&mut self.entries).remove(key);
            self.changed = true;
        }
    }

    /// Save the record if anything changed. A failure only costs the next run the
    /// rendering this record would have saved: it is logged, not raised.
    pub(super) fn save(&mut self) {
        if !self.changed {
            return;
        }
        let saved = serde_json::to_vec(&*self.entries)
            .map_err(|e| e.to_string())
            .and_then(|b| write::write_atomic(&self.path, &b).map_err(|e| e.to_string()));
        match saved {
            Ok(()) => self.changed = false,
            Err(e) => tracing::warn!("{}: not saved ({e})", self.path.display()),
        }
    }
}

/// The key of document `rel` in the record: its path and the target language (one
/// output directory may hold several languages).
pub(super) fn key(target: &Target, rel: &str) -> String {
    format!("{rel}\t{}", target.to)
}

/// A digest of what the outcomes of document `rel` are made from when the cache
/// serves all of them: the build, the target and formats, the document as admitted
/// (`made_from`: its input's bytes, languages and keys), the chain (`chain`: its
/// services' names and key parts) and the cache's entries (`version`), in hex.
pub(super) fn inputs_digest(
    build: &[u8; 32],
    target: &Target,
    rel: &str,
    made_from: &[u8; 32],
    chain: &str,
    version: &[u8; 16],
) -> String {
    let mut d = Digest::new(b"tarjama-inputs-1", build, target);
    d.put(rel.as_bytes());
    d.put(made_from);
    d.put(chain.as_bytes());
    d.put(version);
    d.hex()
}

/// A BLAKE3 digest of length-prefixed fields, starting with a tag, the build and the
/// target's formats, options and languages.
struct Digest(blake3::Hasher);

impl Digest {
    fn new(tag: &[u8], build: &[u8; 32], target: &Target) -> Digest {
        let mut d = Digest(blake3::Hasher::new());
        d.put(tag);
        d.put(build);
        d.put(
            format!(
                "{:?}\n{:?}\n{}\n{}",
                target.formats, target.options, target.to, target.first
            )
            .as_bytes(),
        );
        d
    }

    fn put(&mut self, bytes: &[u8]) {
        self.0.update(&(bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    fn hex(&self) -> String {
        self.0.finalize().to_hex().to_string()
    }
}

/// A digest of everything `job`'s outputs are made from, in hex.
pub(super) fn fingerprint(build: &[u8; 32], target: &Target, job: &Job) -> String {
    let mut d = Digest::new(b"tarjama-outputs-1", build, target);
    d.put(
        format!(
            "{}\n{}\n{:?}",
            job.prepared.rel, job.prepared.src_lang, job.provenance
        )
        .as_bytes(),
    );
    for (p, o) in job.prepared.paragraphs.iter().zip(&job.outcomes) {
        d.put(format!("{}\n{:?}\n{}", p.index, p.kind, p.src_lang).as_bytes());
        d.put(p.source.as_bytes());
        match o {
            crate::align::Outcome::Translated {
                target,
                cached,
                reviewed,
            } => {
                d.put(format!("translated {cached} {reviewed}").as_bytes());
                d.put(target.as_bytes());
            }
            other => d.put(format!("{other:?}").as_bytes()),
        }
    }
    d.put(&(job.outcomes.len() as u64).to_le_bytes());
    d.hex()
}

/// Every file of `e` is on disk with the size and time it had.
fn files_unchanged(e: &Entry, out_dir: &Path) -> bool {
    !e.files.is_empty()
        && (e.files.iter())
            .all(|(rel, len, mtime)| stat(&out_dir.join(rel)).is_some_and(|s| s == (*len, *mtime)))
}

/// Size and modification time (ns since the epoch) of a regular file.
fn stat(path: &Path) -> Option<(u64, u128)> {
    let m = fs_err::metadata(path).ok()?;
    if !m.is_file() {
        return None;
    }
    let t = m.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some((m.len(), t.as_nanos()))
}
