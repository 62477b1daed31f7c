//! Detect: the language of documents and paragraphs.
//!
//! Stub: signatures only.

/// Language of one paragraph: `ar`, `fa`, `en`, another ISO 639-1 code, or `und`.
#[must_use]
pub fn detect(text: &str) -> String {
    let _ = text;
    todo!("detect")
}

/// Language of a whole document from its content paragraphs' texts: the Arabic-script
/// language (`ar` or `fa`) that dominates, else the most common paragraph language.
#[must_use]
pub fn document_language(texts: &[&str]) -> String {
    let _ = texts;
    todo!("document_language")
}
