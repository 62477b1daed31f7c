//! HTML output: one review page per document.
//!
//! This module owns the page's markup and the `<head>` every page of ours starts
//! with (shared with [`super::index`] through [`head`]); the style, the script and
//! the Content-Security-Policy come from [`super::assets`].
//!
//! The page: a sticky header with the document's metadata, counts and flag counts;
//! then two columns, the source (`dir="rtl"` for Arabic and Persian) and the
//! translation, one numbered row per paragraph (numbered from 1, with an `id="p<n>"`
//! anchor). Each aligned sentence pair is a pair of spans, one in each cell, sharing
//! a `data-s` value, so hovering or focusing a sentence highlights its counterpart; a
//! row without sentence pairs is one span per cell. Quality flags are badges on the
//! row; rows with a quality flag or left untranslated are "flagged". The reading
//! style is inline, so a page alone is complete to read; the reviewer's tools (the
//! controls, the highlight, showing only flagged rows, `n`/`j`, `p`/`k` between them,
//! editing a translation and downloading the edits as the corrections file
//! `translate import` reads) are built by the shared script next to the pages
//! ([`super::assets::REVIEW_SCRIPT_FILE`]). Nothing is written twice: the script reads
//! each row's source and machine translation from its cells, and the page's data
//! block carries only what a cell cannot show exactly.
//!
//! Safety: every piece of document text goes through `html-escape`; the data block
//! is JSON with `<`, `>` and `&` escaped; and the page's CSP allows only our inline
//! style (by its SHA-256) and our style and script files, and no other source at
//! all, so even a missed escape could not run anything. The page loads nothing from
//! outside (no fonts, no CDN) and is byte-identical for the same document.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use serde::Serialize;

use super::{Status, assets, is_rtl, output_rel};
use crate::model::{AlignedDoc, DocCounts, Flag, Kind, Lang, Row};

/// The page for one document.
#[must_use]
pub fn render(doc: &AlignedDoc) -> String {
    let mut out = String::with_capacity(2048 + doc.rows.iter().map(row_len).sum::<usize>());
    let depth = "../".repeat(output_rel(&doc.rel, "x", "html").len() - 1);
    let shared = format!(
        "<link rel=\"stylesheet\" href=\"{depth}{}\">\n<script src=\"{depth}{}\" defer></script>\n",
        assets::REVIEW_STYLE_FILE,
        assets::REVIEW_SCRIPT_FILE
    );
    head(&mut out, &doc.rel, assets::review(), &shared);
    let _ = writeln!(
        out,
        "<nav><a href=\"{depth}index.html\">← all documents</a></nav>"
    );
    header(&mut out, doc);
    table(&mut out, doc);
    data_block(&mut out, doc);
    out.push_str("</body>\n</html>\n");
    out
}

fn row_len(row: &Row) -> usize {
    row.source.len() + row.target.as_ref().map_or(0, String::len) + 200
}

/// `<!doctype html>` up to and including `<body>`: the CSP of `inline`, its style
/// (byte for byte what the CSP hashes) and `extra` in the head. The caller writes
/// the inline script, if any, where it belongs.
pub fn head(out: &mut String, title: &str, inline: &assets::Inline, extra: &str) {
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"tarjama {}\">\n<title>{}</title>\n\
         <style>{}</style>\n{extra}",
        inline.csp,
        env!("CARGO_PKG_VERSION"),
        text(title),
        inline.style,
    );
    out.push_str("</head>\n<body>\n");
}

fn header(out: &mut String, doc: &AlignedDoc) {
    let c = DocCounts::of(doc);
    let n_flagged = doc.rows.iter().filter(|r| is_flagged(r)).count();
    let _ = write!(
        out,
        "<header class=\"top\">\n<h1><bdi>{}</bdi></h1>\n<p class=\"meta\">{} → {} · provider <b>{}</b></p>\n<ul class=\"counts\">\n",
        text(&doc.rel),
        lang_code(&doc.src_lang),
        lang_code(&doc.tgt_lang),
        text(&doc.provider),
    );
    for (label, n) in [
        ("paragraphs", c.paragraphs),
        ("translated", c.translated),
        ("from cache", c.from_cache),
        ("skipped", c.skipped),
        ("untranslated", c.untranslated),
        ("flagged rows", n_flagged),
    ] {
        let _ = writeln!(out, "<li>{label}: <b>{n}</b></li>");
    }
    for (&flag, n) in &c.flags {
        if flag != Flag::NotSent {
            let _ = writeln!(out, "<li>{}: <b>{n}</b></li>", flag_badge(flag));
        }
    }
    out.push_str("</ul>\n</header>\n");
}

