//! `translate cache copy`: every finished entry of one store into another.
//!
//! Entries keep what they are: a machine translation keeps its provider and options (so
//! it is found under the same key), a reviewed one stays reviewed and keyed without
//! them. Nothing the destination holds is replaced (its first answer wins, as in a
//! run), except a shared row still pending, which the copy completes. Entries go in
//! pages of [`PAGE`], each page in one transaction, so a copy of any size runs in
//! bounded memory and an interrupted copy can simply be run again.

use super::Origin;
use super::store::Store;
use crate::error::Result;

/// Entries per page.
pub const PAGE: usize = 1000;

/// What a copy did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Copied {
    /// Entries read from the source.
    pub read: usize,
    /// Of those, reviewed.
    pub reviewed: usize,
    /// Entries added to the destination.
    pub added: usize,
    /// Entries the destination already held (kept as they were).
    pub kept: usize,
    /// Damaged source entries left out.
    pub damaged: usize,
}

impl Copied {
    /// `copied 120 entries (3 reviewed, 117 machine) from A to B: 118 added, 2 already there`.
    #[must_use]
    pub fn line(&self, from: &str, to: &str) -> String {
        let mut line = format!(
            "copied {} entr{} ({} reviewed, {} machine) from {from} to {to}: {} added, {} already there",
            self.read,
            if self.read == 1 { "y" } else { "ies" },
            self.reviewed,
            self.read - self.reviewed,
            self.added,
            self.kept
        );
        if self.damaged > 0 {
            line.push_str(&format!(", {} damaged left out", self.damaged));
        }
        line
    }
}

/// Copy every finished entry of `from` into `to`: the shared memory's when a store
/// has one, else its local file's.
///
/// # Errors
/// Either store fails; what was copied before stays copied.
pub async fn copy(from: &Store, to: &Store) -> Result<Copied> {
    let mut done = Copied::default();
    let mut pages = from.pages();
    loop {
        let (entries, damaged) = pages.next(PAGE).await?;
        done.damaged += damaged;
        if entries.is_empty() && damaged == 0 {
            return Ok(done);
        }
        done.read += entries.len();
        done.reviewed += entries
            .iter()
            .filter(|e| e.origin == Origin::Reviewed)
            .count();
        let n = entries.len();
        let added = to.add_entries(entries).await?;
        done.added += added;
        done.kept += n - added.min(n);
    }
}
