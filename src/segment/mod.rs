//! Segment: normalized text into ordered, classified paragraphs, and paragraphs into
//! sentences and request-sized chunks.
//!
//! The stage is three independent steps, one submodule each, so each can be tested
//! and tuned without the others:
//!
//! - [`paragraphs`]: where paragraphs start and end (one line per paragraph, or
//!   hard-wrapped lines joined back), with whitespace collapsed.
//! - [`classify`]: what each paragraph is ([`Kind`]): body text, heading, caption,
//!   page furniture, or a repeat.
//! - [`sentences`](mod@sentences): sentence boundaries and byte-bounded chunks for providers with a
//!   request size limit.
//!
//! It never drops or reorders anything but whitespace: every other character of the
//! input is in exactly one paragraph, in order, whatever its kind.
//!
//! [`Kind`]: crate::model::Kind

pub mod classify;
pub mod paragraphs;
pub mod sentences;

use crate::model::Segment;

/// Cut a normalized document into paragraphs and classify each.
#[must_use]
pub fn segment(text: &str) -> Vec<Segment> {
    let paras = paragraphs::split(text);
    let kinds = classify::classify(&paras);
    paras
        .into_iter()
        .zip(kinds)
        .map(|(p, kind)| Segment { kind, text: p.text })
        .collect()
}

/// Split a paragraph into sentences. Concatenating the pieces gives back `text`
/// exactly (each piece keeps its trailing punctuation and spaces).
///
/// A sentence ends after `. ؟ ? ! ؛ …` (plus any closing quotes or brackets)
/// followed by whitespace. Not after a colon, a decimal point (`2.5`), initials
/// (`أ.ف.ب.`, `U.S.`), a title (`Dr.`, `د.`), a list number, or a headline's `..`.
#[must_use]
pub fn split_sentences(text: &str) -> Vec<&str> {
    sentences::split_sentences(text)
}

/// Cut a paragraph into pieces of at most `max_bytes` UTF-8 bytes each, at sentence
/// boundaries where possible, else at word boundaries, else at character boundaries.
/// Pieces are trimmed; joining them with single spaces gives back the paragraph up to
/// whitespace.
///
/// Whole sentences are packed greedily; a sentence too big alone is cut after
/// clause marks (`، , ؛ :`), then between words; only a single word longer than
/// `max_bytes` is cut between characters (joining those pieces with spaces adds a
/// space inside that word). No piece is empty. A `max_bytes` below
/// [`sentences::MIN_CHUNK_BYTES`] is raised to it so every character fits.
#[must_use]
pub fn chunk(text: &str, max_bytes: usize) -> Vec<String> {
    sentences::chunk(text, max_bytes)
}

/// Split a paragraph into sentences for the sentence aligner. The pieces are slices
/// of `text` without surrounding whitespace, cut only at whitespace, so for a
/// whitespace-collapsed `text` joining them with single spaces gives `text` back.
///
/// A sentence ends after a word whose last mark (closing quotes and brackets after
/// it stay with the sentence) is one of `. ! ? ؟ … ۔`; `؛`, `:` and `,` never end
/// one. Numbers (`3.5`, `1,000`, `١٫٥`, `12.10.2024`) contain no space, so they are
/// never cut. A final `.` does not end the sentence after a title or Latin
/// abbreviation (`Mr.`, `Dr.`, `e.g.`, `No. 5`), dotted initials (`U.S.`,
/// `أ.ف.ب.`), a lone capital (`J.`) or a lone Arabic letter (`د.`, `أ.`; but `م.`
/// and `هـ.` after a year may end it), a list number opening the sentence (`1.`),
/// or before a lowercase Latin word; `etc.`, `a.m.`, `Inc.` and the like end it only
/// before a capital or a non-Latin word. A headline's `..` does not end a sentence;
/// `…` and `...` do unless a lowercase word follows.
#[must_use]
pub fn sentences(text: &str) -> Vec<&str> {
    sentences::sentences(text)
}