fn lang_code(lang: &str) -> String {
    format!("<code>{}</code>", text(lang))
}

fn table(out: &mut String, doc: &AlignedDoc) {
    let _ = write!(
        out,
        "<table class=\"aligned\">\n<caption>Paragraphs are numbered from 1; \
         JSONL <code>index</code> and TMX <code>tuid</code> are that number minus 1.</caption>\n\
         <colgroup><col class=\"c-num\"><col class=\"c-src\"><col class=\"c-tgt\"></colgroup>\n\
         <thead><tr><th class=\"num\" scope=\"col\">¶</th><th scope=\"col\" dir=\"{}\">Source ({})</th>\
         <th scope=\"col\" dir=\"{}\">Translation ({})</th></tr></thead>\n<tbody>\n",
        dir_of(&doc.src_lang),
        text(&doc.src_lang),
        dir_of(&doc.tgt_lang),
        text(&doc.tgt_lang),
    );
    for row in &doc.rows {
        render_row(out, row, &doc.tgt_lang);
    }
    out.push_str("</tbody>\n</table>\n");
}

/// A row the reviewer should look at: a quality flag, or content left untranslated.
fn is_flagged(row: &Row) -> bool {
    row.flags.iter().any(|f| f.is_quality()) || row.is_untranslated()
}

/// A row the reviewer can edit: it has a translation, or should have one.
fn is_editable(status: &Status) -> bool {
    matches!(status, Status::Translated | Status::Untranslated(_))
}

fn render_row(out: &mut String, row: &Row, to: &str) {
    let status = Status::of(row);
    let n = row.index + 1;
    let _ = write!(
        out,
        "<tr id=\"p{n}\" class=\"{}\">\n<td class=\"num\"><a href=\"#p{n}\">{n}</a>{}{}{}</td>\n",
        row_classes(row, &status),
        kind_badge(row.kind),
        flag_badges(row),
        if row.cached {
            badge("cached", "cached")
        } else {
            String::new()
        },
    );
    let src_rtl = is_rtl(&row.src_lang);
    let _ = writeln!(
        out,
        "<td class=\"src\" dir=\"{}\" lang=\"{}\">{}</td>",
        dir_of(&row.src_lang),
        attr(&row.src_lang),
        source_cell(row, src_rtl),
    );
    // The page's own language and direction (English, left to right) need not be
    // said again in every row.
    let (lang, dir) = match dir_of(to) {
        "ltr" if to == "en" => (String::new(), ""),
        d => (format!(" lang=\"{}\"", attr(to)), d),
    };
    let dir = if dir.is_empty() {
        String::new()
    } else {
        format!(" dir=\"{dir}\"")
    };
    let _ = writeln!(
        out,
        "<td class=\"tgt\"{dir}{lang}>{}</td>\n</tr>",
        target_cell(row, &status, is_rtl(to)),
    );
}

/// `rtl` for right-to-left languages, `auto` for undetermined, else `ltr`.
fn dir_of(lang: &str) -> &'static str {
    if is_rtl(lang) {
        "rtl"
    } else if lang.is_empty() || Lang::is_und(lang) {
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
    if is_flagged(row) {
        classes.push_str(" flagged");
    }
    if row.flags.contains(&Flag::Reviewed) {
        classes.push_str(" reviewed");
    }
    classes
}

fn kind_badge(kind: Kind) -> String {
    match kind {
        Kind::Text => String::new(),
        _ => badge(&format!("kind-{}", kind.as_str()), kind.as_str()),
    }
}

/// Quality flags and `reviewed` as badges (the other flags are told by the row's
/// status in the translation cell).
fn flag_badges(row: &Row) -> String {
    row.flags
        .iter()
        .filter(|f| f.is_quality() || **f == Flag::Reviewed)
        .map(|f| flag_badge(*f))
        .collect()
}

fn flag_badge(flag: Flag) -> String {
    let class = if flag.is_quality() {
        "q"
    } else if flag == Flag::Reviewed {
        "reviewed"
    } else {
        "flag"
    };
    format!(
        "<span class=\"badge badge-{class}\" title=\"{}\">{}</span>",
        attr(flag_title(flag)),
        text(flag.as_str())
    )
}

