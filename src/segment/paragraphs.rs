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
//! In either layout a line that does not end a sentence is also joined to the line
//! after it when the break is plainly inside a sentence (across a blank line, only
//! when the line ends with a word that cannot end a sentence): the next line opens with clause punctuation (`،` `,` `؛` `)`) or with a
//! lowercase Latin word inside Arabic-script text (`paragraph است.`), the line ends
//! with clause punctuation or a word that cannot end a sentence (a preposition or
//! conjunction: `في`, `من`, `و`, `از`, `به`, `که` …), or the line is at least 0.6
//! times as wide as the document's body lines (the median width of its lines that
//! end a sentence), which headings, captions and menus are not. This last test holds
//! only in a document that ends its sentences with punctuation: in verse every line
//! goes without. Never joined:
//! a line ending with `. ! ? ؟ … ۔ :`, a heading (`#`), a table row (`|`), a list item
//! (`-`, `*`, `•`, `1.`), a line ending with a photo credit, a line without words
//! (`});`), and Markdown markup.
//!
//! **Markdown markup** is kept in one paragraph per block and flagged, so that
//! classification marks it as not to be sent: front matter (`---` … `---` at the
//! top), fenced code blocks with their info strings (```` ```js header="…" ````, `~~~`),
//! lines of HTML tags with no text outside them (`<p align="center">`, `</div>`, a
//! comment; text between such lines is text), lines of images only (badges), lists
//! of links into the page (a table of contents) and git merge-conflict markers (`<<<<<<<`, `|||||||`, `=======`,
//! `>>>>>>>`).
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
    /// Markdown markup (front matter, a fenced code block, an HTML block, a merge
    /// conflict marker): kept, never sent.
    pub markup: bool,
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
/// A line at least this share of the document's long-line width runs on into the
/// line right after it when it does not end a sentence.
const RUN_ON_LENGTH: f64 = 0.6;
/// Share of long lines ending a sentence for a document to count as punctuated.
const PUNCTUATED_SHARE: f64 = 0.3;
/// Front matter is short.
const FRONT_MATTER_MAX_LINES: usize = 60;

/// Words that cannot end a sentence: a line ending with one breaks a sentence.
const OPEN_WORDS: &[&str] = &[
    "و", "في", "من", "إلى", "الى", "على", "عن", "أن", "إن", "مع", "ثم", "أو", "الذي", "التي",
    "لكن", "بين", "حتى", "منذ", "قد", "لم", "لن", "ب", "در", "از", "به", "با", "که", "را", "برای",
    "یا", "تا", "اگر", "این", "آن", "بر", "چون", "اما", "the", "a", "an", "of", "to", "and", "or",
    "in", "on", "for", "with", "by", "from", "that",
];

/// One line of the document, classified for the joiner.
struct Line<'a> {
    text: &'a str,
    /// Blank lines before it.
    after_blank: bool,
    /// Part of a Markdown markup block (the block number).
    markup: Option<usize>,
}

/// Cut a normalized document into paragraphs (see the module doc).
#[must_use]
pub fn split(text: &str) -> Vec<Para> {
    let lines = lines(text);
    let plain: Vec<&str> = lines
        .iter()
        .filter(|l| l.markup.is_none())
        .map(|l| l.text)
        .collect();
    let wrap = wrap_width(&plain);
    let long = if uses_final_punctuation(&plain) {
        body_width(&plain)
    } else {
        usize::MAX // verse, lists: an unpunctuated line says nothing
    };
    let mut paras = Vec::new();
    let mut start = 0;
    for i in 0..lines.len() {
        let joined = match (lines[i].markup, lines.get(i + 1)) {
            (Some(block), Some(next)) => next.markup == Some(block),
            (None, Some(next)) if next.markup.is_none() => continues(&lines[i], next, wrap, long),
            _ => false,
        };
        if !joined {
            paras.push(make_para(&lines[start..=i]));
            start = i + 1;
        }
    }
    paras
}

