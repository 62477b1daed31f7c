//! Article text from an HTML page: the body, not scripts, styles or navigation.
//!
//! This module owns the choice of the article root and the block structure of its
//! text. The root is the first of these that holds a fair share (a fifth or more) of
//! the page's text: `article`, `[itemprop=articleBody]`, common content classes
//! (`.entry-content`, `.article-body` ...), `main` / `[role=main]`; else `body`.
//! On a page with none of these (a saved page without semantic markup), the root is
//! `body` from the headline on (the `h1` the `<title>` names, else the longest), when
//! nothing before it is prose and it is at most a third of the page's text: what
//! precedes the headline there is the site's masthead and menus.
//! Inside it, page furniture is dropped (scripts, styles, navigation, headers,
//! footers, asides, forms, embeds, hidden elements, and elements whose role, class
//! or id marks them as share bars, menus, comments, breadcrumbs, related links, ads).
//! A `header` holding prose (a paragraph of a dozen words or more) is an article's or
//! section's own header, as HTML allows, and is kept. Blocks of links are dropped
//! too, by the link density readability scorers use: a list, `div`, section or
//! table with three links or more whose text is 80% link text (a "most read" box, a
//! menu, related articles), unless it holds half the page's text.
//!
//! Every block element (`p`, `h1`–`h6`, `li`, `blockquote`, `figcaption`, `pre`,
//! `tr`, `div` ...) is a paragraph of its own, paragraphs are separated by a blank
//! line, inline whitespace is collapsed, `<br>` is a line break and two `<br>` in a
//! row end a paragraph. When the root lacks the page's headline (first `h1`, else
//! `<title>`), it becomes the first paragraph.
//!
//! The walk over the tree is iterative: deeply nested or broken markup cannot
//! overflow the stack (html5ever repairs broken markup while parsing). Nesting is also
//! capped *before* parsing ([`limit_depth`]): html5ever scans its stack of open
//! elements for most tags, so a page of 100,000 nested `<div>`s took quadratic time
//! (minutes); tags below [`MAX_DEPTH`] are dropped (their text is kept), as browsers
//! cap their trees too.

use std::borrow::Cow;
use std::collections::HashSet;

use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
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

/// Elements nested deeper than this are flattened before parsing (their tags are
/// dropped, their text kept). Real pages nest a few dozen levels; Chromium caps its
/// tree at 512.
pub const MAX_DEPTH: usize = 256;

/// Elements that never hold content (no end tag).
const VOID_TAGS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "keygen",
];

/// Elements closed implicitly by a sibling of their kind, so they do not nest by
/// repetition; not counted as depth.
const SELF_CLOSING_SIBLINGS: &[&str] = &[
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "rb", "rt", "rp", "rtc",
    "tbody", "thead", "tfoot", "colgroup",
];

/// Elements whose content is raw text: no tags inside until their end tag.
const RAW_TEXT_TAGS: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
];

/// Extract the article's text, one block element per paragraph (blank line between).
#[must_use]
pub fn extract_text(html: &str) -> String {
    let html = limit_depth(html);
    let doc = Html::parse_document(&html);
    let links = link_blocks(page_root(&doc));
    let paragraphs = |root| paragraphs(root, &links);
    let page = paragraphs(page_root(&doc));
    let page_len = text_len(&page);
    let mut paras =
        best_root(&doc, page_len, paragraphs).unwrap_or_else(|| after_headline(&doc, page));
    if let Some(headline) = headline(&doc)
        && !paras.iter().any(|p| p.contains(&headline))
    {
        paras.insert(0, headline);
    }
    paras.join("\n\n")
}

