//! `index.html`: the run's table of contents.
//!
//! This module owns the index page: one row per document, sorted by its path, with
//! a relative, percent-encoded link to the document's HTML page (or, without HTML,
//! to the first format written), its language and its paragraph counts, and a
//! totals row. Everything shown is escaped.

use std::fmt::Write as _;

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use super::html::head;
use super::{Format, output_rel};
use crate::model::DocCounts;

const INDEX_CSS: &str = r#"
.meta { color: #333; margin: 0 0 1rem; }
td.doc { overflow-wrap: anywhere; }
td.n, th.n { text-align: end; font-variant-numeric: tabular-nums; }
td.bad { color: #a33; font-weight: 700; }
tfoot td { font-weight: 700; border-top: 2px solid var(--line); }
tbody tr:hover { background: #f7f7f7; }
"#;

const COLUMNS: [&str; 5] = [
    "paragraphs",
    "translated",
    "from cache",
    "skipped",
    "untranslated",
];

/// The text of `index.html`.
#[must_use]
pub fn render(docs: &[DocCounts], to: &str, formats: &[Format]) -> String {
    let mut sorted: Vec<&DocCounts> = docs.iter().collect();
    sorted.sort_by(|a, b| a.doc.cmp(&b.doc));
    let link_format = formats
        .iter()
        .copied()
        .find(|f| *f == Format::Html)
        .or(formats.first().copied());
    let mut out = String::new();
    head(&mut out, "tarjama: translated documents", INDEX_CSS);
    let _ = write!(
        out,
        "<h1>Translated documents</h1>\n<p class=\"meta\">{} document{} → <code>{}</code></p>\n",
        docs.len(),
        if docs.len() == 1 { "" } else { "s" },
        text(to)
    );
    table_head(&mut out);
    for doc in &sorted {
        doc_row(&mut out, doc, to, link_format);
    }
    totals(&mut out, docs);
    out.push_str("</table>\n</body>\n</html>\n");
    out
}

fn table_head(out: &mut String) {
    out.push_str(
        "<table>\n<thead><tr><th scope=\"col\">Document</th><th scope=\"col\">Language</th>",
    );
    for c in COLUMNS {
        let _ = write!(out, "<th class=\"n\" scope=\"col\">{c}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
}

fn doc_row(out: &mut String, doc: &DocCounts, to: &str, link: Option<Format>) {
    let name = match link {
        Some(f) => format!(
            "<a href=\"{}\">{}</a>",
            attr(&href(&doc.doc, to, f)),
            text(&doc.doc)
        ),
        None => text(&doc.doc).into_owned(),
    };
    let _ = write!(
        out,
        "<tr><td class=\"doc\">{name}</td><td><code>{}</code></td>",
        text(&doc.src_lang)
    );
    counts(out, doc);
    out.push_str("</tr>\n");
}

fn counts(out: &mut String, c: &DocCounts) {
    for n in [c.paragraphs, c.translated, c.from_cache, c.skipped] {
        let _ = write!(out, "<td class=\"n\">{n}</td>");
    }
    let bad = if c.untranslated > 0 { " bad" } else { "" };
    let _ = write!(out, "<td class=\"n{bad}\">{}</td>", c.untranslated);
}

fn totals(out: &mut String, docs: &[DocCounts]) {
    let mut sum = DocCounts::default();
    for d in docs {
        sum.paragraphs += d.paragraphs;
        sum.translated += d.translated;
        sum.from_cache += d.from_cache;
        sum.skipped += d.skipped;
        sum.untranslated += d.untranslated;
    }
    out.push_str("</tbody>\n<tfoot><tr><td>Total</td><td></td>");
    counts(out, &sum);
    out.push_str("</tr></tfoot>\n");
}

/// The relative link from `index.html` to a document's output in `format`.
#[must_use]
pub fn href(rel: &str, to: &str, format: Format) -> String {
    output_rel(rel, to, format.ext())
        .iter()
        .map(|c| percent_encode(c))
        .collect::<Vec<_>>()
        .join("/")
}

/// Percent-encode everything but RFC 3986 unreserved characters.
#[must_use]
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn href_is_relative_and_encoded() {
        assert_eq!(
            href("a b/x#1.txt", "en", Format::Html),
            "a%20b/x%231.en.html"
        );
        assert_eq!(href("../x.txt", "en", Format::Md), "x.en.md");
        assert_eq!(
            href("خبر.txt", "en", Format::Html),
            "%D8%AE%D8%A8%D8%B1.en.html"
        );
    }
}