/// The non-blank lines, with blank-line and Markdown markup information.
fn lines(text: &str) -> Vec<Line<'_>> {
    let raw: Vec<&str> = text.split('\n').collect();
    let blocks = markup_blocks(&raw);
    let mut out = Vec::new();
    let mut after_blank = false;
    for (i, line) in raw.iter().enumerate() {
        if line.trim().is_empty() && blocks[i].is_none() {
            after_blank = true;
            continue;
        }
        if line.trim().is_empty() {
            continue; // a blank line inside a code block
        }
        out.push(Line {
            text: line,
            after_blank: std::mem::take(&mut after_blank),
            markup: blocks[i],
        });
    }
    out
}

/// For each raw line, the Markdown markup block it belongs to, if any.
fn markup_blocks(raw: &[&str]) -> Vec<Option<usize>> {
    let mut blocks = vec![None; raw.len()];
    let mut block = 0;
    let mut i = 0;
    // Front matter: `---` on the first line, closed by `---` or `...`.
    if raw.first().is_some_and(|l| l.trim_end() == "---")
        && let Some(end) = raw
            .iter()
            .take(FRONT_MATTER_MAX_LINES)
            .skip(1)
            .position(|l| matches!(l.trim_end(), "---" | "..."))
    {
        blocks[..=end + 1].fill(Some(block));
        block += 1;
        i = end + 2;
    }
    while i < raw.len() {
        let line = raw[i];
        if let Some(fence) = fence_of(line) {
            let close = raw[i + 1..]
                .iter()
                .position(|l| {
                    l.trim_start().starts_with(fence)
                        && l.trim()
                            .trim_start_matches(fence.chars().next().unwrap_or('`'))
                            .is_empty()
                })
                .map_or(raw.len() - 1, |p| i + 1 + p);
            blocks[i..=close].fill(Some(block));
            block += 1;
            i = close + 1;
        } else if is_conflict_marker(line) {
            blocks[i] = Some(block);
            block += 1;
            i += 1;
        } else if is_markup_line(line) {
            // Lines of tags only (and in-page link lists), in a row: one block.
            let end = raw[i..]
                .iter()
                .position(|l| !is_markup_line(l))
                .map_or(raw.len(), |p| i + p);
            blocks[i..end].fill(Some(block));
            block += 1;
            i = end;
        } else {
            i += 1;
        }
    }
    blocks
}

/// The fence (```` ``` ```` or `~~~`, three or more) opening a code block, if `line`
/// opens one (up to three spaces of indentation, any info string after it).
fn fence_of(line: &str) -> Option<&'static str> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let t = line.trim_start_matches(' ');
    if indent > 3 {
        return None;
    }
    if t.starts_with("```") {
        Some("```")
    } else if t.starts_with("~~~") {
        Some("~~~")
    } else {
        None
    }
}

/// A git merge-conflict marker line.
fn is_conflict_marker(line: &str) -> bool {
    let t = line.trim_end();
    t == "======="
        || ["<<<<<<<", ">>>>>>>", "|||||||"]
            .iter()
            .any(|m| t == *m || t.strip_prefix(m).is_some_and(|r| r.starts_with(' ')))
}

/// Markup on a line of its own: HTML tags and comments with no text outside them
/// (`<p align="center">`, `<img …>`, `</div>`, `<!-- termynal -->`), or a list item
/// that is only a link into the page (a table of contents: `- [نصب](#نصب)`).
fn is_markup_line(line: &str) -> bool {
    let t = line.trim();
    if t.starts_with('<') && t.ends_with('>') {
        let mut depth = 0usize;
        let outside: String = t
            .chars()
            .filter(|&c| match c {
                '<' => {
                    depth += 1;
                    false
                }
                '>' => {
                    depth = depth.saturating_sub(1);
                    false
                }
                _ => depth == 0,
            })
            .collect();
        let opens_tag = t[1..]
            .trim_start_matches(['/', '!'])
            .starts_with(|c: char| c.is_ascii_alphabetic() || c == '-');
        return opens_tag && !outside.chars().any(char::is_alphanumeric);
    }
    if t.starts_with("![") || t.starts_with("[![") {
        return only_images(t);
    }
    let item = t
        .strip_prefix(['-', '*', '+'])
        .map(str::trim_start)
        .unwrap_or_default();
    item.starts_with('[')
        && item.ends_with(')')
        && item.contains("](#")
        && item.matches("](").count() == 1
}

