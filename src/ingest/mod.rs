//! Ingest: paths in, normalized UTF-8 documents out.
//!
//! [`collect`] walks the INPUTs (files and directories, recursively; `.txt`, `.md`,
//! `.html`, `.htm`; hidden files skipped; symlink loops and unreadable entries
//! reported, not fatal; paths under `exclude` — the output and cache directories —
//! never read back). [`read`] turns one file into a [`SourceDoc`]: bytes are decoded
//! ([`decode`]), HTML is reduced to the article body's text ([`html`]), the text is
//! normalized ([`normalize`]), and a Persian document gets Persian spelling
//! ([`persian`]: Persian yeh and kaf, zero-width non-joiners restored) before it is
//! segmented, detected and sent. Every problem is a one-line [`FileError`] naming the
//! file; nothing here stops the run.
//!
//! Memory is bounded per file: a file larger than [`MAX_FILE_BYTES`] is refused from
//! its metadata, before a byte of it is read, and the read itself stops one byte past
//! the limit (a file that grows while we read it). Anything but a regular file (a
//! FIFO, which would block the run forever, a socket, a device) is refused too.

pub mod decode;
pub mod html;
pub mod normalize;
pub mod persian;
mod walk;

use std::io::{self, Read};
use std::path::{Path, PathBuf};

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

/// The largest input file read, in bytes (16 MiB). A press article is a few tens of
/// kilobytes and a scraped page with its scripts a few megabytes; anything larger is
/// a dump, an archive or a mistake, and is refused without being read, so one file
/// can never exhaust memory.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Read, decode and normalize one file.
///
/// HTML is reduced to its article text first. Its `&` characters are escaped again
/// before [`normalize::normalize`] (which decodes entities for plain text), so an
/// entity the page itself escaped (`&amp;lt;`) is not decoded twice.
///
/// # Errors
/// The file cannot be read, is not text, or cannot be decoded: a one-line
/// [`FileError`] naming the file as given (`"empty file"`,
/// `"not a text file (PNG image)"`, `"cannot read: permission denied"`,
/// `"too large (200.0 MiB; the limit is 16 MiB)"`). Malformed byte sequences replaced
/// while decoding are a warning naming the file, not an error.
pub fn read(file: &InputFile) -> Result<SourceDoc, FileError> {
    let error = |message: String| FileError {
        file: file.path.display().to_string(),
        message,
    };
    let bytes = read_bounded(&file.path, MAX_FILE_BYTES).map_err(error)?;
    read_from_bytes(file, &bytes)
}

/// [`read`] of `file` whose bytes were already read (within the size limit): the
/// same decoding, the same errors and warnings.
///
/// # Errors
/// The bytes are not text or cannot be decoded, as for [`read`].
pub fn read_from_bytes(file: &InputFile, bytes: &[u8]) -> Result<SourceDoc, FileError> {
    let decoded = read_bytes(bytes, file.format).map_err(|e| FileError {
        file: file.path.display().to_string(),
        message: e.to_string(),
    })?;
    if decoded.replaced > 0 {
        tracing::warn!(
            "{}: {} malformed byte sequence(s) replaced by U+FFFD (read as {})",
            file.path.display(),
            decoded.replaced,
            decoded.encoding
        );
    }
    if decoded.nuls > 0 {
        let nuls = decoded.nuls;
        tracing::warn!("{}: {nuls} NUL byte(s) dropped", file.path.display());
    }
    Ok(SourceDoc {
        rel: file.rel.clone(),
        path: file.path.clone(),
        encoding: decoded.encoding,
        text: decoded.text,
    })
}

/// The in-memory part of [`read`]: decode `bytes`, reduce HTML to its article text,
/// normalize. The returned text is normalized; the counts are the decoder's.
///
/// # Errors
/// The bytes are empty or not text.
pub fn read_bytes(
    bytes: &[u8],
    format: SourceFormat,
) -> Result<decode::Decoded, decode::DecodeError> {
    let decoded = decode::decode_counted(bytes)?;
    let text = match format {
        SourceFormat::Html => html::extract_text(&decoded.text).replace('&', "&amp;"),
        SourceFormat::Text | SourceFormat::Markdown => decoded.text,
    };
    let text = normalize::normalize(&text);
    let text = match persian::respell_document(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(respelled) => respelled,
    };
    Ok(decode::Decoded { text, ..decoded })
}

/// The bytes of a regular file of at most `limit` bytes. The type and size are
/// checked on the metadata before the file is opened (opening a FIFO would block),
/// and the read stops one byte past `limit`.
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let cannot = |e: &io::Error| format!("cannot read: {}", io_message(e));
    let meta = fs_err::metadata(path).map_err(|e| cannot(&e))?;
    if meta.is_dir() {
        return Err("cannot read: is a directory".to_owned());
    }
    if !meta.is_file() {
        return Err(format!("not a regular file ({})", file_type_name(&meta)));
    }
    if meta.len() > limit {
        return Err(too_large(meta.len(), limit, false));
    }
    let f = fs_err::File::open(path).map_err(|e| cannot(&e))?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    f.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(&e))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64, limit, true));
    }
    Ok(bytes)
}

/// `"too large (200.0 MiB; the limit is 16 MiB)"`; "more than" when the file `grew`
/// past the limit while being read (the read stopped there).
fn too_large(size: u64, limit: u64, grew: bool) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    let more = if grew { "more than " } else { "" };
    #[expect(clippy::cast_precision_loss, reason = "a size shown to one decimal")]
    let (size, limit) = (size as f64 / MIB, limit as f64 / MIB);
    format!("too large ({more}{size:.1} MiB; the limit is {limit} MiB)")
}

/// What a non-regular file is, for the error message.
#[cfg_attr(
    not(unix),
    expect(unused_variables, reason = "file types are unix-only")
)]
fn file_type_name(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    "a special file"
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
