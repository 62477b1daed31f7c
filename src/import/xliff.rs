//! Reading XLIFF 2.x (2.0, 2.1, 2.2 share the core namespace) for `translate import`.
//!
//! Only elements and attributes of the core namespace count: a CAT tool's own
//! elements (match data, metadata, its namespaces) are passed over wherever they are.
//! Units are found in every `<file>` and `<group>`. A unit's source is its
//! `<segment>`s' and `<ignorable>`s' sources in order, joined with a space; its target
//! likewise (an `<ignorable>` without a target counts with its source), with inline
//! markup reduced to its text (`<mrk>`, `<pc>` keep their content, `<cp hex>` is the
//! character, placeholders are dropped). A unit's source language is `srcLang`, or
//! its own `tj:srcLang` (namespace `urn:tarjama`) when our writer put one. A unit is marked as human work when any of
//! its segments has `state="reviewed"` or `state="final"`. XLIFF 1.2 is refused with a
//! hint.

use roxmltree::Node;

use super::xml::{Lookup, line};
use super::{FileKind, ParseError, Parsed, Unit};

/// The XLIFF 2 core namespace.
pub(crate) const CORE: &str = "urn:oasis:names:tc:xliff:document:2.0";

/// Read a parsed XLIFF document.
///
/// # Errors
/// Not XLIFF 2 (1.2, no namespace), or no `srcLang`.
pub fn read(root: Node<'_, '_>) -> Result<Parsed, ParseError> {
    let ns = root.tag_name().namespace().unwrap_or("");
    if ns != CORE {
        let version = root.attr("version").unwrap_or("?");
        return Err(ParseError::at(
            line(root),
            if version.starts_with('1') || ns.contains("1.2") {
                format!(
                    "XLIFF {version} is not supported; export the file as XLIFF 2.0 \
                     (namespace {CORE})"
                )
            } else {
                format!("<xliff> is not in the XLIFF 2.0 namespace {CORE}")
            },
        ));
    }
    let src = root
        .attr("srcLang")
        .ok_or_else(|| ParseError::at(line(root), "<xliff> has no srcLang"))?;
    let tgt = root.attr("trgLang").unwrap_or("");
    let mut parsed = Parsed::new(FileKind::Xliff);
    for file in root.children_named(CORE, "file") {
        units(file, src, tgt, &mut parsed);
    }
    Ok(parsed)
}

/// Every unit below `parent` (a `<file>` or `<group>`).
fn units(parent: Node<'_, '_>, src: &str, tgt: &str, parsed: &mut Parsed) {
    for e in parent.children() {
        if e.is(CORE, "group") {
            units(e, src, tgt, parsed);
        } else if e.is(CORE, "unit") {
            unit(e, src, tgt, parsed);
        }
    }
}

fn unit(u: Node<'_, '_>, src: &str, tgt: &str, parsed: &mut Parsed) {
    let place = format!("unit {}", u.attr("id").unwrap_or("?"));
    let mut sources = Vec::new();
    let mut targets = Vec::new();
    let mut marked = false;
    let mut any_target = false;
    for part in u.children() {
        let segment = part.is(CORE, "segment");
        if !segment && !part.is(CORE, "ignorable") {
            continue;
        }
        let source = part.child(CORE, "source").map(text).unwrap_or_default();
        let target = part.child(CORE, "target").map(text);
        if segment {
            any_target |= target.is_some();
            marked |= matches!(part.attr("state"), Some("reviewed" | "final"));
        }
        targets.push(target.unwrap_or_else(|| {
            if segment {
                String::new()
            } else {
                source.clone()
            }
        }));
        sources.push(source);
    }
    if !any_target {
        parsed.skipped.push("no target".into());
        return;
    }
    let src = u
        .attr_ns(crate::write::xliff::TARJAMA_NS, "srcLang")
        .unwrap_or(src);
    parsed.push(Unit {
        place,
        src_lang: src.into(),
        tgt_lang: tgt.into(),
        source: sources.join(" "),
        target: targets.join(" "),
        marked,
    });
}

/// The text of a `<source>` or `<target>`: its character data and that of its inline
/// elements.
fn text(e: Node<'_, '_>) -> String {
    let mut out = String::new();
    collect(e, &mut out);
    out
}

