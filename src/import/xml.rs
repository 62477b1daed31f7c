//! XML for the correction readers: roxmltree's read-only tree, with our limits.
//!
//! Correction files are one document each (kilobytes to a few megabytes), so they are
//! parsed whole by [`roxmltree`], which resolves namespaces, character and entity
//! references and CDATA, keeps every node's position (for the line in an error), and
//! guards against entity expansion bombs; comments, processing instructions and the
//! doctype carry nothing the readers use. On top of it this module adds what the
//! readers need: a cap on element nesting ([`MAX_DEPTH`], checked without recursion
//! before any reader walks the tree, so a hostile file cannot exhaust the stack of a
//! reader that recurses into `<group>`s or inline markup), a cap on nodes, and a few
//! lookups by namespace and name ([`Lookup`]).

use roxmltree::{Document, Node, ParsingOptions};

use super::ParseError;

/// The `xml:` namespace (`xml:lang`, `xml:space`).
pub(crate) const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 256;

/// Most nodes (elements, text, attributes' owners...) parsed: far beyond any
/// correction file (an XLIFF of 10,000 paragraphs has about 100,000), and a bound on
/// memory for a hostile one.
const MAX_NODES: u32 = 5_000_000;

/// Parse a whole document.
///
/// A DOCTYPE is allowed (TMX files from other tools name `tmx14.dtd`); nothing is
/// fetched for it, and its entities expand under roxmltree's own limits.
///
/// # Errors
/// Malformed XML (with its line), nesting deeper than [`MAX_DEPTH`], too many nodes.
pub fn parse(text: &str) -> Result<Document<'_>, ParseError> {
    let options = ParsingOptions {
        allow_dtd: true,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, options).map_err(|e| malformed(text, &e))?;
    if let Some(too_deep) = first_too_deep(&doc) {
        return Err(ParseError::at(
            line(too_deep),
            format!("elements nested deeper than {MAX_DEPTH}"),
        ));
    }
    Ok(doc)
}

/// roxmltree's error with its line. A file that ends before its elements are closed
/// (cut off in a copy, say) has no position in roxmltree's error (it says 1:1), so it
/// is reported at the file's end, naming the innermost element left open.
fn malformed(text: &str, e: &roxmltree::Error) -> ParseError {
    match e {
        roxmltree::Error::UnclosedRootNode | roxmltree::Error::UnexpectedEndOfStream => {
            let end = text.bytes().filter(|&b| b == b'\n').count() + 1;
            let message = match left_open(text) {
                Some(name) => format!("malformed XML: the file ends inside <{name}>"),
                None => format!("malformed XML: {e}"),
            };
            ParseError::at(end, message)
        }
        _ => ParseError::at(
            usize::try_from(e.pos().row).unwrap_or(usize::MAX),
            format!("malformed XML: {e}"),
        ),
    }
}

/// The innermost element still open at the end of a cut-off file: quick-xml's
/// streaming reader (the writers' XML crate) follows the tags to the end.
fn left_open(text: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut open: Vec<String> = Vec::new();
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(t)) => {
                open.push(String::from_utf8_lossy(t.name().as_ref()).into_owned());
            }
            Ok(quick_xml::events::Event::End(_)) => {
                open.pop();
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return open.pop(),
            Ok(_) => {}
        }
    }
}

/// The first element nested deeper than [`MAX_DEPTH`], in document order. Parents
/// come before their children in that order, so each node's depth is its parent's
/// plus one, kept by node id: linear, without recursion.
fn first_too_deep<'a, 'input>(doc: &'a Document<'input>) -> Option<Node<'a, 'input>> {
    let mut depth: Vec<usize> = Vec::new();
    for node in doc.root().descendants() {
        let own = match node.parent() {
            Some(parent) => {
                depth.get(index(parent)).copied().unwrap_or(0) + usize::from(node.is_element())
            }
            None => 0,
        };
        let id = index(node);
        if depth.len() <= id {
            depth.resize(id.saturating_add(1), 0);
        }
        if let Some(d) = depth.get_mut(id) {
            *d = own;
        }
        if own > MAX_DEPTH {
            return Some(node);
        }
    }
    None
}

