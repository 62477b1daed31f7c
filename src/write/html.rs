//! HTML output: one self-contained review page per document.
//!
//! This module owns the page's markup, its inline CSS and its one inline script, and
//! the Content-Security-Policy that every page of ours carries (shared with
//! [`super::index`] through [`head`]).
//!
//! The page: a sticky header with the document's metadata, counts and flag counts and
//! the reviewer's controls; then two columns, the source (`dir="rtl"` for Arabic and
//! Persian) and the translation, one numbered row per paragraph (numbered from 1, with
//! an `id="p<n>"` anchor). Each aligned sentence pair is a pair of focusable spans, one
//! in each cell, sharing a `data-s` value, so hovering or focusing a sentence
//! highlights its counterpart; a row without sentence pairs is one span per cell.
//! Quality flags are badges on the row; rows with a quality flag or left untranslated
//! are "flagged": a checkbox shows only them, and `n`/`j`, `p`/`k` move between them.
//! The reviewer can edit a translation and download the edits as a corrections file
//! (the format `translate import` reads).
//!
//! Safety: every piece of document text goes through `html-escape`; the row data the
//! script needs travels as a JSON data block with `<`, `>` and `&` escaped; and the
//! page's CSP allows only our own style and script, by their SHA-256 hashes, and no
//! other source at all, so even a missed escape could not run anything. The page
//! loads nothing from outside (no fonts, no CDN) and is byte-identical for the same
//! document.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use super::{Status, is_rtl, output_rel};
use crate::model::{AlignedDoc, DocCounts, Kind, Row, flags};

/// Shared by the document pages and `index.html`.
pub(crate) const BASE_CSS: &str = r#"
:root { color-scheme: light; --muted: #5f5f5f; --line: #d9d9d9; --warn: #a33; --hl: #ffe88a; --ok: #1f6f43; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0 auto; max-width: 1400px; padding: 0 1.5rem 1.5rem; color: #1a1a1a; background: #fff;
  font: 16px/1.5 "Segoe UI", system-ui, -apple-system, Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.35rem; margin: 0 0 .3rem; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; }
th, td { border-bottom: 1px solid var(--line); padding: .55rem .7rem; vertical-align: top; }
th { text-align: start; font-size: .85rem; color: var(--muted); font-weight: 600; }
caption { caption-side: bottom; text-align: start; color: var(--muted); font-size: .8rem; padding-top: .6rem; }
.num { text-align: end; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; font-size: .72rem; line-height: 1.4; padding: 0 .4em; border-radius: .3em;
  border: 1px solid var(--line); color: var(--muted); background: #f6f6f6; white-space: nowrap;
  font-family: "Segoe UI", system-ui, sans-serif; font-style: normal; font-weight: 400; }