/// A line of Markdown images only, each maybe inside a link (a row of badges):
/// `![alt](src)`, `[![alt](src)](href)`.
fn only_images(t: &str) -> bool {
    fn image(s: &str) -> Option<&str> {
        let rest = s.strip_prefix("![")?;
        let rest = &rest[rest.find("](")? + 2..];
        Some(&rest[rest.find(')')? + 1..])
    }
    fn linked(s: &str) -> Option<&str> {
        let rest = image(s.strip_prefix('[')?)?.strip_prefix("](")?;
        Some(&rest[rest.find(')')? + 1..])
    }
    let mut rest = t.trim();
    while !rest.is_empty() {
        match linked(rest).or_else(|| image(rest)) {
            Some(r) => rest = r.trim_start(),
            None => return false,
        }
    }
    true
}

/// The document's wrap width in characters when it is hard-wrapped, else `None`.
///
/// The width is the median length of the longer half of the lines; the document is
/// hard-wrapped when most lines sit in a band just under it and hardly any exceed it.
#[must_use]
pub(crate) fn wrap_width(lines: &[&str]) -> Option<usize> {
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

/// The width of the document's typical line: the median line width.
fn long_width(lines: &[&str]) -> usize {
    let mut lens: Vec<usize> = lines.iter().map(|l| width(l)).collect();
    lens.sort_unstable();
    lens.get(lens.len() / 2).copied().unwrap_or(0)
}

/// The median width of the lines that end a sentence: the document's body lines
/// (headings, menus and widgets rarely end with a full stop).
fn body_width(lines: &[&str]) -> usize {
    let mut lens: Vec<usize> = lines
        .iter()
        .filter(|l| ends_with_sentence_punct(l.trim()))
        .map(|l| width(l))
        .collect();
    lens.sort_unstable();
    lens.get(lens.len() / 2).copied().unwrap_or(usize::MAX)
}

/// Whether the document ends its sentences with punctuation: at least
/// [`PUNCTUATED_SHARE`] of its lines of median width or more do. Only then is a long
/// line without it a fragment; verse and lists end their lines without any.
fn uses_final_punctuation(lines: &[&str]) -> bool {
    let median = long_width(lines);
    let long: Vec<&&str> = lines.iter().filter(|l| width(l) >= median).collect();
    let ended = long
        .iter()
        .filter(|l| ends_with_sentence_punct(l.trim()))
        .count();
    !long.is_empty() && ended as f64 >= PUNCTUATED_SHARE * long.len() as f64
}

/// Whether `line` runs on into `next` (see the module doc).
fn continues(line: &Line<'_>, next: &Line<'_>, wrap: Option<usize>, long: usize) -> bool {
    let (a, b) = (line.text.trim(), next.text.trim());
    let has_words = |t: &str| t.chars().filter(|&c| crate::detect::is_letter(c)).count() >= 2;
    if ends_with_sentence_punct(a)
        || !has_words(a)
        || !has_words(b)
        || a == b
        || is_block_start(a)
        || is_block_start(b)
        || super::classify::ends_with_credit(a)
    {
        return false;
    }
    let w = width(a) as f64;
    if wrap.is_some_and(|wrap| w >= WRAP_LENGTH * wrap as f64) {
        return true;
    }
    let open_word = {
        let last = a.rsplit(char::is_whitespace).next().unwrap_or_default();
        OPEN_WORDS.contains(&last.to_lowercase().as_str())
    };
    let open_end = open_word || a.ends_with(['،', ',', '؛', ';', '-', '–', '(']);
    if next.after_blank {
        // Across a blank line (a copy that broke a sentence in two paragraphs) only
        // a line ending with a word that cannot end a sentence; clauses ending with
        // a comma, each a paragraph of its own, are a structure the writer chose.
        return open_word;
    }
    // A lowercase Latin word continues an Arabic-script sentence only on a line that
    // goes on in Arabic script (`paragraph است.`): alone it is a UI string or code.
    let latin_inside = b.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && b.chars().any(crate::detect::is_arabic_script);
    let next_continues = latin_inside || b.starts_with(['،', ',', '؛', ';', ')', ']', '»']);
    next_continues || open_end || w >= RUN_ON_LENGTH * long as f64
}

/// A Markdown heading, table row or list item: it starts a block of its own.
fn is_block_start(t: &str) -> bool {
    let first = t.split_whitespace().next().unwrap_or_default();
    t.starts_with('#')
        || t.starts_with('|')
        || matches!(first, "-" | "*" | "+" | "•" | "–" | ">")
        || (first.len() <= 4
            && first.ends_with(['.', ')'])
            && first[..first.len() - 1].chars().all(|c| c.is_numeric()))
}

/// Characters in a trimmed line.
fn width(line: &str) -> usize {
    line.trim().chars().count()
}

fn make_para(lines: &[Line<'_>]) -> Para {
    let texts: Vec<&str> = lines.iter().map(|l| l.text).collect();
    Para {
        text: collapse_whitespace(&texts.join(" ")),
        columns: texts.iter().any(|l| has_wide_gap(l.trim())),
        markup: lines.iter().any(|l| l.markup.is_some()),
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
            texts("A b\nC d\n\n\nE\u{a0}\u{a0} f\n"),
            ["A b", "C d", "E f"]
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
    fn sentences_broken_inside_a_layout_of_one_line_per_paragraph_are_joined() {
        let body = ["جملة طويلة بما يكفي لتكون فقرة من المقال"; 4].join(" ") + ".";
        let doc =
            format!("عنوان\n{body}\nثم قال الوزير إن الحكومة ستعمل في\nالأسابيع المقبلة.\n\n{body}");
        let paras = texts(&doc);
        assert!(
            paras.contains(&"ثم قال الوزير إن الحكومة ستعمل في الأسابيع المقبلة.".to_owned()),
            "{paras:?}"
        );
        assert_eq!(paras[0], "عنوان");
        // Lists, headings and a colon are never joined onto body text.
        assert_eq!(
            texts("- بند أول في\n- بند ثان"),
            ["- بند أول في", "- بند ثان"]
        );
        assert_eq!(texts("# عنوان في\nنص"), ["# عنوان في", "نص"]);
        assert_eq!(texts("قال في بيان:\nنص"), ["قال في بيان:", "نص"]);
    }

    #[test]
    fn markdown_markup_blocks_are_flagged_and_kept() {
        let doc = "---\ntitle: x\n---\nمتن.\n\n```js header=\"a b\"\nlet x = 1;\n\nx += 2;\n```\nنص.\n<<<<<<< HEAD\nأ\n=======\nب\n>>>>>>> branch\n\n<div class=\"x\">\n<img src=\"a.png\">\n<b>نص</b> هنا\n</div>\n- [مقدمة](#مقدمة)\n- [نص](https://x.org)";
        let paras = split(doc);
        let markup: Vec<(&str, bool)> = paras.iter().map(|p| (p.text.as_str(), p.markup)).collect();
        assert_eq!(
            markup,
            [
                ("--- title: x ---", true),
                ("متن.", false),
                ("```js header=\"a b\" let x = 1; x += 2; ```", true),
                ("نص.", false),
                ("<<<<<<< HEAD", true),
                ("أ", false),
                ("=======", true),
                ("ب", false),
                (">>>>>>> branch", true),
                ("<div class=\"x\"> <img src=\"a.png\">", true),
                ("<b>نص</b> هنا", false),
                ("</div> - [مقدمة](#مقدمة)", true),
                ("- [نص](https://x.org)", false),
            ]
        );
    }

    #[test]
    fn wide_gaps_are_flagged() {
        assert!(split("a\u{a0} \u{a0}b")[0].columns);
        assert!(!split("a  b")[0].columns);
    }
}
