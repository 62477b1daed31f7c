//! Article text from an HTML page: the body, not scripts, styles or navigation.
//!
//! This module owns the choice of the article root and the block structure of its
//! text. The root is the first of these that holds a fair share (a fifth or more) of
//! the page's text: `article`, `[itemprop=articleBody]`, common content classes
//! (`.entry-content`, `.article-body` ...), `main` / `[role=main]`; else `body`.
//! Inside it, page furniture is dropped (scripts, styles, navigation, headers,
//! footers, asides, forms, embeds, hidden elements, and elements whose role, class
//! or id marks them as share bars, menus, comments, breadcrumbs, related links, ads).
//!
//! Every block element (`p`, `h1`–`h6`, `li`, `blockquote`, `figcaption`, `pre`,
//! `tr`, `div` ...) is a paragraph of its own, paragraphs are separated by a blank
//! line, inline whitespace is collapsed, `<br>` is a line break and two `<br>` in a
//! row end a paragraph. When the root lacks the page's headline (first `h1`, else
//! `<title>`), it becomes the first paragraph.
//!
//! The walk over the tree is iterative: deeply nested or broken markup cannot
//! overflow the stack (html5ever repairs broken markup while parsing).

use ego_tree::NodeRef;
use ego_tree::iter::Edge;
use scraper::node::Element;
use scraper::{ElementRef, Html, Node, Selector};

/// Article roots, best first.
const ROOTS: &[&str] = &[
    "article",
    "[itemprop=articleBody]",
    ".article-body, .article-content, .article__body, .article-text, .entry-content, \
     .post-content, .post-body, .story-body, .news-content, .content-body, \
     #article-body, .td-post-content",
    "main, [role=main]",
];

/// Elements dropped with everything inside them.
const DROPPED_TAGS: &[&str] = &[
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg",
    "button", "template", "select", "textarea", "object", "embed", "canvas", "video", "audio",
    "head",
];

/// ARIA roles of page furniture.
const DROPPED_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "menu",
    "menubar",
    "search",
    "dialog",
    "toolbar",
];

/// Words that, as a `-`/`_`-separated part of a class or id, mark page furniture.
const DROPPED_WORDS: &[&str] = &[
    "share",
    "sharing",
    "social",
    "comment",
    "comments",
    "menu",
    "navbar",
    "breadcrumb",
    "breadcrumbs",
    "related",
    "newsletter",
    "subscribe",
    "advert",
    "advertisement",
    "ads",
    "cookie",
    "cookies",
    "popup",
    "sidebar",
];

/// Elements that start and end a paragraph.
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "blockquote",
    "caption",
    "center",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hgroup",
    "hr",
    "legend",
    "li",
    "main",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "tfoot",
    "thead",
    "tr",
    "ul",
    "body",
    "html",
];

/// Share of the page's text a candidate root must hold: `len * ROOT_SHARE >= page`.
const ROOT_SHARE: usize = 5;

/// Extract the article's text, one block element per paragraph (blank line between).
#[must_use]
pub fn extract_text(html: &str) -> String {
    let doc = Html::parse_document(html);
    let page = paragraphs(page_root(&doc));
    let page_len = text_len(&page);
    let mut paras = best_root(&doc, page_len).unwrap_or(page);
    if let Some(headline) = headline(&doc)
        && !paras.iter().any(|p| p.contains(&headline))
    {
        paras.insert(0, headline);
    }
    paras.join("\n\n")
}

/// `body`, or the whole document when there is none (framesets, fragments).
fn page_root(doc: &Html) -> ElementRef<'_> {
    let body = Selector::parse("body").expect("valid selector");
    doc.select(&body)
        .next()
        .unwrap_or_else(|| doc.root_element())
}

/// The paragraphs of the first [`ROOTS`] selector whose best match holds a fair
/// share of the page's text.
fn best_root(doc: &Html, page_len: usize) -> Option<Vec<String>> {
    ROOTS.iter().find_map(|css| {
        let selector = Selector::parse(css).expect("valid selector");
        let best = doc
            .select(&selector)
            .take(50)
            .map(paragraphs)
            .max_by_key(|p| text_len(p))?;
        let len = text_len(&best);
        (len > 0 && len * ROOT_SHARE >= page_len).then_some(best)
    })
}

/// Characters in a list of paragraphs.
fn text_len(paras: &[String]) -> usize {
    paras.iter().map(|p| p.chars().count()).sum()
}

/// The first non-empty `h1`, else the `<title>`, whitespace collapsed.
fn headline(doc: &Html) -> Option<String> {
    ["h1", "title"].iter().find_map(|css| {
        let selector = Selector::parse(css).expect("valid selector");
        doc.select(&selector)
            .map(|el| collapse(&el.text().collect::<String>()))
            .find(|t| !t.is_empty())
    })
}

