//! XLIFF 2.0 output: one document for CAT tools, written with quick-xml.
//!
//! This module owns the XLIFF layout: `<xliff version="2.0" srcLang trgLang>` in the
//! core namespace, one `<file id="f1" original="REL">`, one `<unit id="p<index>">` per
//! row that has a translation (`index` 0-based, as in JSONL), and in it one
//! `<segment id="p<index>s<n>">` per aligned sentence pair (`n` 0-based; a row whose
//! sentences were not aligned is one segment holding the whole paragraph). A segment's
//! `state` is `reviewed` for a human correction, else `translated`. The row's quality
//! flags go in the unit's `<notes>` as `<note category="tarjama-flag">`. A paragraph
//! whose language differs from the document's (`srcLang`) says so in an extension
//! attribute, `<unit tj:srcLang="fa" xmlns:tj="urn:tarjama">`, so that an import keys
//! it right. No date or other varying data: the same document gives the same bytes.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::model::{AlignedDoc, Flag, Row, SentencePair};

use super::tmx::xml_safe;

/// The XLIFF 2.0 core namespace.
pub(crate) const NAMESPACE: &str = "urn:oasis:names:tc:xliff:document:2.0";

/// Our extension namespace (a unit's own source language).
pub(crate) const TARJAMA_NS: &str = "urn:tarjama";

/// The `category` of the notes that carry a quality flag.
pub(crate) const FLAG_NOTE_CATEGORY: &str = "tarjama-flag";

/// The XLIFF file for one document.
///
/// # Errors
/// Only if writing to memory fails, which it does not.
pub fn render(doc: &AlignedDoc) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let src = xml_safe(&doc.src_lang);
    let tgt = xml_safe(&doc.tgt_lang);
    w.write_event(Event::Start(BytesStart::new("xliff").with_attributes([
        ("xmlns", NAMESPACE),
        ("version", "2.0"),
        ("srcLang", &src),
        ("trgLang", &tgt),
    ])))?;
    let original = xml_safe(&doc.rel);
    w.write_event(Event::Start(
        BytesStart::new("file").with_attributes([("id", "f1"), ("original", &original)]),
    ))?;
    for row in &doc.rows {
        if let Some(target) = &row.target {
            unit(&mut w, row, &doc.src_lang, target)?;
        }
    }
    w.write_event(Event::End(BytesEnd::new("file")))?;
    w.write_event(Event::End(BytesEnd::new("xliff")))?;
    let mut out = w.into_inner();
    out.push(b'\n');
    Ok(out)
}

fn unit(w: &mut Writer<Vec<u8>>, row: &Row, doc_lang: &str, target: &str) -> std::io::Result<()> {
    let id = format!("p{}", row.index);
    let mut start = BytesStart::new("unit").with_attributes([("id", id.as_str())]);
    if row.src_lang != doc_lang {
        let lang = xml_safe(&row.src_lang);
        start.extend_attributes([("xmlns:tj", TARJAMA_NS), ("tj:srcLang", &lang)]);
    }
    w.write_event(Event::Start(start))?;
    let quality: Vec<&str> = row
        .flags
        .iter()
        .filter(|f| f.is_quality())
        .map(|f| f.as_str())
        .collect();
    if !quality.is_empty() {
        w.write_event(Event::Start(BytesStart::new("notes")))?;
        for flag in quality {
            w.create_element("note")
                .with_attribute(("category", FLAG_NOTE_CATEGORY))
                .write_text_content(BytesText::new(flag))?;
        }
        w.write_event(Event::End(BytesEnd::new("notes")))?;
    }
    let state = if row.flags.contains(&Flag::Reviewed) {
        "reviewed"
    } else {
        "translated"
    };
    let whole = [SentencePair {
        source: row.source.clone(),
        target: target.to_string(),
    }];
    let pairs = if row.sentences.is_empty() {
        &whole[..]
    } else {
        &row.sentences[..]
    };
    for (n, pair) in pairs.iter().enumerate() {
        let sid = format!("{id}s{n}");
        w.create_element("segment")
            .with_attributes([("id", sid.as_str()), ("state", state)])
            .write_inner_content(|w| {
                text_element(w, "source", &pair.source)?;
                text_element(w, "target", &pair.target)
            })?;
    }
    w.write_event(Event::End(BytesEnd::new("unit")))
}

fn text_element(w: &mut Writer<Vec<u8>>, name: &str, text: &str) -> std::io::Result<()> {
    let text = xml_safe(text);
    w.create_element(name)
        .write_text_content(BytesText::new(&text))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn row(index: usize, target: Option<&str>, flags: &[Flag]) -> Row {
        Row {
            index,
            kind: Kind::Text,
            src_lang: "ar".into(),
            source: "قال الوزير. ثم غادر.".into(),
            target: target.map(Into::into),
            cached: false,
            flags: flags.to_vec(),
            sentences: Vec::new(),
        }
    }

    #[test]
    fn units_segments_states_and_notes() {
        let mut split = row(
            2,
            Some("The minister spoke. Then he left."),
            &[Flag::NumberMismatch],
        );
        split.sentences = vec![
            SentencePair {
                source: "قال الوزير.".into(),
                target: "The minister spoke.".into(),
            },
            SentencePair {
                source: "ثم غادر.".into(),
                target: "Then he left.".into(),
            },
        ];
        let doc = AlignedDoc {
            rel: "a/b & c.txt".into(),
            src_lang: "ar".into(),
            tgt_lang: "en".into(),
            provider: "libretranslate".into(),
            rows: vec![
                Row {
                    src_lang: "fa".into(),
                    ..row(0, Some("<b>Title</b>"), &[Flag::Reviewed])
                },
                row(1, None, &[Flag::OfflineMiss]),
                split,
            ],
        };
        let xml = String::from_utf8(render(&doc).unwrap()).unwrap();
        assert!(xml.contains(
            r#"<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="ar" trgLang="en">"#
        ));
        assert!(xml.contains(r#"<file id="f1" original="a/b &amp; c.txt">"#));
        assert!(xml.contains(r#"<segment id="p0s0" state="reviewed">"#));
        assert!(xml.contains(r#"<unit id="p0" xmlns:tj="urn:tarjama" tj:srcLang="fa">"#));
        assert!(xml.contains(r#"<unit id="p2">"#));
        assert!(xml.contains("&lt;b&gt;Title&lt;/b&gt;"));
        assert!(
            !xml.contains(r#"id="p1""#),
            "untranslated rows have no unit"
        );
        assert!(xml.contains(r#"<segment id="p2s1" state="translated">"#));
        assert!(xml.contains(r#"<note category="tarjama-flag">number_mismatch</note>"#));
        assert!(
            !xml.contains(">reviewed</note>"),
            "reviewed is a state, not a note"
        );
        assert_eq!(xml, String::from_utf8(render(&doc).unwrap()).unwrap());
    }
}
