//! Write: aligned documents to files.
//!
//! This module owns everything that leaves the program as a file: the output path
//! of each document (mirroring its `rel`, never leaving the output directory), the
//! atomic write (temp file in the same directory, then rename), and the dispatch to
//! one renderer per [`Format`]: [`html`], [`markdown`], [`tmx`], [`jsonl`], [`xliff`], plus the
//! run-level [`index`] page and [`report`] file, and the review pages' shared
//! script and style ([`assets`]).
//!
//! A document's output whose bytes would not change is not rewritten: a rerun of an
//! unchanged corpus leaves its files (and their modification times) alone, while a
//! file a user deleted or edited is written again. Comparing with what is on disk
//! (a size check, then the bytes) rather than trusting a record of past runs keeps
//! that true whatever happened to the files in between.
//!
//! Numbering: machine-facing outputs (JSONL `index`, TMX `tuid`, XLIFF ids) are 0-based;
//! human-facing outputs (HTML, Markdown) number paragraphs from 1 and say so.

pub mod assets;
pub mod html;
pub mod index;
pub mod jsonl;
pub mod markdown;
pub mod report;
pub mod tmx;
pub mod xliff;

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::model::{AlignedDoc, DocCounts, Flag, Kind, Row, RunReport};

/// An output format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Side-by-side HTML page.
    Html,
    /// Markdown.
    Md,
    /// TMX 1.4b.
    Tmx,
    /// JSON Lines.
    Jsonl,
    /// XLIFF 2.0.
    Xliff,
}

impl Format {
    /// Every format, the default.
    pub const ALL: [Format; 5] = [
        Format::Html,
        Format::Md,
        Format::Tmx,
        Format::Jsonl,
        Format::Xliff,
    ];

    /// File extension.
    #[must_use]
    pub fn ext(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Md => "md",
            Format::Tmx => "tmx",
            Format::Jsonl => "jsonl",
            Format::Xliff => "xliff",
        }
    }

    /// The format named `name` (its extension, any case, surrounding space ignored).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Format> {
        let name = name.trim();
        Format::ALL
            .into_iter()
            .find(|f| f.ext().eq_ignore_ascii_case(name))
    }

    /// Parse `html,md,tmx,jsonl,xliff` (any subset, any order).
    ///
    /// Names are case-insensitive and may be surrounded by spaces; duplicates are
    /// dropped and the result follows the order of [`Format::ALL`].
    ///
    /// # Errors
    /// An unknown name, or no name at all.
    pub fn parse_list(s: &str) -> std::result::Result<Vec<Format>, FormatError> {
        let mut given = Vec::new();
        for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            given.push(
                Format::from_name(name).ok_or_else(|| FormatError::Unknown(name.to_string()))?,
            );
        }
        let list = Format::in_order(&given);
        if list.is_empty() {
            return Err(FormatError::None);
        }
        Ok(list)
    }

    /// `given` without duplicates, in the order of [`Format::ALL`].
    #[must_use]
    pub(crate) fn in_order(given: &[Format]) -> Vec<Format> {
        Format::ALL
            .into_iter()
            .filter(|f| given.contains(f))
            .collect()
    }

    /// `html, md, tmx, jsonl, xliff`.
    fn names() -> String {
        Format::ALL.map(Format::ext).join(", ")
    }
}

/// Why a list of formats cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// A name that is no format.
    #[error("unknown format `{0}`; expected any of {names}", names = Format::names())]
    Unknown(String),
    /// An empty list.
    #[error("no output format given; expected any of {names}", names = Format::names())]
    None,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.ext())
    }
}

/// Where a document's output goes: `<out>/<rel dir>/<stem>.<to>.<ext>`, never outside
/// `out_dir`.
///
/// `.`, `..`, empty components, a root and a drive prefix (`C:`) are dropped from
/// `rel`; both `/` and `\` separate components; control characters become `_`.
#[must_use]
pub fn output_path(out_dir: &Path, rel: &str, to: &str, ext: &str) -> PathBuf {
    let mut path = out_dir.to_path_buf();
    path.extend(output_rel(rel, to, ext));
    path
}

/// The components of a document's output path below the output directory: the
/// sanitized directories of `rel`, then `<stem>.<to>.<ext>`.
#[must_use]
pub(crate) fn output_rel(rel: &str, to: &str, ext: &str) -> Vec<String> {
    let mut parts = safe_components(rel);
    let file = parts.pop().unwrap_or_else(|| "document".to_owned());
    let to = safe_tag(to);
    let ext = safe_tag(ext);
    parts.push(format!("{}.{to}.{ext}", file_stem(&file)));
    parts
}