/// The page with every tag that would open an element deeper than [`MAX_DEPTH`]
/// removed, with its matching end tag (a block tag becomes a space, so words on
/// either side stay apart). Depth is counted the simple way, start tags minus end tags,
/// leaving out void elements, self-closed tags, and elements that close their
/// previous sibling (`p`, `li`, `td` ...). A page within the cap comes back unchanged
/// (borrowed). Linear time: every byte is looked at a bounded number of times.
#[must_use]
pub fn limit_depth(html: &str) -> Cow<'_, str> {
    if html.bytes().filter(|&b| b == b'<').count() <= MAX_DEPTH {
        return Cow::Borrowed(html);
    }
    let mut out = String::new();
    let (mut copied, mut at) = (0, 0);
    let (mut depth, mut dropped) = (0_usize, 0_usize);
    while let Some(found) = html[at..].find('<') {
        let start = at + found;
        let Some(tag) = Tag::parse(html, start) else {
            break; // an unterminated tag or comment: the rest is one token
        };
        at = tag.end;
        let drop = match &tag.kind {
            TagKind::Start { name, raw_text_end } => {
                if let Some(end) = raw_text_end {
                    at = *end;
                }
                let counted = !VOID_TAGS.contains(&name.as_str())
                    && !SELF_CLOSING_SIBLINGS.contains(&name.as_str());
                if !counted || tag.self_closing {
                    false
                } else if depth >= MAX_DEPTH {
                    dropped += 1;
                    true
                } else {
                    depth += 1;
                    false
                }
            }
            TagKind::End { name } if !SELF_CLOSING_SIBLINGS.contains(&name.as_str()) => {
                if dropped > 0 {
                    dropped -= 1;
                    true
                } else {
                    depth = depth.saturating_sub(1);
                    false
                }
            }
            TagKind::End { .. } | TagKind::Other => false,
        };
        if drop {
            out.push_str(&html[copied..start]);
            if BLOCK_TAGS.contains(&tag.kind.name()) {
                out.push(' ');
            }
            copied = tag.end;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(html);
    }
    out.push_str(&html[copied..]);
    Cow::Owned(out)
}

/// One tag (or comment, doctype, processing instruction) found by [`limit_depth`].
struct Tag {
    kind: TagKind,
    /// Ends with `/>`.
    self_closing: bool,
    /// Byte offset just past the tag's `>`.
    end: usize,
}

enum TagKind {
    /// `<name ...>`; for a raw-text element, where its end tag starts (or the end
    /// of the page).
    Start {
        name: String,
        raw_text_end: Option<usize>,
    },
    /// `</name ...>`.
    End { name: String },
    /// A comment, doctype, `<?...>`, or a `<` that opens no tag.
    Other,
}

impl TagKind {
    fn name(&self) -> &str {
        match self {
            TagKind::Start { name, .. } | TagKind::End { name } => name,
            TagKind::Other => "",
        }
    }
}

impl Tag {
    /// The tag at `html[start]` (a `<`), or `None` when it never ends.
    fn parse(html: &str, start: usize) -> Option<Tag> {
        let rest = &html[start + 1..];
        let other = |end| Tag {
            kind: TagKind::Other,
            self_closing: false,
            end,
        };
        if let Some(comment) = rest.strip_prefix("!--") {
            let end = comment.find("-->")? + 3;
            return Some(other(start + 4 + end));
        }
        let (closing, name_at) = match rest.as_bytes() {
            [b'/', c, ..] if c.is_ascii_alphabetic() => (true, 1),
            [c, ..] if c.is_ascii_alphabetic() => (false, 0),
            [b'!' | b'?' | b'/', ..] => return Some(other(start + 1 + rest.find('>')? + 1)),
            _ => return Some(other(start + 1)),
        };
        let name: String = rest[name_at..]
            .chars()
            .take_while(|c| !c.is_ascii_whitespace() && *c != '/' && *c != '>')
            .collect::<String>()
            .to_ascii_lowercase();
        let close = tag_end(rest)?;
        let end = start + 1 + close + 1;
        let self_closing = rest[..close].ends_with('/');
        let kind = if closing {
            TagKind::End { name }
        } else {
            let raw_text_end = RAW_TEXT_TAGS
                .contains(&name.as_str())
                .then(|| raw_text_end(html, end, &name));
            TagKind::Start { name, raw_text_end }
        };
        Some(Tag {
            kind,
            self_closing,
            end,
        })
    }
}

/// Offset of the `>` ending a tag, skipping quoted attribute values (a quote opens
/// a value only right after `=`, as in the HTML tokenizer).
fn tag_end(rest: &str) -> Option<usize> {
    let (mut quote, mut last) = (None, 0_u8);
    for (i, b) in rest.bytes().enumerate() {
        match (quote, b) {
            (None, b'>') => return Some(i),
            (None, b'"' | b'\'') if last == b'=' => quote = Some(b),
            (Some(q), b) if b == q => quote = None,
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            last = b;
        }
    }
    None
}