/// What a flag means, for the badge's tooltip.
fn flag_title(flag: Flag) -> &'static str {
    match flag {
        Flag::NumberMismatch => {
            "a number in the source is missing from the translation, or the other way round"
        }
        Flag::Untranslated => "the translation still contains Arabic script or equals the source",
        Flag::LengthRatio => "the translation's length is far from usual for this language pair",
        Flag::Empty => "the translation is empty",
        Flag::Truncated => "the translation ends mid-sentence where the source does not",
        Flag::SameTarget => "another paragraph with a different source has the same translation",
        Flag::Reviewed => "a human correction (translate import), not machine output",
        _ => "",
    }
}

/// A badge in the number column or the header, which are English and left to
/// right like the page.
fn badge(class: &str, label: &str) -> String {
    format!(
        "<span class=\"badge badge-{}\">{}</span>",
        attr(class),
        text(label)
    )
}

/// A badge in the translation cell, which may be in another language or direction.
fn cell_badge(class: &str, label: &str) -> String {
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

/// One span per sentence, or one for the whole paragraph when the row has no
/// sentence pairs (the script makes them focusable). `key` links the span to its
/// counterpart in the other cell.
fn sentence_span(out: &mut String, key: &str, s: &str, cell_rtl: bool) {
    let dir = span_dir(s, cell_rtl);
    let _ = write!(out, "<span data-s=\"{key}\"{dir}>{}</span>", text(s));
}

/// The direction a sentence needs against its cell's: a mostly Latin sentence in a
/// right-to-left cell, or an Arabic-script one in a left-to-right cell.
fn span_dir(s: &str, cell_rtl: bool) -> &'static str {
    match (cell_rtl, mostly_latin(s)) {
        (true, true) => " dir=\"ltr\"",
        (false, false) if has_arabic_script(s) => " dir=\"rtl\"",
        _ => "",
    }
}

/// Whether the row's cells pair as wholes: no sentence pairs, or one pair that is
/// the whole paragraph on both sides.
fn pairs_as_whole(row: &Row) -> bool {
    match row.sentences.as_slice() {
        [] => true,
        [pair] => pair.source == row.source && row.target.as_deref() == Some(&pair.target),
        _ => false,
    }
}

/// The cell's spans: `pick` chooses the side of each pair. A cell that pairs as a
/// whole is written as bare text when it needs no direction of its own: the script
/// wraps it in the span keyed by the row's index (so the many one-sentence
/// paragraphs carry no markup the page does not need to be read).
fn spans(
    row: &Row,
    whole: &str,
    cell_rtl: bool,
    pick: fn(&crate::model::SentencePair) -> &str,
) -> String {
    let mut out = String::with_capacity(whole.len() + 64);
    if pairs_as_whole(row) {
        if span_dir(whole, cell_rtl).is_empty() {
            out.push_str(&text(whole));
        } else {
            sentence_span(&mut out, &row.index.to_string(), whole, cell_rtl);
        }
        return out;
    }
    for (k, pair) in row.sentences.iter().enumerate() {
        let s = pick(pair);
        if s.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        sentence_span(&mut out, &format!("{}.{k}", row.index), s, cell_rtl);
    }
    out
}

fn source_cell(row: &Row, rtl: bool) -> String {
    spans(row, &row.source, rtl, |p| &p.source)
}

fn target_cell(row: &Row, status: &Status, rtl: bool) -> String {
    match status {
        Status::Translated => spans(row, row.target.as_deref().unwrap_or_default(), rtl, |p| {
            &p.target
        }),
        Status::NotSent(kind) => note(&format!("{}, not translated", kind.as_str())),
        Status::SameLanguage => note("same language, not sent"),
        Status::Untranslated(reason) if reason.is_empty() => {
            cell_badge("untranslated", "untranslated")
        }
        Status::Untranslated(reason) => {
            cell_badge("untranslated", &format!("untranslated: {reason}"))
        }
    }
}

fn is_arabic_script(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

fn has_arabic_script(s: &str) -> bool {
    s.chars().any(is_arabic_script)
}

/// More Latin letters than Arabic-script ones: a sentence to lay out left to right
/// even inside a right-to-left cell.
fn mostly_latin(s: &str) -> bool {
    let latin = s.chars().filter(char::is_ascii_alphabetic).count();
    let arabic = s.chars().filter(|c| is_arabic_script(*c)).count();
    latin > arabic
}

/// What the script needs to build a corrections file that the cells cannot tell.
#[derive(Serialize)]
struct PageData<'a> {
    doc: &'a str,
    tgt_lang: &'a str,
    file: String,
    rows: BTreeMap<usize, RowData<'a>>,
}

/// An editable row's texts that its cells do not show exactly (the script reads
/// the others from the cells).
#[derive(Serialize)]
struct RowData<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    machine: Option<&'a str>,
}

