//! Reading TMX (1.4b, and the 1.1-style `lang` attribute) for `translate import`.
//!
//! The source language of a `<tu>` is its own `srclang`, else the header's, else (when
//! either is `*all*` or missing) the language of its first `<tuv>`. Each other `<tuv>`
//! gives a unit for its language. Inline codes (`<bpt>`, `<ept>`, `<ph>`, `<it>`,
//! `<ut>`) are native markup and dropped; `<hi>` keeps its text; `<sub>` (a sub-flow)
//! is dropped.
//!
//! Our own TMX (header `creationtool="tarjama"`) keeps its language codes as written;
//! in another tool's, tags are reduced to their primary language (`ar-SA` → `ar`),
//! the codes tarjama's runs use. Our sentence-mode TMX (`tuid="<index>.<n>"` with
//! `<prop type="x-tarjama-paragraph">`) is joined back into paragraphs: the units of
//! one paragraph, in order, each side joined with a space.

use roxmltree::Node;

use super::xml::{Lookup, XML_NS, line};
use super::{FileKind, ParseError, Parsed, Unit};

/// Read a parsed TMX document.
///
/// # Errors
/// No `<body>`.
pub fn read(root: Node<'_, '_>) -> Result<Parsed, ParseError> {
    let header = root.child("", "header");
    let ours = header.and_then(|h| h.attr("creationtool")) == Some("tarjama");
    let header_src = header.and_then(|h| h.attr("srclang")).unwrap_or("");
    let body = root
        .child("", "body")
        .ok_or_else(|| ParseError::at(line(root), "<tmx> has no <body>"))?;
    let mut parsed = Parsed::new(FileKind::Tmx);
    // Sentence units of one paragraph, joined as they come: (paragraph, src, tgt) →
    // index in `joined`.
    let mut joined: Vec<Unit> = Vec::new();
    let mut paragraph_of: std::collections::HashMap<(String, String, String), usize> =
        std::collections::HashMap::new();
    for tu in body.children_named("", "tu") {
        let tuvs: Vec<(String, String)> = tu
            .children_named("", "tuv")
            .map(|tuv| {
                let lang = tuv
                    .attr_ns(XML_NS, "lang")
                    .or_else(|| tuv.attr("lang"))
                    .unwrap_or("");
                let seg = tuv.child("", "seg").map(text).unwrap_or_default();
                (lang_code(lang, ours), seg)
            })
            .collect();
        let place = format!("tu {}", tu.attr("tuid").unwrap_or("?"));
        let src = [tu.attr("srclang"), Some(header_src)]
            .into_iter()
            .flatten()
            .find(|s| !s.is_empty() && *s != "*all*")
            .map(|s| lang_code(s, ours))
            .or_else(|| tuvs.first().map(|(l, _)| l.clone()))
            .unwrap_or_default();
        let Some((_, source)) = tuvs.iter().find(|(l, _)| *l == src) else {
            parsed.skipped.push("no source-language text".into());
            continue;
        };
        let targets: Vec<&(String, String)> = tuvs.iter().filter(|(l, _)| *l != src).collect();
        if targets.is_empty() {
            parsed.skipped.push("no target".into());
            continue;
        }
        let paragraph = tu
            .children_named("", "prop")
            .find(|p| p.attr("type") == Some("x-tarjama-paragraph"))
            .map(text);
        for (lang, target) in targets {
            let unit = Unit {
                place: place.clone(),
                src_lang: src.clone(),
                tgt_lang: lang.clone(),
                source: source.clone(),
                target: target.clone(),
                marked: false,
            };
            match &paragraph {
                Some(p) => {
                    let k = (p.trim().to_string(), src.clone(), lang.clone());
                    match paragraph_of.get(&k) {
                        Some(&i) => {
                            let u = &mut joined[i];
                            u.source = format!("{} {}", u.source, unit.source);
                            u.target = format!("{} {}", u.target, unit.target);
                        }
                        None => {
                            paragraph_of.insert(k, joined.len());
                            joined.push(Unit {
                                place: format!("paragraph {}", p.trim()),
                                ..unit
                            });
                        }
                    }
                }
                None => parsed.push(unit),
            }
        }
    }
    for unit in joined {
        parsed.push(unit);
    }
    Ok(parsed)
}

fn lang_code(tag: &str, ours: bool) -> String {
    let tag = tag.trim().to_ascii_lowercase();
    if ours {
        tag
    } else {
        tag.split(['-', '_']).next().unwrap_or("").to_string()
    }
}