/// Where the end tag of a raw-text element opened before `from` starts, or the end
/// of the page.
fn raw_text_end(html: &str, from: usize, name: &str) -> usize {
    let needle = format!("</{name}");
    let hay = &html.as_bytes()[from..];
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
        .map_or(html.len(), |p| from + p)
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
fn best_root<'a>(
    doc: &'a Html,
    page_len: usize,
    paragraphs: impl Fn(ElementRef<'a>) -> Vec<String>,
) -> Option<Vec<String>> {
    ROOTS.iter().find_map(|css| {
        let selector = Selector::parse(css).expect("valid selector");
        let best = doc
            .select(&selector)
            .take(50)
            .map(&paragraphs)
            .max_by_key(|p| text_len(p))?;
        let len = text_len(&best);
        (len > 0 && len * ROOT_SHARE >= page_len).then_some(best)
    })
}

/// Below `body` (no article root found): the page from its headline on: the `h1`
/// whose text the `<title>` contains (pages put their logo in an `h1` too), else the
/// longest `h1`, else (a page without `h1`) the first block of three words or more
/// that the `<title>` contains.
/// What comes before it on such a page is the site's masthead and menus, as long as
/// it holds no prose (no paragraph of [`PROSE_MIN_WORDS`] words or more).
fn after_headline(doc: &Html, page: Vec<String>) -> Vec<String> {
    let selector = Selector::parse("h1").expect("valid selector");
    let title = Selector::parse("title").expect("valid selector");
    let title: String = doc
        .select(&title)
        .next()
        .map(|t| collapse(&t.text().collect::<String>()))
        .unwrap_or_default();
    let h1s: Vec<String> = doc
        .select(&selector)
        .map(|el| collapse(&el.text().collect::<String>()))
        .filter(|t| !t.is_empty())
        .collect();
    // Without an `h1`, the first block of three words or more the `<title>` holds.
    let from_title = || {
        page.iter()
            .find(|p| p.split_whitespace().count() >= 3 && title.contains(p.as_str()))
    };
    let Some(h1) = h1s
        .iter()
        .find(|h| h.chars().count() > 3 && title.contains(h.as_str()))
        .or_else(|| h1s.iter().max_by_key(|h| h.chars().count()))
        .or_else(from_title)
        .cloned()
    else {
        return page;
    };
    let total = text_len(&page);
    match page.iter().position(|p| *p == h1) {
        Some(at)
            if page[..at]
                .iter()
                .all(|p| p.split_whitespace().count() < PROSE_MIN_WORDS)
                && text_len(&page[..at]) * HEAD_SHARE <= total =>
        {
            page[at..].to_vec()
        }
        _ => page,
    }
}

/// A paragraph this long is prose, not a menu item.
const PROSE_MIN_WORDS: usize = 12;

/// What precedes the headline is dropped only when it is at most a third of the
/// page's text (`before * HEAD_SHARE <= page`): a masthead and menus, not half the
/// article.
const HEAD_SHARE: usize = 3;

/// Whether a `header` element is an article's own header holding prose (HTML allows
/// a header in any section), rather than a site banner: it has a `p` of
/// [`PROSE_MIN_WORDS`] words or more.
fn is_prose_header(node: NodeRef<'_, Node>) -> bool {
    node.descendants().any(|d| {
        d.value().as_element().is_some_and(|e| e.name() == "p")
            && ElementRef::wrap(d).is_some_and(|p| {
                p.text().flat_map(str::split_whitespace).count() >= PROSE_MIN_WORDS
            })
    })
}

/// Blocks that may be lists of links (menus, "most read", related articles).
const LINK_BLOCK_TAGS: &[&str] = &["ul", "ol", "div", "section", "table", "tbody", "dl"];
/// A link block holds at least this many links ...
const LINK_BLOCK_MIN_LINKS: usize = 3;
/// ... and at least this share of its text (in tenths) inside them ...
const LINK_BLOCK_LINK_TENTHS: usize = 8;
/// ... and less than this share of the page's text (`text * LINK_BLOCK_PAGE_SHARE <
/// page`): a page that is all links keeps them.
const LINK_BLOCK_PAGE_SHARE: usize = 2;

/// The link blocks under `root`: elements of [`LINK_BLOCK_TAGS`] with three links or
/// more whose text is at least 80% link text (the link density of readability
/// scorers), and which do not hold half the page's text. Body text is prose with a
/// link here and there; a block of headlines each inside its link is a "most read"
/// box, a menu or a list of related articles. Counted bottom-up in one iterative
/// walk (non-whitespace characters).
fn link_blocks(root: ElementRef<'_>) -> HashSet<NodeId> {
    struct Frame {
        id: NodeId,
        candidate: bool,
        text: usize,
        link_text: usize,
        links: usize,
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut in_link = 0usize;
    let mut blocks = Vec::new();
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Text(t) => {
                    let n = t.chars().filter(|c| !c.is_whitespace()).count();
                    if let Some(top) = stack.last_mut() {
                        top.text += n;
                        if in_link > 0 {
                            top.link_text += n;
                        }
                    }
                }
                Node::Element(el) => {
                    if el.name() == "a" {
                        in_link += 1;
                    }
                    stack.push(Frame {
                        id: node.id(),
                        candidate: LINK_BLOCK_TAGS.contains(&el.name()),
                        text: 0,
                        link_text: 0,
                        links: usize::from(el.name() == "a"),
                    });
                }
                _ => {}
            },
            Edge::Close(node) => {
                let Some(el) = node.value().as_element() else {
                    continue;
                };
                if el.name() == "a" {
                    in_link = in_link.saturating_sub(1);
                }
                let Some(frame) = stack.pop() else {
                    continue;
                };
                if frame.candidate
                    && frame.links >= LINK_BLOCK_MIN_LINKS
                    && frame.text > 0
                    && frame.link_text * 10 >= frame.text * LINK_BLOCK_LINK_TENTHS
                {
                    blocks.push((frame.id, frame.text));
                }
                if let Some(parent) = stack.last_mut() {
                    parent.text += frame.text;
                    parent.link_text += frame.link_text;
                    parent.links += frame.links;
                }
            }
        }
    }
    let page: usize = root
        .text()
        .map(|t| t.chars().filter(|c| !c.is_whitespace()).count())
        .sum();
    blocks
        .into_iter()
        .filter(|&(_, text)| text * LINK_BLOCK_PAGE_SHARE < page)
        .map(|(id, _)| id)
        .collect()
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
fn paragraphs(root: ElementRef<'_>, links: &HashSet<NodeId>) -> Vec<String> {
    let mut out = Paragraphs::default();
    let mut skip = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) if skip.is_none() => {
                let dropped = || {
                    node.value().as_element().is_some_and(is_dropped)
                        && !(node
                            .value()
                            .as_element()
                            .is_some_and(|e| e.name() == "header")
                            && is_prose_header(node))
                };
                if node.id() != root.id() && (links.contains(&node.id()) || dropped()) {
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
    fn pages_within_the_depth_cap_are_not_touched() {
        let page = format!(
            "<body>{}<a title='x > y' href=\"a>b\">t</a>{}</body>",
            "<div><p>a<br>".repeat(MAX_DEPTH / 2),
            "</div>".repeat(MAX_DEPTH / 2)
        );
        assert!(matches!(limit_depth(&page), Cow::Borrowed(_)));
    }

    #[test]
    fn deep_nesting_is_flattened_and_keeps_every_word() {
        let n = 5 * MAX_DEPTH;
        let page: String = (0..n).map(|i| format!("<div>w{i}")).collect::<String>()
            + &"</div>".repeat(n)
            + "<p>after</p>";
        let words: Vec<String> = (0..n).map(|i| format!("w{i}")).collect();
        let flat = limit_depth(&page);
        assert_eq!(flat.matches("<div>").count(), MAX_DEPTH);
        assert_eq!(flat.matches("</div>").count(), MAX_DEPTH);
        let text = extract_text(&page);
        let got: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(
            got[..n],
            words.iter().map(String::as_str).collect::<Vec<_>>()[..]
        );
        assert_eq!(got[n..], ["after"]);
    }

    #[test]
    fn raw_text_and_comments_hold_no_tags() {
        let inner = "<div>".repeat(2 * MAX_DEPTH);
        let page = format!("<script>{inner}</script><!--{inner}--><p>x</p>");
        assert!(matches!(limit_depth(&page), Cow::Borrowed(_)));
    }

    #[test]
    fn blocks_of_links_are_dropped_but_prose_with_links_is_kept() {
        let prose = "<p>قال <a href=1>الوزير</a> في بيان نشره <a href=2>الموقع</a> الرسمي إن \
                     الحكومة ستعمل مع <a href=3>البرلمان</a> على القانون الجديد خلال الأسابيع المقبلة.</p>";
        let html = format!(
            "<body><div><h2>الأكثر قراءة</h2><ul><li><a href=a>خبر أول عن الاقتصاد</a></li>\
             <li><a href=b>خبر ثان عن الرياضة</a></li><li><a href=c>خبر ثالث</a></li></ul></div>\
             {prose}{prose}</body>"
        );
        let text = extract_text(&html);
        assert!(!text.contains("خبر أول"), "{text}");
        assert!(text.contains("قال الوزير في بيان"), "{text}");
        // A page that is all links keeps them.
        let index = "<body><ul><li><a href=a>الخبر الأول</a></li><li><a href=b>الخبر الثاني</a></li>\
                     <li><a href=c>الخبر الثالث</a></li></ul></body>";
        assert!(extract_text(index).contains("الخبر الأول"));
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