/// Character data, the content of `<mrk>` and `<pc>`, the character of `<cp hex>`;
/// placeholders are dropped. The nesting is capped when the file is parsed, so the
/// recursion is bounded.
fn collect(e: Node<'_, '_>, out: &mut String) {
    for child in e.children() {
        if child.is_text() {
            out.push_str(child.text().unwrap_or_default());
        } else if child.is(CORE, "cp") {
            if let Some(ch) = child
                .attr("hex")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .and_then(char::from_u32)
            {
                out.push(ch);
            }
        } else if child.is(CORE, "mrk") || child.is(CORE, "pc") {
            collect(child, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    const OURS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="ar" trgLang="en">
  <file id="f1" original="001.txt">
    <unit id="p0">
      <segment id="p0s0" state="translated">
        <source>عنوان</source>
        <target>Title</target>
      </segment>
    </unit>
    <unit id="p3" xmlns:tj="urn:tarjama" tj:srcLang="fa">
      <notes>
        <note category="tarjama-flag">number_mismatch</note>
      </notes>
      <segment id="p3s0" state="translated">
        <source>قال الوزير.</source>
        <target>The minister said.</target>
      </segment>
      <segment id="p3s1" state="translated">
        <source>ثم غادر.</source>
        <target>Then he left.</target>
      </segment>
    </unit>
  </file>
</xliff>
"#;

    #[test]
    fn our_file_reads_back_paragraph_by_paragraph() {
        let p = parse(OURS.as_bytes()).unwrap();
        assert_eq!(p.kind, Some(FileKind::Xliff));
        assert_eq!(p.units.len(), 2);
        let u = &p.units[1];
        assert_eq!(
            (
                u.source.as_str(),
                u.target.as_str(),
                u.marked,
                u.place.as_str()
            ),
            (
                "قال الوزير. ثم غادر.",
                "The minister said. Then he left.",
                false,
                "unit p3"
            )
        );
        assert_eq!((u.src_lang.as_str(), u.tgt_lang.as_str()), ("fa", "en"));
        assert_eq!(p.units[0].src_lang, "ar");
    }

    /// What a CAT tool does to the file: another prefix for the core namespace,
    /// its own namespaces and elements, `xml:space`, reformatted whitespace,
    /// `<ignorable>`s, inline markup, states changed to `final`, a group, a BOM.
    #[test]
    fn cat_tool_variations() {
        let edited = "\u{feff}<?xml version='1.0' encoding='utf-8'?>
<x:xliff xmlns:x='urn:oasis:names:tc:xliff:document:2.0' xmlns:mtc='urn:oasis:names:tc:xliff:matches:2.0'
  xmlns:okp='okapi-framework:xliff-extensions' version='2.1' srcLang='ar' trgLang='en'>
 <x:file id='f1' original='001.txt' okp:tool='x'>
  <x:group id='g'>
  <x:unit id='p0' xml:space='preserve'>
   <mtc:matches><mtc:match ref='#p0s0'><x:source>عنوان</x:source><x:target>IGNORED</x:target></mtc:match></mtc:matches>
   <x:segment id='p0s0' state='final' subState='okp:done'>
    <x:source>عنوان</x:source>
    <x:target>The <x:mrk id='m1' type='term'>Headline</x:mrk><x:cp hex='0021'/><x:ph id='1'/></x:target>
   </x:segment>
  </x:unit>
  </x:group>
  <x:unit id='p3'>
   <x:segment id='p3s0' okp:state='final' state='translated'>
    <x:source>قال
       الوزير.</x:source>
    <x:target>The minister
       said.</x:target>
   </x:segment>
   <x:ignorable><x:source> </x:source></x:ignorable>
   <x:segment id='p3s1'><x:source>ثم غادر.</x:source><x:target>Then he left.</x:target></x:segment>
  </x:unit>
  <x:unit id='p4'><x:segment id='p4s0'><x:source>لا ترجمة</x:source></x:segment></x:unit>
 </x:file>
</x:xliff>";
        let p = parse(edited.as_bytes()).unwrap();
        assert_eq!(p.units.len(), 2, "{p:?}");
        assert_eq!(p.units[0].target, "The Headline!");
        assert!(p.units[0].marked);
        assert_eq!(p.units[1].source, "قال الوزير. ثم غادر.");
        assert_eq!(p.units[1].target, "The minister said. Then he left.");
        // A tool's own `okp:state="final"` is not the core `state`.
        assert!(!p.units[1].marked);
        assert_eq!(p.skipped, vec!["no target"]);
    }

    #[test]
    fn broken_and_foreign_files_are_refused_with_the_line() {
        let v12 = "<?xml version='1.0'?>\n<xliff version='1.2' xmlns='urn:oasis:names:tc:xliff:document:1.2'><file/></xliff>";
        let e = parse(v12.as_bytes()).unwrap_err();
        assert!(e.message.contains("XLIFF 1.2 is not supported"), "{e}");
        assert_eq!(e.line, Some(2));
        let truncated = &OURS[..OURS.find("<notes>").unwrap()];
        let e = parse(truncated.as_bytes()).unwrap_err();
        assert!(e.message.contains("ends inside"), "{e}");
        let bad = OURS.replace(
            "</target>\n      </segment>\n    </unit>\n    <unit",
            "</segment></unit><unit",
        );
        let e = parse(bad.as_bytes()).unwrap_err();
        assert_eq!(e.line, Some(7), "{e}");
        let nolang = OURS.replace(" srcLang=\"ar\"", "");
        assert!(
            parse(nolang.as_bytes())
                .unwrap_err()
                .message
                .contains("srcLang")
        );
    }
}
