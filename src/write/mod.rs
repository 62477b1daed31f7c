//! Write: aligned documents to files.
//!
//! Stub: signatures only.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::model::{AlignedDoc, DocCounts, RunReport};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Side-by-side HTML page.
    Html,
    /// Markdown.
    Md,
    /// TMX 1.4b.
    Tmx,
    /// JSON Lines.
    Jsonl,
}

impl Format {
    /// Every format, the default.
    pub const ALL: [Format; 4] = [Format::Html, Format::Md, Format::Tmx, Format::Jsonl];

    /// File extension.
    #[must_use]
    pub fn ext(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Md => "md",
            Format::Tmx => "tmx",
            Format::Jsonl => "jsonl",
        }
    }

    /// Parse `html,md,tmx,jsonl` (any subset, any order).
    ///
    /// # Errors
    /// An unknown name.
    pub fn parse_list(s: &str) -> std::result::Result<Vec<Format>, String> {
        let _ = s;
        todo!()
    }
}

/// Where a document's output goes: `<out>/<rel dir>/<stem>.<to>.<ext>`, never outside
/// `out_dir`.
#[must_use]
pub fn output_path(out_dir: &Path, rel: &str, to: &str, ext: &str) -> PathBuf {
    let _ = (out_dir, rel, to, ext);
    todo!()
}

/// Write one document in each format; returns the files written.
///
/// # Errors
/// A file cannot be written.
pub fn write_document(
    out_dir: &Path,
    doc: &AlignedDoc,
    formats: &[Format],
) -> Result<Vec<PathBuf>> {
    let _ = (out_dir, doc, formats);
    todo!()
}

/// Write `index.html` listing every document.
///
/// # Errors
/// The file cannot be written.
pub fn write_index(
    out_dir: &Path,
    docs: &[DocCounts],
    to: &str,
    formats: &[Format],
) -> Result<PathBuf> {
    let _ = (out_dir, docs, to, formats);
    todo!()
}

/// Write `report.json`.
///
/// # Errors
/// The file cannot be written.
pub fn write_report(out_dir: &Path, report: &RunReport) -> Result<PathBuf> {
    let _ = (out_dir, report);
    todo!()
}