fn text(e: Node<'_, '_>) -> String {
    let mut out = String::new();
    collect(e, &mut out);
    out
}

/// Character data, and that of `<hi>`; inline codes and sub-flows are dropped. The
/// nesting is capped when the file is parsed, so the recursion is bounded.
fn collect(e: Node<'_, '_>, out: &mut String) {
    for child in e.children() {
        if child.is_text() {
            out.push_str(child.text().unwrap_or_default());
        } else if child.is("", "hi") {
            collect(child, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;

    #[test]
    fn our_paragraph_and_sentence_files() {
        let para = r#"<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4">
  <header creationtool="tarjama" creationtoolversion="0.1.0" segtype="paragraph" o-tmf="tarjama" adminlang="en" srclang="ar" datatype="plaintext">
    <prop type="x-tarjama-doc">001.txt</prop>
  </header>
  <body>
    <tu tuid="3">
      <tuv xml:lang="ar"><seg>قال الوزير. ثم غادر.</seg></tuv>
      <tuv xml:lang="en"><seg>The minister said. Then he left.</seg></tuv>
    </tu>
  </body>
</tmx>"#;
        let p = parse(para.as_bytes()).unwrap();
        assert_eq!(p.units.len(), 1);
        assert_eq!(p.units[0].target, "The minister said. Then he left.");
        let sent = r#"<tmx version="1.4"><header creationtool="tarjama" srclang="fa"/><body>
<tu tuid="3.0"><prop type="x-tarjama-paragraph">3</prop><tuv xml:lang="fa"><seg>جمله یک.</seg></tuv><tuv xml:lang="en"><seg>One.</seg></tuv></tu>
<tu tuid="5.0"><prop type="x-tarjama-paragraph">5</prop><tuv xml:lang="fa"><seg>دیگر.</seg></tuv><tuv xml:lang="en"><seg>Other.</seg></tuv></tu>
<tu tuid="3.1"><prop type="x-tarjama-paragraph">3</prop><tuv xml:lang="fa"><seg>جمله دو.</seg></tuv><tuv xml:lang="en"><seg>Two.</seg></tuv></tu>
</body></tmx>"#;
        let p = parse(sent.as_bytes()).unwrap();
        assert_eq!(p.units.len(), 2);
        assert_eq!(
            (p.units[0].source.as_str(), p.units[0].target.as_str()),
            ("جمله یک. جمله دو.", "One. Two.")
        );
        assert_eq!(p.units[0].src_lang, "fa");
    }

    /// Another tool's TMX: regional tags, `*all*`, srclang on the tu, the 1.1 `lang`
    /// attribute, inline codes, three languages, UTF-16 with a BOM.
    #[test]
    fn generic_tmx_from_another_tool() {
        let generic = r#"<?xml version="1.0" encoding="UTF-16"?>
<tmx version="1.4"><header creationtool="SDL" srclang="*all*" segtype="sentence"/><body>
<tu srclang="AR-SA"><tuv xml:lang="en-US"><seg>The <bpt i="1">&lt;b&gt;</bpt>news<ept i="1">&lt;/b&gt;</ept></seg></tuv>
  <tuv xml:lang="ar-SA"><seg>الأخبار</seg></tuv><tuv xml:lang="fr-FR"><seg>Les <hi>nouvelles</hi></seg></tuv></tu>
<tu><tuv lang="ar"><seg>صباح</seg></tuv><tuv lang="en"><seg>morning</seg></tuv></tu>
<tu><tuv xml:lang="ar"><seg>وحيد</seg></tuv></tu>
</body></tmx>"#;
        let mut bytes = vec![0xFF, 0xFE];
        for u in generic.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let p = parse(&bytes).unwrap();
        let got: Vec<(&str, &str, &str, &str)> = p
            .units
            .iter()
            .map(|u| {
                (
                    u.src_lang.as_str(),
                    u.tgt_lang.as_str(),
                    u.source.as_str(),
                    u.target.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("ar", "en", "الأخبار", "The news"),
                ("ar", "fr", "الأخبار", "Les nouvelles"),
                ("ar", "en", "صباح", "morning"),
            ]
        );
        assert_eq!(p.skipped, vec!["no target"]);
    }

    #[test]
    fn broken_tmx() {
        let e = parse(b"<tmx version='1.4'>\n<header/>\n</tmx>").unwrap_err();
        assert!(e.message.contains("no <body>"), "{e}");
        let e = parse(b"<tmx>\n<body>\n<tu><tuv xml:lang='ar'><seg>a</tuv></tu></body></tmx>")
            .unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
    }
}