/// The text a cell of `row` shows: its sentences' `pick` sides joined by a space,
/// or `whole` when the row has no sentence pairs.
fn shown(row: &Row, whole: &str, pick: fn(&crate::model::SentencePair) -> &str) -> String {
    if row.sentences.is_empty() {
        return whole.to_owned();
    }
    let parts: Vec<&str> = (row.sentences.iter().map(pick))
        .filter(|s| !s.is_empty())
        .collect();
    parts.join(" ")
}

/// `Some(text)` unless the cell gives `text` back exactly: same characters, none
/// that HTML parsing rewrites (CR, NUL).
fn unless_shown<'a>(text: &'a str, cell: &str) -> Option<&'a str> {
    (cell != text || text.contains(['\r', '\0'])).then_some(text)
}

/// `<stem>.<to>.corrections.json`, the download's suggested name.
fn corrections_file_name(doc: &AlignedDoc) -> String {
    let name = output_rel(&doc.rel, &doc.tgt_lang, "json")
        .pop()
        .unwrap_or_default();
    let stem = name.strip_suffix(".json").unwrap_or(&name);
    format!("{stem}.corrections.json")
}

/// The page's data as a JSON data block (never executed; `<`, `>` and `&` escaped
/// so no text can close the element): the document, the download's name, and only
/// the texts of the rows whose cells do not show them exactly, so that no text is
/// written twice.
fn data_block(out: &mut String, doc: &AlignedDoc) {
    let rows = (doc.rows.iter())
        .filter(|r| is_editable(&Status::of(r)))
        .filter_map(|r| {
            let source = unless_shown(&r.source, &shown(r, &r.source, |p| &p.source));
            let machine =
                (r.target.as_deref()).and_then(|t| unless_shown(t, &shown(r, t, |p| &p.target)));
            (source.is_some() || machine.is_some())
                .then_some((r.index, RowData { source, machine }))
        })
        .collect();
    let data = PageData {
        doc: &doc.rel,
        tgt_lang: &doc.tgt_lang,
        file: corrections_file_name(doc),
        rows,
    };
    // Plain strings and numbers always serialize.
    let json = serde_json::to_string(&data).unwrap_or_else(|_| "{}".to_owned());
    let json = json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    let _ = writeln!(
        out,
        "<script type=\"application/json\" id=\"tarjama-data\">{json}</script>"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SentencePair;

    fn row(flags: &[Flag], sentences: &[(&str, &str)]) -> Row {
        Row {
            index: 4,
            kind: Kind::Text,
            src_lang: "ar".into(),
            source: "قال 12 شخصا. ثم BBC News.".into(),
            target: Some("12 people said. Then BBC News.".into()),
            cached: false,
            flags: flags.to_vec(),
            sentences: sentences
                .iter()
                .map(|(s, t)| SentencePair {
                    source: (*s).into(),
                    target: (*t).into(),
                })
                .collect(),
        }
    }

    fn doc(rows: Vec<Row>) -> AlignedDoc {
        AlignedDoc {
            rel: "dir/خبر.txt".into(),
            src_lang: "ar".into(),
            tgt_lang: "en".into(),
            provider: "p".into(),
            rows,
        }
    }

    #[test]
    fn direction_by_language() {
        assert_eq!(dir_of("ar"), "rtl");
        assert_eq!(dir_of("en"), "ltr");
        assert_eq!(dir_of("und"), "auto");
    }

    #[test]
    fn untranslated_cell_names_reason() {
        let mut r = row(&[Flag::OfflineMiss], &[]);
        r.target = None;
        let cell = target_cell(&r, &Status::of(&r), false);
        assert!(cell.contains("untranslated: offline_miss"), "{cell}");
    }

    #[test]
    fn sentence_pairs_share_a_key_across_cells() {
        let r = row(
            &[],
            &[
                ("قال 12 شخصا.", "12 people said."),
                ("ثم BBC News.", "Then BBC News."),
            ],
        );
        let html = render(&doc(vec![r]));
        for key in ["4.0", "4.1"] {
            let needle = format!("data-s=\"{key}\"");
            assert_eq!(html.matches(&needle).count(), 2, "{key}: {html}");
        }
        assert!(html.contains(">قال 12 شخصا.</span> <span"));
    }

    #[test]
    fn a_row_that_pairs_as_a_whole_is_bare_text_unless_it_needs_a_direction() {
        let html = render(&doc(vec![row(&[], &[])]));
        assert_eq!(html.matches("data-s=").count(), 0, "{html}");
        assert!(html.contains("<td class=\"tgt\">12 people said. Then BBC News.</td>"));
        // One pair that is the whole paragraph is the same.
        let r = row(
            &[],
            &[(
                "قال 12 شخصا. ثم BBC News.",
                "12 people said. Then BBC News.",
            )],
        );
        assert_eq!(render(&doc(vec![r])).matches("data-s=").count(), 0);
        // A Latin paragraph in the right-to-left source cell keeps its span.
        let mut r = row(&[], &[]);
        r.source = "Reuters reported on Monday.".into();
        let html = render(&doc(vec![r]));
        assert_eq!(html.matches("data-s=\"4\"").count(), 1, "{html}");
        assert!(
            html.contains("<span data-s=\"4\" dir=\"ltr\">Reuters"),
            "{html}"
        );
    }

    #[test]
    fn a_latin_sentence_in_an_rtl_cell_is_laid_out_ltr() {
        let mut out = String::new();
        sentence_span(&mut out, "1.0", "Reuters reported on Monday.", true);
        assert!(out.contains("dir=\"ltr\""), "{out}");
        out.clear();
        sentence_span(&mut out, "1.1", "قالت BBC إن 3 قتلوا", true);
        assert!(!out.contains("dir="), "{out}");
    }

    #[test]
    fn quality_flags_mark_the_row_and_show_as_badges() {
        let html = render(&doc(vec![row(
            &[Flag::NumberMismatch, Flag::Reviewed],
            &[],
        )]));
        assert!(
            html.contains("class=\"kind-text translated flagged reviewed\""),
            "{html}"
        );
        assert!(html.contains(">number_mismatch</span>"));
        assert!(html.contains("badge-reviewed"));
        let plain = render(&doc(vec![row(&[Flag::Reviewed], &[])]));
        assert!(
            plain.contains("class=\"kind-text translated reviewed\""),
            "reviewed alone is not a problem: {plain}"
        );
    }

    #[test]
    fn csp_allows_exactly_the_inline_style_and_the_shared_files() {
        let html = render(&doc(vec![row(&[], &[])]));
        let style = html
            .split("<style>")
            .nth(1)
            .unwrap()
            .split("</style>")
            .next()
            .unwrap();
        let csp = format!(
            "default-src 'none'; style-src 'self' file: {}; script-src 'self' file:; \
             base-uri 'none'; form-action 'none'",
            assets::csp_hash(style)
        );
        assert!(html.contains(&format!("content=\"{csp}\"")), "{html}");
        // No inline script: the only script element is the data block and the shared
        // file, linked from the page's directory (`dir/`) up to the output's top.
        assert_eq!(html.matches("<script").count(), 2, "{html}");
        assert!(html.contains("<script src=\"../tarjama-review.js\" defer></script>"));
        assert!(html.contains("<link rel=\"stylesheet\" href=\"../tarjama-review.css\">"));
        assert!(html.contains("<a href=\"../index.html\">"));
    }

    #[test]
    fn data_block_holds_only_what_the_cells_do_not_show_and_cannot_close() {
        let mut part = row(&[], &[("قال 12 شخصا.", "")]);
        part.index = 5;
        let plain = render(&doc(vec![row(&[], &[]), part.clone()]));
        let block = |html: &str| -> serde_json::Value {
            let json = html
                .split("id=\"tarjama-data\">")
                .nth(1)
                .unwrap()
                .split("</script>")
                .next()
                .unwrap();
            assert!(!json.contains('<') && !json.contains('&'), "{json}");
            serde_json::from_str(json).unwrap()
        };
        let v = block(&plain);
        assert_eq!(v["file"], "خبر.en.corrections.json");
        assert_eq!(v["doc"], "dir/خبر.txt");
        assert_eq!(v["tgt_lang"], "en");
        // Row 4 shows its whole source and translation; the second row's one pair
        // shows only part of them.
        assert_eq!(v["rows"]["4"], serde_json::Value::Null, "{v}");
        assert_eq!(
            v["rows"]["5"],
            serde_json::json!({"source": part.source, "machine": part.target})
        );
        let mut r = row(
            &[],
            &[("</script><script>alert(1)</script>", "a"), ("& co", "b")],
        );
        r.source = "</script><script>alert(1)</script>\n& co".into();
        r.target = Some("a b".into());
        let v = block(&render(&doc(vec![r])));
        assert_eq!(
            v["rows"]["4"],
            serde_json::json!({"source": "</script><script>alert(1)</script>\n& co"})
        );
    }
}
