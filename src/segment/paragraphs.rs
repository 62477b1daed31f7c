//! Paragraph boundaries: lines of a normalized document into paragraphs.
//!
//! The press texts we get come in two layouts, and the stage decides per document
//! which one it is looking at, because no single rule fits both:
//!
//! - **one line per paragraph** (most scraped articles): every non-blank line is a
//!   paragraph, blank lines or not. Joining anything here would glue headlines,
//!   captions and widgets onto body text.
//! - **hard-wrapped** (copied from PDFs, e-mails, fixed-width pages): most lines
//!   cluster just under a common width. A line that reaches that width and does not
//!   end a sentence is a fragment, so it is joined to the next non-blank line, even
//!   across blank lines (broken copies insert them mid-sentence). Short unpunctuated
//!   lines (headlines, mastheads) never reach the width, so they stay alone.
//!
//! Whitespace inside a paragraph is collapsed (NBSP runs included); nothing but
//! whitespace is ever removed, so every other character survives in order.

use super::sentences::{collapse_whitespace, ends_with_sentence_punct};

/// A paragraph before classification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Para {
    /// Text with whitespace collapsed and lines joined by one space.
    pub text: String,
    /// A source line had a wide gap (3+ whitespace characters) between words: a row
    /// of side-by-side labels (a UI bar), not prose.
    pub columns: bool,
}

/// A share of lines, as a fraction of all non-blank lines.
const WRAPPED_MIN_IN_BAND: f64 = 0.5;
/// Hard wraps have (almost) no line above their width.
const WRAPPED_MAX_OVERLONG: f64 = 0.05;
/// A line is wrap-length when at least this share of the wrap width.
const WRAP_LENGTH: f64 = 0.7;
/// Upper edge of the band of wrapped lines, and the start of "overlong".
const BAND_TOP: f64 = 1.15;
const OVERLONG: f64 = 1.25;
/// Too few lines say nothing about a layout.
const MIN_LINES_FOR_WRAP: usize = 3;

/// Cut a normalized document into paragraphs (see the module doc).
#[must_use]
pub fn split(text: &str) -> Vec<Para> {
    let lines: Vec<&str> = text.split('\n').filter(|l| !l.trim().is_empty()).collect();
    let wrap = wrap_width(&lines);
    let mut paras = Vec::new();
    let mut start = 0;
    for i in 0..lines.len() {
        let next = lines.get(i + 1);
        if !next.is_some_and(|n| wrap.is_some_and(|w| continues(lines[i], n, w))) {
            paras.push(make_para(&lines[start..=i]));
            start = i + 1;
        }
    }
    paras
}

/// The document's wrap width in characters when it is hard-wrapped, else `None`.
///
/// The width is the median length of the longer half of the lines; the document is
/// hard-wrapped when most lines sit in a band just under it and hardly any exceed it.
#[must_use]
pub fn wrap_width(lines: &[&str]) -> Option<usize> {
    if lines.len() < MIN_LINES_FOR_WRAP {
        return None;
    }
    let mut lens: Vec<usize> = lines.iter().map(|l| width(l)).collect();
    lens.sort_unstable();
    let upper = &lens[lens.len() / 2..];
    let w = upper[upper.len() / 2] as f64;
    let share = |pred: &dyn Fn(f64) -> bool| {
        lens.iter().filter(|&&l| pred(l as f64)).count() as f64 / lens.len() as f64
    };
    let in_band = share(&|l| l >= WRAP_LENGTH * w && l <= BAND_TOP * w);
    let overlong = share(&|l| l > OVERLONG * w);
    (in_band >= WRAPPED_MIN_IN_BAND && overlong <= WRAPPED_MAX_OVERLONG).then_some(w as usize)
}

/// In a hard-wrapped document, whether `line` runs on into `next`: it is
/// wrap-length, does not end a sentence, and is not a repeat of `next`.
fn continues(line: &str, next: &str, wrap: usize) -> bool {
    width(line) as f64 >= WRAP_LENGTH * wrap as f64
        && !ends_with_sentence_punct(line)
        && line.trim() != next.trim()
}

/// Characters in a trimmed line.
fn width(line: &str) -> usize {
    line.trim().chars().count()
}

fn make_para(lines: &[&str]) -> Para {
    Para {
        text: collapse_whitespace(&lines.join(" ")),
        columns: lines.iter().any(|l| has_wide_gap(l.trim())),
    }
}

/// Three or more whitespace characters in a row between words.
fn has_wide_gap(line: &str) -> bool {
    let mut run = 0;
    line.chars().any(|c| {
        run = if c.is_whitespace() { run + 1 } else { 0 };
        run >= 3
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &str) -> Vec<String> {
        split(t).into_iter().map(|p| p.text).collect()
    }

    #[test]
    fn one_line_per_paragraph_keeps_lines_apart() {
        assert_eq!(
            texts("a b\nc d\n\n\ne\u{a0}\u{a0} f\n"),
            ["a b", "c d", "e f"]
        );
        assert_eq!(texts("x\nx"), ["x", "x"]);
    }

    #[test]
    fn hard_wrapped_lines_join_across_blank_lines() {
        let w = ["word"; 12].join(" ");
        let v = ["more"; 12].join(" ");
        let doc = format!("Title here\n\n{w}\n\n{v}\nend.\n{w}.\n{w}\nlast.");
        let paras = texts(&doc);
        assert_eq!(paras.len(), 4, "{paras:?}");
        assert_eq!(paras[0], "Title here");
        assert!(paras[1].starts_with("word") && paras[1].ends_with("more end."));
        assert!(paras[2].ends_with("word."));
        assert!(paras[3].ends_with("last."));
    }

    #[test]
    fn wide_gaps_are_flagged() {
        assert!(split("a\u{a0} \u{a0}b")[0].columns);
        assert!(!split("a  b")[0].columns);
    }
}