/// A node's id as an index (ids count nodes, so they fit).
fn index(node: Node<'_, '_>) -> usize {
    usize::try_from(node.id().get()).unwrap_or(usize::MAX)
}

/// The 1-based line where `node` starts.
#[must_use]
pub fn line(node: Node<'_, '_>) -> usize {
    let pos = node.document().text_pos_at(node.range().start);
    usize::try_from(pos.row).unwrap_or(usize::MAX)
}

/// Lookups of child elements by namespace (empty: none) and local name.
pub trait Lookup<'a, 'input: 'a> {
    /// Whether this is element `name` in namespace `ns`.
    fn is(&self, ns: &str, name: &str) -> bool;
    /// Child elements named `name` in namespace `ns`.
    fn children_named(
        &self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = Node<'a, 'input>> + 'a;
    /// The first child element named `name` in namespace `ns`.
    fn child(&self, ns: &'a str, name: &'a str) -> Option<Node<'a, 'input>>;
    /// The value of attribute `name` in no namespace (a CAT tool's `mq:state` is not
    /// `state`).
    fn attr(&self, name: &str) -> Option<&'a str> {
        self.attr_ns("", name)
    }
    /// The value of attribute `name` in namespace `ns`.
    fn attr_ns(&self, ns: &str, name: &str) -> Option<&'a str>;
}

impl<'a, 'input: 'a> Lookup<'a, 'input> for Node<'a, 'input> {
    fn is(&self, ns: &str, name: &str) -> bool {
        let tag = self.tag_name();
        self.is_element() && tag.name() == name && tag.namespace().unwrap_or("") == ns
    }

    fn children_named(
        &self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
        self.children().filter(move |c| c.is(ns, name))
    }

    fn child(&self, ns: &'a str, name: &'a str) -> Option<Node<'a, 'input>> {
        self.children_named(ns, name).next()
    }

    fn attr_ns(&self, ns: &str, name: &str) -> Option<&'a str> {
        self.attributes()
            .find(|a| a.name() == name && a.namespace().unwrap_or("") == ns)
            .map(|a| a.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_references_and_lines() {
        let text = "<?xml version='1.0'?>\n<r xmlns='urn:a' xmlns:o='urn:o'>\n\
                   <o:x o:k='1' k='2'>t</o:x><y xml:lang='ar'>a &amp; &#x628;<![CDATA[<c>]]></y>\n</r>";
        let doc = parse(text).unwrap();
        let root = doc.root_element();
        assert!(root.is("urn:a", "r"));
        let x = root.child("urn:o", "x").unwrap();
        assert_eq!(
            (x.attr_ns("urn:o", "k"), x.attr("k"), line(x)),
            (Some("1"), Some("2"), 3)
        );
        let y = root.child("urn:a", "y").unwrap();
        assert_eq!(y.attr_ns(XML_NS, "lang"), Some("ar"));
        let text: String = y.children().filter_map(|c| c.text()).collect();
        assert_eq!(text, "a & ب<c>");
    }

    #[test]
    fn broken_xml_names_the_line() {
        let e = parse("<r>\n<a>\n</b>\n</r>").unwrap_err();
        assert_eq!(e.line, Some(3), "{e:?}");
        let e = parse("<r>\n<a>").unwrap_err();
        assert!(e.message.contains("ends inside <a>"), "{e:?}");
        assert_eq!(e.line, Some(2), "{e:?}");
        assert!(parse("<r>&nbsp;</r>").unwrap_err().message.contains("nbsp"));
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_DEPTH + 1),
            "</a>".repeat(MAX_DEPTH + 1)
        );
        assert!(parse(&deep).unwrap_err().message.contains("nested"));
        let ok = format!("{}{}", "<a>".repeat(MAX_DEPTH), "</a>".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
    }

    /// 100,000 nested elements (well-formed or cut off) are refused quickly and
    /// without overflowing the stack.
    #[test]
    fn very_deep_nesting_is_refused_not_overflowed() {
        let n = 100_000;
        let closed = format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
        assert!(parse(&closed).unwrap_err().message.contains("nested"));
        assert!(parse(&"<a>".repeat(n)).is_err());
    }
}