/// Collapse runs of whitespace to one space and trim.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether an element (below the root) is page furniture.
fn is_dropped(el: &Element) -> bool {
    let name = el.name();
    if DROPPED_TAGS.contains(&name) || el.attr("hidden").is_some() {
        return true;
    }
    if el.attr("aria-hidden") == Some("true") {
        return true;
    }
    if el.attr("role").is_some_and(|r| DROPPED_ROLES.contains(&r)) {
        return true;
    }
    el.classes().chain(el.id()).any(is_furniture_name)
}

/// Whether a class or id names page furniture (`share-bar`, `comments_area`), not a
/// state modifier of the element (`has-sidebar`, `no-comments`).
fn is_furniture_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let mut parts = lower.split(['-', '_']);
    let first = parts.next().unwrap_or_default();
    if matches!(first, "has" | "no" | "with" | "is" | "without") {
        return false;
    }
    std::iter::once(first)
        .chain(parts)
        .any(|part| DROPPED_WORDS.contains(&part))
}

/// The paragraphs of the text below `root`.
fn paragraphs(root: ElementRef<'_>) -> Vec<String> {
    let mut out = Paragraphs::default();
    let mut skip = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) if skip.is_none() => {
                if node.id() != root.id() && node.value().as_element().is_some_and(is_dropped) {
                    skip = Some(node.id());
                } else {
                    out.open(node);
                }
            }
            Edge::Close(node) if skip == Some(node.id()) => skip = None,
            Edge::Close(node) if skip.is_none() => out.close(node),
            _ => {}
        }
    }
    out.finish()
}

/// Paragraphs being built during the walk.
#[derive(Default)]
struct Paragraphs {
    done: Vec<String>,
    current: String,
    pending_space: bool,
    pre_depth: usize,
}

impl Paragraphs {
    fn open(&mut self, node: NodeRef<'_, Node>) {
        match node.value() {
            Node::Text(text) => self.text(text),
            Node::Element(el) => match el.name() {
                "br" => self.line_break(),
                "td" | "th" => self.pending_space = true,
                "pre" => {
                    self.flush();
                    self.pre_depth += 1;
                }
                name if BLOCK_TAGS.contains(&name) => self.flush(),
                _ => {}
            },
            _ => {}
        }
    }

    fn close(&mut self, node: NodeRef<'_, Node>) {
        let Some(el) = node.value().as_element() else {
            return;
        };
        if el.name() == "pre" {
            self.pre_depth = self.pre_depth.saturating_sub(1);
        }
        if BLOCK_TAGS.contains(&el.name()) {
            self.flush();
        }
    }

    fn text(&mut self, text: &str) {
        if self.pre_depth > 0 {
            self.current.push_str(text);
            return;
        }
        for c in text.chars() {
            if c.is_whitespace() {
                self.pending_space = true;
                continue;
            }
            if std::mem::take(&mut self.pending_space)
                && !self.current.is_empty()
                && !self.current.ends_with('\n')
            {
                self.current.push(' ');
            }
            self.current.push(c);
        }
    }

    /// `<br>`: a line break; a second one in a row ends the paragraph.
    fn line_break(&mut self) {
        self.pending_space = false;
        if self.current.ends_with('\n') {
            self.flush();
        } else if !self.current.is_empty() {
            self.current.push('\n');
        }
    }

    fn flush(&mut self) {
        self.pending_space = false;
        let para = std::mem::take(&mut self.current);
        let lines: Vec<&str> = para
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if !lines.is_empty() {
            self.done.push(lines.join("\n"));
        }
    }

    fn finish(mut self) -> Vec<String> {
        self.flush();
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_selectors_parse() {
        for css in ROOTS {
            assert!(Selector::parse(css).is_ok(), "{css}");
        }
    }

    #[test]
    fn blocks_breaks_and_inline_whitespace() {
        let html = "<body><div>one <b>two</b>\n  three<br>four<br><br>five</div>\
                    <ul><li>a</li><li>b</li></ul><table><tr><td>x</td><td>y</td></tr></table>";
        assert_eq!(
            extract_text(html),
            "one two three\nfour\n\nfive\n\na\n\nb\n\nx y"
        );
    }

    #[test]
    fn furniture_names() {
        assert!(is_furniture_name("share-bar"));
        assert!(is_furniture_name("comments_area"));
        assert!(!is_furniture_name("has-sidebar"));
        assert!(!is_furniture_name("entry-content"));
        assert!(!is_furniture_name("shared"));
    }
}
