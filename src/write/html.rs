//! HTML output: one self-contained side-by-side page per document.
//!
//! This module owns the page's markup and inline CSS. The page loads nothing from
//! outside and runs no script; every piece of document text goes through
//! `html-escape`. Rows are numbered from 1 (the caption says so) and carry an
//! `id="p<n>"` anchor.

use std::fmt::Write as _;

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use super::{Status, is_rtl, output_rel};
use crate::model::{AlignedDoc, DocCounts, Kind, Row};

/// Shared by the document pages and `index.html`.
pub(crate) const BASE_CSS: &str = r#"
:root { color-scheme: light; --muted: #6b6b6b; --line: #d9d9d9; --warn: #a33; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1400px; padding: 1.5rem; color: #1a1a1a; background: #fff;
  font: 16px/1.5 "Segoe UI", system-ui, -apple-system, Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.4rem; margin: 0 0 .4rem; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; }
th, td { border-bottom: 1px solid var(--line); padding: .55rem .7rem; vertical-align: top; }
th { text-align: start; font-size: .85rem; color: var(--muted); font-weight: 600; }
caption { caption-side: bottom; text-align: start; color: var(--muted); font-size: .8rem; padding-top: .6rem; }
.num { text-align: end; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; font-size: .72rem; line-height: 1.4; padding: 0 .4em; border-radius: .3em;
  border: 1px solid var(--line); color: var(--muted); background: #f6f6f6; white-space: nowrap;
  font-family: "Segoe UI", system-ui, sans-serif; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  a { color: inherit; text-decoration: none; }
  nav { display: none; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
}
"#;

const DOC_CSS: &str = r#"
.meta { margin: 0 0 .3rem; color: #333; }
.counts { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; margin: .4rem 0 1.2rem; padding: 0; list-style: none;
  font-size: .9rem; color: #333; }
.counts b { font-variant-numeric: tabular-nums; }
table.aligned { table-layout: fixed; }
col.c-num { width: 5.4rem; }
.num a { color: var(--muted); text-decoration: none; font-size: .85rem; }
.num .badge { display: block; margin-top: .3rem; text-align: center; font-size: .68rem; }
nav { font-size: .85rem; margin-bottom: .6rem; }
td.src, td.tgt { overflow-wrap: anywhere; }
[dir="rtl"] { font-family: "Noto Naskh Arabic", "Noto Sans Arabic", "Geeza Pro", "Segoe UI", Tahoma, sans-serif;
  font-size: 1.12rem; line-height: 1.8; text-align: right; }
tr.kind-heading td.src, tr.kind-heading td.tgt { font-weight: 700; }
tr.kind-caption td.src, tr.kind-caption td.tgt { font-style: italic; }
tr.dimmed td { opacity: .55; }
tr.dimmed td.src { font-size: .95rem; }
tr.untranslated td.tgt { background: #fdf1f1; }
tr.untranslated .badge { color: var(--warn); border-color: #e8b4b4; background: #fff; }
tr.same-language td.tgt { color: var(--muted); }
tr.cached .badge-cached { opacity: .7; }
.note { color: var(--muted); font-style: italic; font-size: .9rem; font-family: "Segoe UI", system-ui, sans-serif; }
@media (max-width: 720px) {
  table.aligned, table.aligned tbody, table.aligned tr, table.aligned td { display: block; width: 100%; }
  table.aligned thead { display: none; }
  table.aligned td { border: 0; padding: .3rem .5rem; }
  table.aligned tr { border-bottom: 1px solid var(--line); padding: .4rem 0; }
  td.num { text-align: start; }
}
@media print { tr.untranslated td.tgt { background: none; border-inline-start: 3px solid var(--warn); } }
"#;

/// The page for one document.
#[must_use]
pub fn render(doc: &AlignedDoc) -> String {
    let mut out = String::with_capacity(4096 + doc.rows.iter().map(row_len).sum::<usize>() * 2);
    head(&mut out, &doc.rel, DOC_CSS);
    nav(&mut out, &doc.rel);
    header(&mut out, doc);
    table(&mut out, doc);
    out.push_str("</body>\n</html>\n");
    out
}

fn row_len(row: &Row) -> usize {
    row.source.len() + row.target.as_ref().map_or(0, String::len) + 200
}

/// `<!doctype html>` up to and including `<body>`.
pub(crate) fn head(out: &mut String, title: &str, css: &str) {
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"tarjama {}\">\n<title>{}</title>\n\
         <style>{BASE_CSS}{css}</style>\n</head>\n<body>\n",
        env!("CARGO_PKG_VERSION"),
        text(title),
    );
}

/// A link back to `index.html` in the output directory.
fn nav(out: &mut String, rel: &str) {
    let depth = output_rel(rel, "x", "html").len() - 1;
    let _ = writeln!(
        out,
        "<nav><a href=\"{}index.html\">← all documents</a></nav>",
        "../".repeat(depth)
    );
}

fn header(out: &mut String, doc: &AlignedDoc) {
    let c = DocCounts::of(doc);
    let _ = write!(
        out,
        "<header>\n<h1>{}</h1>\n<p class=\"meta\">{} → {} · provider <b>{}</b></p>\n<ul class=\"counts\">\n",
        text(&doc.rel),
        lang_span(&doc.src_lang),
        lang_span(&doc.tgt_lang),
        text(&doc.provider),
    );
    for (label, n) in [
        ("paragraphs", c.paragraphs),
        ("translated", c.translated),
        ("from cache", c.from_cache),
        ("skipped", c.skipped),
        ("untranslated", c.untranslated),
    ] {
        let _ = writeln!(out, "<li>{label}: <b>{n}</b></li>");
    }
    out.push_str("</ul>\n</header>\n");
}

fn lang_span(lang: &str) -> String {
    format!("<code>{}</code>", text(lang))
}

fn table(out: &mut String, doc: &AlignedDoc) {
    let _ = write!(
        out,
        "<table class=\"aligned\">\n<caption>Paragraphs are numbered from 1; \
         JSONL <code>index</code> and TMX <code>tuid</code> are that number minus 1.</caption>\n\
         <colgroup><col class=\"c-num\"><col class=\"c-src\"><col class=\"c-tgt\"></colgroup>\n\
         <thead><tr><th class=\"num\" scope=\"col\">¶</th><th scope=\"col\">Source ({})</th>\
         <th scope=\"col\">Translation ({})</th></tr></thead>\n<tbody>\n",
        text(&doc.src_lang),
        text(&doc.tgt_lang),
    );
    for row in &doc.rows {
        render_row(out, row, &doc.tgt_lang);
    }
    out.push_str("</tbody>\n</table>\n");
}

fn render_row(out: &mut String, row: &Row, to: &str) {
    let status = Status::of(row);
    let n = row.index + 1;
    let _ = write!(
        out,
        "<tr id=\"p{n}\" class=\"{}\">\n<td class=\"num\"><a href=\"#p{n}\">{n}</a>{}</td>\n",
        row_classes(row, &status),
        kind_badge(row.kind),
    );
    let _ = writeln!(
        out,
        "<td class=\"src\" dir=\"{}\" lang=\"{}\">{}</td>",
        dir_of(&row.src_lang),
        attr(&row.src_lang),
        text(&row.source),
    );
    let _ = writeln!(
        out,
        "<td class=\"tgt\" dir=\"{}\" lang=\"{}\">{}</td>\n</tr>",
        dir_of(to),
        attr(to),
        target_cell(row, &status),
    );
}

/// `rtl` for right-to-left languages, `auto` for undetermined, else `ltr`.
fn dir_of(lang: &str) -> &'static str {
    if is_rtl(lang) {
        "rtl"
    } else if lang.is_empty() || lang == "und" {
        "auto"
    } else {
        "ltr"
    }
}

fn row_classes(row: &Row, status: &Status) -> String {
    let mut classes = format!("kind-{}", row.kind.as_str());
    let extra = match status {
        Status::Translated => "translated",
        Status::NotSent(_) => "dimmed not-sent",
        Status::SameLanguage => "same-language",
        Status::Untranslated(_) => "untranslated",
    };
    classes.push(' ');
    classes.push_str(extra);
    if row.cached {
        classes.push_str(" cached");
    }
    classes
}

fn kind_badge(kind: Kind) -> String {
    match kind {
        Kind::Text => String::new(),
        _ => badge(&format!("kind-{}", kind.as_str()), kind.as_str()),
    }
}

fn badge(class: &str, label: &str) -> String {
    format!(
        "<span class=\"badge badge-{}\" lang=\"en\" dir=\"ltr\">{}</span>",
        attr(class),
        text(label)
    )
}

fn note(s: &str) -> String {
    format!(
        "<span class=\"note\" lang=\"en\" dir=\"ltr\">{}</span>",
        text(s)
    )
}

fn target_cell(row: &Row, status: &Status) -> String {
    match status {
        Status::Translated => translated_cell(row),
        Status::NotSent(kind) => note(&format!("{}, not translated", kind.as_str())),
        Status::SameLanguage => note("same language, not sent"),
        Status::Untranslated(reason) if reason.is_empty() => badge("untranslated", "untranslated"),
        Status::Untranslated(reason) => badge("untranslated", &format!("untranslated: {reason}")),
    }
}

fn translated_cell(row: &Row) -> String {
    let mut cell = text(row.target.as_deref().unwrap_or_default()).into_owned();
    if row.cached {
        cell.push(' ');
        cell.push_str(&badge("cached", "cached"));
    }
    for flag in &row.flags {
        cell.push(' ');
        cell.push_str(&badge("flag", flag));
    }
    cell
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_by_language() {
        assert_eq!(dir_of("ar"), "rtl");
        assert_eq!(dir_of("en"), "ltr");
        assert_eq!(dir_of("und"), "auto");
    }

    #[test]
    fn untranslated_cell_names_reason() {
        let row = Row {
            index: 0,
            kind: Kind::Text,
            src_lang: "ar".into(),
            source: "نص".into(),
            target: None,
            cached: false,
            flags: vec!["offline_miss".into()],
            sentences: Vec::new(),
        };
        let cell = target_cell(&row, &Status::of(&row));
        assert!(cell.contains("untranslated: offline_miss"), "{cell}");
    }
}