/// `rel` split on `/` and `\`, without components that could climb out or anchor.
fn safe_components(rel: &str) -> Vec<String> {
    rel.split(['/', '\\'])
        .enumerate()
        .map(|(i, c)| if i == 0 { strip_drive(c) } else { c })
        .filter(|c| !matches!(*c, "" | "." | ".."))
        .map(|c| {
            c.chars()
                .map(|ch| if ch.is_control() { '_' } else { ch })
                .collect()
        })
        .collect()
}

/// `C:foo` → `foo` (a Windows drive prefix).
fn strip_drive(c: &str) -> &str {
    let b = c.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        &c[2..]
    } else {
        c
    }
}

/// A language tag or extension reduced to `[A-Za-z0-9_-]`, never empty.
fn safe_tag(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() { "_".to_owned() } else { t }
}

/// The file name without its last extension; a leading dot is not an extension.
fn file_stem(name: &str) -> &str {
    match name.rfind('.') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    }
}

/// Choices that change what a format writes (flags such as `--tmx-unit`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// What one TMX translation unit holds.
    pub tmx_unit: tmx::Unit,
}

/// Write one document in each format with the default [`WriteOptions`]; returns the
/// files written.
///
/// # Errors
/// A file cannot be written.
pub fn write_document(
    out_dir: &Path,
    doc: &AlignedDoc,
    formats: &[Format],
) -> Result<Vec<PathBuf>> {
    write_document_with(out_dir, doc, formats, WriteOptions::default())
}

/// Write one document in each format; returns its files (those whose bytes did not
/// change are left as they were). With HTML, the review pages' shared files are
/// written at the top of `out_dir` once per run.
///
/// # Errors
/// A file cannot be written.
pub(crate) fn write_document_with(
    out_dir: &Path,
    doc: &AlignedDoc,
    formats: &[Format],
    opts: WriteOptions,
) -> Result<Vec<PathBuf>> {
    if formats.contains(&Format::Html) {
        review_files_once(out_dir)?;
    }
    let mut written = Vec::with_capacity(formats.len());
    for &format in formats {
        let path = output_path(out_dir, &doc.rel, &doc.tgt_lang, format.ext());
        let bytes = render_with(doc, format, opts).map_err(|e| output_error(&path, e))?;
        write_if_changed(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

/// [`assets::write_review_files`] for `out_dir`, the first time this process writes
/// a page there.
fn review_files_once(out_dir: &Path) -> Result<()> {
    static DONE: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let mut done = DONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let done = done.get_or_insert_with(HashSet::new);
    if done.contains(out_dir) {
        return Ok(());
    }
    assets::write_review_files(out_dir)?;
    done.insert(out_dir.to_path_buf());
    Ok(())
}

/// Write `bytes` to `path` ([`write_atomic`]) unless the file already holds exactly
/// these bytes; `true` when it was written.
///
/// # Errors
/// The file cannot be written.
pub(crate) fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool> {
    if holds(path, bytes) {
        return Ok(false);
    }
    write_atomic(path, bytes)?;
    Ok(true)
}

/// Whether `path` is a regular file holding exactly `bytes` (any error: no).
fn holds(path: &Path, bytes: &[u8]) -> bool {
    let same_size =
        fs_err::metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64);
    same_size && fs_err::read(path).is_ok_and(|old| old == bytes)
}

/// A document rendered in one format, exactly as it is written to disk.
///
/// # Errors
/// Only if the XML writer fails, which writing to memory does not.
pub fn render(doc: &AlignedDoc, format: Format) -> std::io::Result<Vec<u8>> {
    render_with(doc, format, WriteOptions::default())
}

/// A document rendered in one format with `opts`, exactly as it is written to disk.
///
/// # Errors
/// Only if the XML writer fails, which writing to memory does not.
pub fn render_with(
    doc: &AlignedDoc,
    format: Format,
    opts: WriteOptions,
) -> std::io::Result<Vec<u8>> {
    Ok(match format {
        Format::Html => html::render(doc).into_bytes(),
        Format::Md => markdown::render(doc).into_bytes(),
        Format::Tmx => tmx::render_units(doc, opts.tmx_unit)?,
        Format::Jsonl => jsonl::render(doc).into_bytes(),
        Format::Xliff => xliff::render(doc)?,
    })
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
    let path = out_dir.join("index.html");
    write_if_changed(&path, index::render(docs, to, formats).as_bytes())?;
    Ok(path)
}

/// Write `report.json`.
///
/// # Errors
/// The file cannot be written.
pub fn write_report(out_dir: &Path, report: &RunReport) -> Result<PathBuf> {
    let path = out_dir.join("report.json");
    let text = report::render(report).map_err(|e| output_error(&path, e))?;
    write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// Write `bytes` to `path` atomically: a temp file in the same directory, then
/// renamed over `path`. Parent directories are created. On any
/// failure the temp file is removed and `path` is left as it was.
///
/// # Errors
/// The directory cannot be created or the file written or renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs_err::create_dir_all(dir).map_err(|e| output_error(dir, e))?;
    let mut tmp = temp_builder()
        .tempfile_in(dir)
        .map_err(|e| output_error(path, e))?;
    // No fsync: the rename alone makes a killed run leave either the old file or the
    // new one, never half of one; outputs are rebuilt from the cache in a moment, so
    // paying a disk flush per file (tens of thousands in a large run) buys nothing.
    tmp.write_all(bytes).map_err(|e| output_error(path, e))?;
    tmp.persist(path).map_err(|e| output_error(path, e.error))?;
    Ok(())
}

/// Temp files are named `.tarjama-*.tmp` (recognisable if a crash leaves one) and
/// created with ordinary permissions (umask applies), not tempfile's private 0600.
fn temp_builder() -> tempfile::Builder<'static, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(".tarjama-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b
}

/// The file system's error kept as the cause; a full disk said on the error line
/// itself, told by the error's kind.
fn output_error(path: &Path, e: impl Into<std::io::Error>) -> Error {
    let e = e.into();
    let what = match e.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            "cannot write it: the disk is full"
        }
        _ => "cannot write it",
    };
    Error::output(path, what, Some(Box::new(e)))
}

