//! The style and script of our HTML pages: kept as files in `src/write/assets/`,
//! built into the binary, and either inlined in a page or written once next to the
//! review pages.
//!
//! A review page inlines only what reading it needs (`base.css` and `review.css`),
//! so a page opened on its own, copied anywhere, is complete and styled. The
//! reviewer's tools (highlight, filter, keys, editing, the corrections download)
//! live in two shared files written at the top of the output directory,
//! [`REVIEW_SCRIPT_FILE`] and [`REVIEW_STYLE_FILE`], which every page of the run
//! loads by a relative link: one copy per run instead of one per page (on the seed
//! articles, a page carried twice its own text in style and script). `index.html`,
//! one per run, inlines its own.
//!
//! Inlined text is compacted (indentation, comments and blank lines dropped) and
//! hashed once per process for the Content-Security-Policy, which allows exactly the
//! inline style by its SHA-256, the shared files (`'self'`, and `file:` for browsers
//! that give every local file its own origin), and nothing else.

use std::path::Path;
use std::sync::OnceLock;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::error::Result;

/// Shared by the review pages and `index.html`.
pub(crate) const BASE_CSS: &str = include_str!("assets/base.css");
/// Buttons and keys: inline in `index.html`, in the shared file for review pages.
pub(crate) const CONTROLS_CSS: &str = include_str!("assets/controls.css");
/// The review page's reading style (inline).
pub(crate) const REVIEW_CSS: &str = include_str!("assets/review.css");
/// The reviewer's tools' style (the shared file).
pub(crate) const REVIEW_TOOLS_CSS: &str = include_str!("assets/review-tools.css");
/// The review page's script (the shared file).
pub(crate) const REVIEW_JS: &str = include_str!("assets/review.js");
/// `index.html`'s own style (inline, after [`BASE_CSS`]).
pub(crate) const INDEX_CSS: &str = include_str!("assets/index.css");
/// `index.html`'s sorting script (inline).
pub(crate) const INDEX_JS: &str = include_str!("assets/index.js");

/// The review pages' shared script, at the top of the output directory.
pub const REVIEW_SCRIPT_FILE: &str = "tarjama-review.js";
/// The review pages' shared style, at the top of the output directory.
pub const REVIEW_STYLE_FILE: &str = "tarjama-review.css";

/// A page's inline style and script and the CSP that allows exactly them.
#[derive(Debug)]
pub struct Inline {
    /// The text of the `<style>` element.
    pub style: String,
    /// The text of the `<script>` element, if the page has one inline.
    pub script: Option<String>,
    /// The Content-Security-Policy.
    pub csp: String,
}

/// The review pages': the reading style inline, the tools from the shared files.
pub(crate) fn review() -> &'static Inline {
    static ONCE: OnceLock<Inline> = OnceLock::new();
    ONCE.get_or_init(|| {
        let style = compact_css(&format!("{BASE_CSS}{REVIEW_CSS}"));
        let csp = format!(
            "default-src 'none'; style-src 'self' file: {}; script-src 'self' file:; \
             base-uri 'none'; form-action 'none'",
            csp_hash(&style)
        );
        Inline {
            style,
            script: None,
            csp,
        }
    })
}

/// `index.html`'s: style and script inline.
pub(crate) fn index() -> &'static Inline {
    static ONCE: OnceLock<Inline> = OnceLock::new();
    ONCE.get_or_init(|| {
        let style = compact_css(&format!("{BASE_CSS}{CONTROLS_CSS}{INDEX_CSS}"));
        let script = compact_js(INDEX_JS);
        let csp = format!(
            "default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'",
            csp_hash(&style),
            csp_hash(&script)
        );
        Inline {
            style,
            script: Some(script),
            csp,
        }
    })
}

/// `'sha256-…'`: the CSP source expression that allows exactly `body`.
#[must_use]
pub(crate) fn csp_hash(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The review pages' shared files: `(name, text)`, compacted like inline text.
#[must_use]
pub(crate) fn review_files() -> &'static [(&'static str, String); 2] {
    static ONCE: OnceLock<[(&str, String); 2]> = OnceLock::new();
    ONCE.get_or_init(|| {
        [
            (REVIEW_SCRIPT_FILE, compact_js(REVIEW_JS)),
            (
                REVIEW_STYLE_FILE,
                compact_css(&format!("{CONTROLS_CSS}{REVIEW_TOOLS_CSS}")),
            ),
        ]
    })
}

/// Write the review pages' shared script and style at the top of `out_dir` (each
/// left alone when it already holds these bytes).
///
/// # Errors
/// A file cannot be written.
pub(crate) fn write_review_files(out_dir: &Path) -> Result<()> {
    for (name, text) in review_files() {
        super::write_if_changed(&out_dir.join(name), text.as_bytes())?;
    }
    Ok(())
}

/// CSS without comments, indentation, line breaks and the spaces around `{`, `}`,
/// `;`, `,` and after `:`. Our files keep no `/*` or `*/`, `;`, `{` or `}` inside
/// strings, which this relies on.
#[must_use]
pub(crate) fn compact_css(css: &str) -> String {
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    text.push_str(rest);
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = words.join(" ");
    for (from, to) in [
        (" {", "{"),
        ("{ ", "{"),
        (" }", "}"),
        ("} ", "}"),
        ("; ", ";"),
        (";}", "}"),
        (", ", ","),
        (": ", ":"),
    ] {
        out = out.replace(from, to);
    }
    out
}

/// JavaScript without indentation, blank lines and whole-line `//` comments; line
/// breaks are kept, so automatic semicolon insertion sees the same lines.
#[must_use]
pub(crate) fn compact_js(js: &str) -> String {
    let lines: Vec<&str> = js
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_css_keeps_every_rule() {
        let css = "/* note */\n:root { --a: #fff; }\n@media print {\n  a, b > c { font: 1px/2 \"Segoe UI\", x; }\n}\n";
        assert_eq!(
            compact_css(css),
            ":root{--a:#fff}@media print{a,b > c{font:1px/2 \"Segoe UI\",x}}"
        );
        // Our files: every rule's braces survive, and they shrink.
        for file in [
            BASE_CSS,
            CONTROLS_CSS,
            REVIEW_CSS,
            REVIEW_TOOLS_CSS,
            INDEX_CSS,
        ] {
            let c = compact_css(file);
            assert_eq!(c.matches('{').count(), file.matches('{').count());
            assert_eq!(c.matches('}').count(), file.matches('}').count());
            assert!(c.len() < file.len());
            assert!(!c.contains("/*") && !c.contains('\n'));
        }
    }

    #[test]
    fn compact_js_drops_only_indentation_blank_lines_and_comment_lines() {
        let js = "// head\n(function () {\n  var a = \"// not a comment\";\n\n  return a;\n})();\n";
        assert_eq!(
            compact_js(js),
            "(function () {\nvar a = \"// not a comment\";\nreturn a;\n})();"
        );
    }

    #[test]
    fn the_policies_allow_exactly_the_inline_text() {
        let r = review();
        assert!(r.csp.contains(&csp_hash(&r.style)), "{}", r.csp);
        assert!(r.csp.contains("script-src 'self' file:;"), "{}", r.csp);
        let i = index();
        assert!(i.csp.contains(&csp_hash(i.script.as_deref().unwrap())));
        // The known answer for the empty string, so the hash is SHA-256 in base64.
        assert_eq!(
            csp_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }
}
