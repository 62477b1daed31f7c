//! Planning the requests: pieces within per-text limits, batches within per-request
//! limits, packed as paragraphs arrive.
//!
//! A paragraph longer than the provider accepts per text is cut into pieces at
//! sentence boundaries ([`split`]), joined back with a space after translation. The
//! [`Packer`] fills one open batch per source language, in arrival order, up to the
//! provider's texts-per-request and characters-per-request limits, and hands a batch
//! over as soon as the next piece would not fit; [`Packer::flush`] hands over the
//! partly filled ones. Greedy filling in order gives at most one partly filled batch
//! per language at the end (and one wherever a flush is forced), so the number of
//! requests stays within a few of the minimum the limits allow.

use std::collections::HashMap;

use crate::provider::BatchLimits;
use crate::segment;

use super::ids::PieceId;

/// The pieces of one paragraph for one text of a request each.
#[must_use]
pub fn split(text: &str, limits: &BatchLimits) -> Vec<String> {
    // A text may hold at most max_bytes_per_text bytes and max_chars characters;
    // cutting at max_chars *bytes* satisfies both (a character is at least one byte).
    let max_bytes = limits
        .max_bytes_per_text
        .unwrap_or(usize::MAX)
        .min(limits.max_chars)
        .max(1);
    if text.len() <= max_bytes {
        vec![text.to_string()]
    } else {
        segment::chunk(text, max_bytes)
    }
}

/// One text of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Which piece of which unit's plan it is.
    pub id: PieceId,
    /// Its text.
    pub text: String,
    /// Its length in Unicode code points (what providers bill).
    pub chars: usize,
}

impl Piece {
    /// A piece with its character count.
    #[must_use]
    pub fn new(id: PieceId, text: String) -> Piece {
        Piece {
            id,
            chars: text.chars().count(),
            text,
        }
    }
}

/// A request's worth of pieces, all of one source language.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Source language.
    pub from: String,
    /// The pieces.
    pub pieces: Vec<Piece>,
    /// Characters in the batch.
    pub chars: usize,
}

/// Fills batches greedily, one open batch per source language.
#[derive(Debug)]
pub struct Packer {
    limits: BatchLimits,
    open: HashMap<String, Batch>,
    /// Languages in first-seen order, so flushing is deterministic.
    order: Vec<String>,
}

impl Packer {
    /// A packer for these limits.
    #[must_use]
    pub fn new(limits: BatchLimits) -> Packer {
        Packer {
            limits,
            open: HashMap::new(),
            order: Vec::new(),
        }
    }

    /// Add a piece; returns the batch it closed, if the piece did not fit in it.
    pub fn push(&mut self, from: &str, piece: Piece) -> Option<Batch> {
        if !self.open.contains_key(from) {
            self.order.push(from.to_string());
        }
        let limits = self.limits;
        let b = self.open.entry(from.to_string()).or_insert_with(|| Batch {
            from: from.to_string(),
            ..Batch::default()
        });
        let fits = b.pieces.len() < limits.max_texts && b.chars + piece.chars <= limits.max_chars;
        let closed = (!fits && !b.pieces.is_empty()).then(|| {
            std::mem::replace(
                b,
                Batch {
                    from: from.to_string(),
                    ..Batch::default()
                },
            )
        });
        b.chars += piece.chars;
        b.pieces.push(piece);
        closed
    }

    /// Whether no piece is waiting in an open batch.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.open.values().all(|b| b.pieces.is_empty())
    }

    /// Hand over every partly filled batch.
    pub fn flush(&mut self) -> Vec<Batch> {
        let mut out = Vec::new();
        for from in &self.order {
            if let Some(b) = self.open.remove(from)
                && !b.pieces.is_empty()
            {
                out.push(b);
            }
        }
        self.order.clear();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_texts: usize, max_chars: usize) -> BatchLimits {
        BatchLimits {
            max_texts,
            max_chars,
            max_bytes_per_text: None,
        }
    }

    #[test]
    fn batches_respect_text_and_char_limits_and_language() {
        let mut p = Packer::new(limits(3, 40));
        let mut batches = Vec::new();
        for i in 0..10_usize {
            let from = if i.is_multiple_of(2) { "ar" } else { "fa" };
            let id = PieceId::test(i as u64);
            batches.extend(p.push(from, Piece::new(id, "ب".repeat(10 + i))));
        }
        batches.extend(p.flush());
        assert!(p.is_empty());
        let mut seen: Vec<PieceId> = batches
            .iter()
            .flat_map(|b| b.pieces.iter().map(|x| x.id))
            .collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..10).map(PieceId::test).collect::<Vec<_>>(),
            "every piece exactly once"
        );
        for b in &batches {
            assert!(b.pieces.len() <= 3 && b.chars <= 40, "{b:?}");
            let lang_of = |id: PieceId| {
                let even = (0..10).step_by(2).any(|i| PieceId::test(i) == id);
                if even { "ar" } else { "fa" }
            };
            assert!(b.pieces.iter().all(|x| lang_of(x.id) == b.from));
        }
    }

    #[test]
    fn long_paragraphs_are_split_within_the_byte_limit() {
        let l = BatchLimits {
            max_texts: 1,
            max_chars: 500,
            max_bytes_per_text: Some(500),
        };
        let text = "جملة عربية طويلة نسبيا تتكرر هنا. ".repeat(40);
        let parts = split(&text, &l);
        assert!(parts.len() > 1 && parts.iter().all(|p| p.len() <= 500));
        assert_eq!(split("قصيرة", &l), vec!["قصيرة".to_string()]);
    }
}
