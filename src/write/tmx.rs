//! TMX 1.4b output: a translation memory per document, written with quick-xml.
//!
//! This module owns the TMX layout: a header without a creation date (outputs are
//! deterministic) carrying the document's path as `<prop type="x-tarjama-doc">`, then
//! the translation units, as [`Unit`] says:
//! - [`Unit::Paragraph`] (the default): one `<tu tuid="<index>">` per row that has a
//!   translation, holding a source and a target `<tuv>`;
//! - [`Unit::Sentence`]: one `<tu tuid="<index>.<n>">` per aligned sentence pair with
//!   both sides non-empty (`n` counts those pairs from 0), each with
//!   `<prop type="x-tarjama-paragraph"><index></prop>` so that a reader can join them
//!   back into their paragraph.
//!
//! Characters XML 1.0 forbids are dropped; escaping is left to the writer.

use std::borrow::Cow;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::model::{AlignedDoc, Row};

/// What one translation unit holds (`--tmx-unit`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Unit {
    /// One `<tu>` per translated paragraph.
    #[default]
    Paragraph,
    /// One `<tu>` per aligned sentence pair.
    Sentence,
}

impl Unit {
    /// The unit named `name` (`paragraph` or `sentence`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Unit> {
        match name {
            "paragraph" => Some(Unit::Paragraph),
            "sentence" => Some(Unit::Sentence),
            _ => None,
        }
    }

    /// The `segtype` of the TMX header.
    fn segtype(self) -> &'static str {
        match self {
            Unit::Paragraph => "paragraph",
            Unit::Sentence => "sentence",
        }
    }
}

/// The TMX file for one document, one unit per paragraph.
///
/// # Errors
/// Only if writing to memory fails, which it does not.
pub fn render(doc: &AlignedDoc) -> std::io::Result<Vec<u8>> {
    render_units(doc, Unit::Paragraph)
}

/// The TMX file for one document, with units of `unit`.
///
/// # Errors
/// Only if writing to memory fails, which it does not.
pub(crate) fn render_units(doc: &AlignedDoc, unit: Unit) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(
        BytesStart::new("tmx").with_attributes([("version", "1.4")]),
    ))?;
    w.write_event(Event::Start(header(doc, unit)))?;
    prop(&mut w, "x-tarjama-doc", &doc.rel)?;
    w.write_event(Event::End(BytesEnd::new("header")))?;
    w.write_event(Event::Start(BytesStart::new("body")))?;
    for row in &doc.rows {
        if let Some(target) = &row.target {
            match unit {
                Unit::Paragraph => tu(&mut w, row, &doc.tgt_lang, target)?,
                Unit::Sentence => sentence_tus(&mut w, row, &doc.tgt_lang)?,
            }
        }
    }
    w.write_event(Event::End(BytesEnd::new("body")))?;
    w.write_event(Event::End(BytesEnd::new("tmx")))?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

fn header(doc: &AlignedDoc, unit: Unit) -> BytesStart<'static> {
    let src = xml_safe(&doc.src_lang);
    BytesStart::new("header").with_attributes([
        ("creationtool", "tarjama"),
        ("creationtoolversion", env!("CARGO_PKG_VERSION")),
        ("segtype", unit.segtype()),
        ("o-tmf", "tarjama"),
        ("adminlang", "en"),
        ("srclang", &src),
        ("datatype", "plaintext"),
    ])
}

fn tu(w: &mut Writer<Vec<u8>>, row: &Row, tgt_lang: &str, target: &str) -> std::io::Result<()> {
    let id = row.index.to_string();
    w.write_event(Event::Start(
        BytesStart::new("tu").with_attributes([("tuid", id.as_str())]),
    ))?;
    tuv(w, &row.src_lang, &row.source)?;
    tuv(w, tgt_lang, target)?;
    w.write_event(Event::End(BytesEnd::new("tu")))
}

/// One `<tu tuid="<index>.<n>">` per sentence pair with both sides non-empty.
fn sentence_tus(w: &mut Writer<Vec<u8>>, row: &Row, tgt_lang: &str) -> std::io::Result<()> {
    let paragraph = row.index.to_string();
    let pairs = row
        .sentences
        .iter()
        .filter(|p| !p.source.trim().is_empty() && !p.target.trim().is_empty());
    for (n, pair) in pairs.enumerate() {
        let id = format!("{}.{n}", row.index);
        w.write_event(Event::Start(
            BytesStart::new("tu").with_attributes([("tuid", id.as_str())]),
        ))?;
        prop(w, "x-tarjama-paragraph", &paragraph)?;
        tuv(w, &row.src_lang, &pair.source)?;
        tuv(w, tgt_lang, &pair.target)?;
        w.write_event(Event::End(BytesEnd::new("tu")))?;
    }
    Ok(())
}

fn prop(w: &mut Writer<Vec<u8>>, kind: &str, value: &str) -> std::io::Result<()> {
    let value = xml_safe(value);
    w.create_element("prop")
        .with_attribute(("type", kind))
        .write_text_content(BytesText::new(&value))?;
    Ok(())
}

fn tuv(w: &mut Writer<Vec<u8>>, lang: &str, text: &str) -> std::io::Result<()> {
    let lang = xml_safe(lang);
    let text = xml_safe(text);
    w.create_element("tuv")
        .with_attribute(("xml:lang", lang.as_ref()))
        .write_inner_content(|w| {
            w.create_element("seg")
                .write_text_content(BytesText::new(&text))?;
            Ok(())
        })?;
    Ok(())
}

/// `s` without the characters XML 1.0 does not allow (most C0 controls, U+FFFE,
/// U+FFFF), and with `\r\n` or `\r` as `\n`, which is what an XML parser would
/// read back anyway.
#[must_use]
pub(crate) fn xml_safe(s: &str) -> Cow<'_, str> {
    let bad =
        |c: char| (c < ' ' && !matches!(c, '\t' | '\n')) || matches!(c, '\u{FFFE}' | '\u{FFFF}');
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    Cow::Owned(s.chars().filter(|c| !bad(*c)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters_are_dropped() {
        assert_eq!(xml_safe("a\u{0}b\u{1b}c\td"), "abc\td");
        assert_eq!(xml_safe("a\r\nb\rc"), "a\nb\nc");
        assert!(matches!(xml_safe("روسيا"), Cow::Borrowed(_)));
    }
}