.badge-q { color: #8a3b00; border-color: #f0c08a; background: #fff6ea; }
.badge-reviewed, .badge-edited { color: var(--ok); border-color: #9fd3b4; background: #eefaf2; }
button { font: inherit; font-size: .85rem; padding: .15rem .6rem; border: 1px solid #9a9a9a; border-radius: .3rem;
  background: #f4f4f4; color: #1a1a1a; cursor: pointer; }
button:hover { background: #e9e9e9; }
button:disabled { opacity: .5; cursor: default; }
:focus-visible { outline: 2px solid #1a5fb4; outline-offset: 1px; }
kbd { font: .78rem ui-monospace, monospace; border: 1px solid #bbb; border-bottom-width: 2px; border-radius: .25rem;
  padding: 0 .3em; background: #fafafa; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  a { color: inherit; text-decoration: none; }
  nav, .controls, .keys, button { display: none !important; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
}
"#;

const DOC_CSS: &str = r#"
header.top { position: sticky; top: 0; z-index: 3; background: #fff; padding: .8rem 0 .5rem;
  border-bottom: 2px solid var(--line); margin-bottom: .4rem; }
.meta { margin: 0 0 .2rem; color: #333; }
.counts { display: flex; flex-wrap: wrap; gap: .2rem 1.1rem; margin: .2rem 0 .4rem; padding: 0; list-style: none;
  font-size: .88rem; color: #333; }
.counts b { font-variant-numeric: tabular-nums; }
.counts .badge { font-size: .78rem; }
.controls { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem .8rem; font-size: .88rem; }
.controls label { cursor: pointer; }
.keys { margin: .35rem 0 0; font-size: .78rem; color: var(--muted); }
#nav-status { color: var(--muted); font-variant-numeric: tabular-nums; }
table.aligned { table-layout: fixed; }
col.c-num { width: 8.4rem; }
tbody tr { scroll-margin-top: 13rem; }
th[dir="rtl"] { text-align: right; }
.num a { color: var(--muted); text-decoration: none; font-size: .85rem; }
.num .badge { display: block; margin: .25rem 0 0 auto; width: fit-content; text-align: center; font-size: .66rem; }
nav { font-size: .85rem; padding-top: .8rem; }
td.src, td.tgt { overflow-wrap: anywhere; }
td.src[dir="rtl"] { font-family: "Noto Naskh Arabic", "Noto Sans Arabic", "Geeza Pro", "Arabic Typesetting",
  "Traditional Arabic", "Segoe UI", Tahoma, "DejaVu Sans", sans-serif; font-size: 1.16rem; line-height: 1.95; text-align: right; }
td.src[lang="fa"] { font-family: Vazirmatn, "Noto Naskh Arabic", "Noto Sans Arabic", "B Nazanin", "Segoe UI", Tahoma,
  "DejaVu Sans", sans-serif; }
td.tgt { line-height: 1.65; }
.s { unicode-bidi: isolate; border-radius: .2em; padding: .05em 0; }
.s:focus { outline: none; }
.s:focus-visible { outline: 2px solid #1a5fb4; outline-offset: 0; }
.s.hl { background: var(--hl); box-shadow: 0 0 0 2px var(--hl); }
tr.kind-heading td.src, tr.kind-heading td.tgt { font-weight: 700; }
tr.kind-caption td.src, tr.kind-caption td.tgt { font-style: italic; }
tr.dimmed td { opacity: .55; }
tr.dimmed td.src { font-size: .95rem; }
tr.untranslated td.tgt { background: #fdf1f1; }
tr.untranslated .badge-untranslated { color: var(--warn); border-color: #e8b4b4; background: #fff; }
tr.flagged td.num { box-shadow: inset 3px 0 0 #e08a2c; }
tr.same-language td.tgt { color: var(--muted); }
tr:focus { outline: 2px solid #1a5fb4; outline-offset: -2px; }
tr.edited td.tgt { background: #f1faf4; }
.only-flagged tbody tr:not(.flagged) { display: none; }
.note { color: var(--muted); font-style: italic; font-size: .9rem; font-family: "Segoe UI", system-ui, sans-serif; }
.num .tools { display: none; }
.js .num .tools { display: flex; flex-direction: column; align-items: flex-end; gap: .25rem; margin-top: .35rem; }
.num .tools .badge { margin: 0; }
button.edit { font-size: .72rem; padding: 0 .5rem; background: #fff; color: #1a5fb4; border-color: #b9c9e0; }
button.edit:hover { background: #eef3fb; }
.editor textarea { width: 100%; min-height: 5.5rem; font: inherit; line-height: 1.5; padding: .4rem; }
.editor .tools { display: flex; justify-content: flex-end; gap: .4rem; margin-top: .3rem; }
@media (max-width: 720px) {
  header.top { position: static; }
  table.aligned, table.aligned tbody, table.aligned tr, table.aligned td { display: block; width: 100%; }
  table.aligned thead { display: none; }
  table.aligned td { border: 0; padding: .3rem .5rem; }
  table.aligned tr { border-bottom: 1px solid var(--line); padding: .4rem 0; }
  td.num { text-align: start; }
  .only-flagged tbody tr:not(.flagged) { display: none; }
}
@media print {
  header.top { position: static; border-bottom-width: 1px; }
  tbody tr { scroll-margin-top: 0; }
  .only-flagged tbody tr:not(.flagged) { display: table-row; }
  tr.untranslated td.tgt { background: none; border-inline-start: 3px solid var(--warn); }
  .s.hl { background: none; box-shadow: none; }
  .tools { display: none !important; }
}
"#;

/// The page's script: highlight, filter, keyboard navigation, editing, download.
/// Its SHA-256 is in the page's CSP, so it must stay byte-for-byte what is hashed.
const DOC_JS: &str = r#"
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  var data = JSON.parse(document.getElementById("tarjama-data").textContent);
  var body = document.querySelector("table.aligned tbody");
  var rows = Array.prototype.slice.call(body.querySelectorAll("tr[data-i]"));
  var flagged = rows.filter(function (tr) { return tr.classList.contains("flagged"); });
  var controls = document.getElementById("controls");
  controls.hidden = false;

  function span(el) { return el && el.closest ? el.closest(".s") : null; }
  function mark(s, on) {
    var tr = s.closest("tr");
    var sel = '.s[data-s="' + CSS.escape(s.getAttribute("data-s")) + '"]';
    tr.querySelectorAll(sel).forEach(function (x) { x.classList.toggle("hl", on); });
  }
  body.addEventListener("mouseover", function (e) { var s = span(e.target); if (s) { mark(s, true); } });
  body.addEventListener("mouseout", function (e) { var s = span(e.target); if (s) { mark(s, false); } });
  body.addEventListener("focusin", function (e) { var s = span(e.target); if (s) { mark(s, true); } });
  body.addEventListener("focusout", function (e) { var s = span(e.target); if (s) { mark(s, false); } });

  var only = document.getElementById("only-flagged");
  only.addEventListener("change", function () {
    document.body.classList.toggle("only-flagged", only.checked);
  });

  var status = document.getElementById("nav-status");
  var current = -1;
  function rowOf(el) { return el && el.closest ? el.closest("tbody tr[data-i]") : null; }
  function go(step) {
    if (!flagged.length) { status.textContent = "no flagged rows"; return; }
    var at = rowOf(document.activeElement);
    var pos = at ? rows.indexOf(at) : current;
    var list = step > 0 ? flagged : flagged.slice().reverse();
    var next = list.find(function (tr) {
      var i = rows.indexOf(tr);
      return step > 0 ? i > pos : i < pos;
    }) || list[0];
    current = rows.indexOf(next);
    next.focus({ preventScroll: true });
    next.scrollIntoView({ block: "center" });
    status.textContent = "flagged row " + (flagged.indexOf(next) + 1) + " of " + flagged.length;
  }
  document.getElementById("next-flagged").addEventListener("click", function () { go(1); });
  document.getElementById("prev-flagged").addEventListener("click", function () { go(-1); });

  var storeKey = "tarjama:corrections:" + data.doc + ":" + data.tgt_lang;
  var edits = {};
  var originals = {};
  var download = document.getElementById("download");
  function store() {
    try {
      var keep = {};
      Object.keys(edits).forEach(function (i) { keep[i] = { source: data.rows[i].source, target: edits[i] }; });
      if (Object.keys(keep).length) { localStorage.setItem(storeKey, JSON.stringify(keep)); }
      else { localStorage.removeItem(storeKey); }
    } catch (err) { /* storage unavailable: edits live until the page closes */ }
  }
  function show(tr) {
    var i = tr.getAttribute("data-i");
    var t = tr.querySelector(".t");
    if (!(i in originals)) { originals[i] = t.cloneNode(true); }
    var edited = i in edits;
    var fresh = edited ? document.createElement("div") : originals[i].cloneNode(true);
    if (edited) { fresh.className = "t"; fresh.textContent = edits[i]; }
    t.replaceWith(fresh);
    tr.classList.toggle("edited", edited);
    var badge = tr.querySelector(".badge-edited");
    if (badge) { badge.hidden = !edited; }
    var n = Object.keys(edits).length;
    download.disabled = n === 0;
    download.textContent = "Download corrections (" + n + ")";
  }
  function finish(tr, value) {
    var i = tr.getAttribute("data-i");
    var editor = tr.querySelector(".editor");
    if (editor) { editor.remove(); }
    tr.querySelector(".t").hidden = false;
    tr.querySelector(".num .tools").hidden = false;
    if (value !== null) {
      value = value.trim();
      if (value === "" || value === data.rows[i].machine) { delete edits[i]; } else { edits[i] = value; }
      store();
      show(tr);
    }
    tr.querySelector("button.edit").focus();
  }
  function button(label, cls, act) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = cls;
    b.textContent = label;
    b.addEventListener("click", act);
    return b;
  }
  function edit(tr) {
    var i = tr.getAttribute("data-i");
    if (!data.rows[i] || tr.querySelector(".editor")) { return; }
    var area = document.createElement("textarea");
    area.value = i in edits ? edits[i] : (data.rows[i].machine || "");
    area.setAttribute("aria-label", "Translation of paragraph " + (Number(i) + 1));
    area.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); finish(tr, area.value); }
      else if (e.key === "Escape") { e.preventDefault(); finish(tr, null); }
    });
    var bar = document.createElement("div");
    bar.className = "tools";
    bar.append(button("Cancel", "cancel", function () { finish(tr, null); }),
      button("Save", "save", function () { finish(tr, area.value); }));
    var box = document.createElement("div");
    box.className = "editor";
    box.append(area, bar);
    tr.querySelector(".t").hidden = true;
    tr.querySelector(".num .tools").hidden = true;
    tr.querySelector("td.tgt").append(box);
    area.focus();
  }
  body.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("button.edit") : null;
    if (b) { edit(b.closest("tr")); }
  });
  download.addEventListener("click", function () {
    var list = Object.keys(edits).map(Number).sort(function (a, b) { return a - b; }).map(function (i) {
      var r = data.rows[i];
      return { doc: data.doc, index: i, src_lang: r.src_lang, tgt_lang: data.tgt_lang,
        source: r.source, machine: r.machine, target: edits[i] };
    });
    var text = JSON.stringify({ tarjama: "corrections", version: 1, corrections: list }, null, 2) + "\n";
    var a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    a.download = data.file;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
  });

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) { return; }
    var t = e.target;
    if (t && (t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable ||
      t.tagName === "INPUT" && t.type !== "checkbox")) { return; }
    if (e.key === "n" || e.key === "j") { e.preventDefault(); go(1); }
    else if (e.key === "p" || e.key === "k") { e.preventDefault(); go(-1); }
    else if (e.key === "e") {
      var tr = rowOf(document.activeElement) || rows[current];
      if (tr && data.rows[tr.getAttribute("data-i")]) { e.preventDefault(); edit(tr); }
    }
  });

  try {
    var saved = JSON.parse(localStorage.getItem(storeKey) || "{}");
    Object.keys(saved).forEach(function (i) {
      if (data.rows[i] && saved[i] && saved[i].source === data.rows[i].source) { edits[i] = String(saved[i].target); }
    });
  } catch (err) { /* nothing saved */ }
  rows.forEach(function (tr) { if (data.rows[tr.getAttribute("data-i")]) { show(tr); } });
})();
"#;

/// The page for one document.
#[must_use]
pub fn render(doc: &AlignedDoc) -> String {
    let mut out = String::with_capacity(4096 + doc.rows.iter().map(row_len).sum::<usize>() * 3);
    head(&mut out, &doc.rel, DOC_CSS, DOC_JS);
    nav(&mut out, &doc.rel);
    header(&mut out, doc);
    table(&mut out, doc);
    data_block(&mut out, doc);
    let _ = write!(out, "<script>{DOC_JS}</script>\n</body>\n</html>\n");
    out
}

fn row_len(row: &Row) -> usize {
    row.source.len() + row.target.as_ref().map_or(0, String::len) + 300
}

/// `'sha256-…'`: the CSP source expression that allows exactly `body`.
#[must_use]
pub fn csp_hash(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// `<!doctype html>` up to and including `<body>`, with the CSP that allows only
/// `<style>{BASE_CSS}{css}</style>` and `<script>{script}</script>` (written by the
/// caller, byte for byte).
pub(crate) fn head(out: &mut String, title: &str, css: &str, script: &str) {
    let style = format!("{BASE_CSS}{css}");
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src {}; script-src {}; base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"tarjama {}\">\n<title>{}</title>\n\
         <style>{style}</style>\n</head>\n<body>\n",
        csp_hash(&style),
        csp_hash(script),
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
    for (flag, n) in &c.flags {
        if flag != flags::NOT_SENT {
            let _ = writeln!(out, "<li>{}: <b>{n}</b></li>", flag_badge(flag));
        }
    }
    out.push_str("</ul>\n");
    controls(out);
    out.push_str("</header>\n");
}

/// The reviewer's controls; hidden until the script runs (they need it).
fn controls(out: &mut String) {
    out.push_str(
        "<div class=\"controls\" id=\"controls\" hidden>\n\
         <label><input type=\"checkbox\" id=\"only-flagged\"> Show only flagged rows</label>\n\
         <button type=\"button\" id=\"prev-flagged\">↑ Previous flagged</button>\n\
         <button type=\"button\" id=\"next-flagged\">↓ Next flagged</button>\n\
         <span id=\"nav-status\" aria-live=\"polite\"></span>\n\
         <button type=\"button\" id=\"download\" disabled>Download corrections (0)</button>\n\
         </div>\n\
         <p class=\"keys\">Keys: <kbd>n</kbd>/<kbd>j</kbd> next flagged row · \
         <kbd>p</kbd>/<kbd>k</kbd> previous · <kbd>e</kbd> edit the row · \
         <kbd>Ctrl</kbd>+<kbd>Enter</kbd> save · <kbd>Esc</kbd> cancel · \
         hover or <kbd>Tab</kbd> to a sentence to see its counterpart. \
         <span title=\"a quality check failed, or the translation is missing\">Flagged: \
         a quality check failed or no translation.</span></p>\n",
    );
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
    row.flags
        .iter()
        .any(|f| flags::QUALITY.contains(&f.as_str()))
        || row.is_untranslated()
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
        "<tr id=\"p{n}\" class=\"{}\" data-i=\"{}\" tabindex=\"-1\">\n<td class=\"num\"><a href=\"#p{n}\">{n}</a>{}{}{}{}</td>\n",
        row_classes(row, &status),
        row.index,
        kind_badge(row.kind),
        flag_badges(row),
        if row.cached {
            badge("cached", "cached")
        } else {
            String::new()
        },
        tools(row, &status),
    );
    let src_rtl = is_rtl(&row.src_lang);
    let _ = writeln!(
        out,
        "<td class=\"src\" dir=\"{}\" lang=\"{}\">{}</td>",
        dir_of(&row.src_lang),
        attr(&row.src_lang),
        source_cell(row, src_rtl),
    );
    let _ = writeln!(
        out,
        "<td class=\"tgt\" dir=\"{}\" lang=\"{}\"><div class=\"t\">{}</div></td>\n</tr>",
        dir_of(to),
        attr(to),
        target_cell(row, &status, is_rtl(to)),
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
    if is_flagged(row) {
        classes.push_str(" flagged");
    }
    if row.flags.iter().any(|f| f == flags::REVIEWED) {
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
        .filter(|f| flags::QUALITY.contains(&f.as_str()) || *f == flags::REVIEWED)
        .map(|f| flag_badge(f))
        .collect()
}

fn flag_badge(flag: &str) -> String {
    let class = if flags::QUALITY.contains(&flag) {
        "q"
    } else if flag == flags::REVIEWED {
        "reviewed"
    } else {
        "flag"
    };
    format!(
        "<span class=\"badge badge-{class}\" lang=\"en\" dir=\"ltr\" title=\"{}\">{}</span>",
        attr(flag_title(flag)),
        text(flag)
    )
}

/// What a flag means, for the badge's tooltip.
fn flag_title(flag: &str) -> &'static str {
    match flag {
        flags::NUMBER_MISMATCH => {
            "a number in the source is missing from the translation, or the other way round"
        }
        flags::UNTRANSLATED => "the translation still contains Arabic script or equals the source",
        flags::LENGTH_RATIO => "the translation's length is far from usual for this language pair",
        flags::EMPTY => "the translation is empty",
        flags::TRUNCATED => "the translation ends mid-sentence where the source does not",
        flags::SAME_TARGET => "another paragraph with a different source has the same translation",
        flags::REVIEWED => "a human correction (translate import), not machine output",
        _ => "",
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

/// One focusable span per sentence, or one for the whole paragraph when the row has
/// no sentence pairs. `key` links the span to its counterpart in the other cell.
fn sentence_span(out: &mut String, key: &str, s: &str, cell_rtl: bool) {
    let dir = match (cell_rtl, mostly_latin(s)) {
        (true, true) => " dir=\"ltr\"",
        (false, false) if has_arabic_script(s) => " dir=\"rtl\"",
        _ => "",
    };
    let _ = write!(
        out,
        "<span class=\"s\" data-s=\"{key}\" tabindex=\"0\"{dir}>{}</span>",
        text(s)
    );
}

/// The cell's spans: `pick` chooses the side of each pair.
fn spans(
    row: &Row,
    whole: &str,
    cell_rtl: bool,
    pick: fn(&crate::model::SentencePair) -> &str,
) -> String {
    let mut out = String::with_capacity(whole.len() * 2);
    if row.sentences.is_empty() {
        sentence_span(&mut out, &row.index.to_string(), whole, cell_rtl);
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
        Status::Untranslated(reason) if reason.is_empty() => badge("untranslated", "untranslated"),
        Status::Untranslated(reason) => badge("untranslated", &format!("untranslated: {reason}")),
    }
}

/// Under the row's number: the `edited` badge (hidden until the row is edited) and the
/// Edit button, both shown only once the script runs.
fn tools(row: &Row, status: &Status) -> String {
    if !is_editable(status) {
        return String::new();
    }
    format!(
        "<div class=\"tools\" lang=\"en\" dir=\"ltr\">\
         <span class=\"badge badge-edited\" hidden>edited</span>\
         <button type=\"button\" class=\"edit\" aria-label=\"Edit the translation of paragraph {}\">Edit</button></div>",
        row.index + 1
    )
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

/// What the script needs to build a corrections file, per editable row.
#[derive(Serialize)]
struct PageData<'a> {
    doc: &'a str,
    tgt_lang: &'a str,
    file: String,
    rows: BTreeMap<usize, RowData<'a>>,
}

#[derive(Serialize)]
struct RowData<'a> {
    src_lang: &'a str,
    source: &'a str,
    machine: Option<&'a str>,
}

/// `<stem>.<to>.corrections.json`, the download's suggested name.
fn corrections_file_name(doc: &AlignedDoc) -> String {
    let name = output_rel(&doc.rel, &doc.tgt_lang, "json")
        .pop()
        .unwrap_or_default();
    let stem = name.strip_suffix(".json").unwrap_or(&name);
    format!("{stem}.corrections.json")
}

/// The rows' data as a JSON data block (never executed; `<`, `>` and `&` escaped so
/// no text can close the element).
fn data_block(out: &mut String, doc: &AlignedDoc) {
    let rows = doc
        .rows
        .iter()
        .filter(|r| is_editable(&Status::of(r)))
        .map(|r| {
            (
                r.index,
                RowData {
                    src_lang: &r.src_lang,
                    source: &r.source,
                    machine: r.target.as_deref(),
                },
            )
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

    fn row(flags: &[&str], sentences: &[(&str, &str)]) -> Row {
        Row {
            index: 4,
            kind: Kind::Text,
            src_lang: "ar".into(),
            source: "قال 12 شخصا. ثم BBC News.".into(),
            target: Some("12 people said. Then BBC News.".into()),
            cached: false,
            flags: flags.iter().map(|f| (*f).to_owned()).collect(),
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
        let mut r = row(&["offline_miss"], &[]);
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
    fn a_row_without_sentences_is_one_span_per_cell() {
        let html = render(&doc(vec![row(&[], &[])]));
        assert_eq!(html.matches("data-s=\"4\"").count(), 2, "{html}");
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
            &[flags::NUMBER_MISMATCH, flags::REVIEWED],
            &[],
        )]));
        assert!(
            html.contains("class=\"kind-text translated flagged reviewed\""),
            "{html}"
        );
        assert!(html.contains(">number_mismatch</span>"));
        assert!(html.contains("badge-reviewed"));
        let plain = render(&doc(vec![row(&[flags::REVIEWED], &[])]));
        assert!(
            plain.contains("class=\"kind-text translated reviewed\""),
            "reviewed alone is not a problem: {plain}"
        );
    }

    #[test]
    fn csp_allows_exactly_the_page_script_and_style() {
        let html = render(&doc(vec![row(&[], &[])]));
        let script = html
            .split("<script>")
            .nth(1)
            .unwrap()
            .split("</script>")
            .next()
            .unwrap();
        assert_eq!(script, DOC_JS);
        let style = html
            .split("<style>")
            .nth(1)
            .unwrap()
            .split("</style>")
            .next()
            .unwrap();
        let csp = format!(
            "default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'",
            csp_hash(style),
            csp_hash(script)
        );
        assert!(html.contains(&format!("content=\"{csp}\"")), "{html}");
        // The known answer for the empty string, so the hash is SHA-256 in base64.
        assert_eq!(
            csp_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }

    #[test]
    fn data_block_cannot_close_its_element() {
        let mut r = row(&[], &[]);
        r.source = "</script><script>alert(1)</script> & co".into();
        let html = render(&doc(vec![r]));
        let block = html
            .split("id=\"tarjama-data\">")
            .nth(1)
            .unwrap()
            .split("</script>")
            .next()
            .unwrap();
        assert!(!block.contains('<') && !block.contains('&'), "{block}");
        let v: serde_json::Value = serde_json::from_str(block).unwrap();
        assert_eq!(
            v["rows"]["4"]["source"],
            "</script><script>alert(1)</script> & co"
        );
        assert_eq!(v["file"], "خبر.en.corrections.json");
        assert_eq!(v["doc"], "dir/خبر.txt");
    }
}