/// What became of a row, as every human-facing format shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Has a translation.
    Translated,
    /// Boilerplate or duplicate: kept, not sent.
    NotSent(Kind),
    /// Already in the target language: not sent.
    SameLanguage,
    /// Content left without a translation; the reason from its flags (may be empty).
    Untranslated(String),
}

impl Status {
    /// Classify a row.
    #[must_use]
    pub fn of(row: &Row) -> Status {
        if row.target.is_some() {
            Status::Translated
        } else if !row.kind.is_content() {
            Status::NotSent(row.kind)
        } else if has_flag(row, Flag::SameLanguage) {
            Status::SameLanguage
        } else {
            Status::Untranslated(reason(row))
        }
    }
}

fn has_flag(row: &Row, flag: Flag) -> bool {
    row.flags.contains(&flag)
}

/// The row's flags joined with `, `, leaving out `not_sent`.
fn reason(row: &Row) -> String {
    let reasons: Vec<&str> = row
        .flags
        .iter()
        .filter(|f| **f != Flag::NotSent)
        .map(|f| f.as_str())
        .collect();
    reasons.join(", ")
}

/// Whether text in `lang` (an ISO 639 code, maybe with a region) is written right
/// to left.
#[must_use]
pub(crate) fn is_rtl(lang: &str) -> bool {
    let primary = lang.split(['-', '_']).next().unwrap_or("");
    const RTL: [&str; 14] = [
        "ar", "fa", "ur", "he", "iw", "ps", "yi", "ckb", "sd", "ug", "dv", "syr", "prs", "ku",
    ];
    RTL.iter().any(|r| r.eq_ignore_ascii_case(primary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_list_orders_and_dedupes() {
        let got = Format::parse_list(" JSONL , html,md ,html ").unwrap();
        assert_eq!(got, vec![Format::Html, Format::Md, Format::Jsonl]);
        assert_eq!(
            Format::parse_list("html,md,tmx,jsonl,xliff").unwrap(),
            Format::ALL.to_vec()
        );
    }

    #[test]
    fn parse_list_rejects_unknown_and_empty() {
        assert_eq!(
            Format::parse_list("html,pdf").unwrap_err().to_string(),
            "unknown format `pdf`; expected any of html, md, tmx, jsonl, xliff"
        );
        assert!(Format::parse_list("").is_err());
        assert!(Format::parse_list(" , ").is_err());
    }

    #[test]
    fn output_rel_mirrors_and_sanitizes() {
        assert_eq!(
            output_rel("a/b/x.html", "en", "html"),
            ["a", "b", "x.en.html"]
        );
        assert_eq!(
            output_rel("../../etc/passwd", "en", "md"),
            ["etc", "passwd.en.md"]
        );
        assert_eq!(output_rel("/abs/x.txt", "en", "md"), ["abs", "x.en.md"]);
        assert_eq!(output_rel("C:\\d\\x.txt", "en", "md"), ["d", "x.en.md"]);
        assert_eq!(output_rel("..", "en", "md"), ["document.en.md"]);
        assert_eq!(output_rel(".hidden", "../en", "md"), [".hidden.___en.md"]);
        assert_eq!(output_rel("a\u{0}b.txt", "en", "md"), ["a_b.en.md"]);
    }

    #[test]
    fn rtl_languages() {
        assert!(is_rtl("ar") && is_rtl("fa") && is_rtl("ar-EG"));
        assert!(!is_rtl("en") && !is_rtl("und") && !is_rtl(""));
    }
}
