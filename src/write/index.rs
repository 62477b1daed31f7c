//! `index.html`: the run's table of contents.
//!
//! This module owns the index page: one row per document, sorted by its path, with
//! a relative, percent-encoded link to the document's HTML page (or, without HTML,
//! to the first format written), its language, its paragraph counts, its quality
//! flags (total and per flag) and its reviewed rows, and a totals row. Every column
//! sorts when its header button is clicked (a small inline script, allowed by hash in
//! the page's CSP like the document pages'; `aria-sort` tells which). Everything
//! shown is escaped.

use std::fmt::Write as _;

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use super::html::head;
use super::{Format, assets, output_rel};
use crate::model::{DocCounts, Flag};

const COLUMNS: [&str; 7] = [
    "paragraphs",
    "translated",
    "from cache",
    "skipped",
    "untranslated",
    "quality flags",
    "reviewed",
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
    let inline = assets::index();
    head(&mut out, "tarjama: translated documents", inline, "");
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
    let script = inline.script.as_deref().unwrap_or_default();
    let _ = write!(
        out,
        "</table>\n<script>{script}</script>\n</body>\n</html>\n"
    );
    out
}

fn table_head(out: &mut String) {
    out.push_str(
        "<table id=\"docs\">\n<thead><tr><th scope=\"col\" aria-sort=\"ascending\"><button type=\"button\">Document</button></th>\
         <th scope=\"col\" aria-sort=\"none\"><button type=\"button\">Language</button></th>",
    );
    for c in COLUMNS {
        let _ = write!(
            out,
            "<th class=\"n\" scope=\"col\" aria-sort=\"none\"><button type=\"button\">{c}</button></th>"
        );
    }
    out.push_str("</tr></thead>\n<tbody>\n");
}

fn doc_row(out: &mut String, doc: &DocCounts, to: &str, link: Option<Format>) {
    let name = match link {
        Some(f) => format!(
            "<a href=\"{}\"><bdi>{}</bdi></a>",
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
    let quality: Vec<(Flag, usize)> = Flag::QUALITY
        .iter()
        .filter_map(|f| c.flags.get(f).map(|n| (*f, *n)))
        .collect();
    let total: usize = quality.iter().map(|(_, n)| n).sum();
    let _ = write!(out, "<td class=\"n\" data-v=\"{total}\">");
    for (flag, n) in &quality {
        let _ = write!(out, "<span class=\"badge badge-q\">{flag} {n}</span>");
    }
    let _ = write!(
        out,
        "<b>{total}</b></td><td class=\"n\">{}</td>",
        c.flags.get(&Flag::Reviewed).copied().unwrap_or(0)
    );
}

fn totals(out: &mut String, docs: &[DocCounts]) {
    let mut sum = DocCounts::default();
    for d in docs {
        sum.paragraphs += d.paragraphs;
        sum.translated += d.translated;
        sum.from_cache += d.from_cache;
        sum.skipped += d.skipped;
        sum.untranslated += d.untranslated;
        for (flag, n) in &d.flags {
            *sum.flags.entry(*flag).or_default() += n;
        }
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
pub(crate) fn percent_encode(s: &str) -> String {
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
