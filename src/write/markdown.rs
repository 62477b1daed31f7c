//! Markdown output: one readable file per document, rendered or as plain text.
//!
//! This module owns the Markdown layout and escaping. No tables: a title, a counts
//! line, then per paragraph a small `### ¶ n · kind` heading (numbered from 1), the
//! source as a blockquote and the translation as a plain paragraph, or an italic
//! note saying why there is none. A human correction says `reviewed` in its heading;
//! quality flags (for the reviewer's attention) and other flags follow the
//! translation on lines of their own. Document text is escaped so that nothing in an
//! article turns into markup, while ordinary prose stays readable as plain text.

use std::fmt::Write as _;

use super::Status;
use crate::model::{AlignedDoc, DocCounts, Flag, Row};

/// The Markdown file for one document.
#[must_use]
pub fn render(doc: &AlignedDoc) -> String {
    let mut out = String::new();
    header(&mut out, doc);
    for row in &doc.rows {
        render_row(&mut out, row, &doc.src_lang);
    }
    out
}

fn header(out: &mut String, doc: &AlignedDoc) {
    let c = DocCounts::of(doc);
    let _ = write!(
        out,
        "# {} ({} → {})\n\n\
         Provider: {} · paragraphs: {} · translated: {} · from cache: {} · skipped: {} · untranslated: {}\n\n\
         Paragraphs are numbered from 1 (JSONL `index` and TMX `tuid` are that number minus 1).\n",
        escape_inline(&doc.rel),
        escape_inline(&doc.src_lang),
        escape_inline(&doc.tgt_lang),
        escape_inline(&doc.provider),
        c.paragraphs,
        c.translated,
        c.from_cache,
        c.skipped,
        c.untranslated,
    );
}

fn render_row(out: &mut String, row: &Row, doc_lang: &str) {
    let _ = write!(out, "\n### ¶ {} · {}", row.index + 1, row.kind.as_str());
    if row.src_lang != doc_lang {
        let _ = write!(out, " · {}", escape_inline(&row.src_lang));
    }
    if row.cached {
        out.push_str(" · cached");
    }
    if row.flags.contains(&Flag::Reviewed) {
        out.push_str(" · reviewed");
    }
    out.push_str("\n\n");
    out.push_str(&blockquote(&row.source));
    out.push('\n');
    out.push_str(&translation(row));
}

/// `a, b`: the flags' names.
fn names(flags: &[Flag]) -> String {
    let names: Vec<&str> = flags.iter().map(|f| f.as_str()).collect();
    names.join(", ")
}

fn translation(row: &Row) -> String {
    match Status::of(row) {
        Status::Translated => {
            let mut s = paragraph(row.target.as_deref().unwrap_or_default());
            let (quality, other): (Vec<Flag>, Vec<Flag>) = (row.flags.iter().copied())
                .filter(|f| *f != Flag::Reviewed)
                .partition(|f| f.is_quality());
            if !quality.is_empty() {
                let _ = write!(s, "\n_check: {}_\n", escape_inline(&names(&quality)));
            }
            if !other.is_empty() {
                let _ = write!(s, "\n_flags: {}_\n", escape_inline(&names(&other)));
            }
            s
        }
        Status::NotSent(kind) => format!("_{}, not translated_\n", kind.as_str()),
        Status::SameLanguage => "_same language, not sent_\n".to_owned(),
        Status::Untranslated(r) if r.is_empty() => "_untranslated_\n".to_owned(),
        Status::Untranslated(r) => format!("_untranslated ({})_\n", escape_inline(&r)),
    }
}

/// Every line of `s` behind `> `, escaped. Blank lines stay inside the quote.
fn blockquote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for line in lines(s) {
        let line = escape_line(line);
        if line.is_empty() {
            out.push_str(">\n");
        } else {
            let _ = writeln!(out, "> {line}");
        }
    }
    out
}

/// `s` as a plain paragraph, escaped; runs of blank lines collapse to one.
fn paragraph(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    let mut blank = true;
    for line in lines(s) {
        let line = escape_line(line);
        if line.is_empty() && blank {
            continue;
        }
        blank = line.is_empty();
        out.push_str(&line);
        out.push('\n');
    }
    if out.is_empty() {
        out.push_str("_(empty)_\n");
    }
    out
}

