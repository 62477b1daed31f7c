//! Walking INPUT paths into the list of files to read.
//!
//! This module owns which files a run sees: INPUT files are taken whatever their
//! extension; INPUT directories are walked recursively (following symlinks, sorted by
//! file name) for `.txt`, `.md`, `.html` and `.htm` files, skipping hidden entries and
//! the excluded directories. Problems become [`FileError`]s; a file reached twice
//! (same canonical path) is listed once.
//!
//! A walked `.html`/`.md` file that tarjama itself wrote is skipped, whatever the
//! `--out` of the run that wrote it: its first kilobyte is checked for our HTML
//! `generator` tag or our Markdown header. The pipeline already drops the current
//! `--out`'s files by name; this also covers the outputs of an earlier run into another
//! directory inside the INPUT (`--out docs/` once, `--out docs/out` later), which
//! would otherwise be translated as articles. A file named as an INPUT is always read.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use walkdir::{DirEntry, WalkDir};

use super::{Walk, io_message};
use crate::model::{FileError, InputFile, SourceFormat};

pub(super) fn collect(inputs: &[PathBuf], exclude: &[PathBuf]) -> Walk {
    let mut walker = Walker {
        exclude: exclude
            .iter()
            .filter_map(|p| fs_err::canonicalize(p).ok())
            .collect(),
        seen: HashSet::new(),
        walk: Walk::default(),
    };
    for input in inputs {
        walker.input(input);
    }
    walker.walk
}

/// The format of a file by extension (case-insensitive), `None` if not an input type.
pub(super) fn format_of(path: &Path) -> Option<SourceFormat> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "txt" => Some(SourceFormat::Text),
        "md" => Some(SourceFormat::Markdown),
        "html" | "htm" => Some(SourceFormat::Html),
        _ => None,
    }
}

/// Walk state across INPUTs.
struct Walker {
    /// Canonical paths of directories never to descend into.
    exclude: Vec<PathBuf>,
    /// Canonical paths of files already listed.
    seen: HashSet<PathBuf>,
    walk: Walk,
}

impl Walker {
    fn input(&mut self, input: &Path) {
        match fs_err::metadata(input) {
            Err(e) => self.error(input, io_message(&e)),
            Ok(meta) if meta.is_dir() => self.directory(input),
            Ok(_) => {
                let rel = input.file_name().map_or_else(
                    || input.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                let format = format_of(input).unwrap_or(SourceFormat::Text);
                self.push(input.to_path_buf(), rel, format);
            }
        }
    }

    fn directory(&mut self, input: &Path) {
        let mut entries = WalkDir::new(input)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !is_hidden(e));
        while let Some(entry) = entries.next() {
            match entry {
                Err(e) => self.walk_error(input, &e),
                Ok(e) if e.file_type().is_dir() => {
                    if self.is_excluded(e.path()) {
                        entries.skip_current_dir();
                    }
                }
                Ok(e) => {
                    let Some(format) = format_of(e.path()) else {
                        continue;
                    };
                    if format != SourceFormat::Text && is_our_output(e.path()) {
                        tracing::debug!(path = %e.path().display(), "our own output, skipped");
                        continue;
                    }
                    self.push(e.path().to_path_buf(), rel_path(input, e.path()), format);
                }
            }
        }
    }

    fn is_excluded(&self, dir: &Path) -> bool {
        !self.exclude.is_empty()
            && fs_err::canonicalize(dir).is_ok_and(|c| self.exclude.contains(&c))
    }

    fn push(&mut self, path: PathBuf, rel: String, format: SourceFormat) {
        let key = fs_err::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !self.seen.insert(key) {
            tracing::debug!(path = %path.display(), "already listed, read once");
            return;
        }
        self.walk.files.push(InputFile { path, rel, format });
    }

    fn walk_error(&mut self, input: &Path, err: &walkdir::Error) {
        let path = err.path().unwrap_or(input);
        let message = if let Some(ancestor) = err.loop_ancestor() {
            format!("symlink loop (back to {})", ancestor.display())
        } else if let Some(io) = err.io_error() {
            io_message(io)
        } else {
            err.to_string()
        };
        self.error(path, message);
    }

    fn error(&mut self, path: &Path, message: String) {
        let file = path.display().to_string();
        tracing::debug!(%file, %message, "input skipped");
        self.walk.errors.push(FileError { file, message });
    }
}

/// Whether an HTML or Markdown file was written by tarjama: the HTML pages carry
/// `<meta name="generator" content="tarjama …">` in their head, the Markdown files
/// open with `# <doc> (<from> → <to>)` and a `Provider: … · paragraphs: …` line.
/// Only the first kilobyte is read; an unreadable file is left for `read` to report.
fn is_our_output(path: &Path) -> bool {
    let mut head = Vec::with_capacity(1024);
    let read = fs_err::File::open(path).and_then(|f| f.take(1024).read_to_end(&mut head));
    if read.is_err() {
        return false;
    }
    let head = String::from_utf8_lossy(&head);
    if head.contains("<meta name=\"generator\" content=\"tarjama ") {
        return true;
    }
    let mut lines = head.lines();
    let title = lines.next().unwrap_or_default();
    title.starts_with("# ")
        && title.ends_with(')')
        && title.contains(" → ")
        && lines
            .nth(1)
            .is_some_and(|l| l.starts_with("Provider: ") && l.contains(" · paragraphs: "))
}

/// Hidden: the name starts with `.` (`.git`, `.DS_Store`, `.cache`).
fn is_hidden(entry: &DirEntry) -> bool {
    entry.file_name().to_string_lossy().starts_with('.')
}

/// `path` relative to `base`, with `/` separators.
fn rel_path(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}
