//! Planning the requests: unique texts, pieces within per-text limits, batches within
//! per-request limits.
//!
//! Identical normalized paragraphs anywhere in the run become one [`Unit`] and are
//! translated once. A unit longer than the provider accepts per text is cut into
//! pieces at sentence boundaries (joined back with a space after translation). Pieces
//! are packed greedily, in document order, into batches that respect the provider's
//! texts-per-request and characters-per-request limits; a batch never mixes source
//! languages.

use std::collections::HashMap;

use crate::provider::BatchLimits;
use crate::segment;

/// One distinct text to translate, and where it occurs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Source language as sent.
    pub from: String,
    /// Normalized text.
    pub text: String,
    /// `(document, paragraph)` positions using this translation.
    pub occurrences: Vec<(usize, usize)>,
}

/// Collects units, collapsing duplicates.
#[derive(Debug, Default)]
pub struct Units {
    /// Units in first-seen order.
    pub list: Vec<Unit>,
    index: HashMap<(String, String), usize>,
}

impl Units {
    /// Register an occurrence; returns the unit's id.
    pub fn add(&mut self, from: &str, text: &str, at: (usize, usize)) -> usize {
        let key = (from.to_string(), text.to_string());
        if let Some(&id) = self.index.get(&key) {
            self.list[id].occurrences.push(at);
            return id;
        }
        let id = self.list.len();
        self.list.push(Unit {
            from: key.0.clone(),
            text: key.1.clone(),
            occurrences: vec![at],
        });
        self.index.insert(key, id);
        id
    }
}

/// A piece of a unit, small enough for one text of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// The unit it belongs to.
    pub unit: usize,
    /// Its text.
    pub text: String,
    /// Its length in Unicode code points (what providers bill).
    pub chars: usize,
}

/// The pieces of the given units, in order. Returns the pieces and, per unit, how
/// many pieces it has.
#[must_use]
pub fn pieces(units: &[Unit], wanted: &[usize], limits: &BatchLimits) -> Vec<Piece> {
    // A text may hold at most max_bytes_per_text bytes and max_chars characters;
    // cutting at max_chars *bytes* satisfies both (a character is at least one byte).
    let max_bytes = limits
        .max_bytes_per_text
        .unwrap_or(usize::MAX)
        .min(limits.max_chars)
        .max(1);
    let mut out = Vec::new();
    for &u in wanted {
        let text = &units[u].text;
        let parts = if text.len() <= max_bytes {
            vec![text.clone()]
        } else {
            segment::chunk(text, max_bytes)
        };
        out.extend(parts.into_iter().map(|t| Piece {
            unit: u,
            chars: t.chars().count(),
            text: t,
        }));
    }
    out
}

/// A request's worth of pieces (indices into the piece list), all of one language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Source language.
    pub from: String,
    /// Piece indices.
    pub pieces: Vec<usize>,
    /// Characters in the batch.
    pub chars: usize,
}

/// Pack the pieces for which `send(index)` holds into batches within `limits`,
/// greedily and in order, one language per batch.
#[must_use]
pub fn pack(
    pieces: &[Piece],
    units: &[Unit],
    limits: &BatchLimits,
    send: impl Fn(usize) -> bool,
) -> Vec<Batch> {
    let mut open: HashMap<&str, Batch> = HashMap::new();
    let mut done = Vec::new();
    let mut order: Vec<&str> = Vec::new();
    for (i, p) in pieces.iter().enumerate().filter(|(i, _)| send(*i)) {
        let from = units[p.unit].from.as_str();
        let b = open.entry(from).or_insert_with(|| {
            order.push(from);
            Batch {
                from: from.to_string(),
                pieces: Vec::new(),
                chars: 0,
            }
        });
        let fits = b.pieces.len() < limits.max_texts && b.chars + p.chars <= limits.max_chars;
        if !fits && !b.pieces.is_empty() {
            done.push(std::mem::replace(
                b,
                Batch {
                    from: from.to_string(),
                    pieces: Vec::new(),
                    chars: 0,
                },
            ));
        }
        b.pieces.push(i);
        b.chars += p.chars;
    }
    for from in order {
        if let Some(b) = open.remove(from)
            && !b.pieces.is_empty()
        {
            done.push(b);
        }
    }
    done
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
    fn duplicates_collapse_into_one_unit() {
        let mut u = Units::default();
        let a = u.add("ar", "نص", (0, 1));
        let b = u.add("ar", "نص", (3, 0));
        let c = u.add("fa", "نص", (4, 0));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(u.list[a].occurrences, vec![(0, 1), (3, 0)]);
    }

    #[test]
    fn batches_respect_text_and_char_limits_and_language() {
        let mut u = Units::default();
        for i in 0..10 {
            u.add(
                if i % 2 == 0 { "ar" } else { "fa" },
                &"ب".repeat(10 + i),
                (0, i),
            );
        }
        let wanted: Vec<usize> = (0..10).collect();
        let l = limits(3, 40);
        let ps = pieces(&u.list, &wanted, &l);
        let bs = pack(&ps, &u.list, &l, |_| true);
        let mut seen: Vec<usize> = bs.iter().flat_map(|b| b.pieces.clone()).collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..10).collect::<Vec<_>>(),
            "every piece exactly once"
        );
        for b in &bs {
            assert!(b.pieces.len() <= 3 && b.chars <= 40, "{b:?}");
            assert!(b.pieces.iter().all(|&p| u.list[ps[p].unit].from == b.from));
        }
    }
}
