//! Typed ids of a run's state: which document, which paragraph, which distinct text,
//! which piece of it, which service of the chain.
//!
//! The coordinator keeps several tables that point into each other (documents waiting
//! for texts, texts cut into pieces, pieces queued for a service). Plain `usize` keys
//! let a piece id be used where a document id was meant, and nothing said whether a
//! piece still belonged to its text's current plan. Here each kind of id is its own
//! type, and a [`PieceId`] carries the plan it was cut for, so an answer for a piece of
//! an abandoned plan (its service left the chain) is recognised by its id alone.
//!
//! [`ServiceId`](super::chain::ServiceId) lives with the chain ([`super::chain`]), the only place that makes
//! them, so that one always names a member of the run's chain.

/// A document of the run: its position among the inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocId(usize);

impl DocId {
    /// The document at `position` among the inputs.
    pub(super) fn new(position: usize) -> DocId {
        DocId(position)
    }
}

/// One paragraph of one document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParaRef {
    /// Its document.
    pub doc: DocId,
    /// Its position in the document.
    pub index: usize,
}

/// A distinct text being fetched (a *unit*): every paragraph with that text and
/// source language waits for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitId(u64);

/// Hands out [`UnitId`]s, each once.
#[derive(Debug, Default)]
pub struct UnitIds(u64);

impl UnitIds {
    /// A new id.
    pub fn new_id(&mut self) -> UnitId {
        self.0 += 1;
        UnitId(self.0)
    }
}

/// One piece of a unit's text as planned for one service: the text of one request
/// slot. `plan` counts the unit's plans (a unit is planned again, whole, when its
/// service leaves the chain), so a piece of an older plan is told from a current one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PieceId {
    /// The unit it is a piece of.
    pub unit: UnitId,
    /// Which of the unit's plans it belongs to.
    pub plan: u32,
    /// Its position among the plan's pieces.
    pub part: u32,
}

#[cfg(test)]
impl PieceId {
    /// A piece id for tests of the packer.
    pub fn test(n: u64) -> PieceId {
        PieceId {
            unit: UnitId(n),
            plan: 0,
            part: 0,
        }
    }
}

/// The identity of a text in a source language, for telling repeats apart: the first
/// 16 bytes of the id of its entry for the chain's first service (BLAKE3 over the
/// provider, its options, the languages and the text as keys normalize it, so two
/// texts have one identity exactly when they share a cache entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TextId([u8; 16]);

impl TextId {
    /// The identity of the text whose first service's entry id is `entry`.
    pub fn of_entry(entry: &[u8; 32]) -> TextId {
        let mut out = [0; 16];
        out.copy_from_slice(&entry[..16]);
        TextId(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_ids_are_never_handed_out_twice() {
        let mut ids = UnitIds::default();
        let (a, b) = (ids.new_id(), ids.new_id());
        assert_ne!(a, b);
    }

    #[test]
    fn a_text_id_is_its_entry_ids_first_half() {
        let mut entry = [0; 32];
        entry[0] = 1;
        entry[31] = 2;
        let id = TextId::of_entry(&entry);
        entry[31] = 3; // the second half does not count
        assert_eq!(id, TextId::of_entry(&entry));
        entry[0] = 4;
        assert_ne!(id, TextId::of_entry(&entry));
    }
}
