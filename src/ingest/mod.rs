//! Ingest: paths in, normalized UTF-8 documents out.
//!
//! [`collect`] walks the INPUTs (files and directories, recursively; `.txt`, `.md`,
//! `.html`, `.htm`; hidden files skipped; symlink loops and unreadable entries
//! reported, not fatal; paths under `exclude` — the output and cache directories —
//! never read back). [`read`] turns one file into a [`SourceDoc`]: bytes are decoded
//! ([`decode`]), HTML is reduced to the article body's text ([`html`]), and the text is
//! normalized ([`normalize`]). Every problem is a one-line [`FileError`] naming the
//! file; nothing here stops the run.

pub mod decode;
pub mod html;
pub mod normalize;
mod walk;

use std::io;
use std::path::PathBuf;

use crate::model::{FileError, InputFile, SourceDoc, SourceFormat};

/// What a walk found: the files to read, and the entries it could not use.
#[derive(Debug, Default)]
pub struct Walk {
    /// Files to read, in a stable order (sorted by path within each INPUT).
    pub files: Vec<InputFile>,
    /// Entries that could not be used (missing INPUT, symlink loop, unreadable dir).
    pub errors: Vec<FileError>,
}

/// Walk the INPUTs. `exclude` lists directories never to read from (the output and
/// cache directories), so a run whose `--out` is inside an INPUT does not translate its
/// own outputs.
#[must_use]
pub fn collect(inputs: &[PathBuf], exclude: &[PathBuf]) -> Walk {
    walk::collect(inputs, exclude)
}

/// Read, decode and normalize one file.
///
/// HTML is reduced to its article text first. Its `&` characters are escaped again
/// before [`normalize::normalize`] (which decodes entities for plain text), so an
/// entity the page itself escaped (`&amp;lt;`) is not decoded twice.
///
/// # Errors
/// The file cannot be read, is not text, or cannot be decoded: a one-line
/// [`FileError`] naming the file as given (`"empty file"`,
/// `"not a text file (PNG image)"`, `"cannot read: permission denied"`).
pub fn read(file: &InputFile) -> Result<SourceDoc, FileError> {
    let error = |message: String| FileError {
        file: file.path.display().to_string(),
        message,
    };
    let bytes =
        fs_err::read(&file.path).map_err(|e| error(format!("cannot read: {}", io_message(&e))))?;
    let (text, encoding) = decode::decode(&bytes).map_err(|e| error(e.to_string()))?;
    let text = match file.format {
        SourceFormat::Html => html::extract_text(&text).replace('&', "&amp;"),
        SourceFormat::Text | SourceFormat::Markdown => text,
    };
    Ok(SourceDoc {
        rel: file.rel.clone(),
        path: file.path.clone(),
        encoding,
        text: normalize::normalize(&text),
    })
}

/// A one-line, lower-case description of an I/O error without the path (the caller
/// names the file): `"no such file or directory"`, `"permission denied"`.
fn io_message(err: &io::Error) -> String {
    let fixed = match err.kind() {
        io::ErrorKind::NotFound => "no such file or directory",
        io::ErrorKind::PermissionDenied => "permission denied",
        io::ErrorKind::IsADirectory => "is a directory",
        io::ErrorKind::NotADirectory => "not a directory",
        io::ErrorKind::InvalidFilename => "invalid file name",
        _ => return os_message(err),
    };
    fixed.to_owned()
}

/// The innermost error's text, without fs_err's path and std's "(os error N)".
fn os_message(err: &io::Error) -> String {
    let mut source: &dyn std::error::Error = err;
    while let Some(inner) = source.source() {
        source = inner;
    }
    let text = source.to_string();
    let text = text.split(" (os error").next().unwrap_or_default();
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_lowercase().chain(chars).collect()
    })
}