/// Lines of `s` without surrounding whitespace; trailing blank lines dropped.
fn lines(s: &str) -> Vec<&str> {
    let mut v: Vec<&str> = s.lines().map(str::trim).collect();
    while v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    if v.is_empty() {
        v.push("");
    }
    v
}

/// One line of text escaped inline and at its start, so it stays a paragraph line.
#[must_use]
pub(crate) fn escape_line(line: &str) -> String {
    let escaped = escape_inline(line);
    let n = block_marker_len(&escaped);
    if n == 0 {
        return escaped;
    }
    let mut out = String::with_capacity(escaped.len() + 1);
    out.push_str(&escaped[..n - 1]);
    out.push('\\');
    out.push_str(&escaped[n - 1..]);
    out
}

/// If `line` starts with block markup, the byte length up to and including the
/// character to escape; else 0.
fn block_marker_len(line: &str) -> usize {
    let b = line.as_bytes();
    match b.first() {
        Some(b'#' | b'>' | b'-' | b'+' | b'=' | b'~') => 1,
        Some(b'0'..=b'9') => {
            let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
            match b.get(digits) {
                Some(b'.' | b')') if digits <= 9 => digits + 1,
                _ => 0,
            }
        }
        _ => 0,
    }
}

/// Escape characters that are markup anywhere in a line. `_` is escaped only where
/// it could start or end emphasis (not inside a word), `&` only where it could start
/// an entity, so file names and prose stay readable.
#[must_use]
pub(crate) fn escape_inline(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let next = chars.get(i + 1).copied();
        if needs_escape(c, prev, next) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn needs_escape(c: char, prev: Option<char>, next: Option<char>) -> bool {
    let alnum = |o: Option<char>| o.is_some_and(char::is_alphanumeric);
    match c {
        '\\' | '`' | '*' | '[' | ']' | '<' | '|' => true,
        '_' => !(alnum(prev) && alnum(next)),
        '&' => next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '#'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_markers_are_escaped() {
        assert_eq!(escape_line("# not a heading"), "\\# not a heading");
        assert_eq!(escape_line("> not a quote"), "\\> not a quote");
        assert_eq!(escape_line("- item"), "\\- item");
        assert_eq!(escape_line("* item"), "\\* item");
        assert_eq!(escape_line("12. item"), "12\\. item");
        assert_eq!(escape_line("3) item"), "3\\) item");
        assert_eq!(escape_line("2024 was"), "2024 was");
    }

    #[test]
    fn inline_markup_is_escaped_prose_is_not() {
        assert_eq!(escape_inline("000_2d74ac5e.txt"), "000_2d74ac5e.txt");
        assert_eq!(escape_inline("_x_ *y* `z`"), "\\_x\\_ \\*y\\* \\`z\\`");
        assert_eq!(escape_inline("<script>"), "\\<script>");
        assert_eq!(escape_inline("AT & T &amp;"), "AT & T \\&amp;");
        assert_eq!(escape_inline("روسيا تعترف"), "روسيا تعترف");
    }

    #[test]
    fn reviewed_and_quality_flags_are_shown() {
        let doc = AlignedDoc {
            rel: "a.txt".into(),
            src_lang: "ar".into(),
            tgt_lang: "en".into(),
            provider: "p".into(),
            rows: vec![Row {
                index: 0,
                kind: crate::model::Kind::Text,
                src_lang: "ar".into(),
                source: "قتل ١٢ شخصا".into(),
                target: Some("Killed 21 people".into()),
                cached: false,
                flags: vec![Flag::Reviewed, Flag::NumberMismatch],
                sentences: Vec::new(),
            }],
        };
        let md = render(&doc);
        assert!(md.contains("### ¶ 1 · text · reviewed\n"), "{md}");
        assert!(md.contains("\n_check: number_mismatch_\n"), "{md}");
        assert!(!md.contains("_flags:"), "{md}");
    }

    #[test]
    fn multi_line_quote_keeps_every_line_quoted() {
        assert_eq!(blockquote("a\n\n# b"), "> a\n>\n> \\# b\n");
    }
}
