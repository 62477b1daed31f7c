//! Segment: normalized text into ordered, classified paragraphs.
//!
//! Stub: signatures only.

use crate::model::Segment;

/// Cut a normalized document into paragraphs and classify each.
#[must_use]
pub fn segment(text: &str) -> Vec<Segment> {
    let _ = text;
    todo!("segment")
}

/// Split a paragraph into sentences. Concatenating the pieces gives back `text`
/// exactly (each piece keeps its trailing punctuation and spaces).
#[must_use]
pub fn split_sentences(text: &str) -> Vec<&str> {
    let _ = text;
    todo!("split_sentences")
}

/// Cut a paragraph into pieces of at most `max_bytes` UTF-8 bytes each, at sentence
/// boundaries where possible, else at word boundaries, else at character boundaries.
/// Pieces are trimmed; joining them with single spaces gives back the paragraph up to
/// whitespace.
#[must_use]
pub fn chunk(text: &str, max_bytes: usize) -> Vec<String> {
    let _ = (text, max_bytes);
    todo!("chunk")
}
