//! JSONL output: one JSON object per row, in document order.
//!
//! This module owns the JSONL record. Its fields and their order are a public
//! contract relied on by scripts: `doc, index, kind, src_lang, tgt_lang, source,
//! target, provider, cached, flags, sentences`. `sentences` (the paragraph's aligned
//! sentence pairs, `{source, target}`, empty when untranslated) is last, so that
//! the fields before it keep their places. Non-ASCII text is written as UTF-8, and every
//! line ends with one `\n`.

use serde::Serialize;

use crate::model::{AlignedDoc, Flag, Kind, Row, SentencePair};

/// One JSONL line, borrowing from the document. Field order is the wire order.
#[derive(Debug, Serialize)]
pub(crate) struct Record<'a> {
    /// The document's `rel`.
    pub doc: &'a str,
    /// 0-based position in the document.
    pub index: usize,
    /// Paragraph kind.
    pub kind: Kind,
    /// Language of the source paragraph.
    pub src_lang: &'a str,
    /// Target language.
    pub tgt_lang: &'a str,
    /// Source text.
    pub source: &'a str,
    /// Translation, `null` when untranslated.
    pub target: Option<&'a str>,
    /// The provider (config table name) that translated this row; the chain's first
    /// for a row without a machine translation.
    pub provider: &'a str,
    /// Served from the cache.
    pub cached: bool,
    /// Flags, see [`crate::model::flags`].
    pub flags: &'a [Flag],
    /// The paragraph's sentences aligned with the translation's, in order.
    pub sentences: &'a [SentencePair],
}

impl<'a> Record<'a> {
    /// The record for `row` of `doc`.
    #[must_use]
    pub(crate) fn new(doc: &'a AlignedDoc, row: &'a Row) -> Self {
        Record {
            doc: &doc.rel,
            index: row.index,
            kind: row.kind,
            src_lang: &row.src_lang,
            tgt_lang: &doc.tgt_lang,
            source: &row.source,
            target: row.target.as_deref(),
            provider: doc.provider.of_row(row.index),
            cached: row.cached,
            flags: &row.flags,
            sentences: &row.sentences,
        }
    }
}

/// The JSONL file for one document.
#[must_use]
pub fn render(doc: &AlignedDoc) -> String {
    let mut out = String::new();
    for row in &doc.rows {
        // A struct of strings, numbers and bools always serializes.
        if let Ok(line) = serde_json::to_string(&Record::new(doc, row)) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}
