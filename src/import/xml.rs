//! A small namespace-aware XML tree for the correction readers.
//!
//! Correction files are one document each (kilobytes to a few megabytes), so they are
//! read whole into a tree of elements and text, which the XLIFF and TMX readers walk.
//! Every element keeps its resolved namespace (so a CAT tool's own elements and
//! attributes, in other namespaces, are told apart from the format's) and its line.
//! Entity and character references are resolved; comments, processing instructions
//! and the doctype are dropped. Nesting deeper than [`MAX_DEPTH`] is refused.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::ParseError;

/// The `xml:` namespace (`xml:lang`, `xml:space`).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 256;

/// One element.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    /// Namespace URI, empty when none.
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Attributes: (namespace URI or empty, local name, value).
    pub attrs: Vec<(String, String, String)>,
    /// Children in document order.
    pub children: Vec<Node>,
    /// 1-based line of the start tag.
    pub line: usize,
}

/// A child of an element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// An element.
    Element(Element),
    /// Character data (text and CDATA, references resolved).
    Text(String),
}

impl Element {
    /// The value of the attribute `name` in no namespace.
    #[must_use]
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attr_ns("", name)
    }

    /// The value of the attribute `name` in namespace `ns`.
    #[must_use]
    pub fn attr_ns(&self, ns: &str, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, l, _)| n == ns && l == name)
            .map(|(_, _, v)| v.as_str())
    }

    /// Whether this is `name` in namespace `ns`.
    #[must_use]
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> + '_ {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Child elements named `name` in namespace `ns`.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.is(ns, name))
    }

    /// The first child element named `name` in namespace `ns`.
    #[must_use]
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, name))
    }
}

/// Parse a whole document; returns its root element.
///
/// # Errors
/// Malformed XML (with its line), no root element, nesting too deep.
pub fn parse(text: &str) -> Result<Element, ParseError> {
    let mut reader = NsReader::from_str(text);
    reader.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Element> = Vec::new();
    let line_of = |pos: u64| line_at(text, usize::try_from(pos).unwrap_or(usize::MAX));
    loop {
        let at = reader.buffer_position();
        let (ns, event) = match reader.read_resolved_event() {
            Ok((ns, event)) => (namespace(&ns), event),
            Err(e) => {
                return Err(ParseError::at(
                    line_of(reader.error_position()),
                    format!("malformed XML: {e}"),
                ));
            }
        };
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(ParseError::at(
                        line_of(at),
                        format!("elements nested deeper than {MAX_DEPTH}"),
                    ));
                }
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                let mut attrs = Vec::new();
                for a in start.attributes() {
                    let a = a.map_err(|e| {
                        ParseError::at(line_of(at), format!("malformed XML attribute: {e}"))
                    })?;
                    if a.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    let (ans, local) = reader.resolve_attribute(a.key);
                    let value = a.unescape_value().map_err(|e| {
                        ParseError::at(line_of(at), format!("malformed XML attribute: {e}"))
                    })?;
                    attrs.push((
                        namespace(&ans),
                        String::from_utf8_lossy(local.as_ref()).into_owned(),
                        value.into_owned(),
                    ));
                }
                stack.push(Element {
                    ns,
                    name,
                    attrs,
                    children: Vec::new(),
                    line: line_of(at + 1),
                });
            }
            Event::End(_) => {
                let done = stack.pop().expect("quick-xml checks end names");
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(done)),
                    None => return Ok(done),
                }
            }
            Event::Text(t) => {
                let s = t
                    .decode()
                    .map_err(|e| ParseError::at(line_of(at), format!("malformed XML text: {e}")))?;
                push_text(&mut stack, &s);
            }
            Event::CData(t) => {
                let s = t
                    .decode()
                    .map_err(|e| ParseError::at(line_of(at), format!("malformed XML text: {e}")))?;
                push_text(&mut stack, &s);
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.decode().unwrap_or_default();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| {
                                ParseError::at(
                                    line_of(at),
                                    format!("unknown XML entity `&{name};`"),
                                )
                            })?
                            .to_string()
                    }
                    Err(e) => {
                        return Err(ParseError::at(
                            line_of(at),
                            format!("bad character reference: {e}"),
                        ));
                    }
                };
                push_text(&mut stack, &resolved);
            }
            Event::Eof => {
                return Err(ParseError::at(
                    line_of(at),
                    if stack.is_empty() {
                        "no XML root element".to_string()
                    } else {
                        format!(
                            "malformed XML: the file ends inside <{}>",
                            stack[stack.len() - 1].name
                        )
                    },
                ));
            }
            _ => {}
        }
    }
}

fn namespace(ns: &ResolveResult<'_>) -> String {
    match ns {
        ResolveResult::Bound(n) => String::from_utf8_lossy(n.as_ref()).into_owned(),
        _ => String::new(),
    }
}

fn push_text(stack: &mut [Element], s: &str) {
    if let Some(top) = stack.last_mut() {
        if let Some(Node::Text(t)) = top.children.last_mut() {
            t.push_str(s);
        } else {
            top.children.push(Node::Text(s.to_string()));
        }
    }
}

/// The 1-based line of byte offset `pos` in `text`.
#[must_use]
pub fn line_at(text: &str, pos: usize) -> usize {
    let end = pos.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_references_and_lines() {
        let doc = "<?xml version='1.0'?>\n<r xmlns='urn:a' xmlns:o='urn:o'>\n\
                   <o:x o:k='1' k='2'>t</o:x><y xml:lang='ar'>a &amp; &#x628;<![CDATA[<c>]]></y>\n</r>";
        let root = parse(doc).unwrap();
        assert!(root.is("urn:a", "r"));
        let x = root.child("urn:o", "x").unwrap();
        assert_eq!(
            (x.attr_ns("urn:o", "k"), x.attr("k"), x.line),
            (Some("1"), Some("2"), 3)
        );
        let y = root.child("urn:a", "y").unwrap();
        assert_eq!(y.attr_ns(XML_NS, "lang"), Some("ar"));
        assert_eq!(y.children, vec![Node::Text("a & ب<c>".into())]);
    }

    #[test]
    fn broken_xml_names_the_line() {
        let e = parse("<r>\n<a>\n</b>\n</r>").unwrap_err();
        assert_eq!(e.line, Some(3), "{e:?}");
        let e = parse("<r>\n<a>").unwrap_err();
        assert!(e.message.contains("ends inside <a>"), "{e:?}");
        assert!(
            parse("<r>&nbsp;</r>")
                .unwrap_err()
                .message
                .contains("&nbsp;")
        );
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
    }
}
