//! Sending through the store's leases, so that no paragraph is sent twice however
//! many processes share the memory (a `--cache-dir`, or a `--cache` URL).
//!
//! A batch's future, just before sending ([`send`]):
//! 1. looks its texts up in the store (the local layer first, then the shared memory):
//!    a translation that arrived since its document was admitted is used, not sent;
//! 2. claims the misses with a lease ([`Store::claim`]): of several processes claiming
//!    a text exactly one gets it; a text another process holds is *pending*;
//! 3. sends only what it owns, keeping the leases alive during the request
//!    ([`Store::hold`]), through the service's limiter as always;
//! 4. stores the answers in both layers ([`Store::complete`]): the first answer stored
//!    wins and a reviewed translation is never replaced, so an answer another process
//!    stored first is what this run uses too; the leases of what failed are given
//!    back ([`Store::release`]) so another process may take them at once.
//!
//! A pending text is waited for, apart from the requests in flight ([`wait`]): looked
//! up again after [`poll_after`] (a quarter second, doubling to 5 s, never much past
//! the end of its lease) until its answer is there, or its lease was given back or
//! ran out (its process failed or died): then it is claimed again, and exactly one
//! waiter gets it and sends it.

use std::time::Duration;

use crate::cache::store::{DEFAULT_LEASE, poll_after};
use crate::cache::{CacheKey, Completed, Found, Hit, Store};
use crate::error::Result;

use super::plan::{Batch, Piece};
use super::send::{PieceResult, Sender};

/// What became of a batch sent through the leases.
#[derive(Default)]
pub(super) struct Claimed {
    /// The pieces this process sent: their translations or failures.
    pub results: Vec<PieceResult>,
    /// Pieces whose translation the memory has now (another process's, or a
    /// reviewed one): served, not sent.
    pub arrived: Vec<(Piece, Hit)>,
    /// Pieces another process holds, with their keys and the time left on the
    /// longest of their leases: to wait for.
    pub pending: Pending,
}

/// Pieces another process is translating.
#[derive(Default)]
pub(super) struct Pending {
    pub pieces: Vec<(Piece, CacheKey)>,
    /// Time left on their leases, at most.
    pub left: Duration,
    /// How many times they were looked at already.
    pub polls: u32,
}

/// What waiting for pending pieces gave.
#[derive(Default)]
pub(super) struct Waited {
    /// Pieces whose translation arrived.
    pub arrived: Vec<(Piece, Hit)>,
    /// Pieces now ours to send (their lease was given back or ran out).
    pub ours: Vec<Piece>,
    /// Pieces still held by another process.
    pub pending: Pending,
}

/// Send `batch` (its pieces' keys in `keys`, in order) through `sender`, claiming
/// first: see the module doc.
///
/// # Errors
/// The store cannot be read or written.
pub(super) async fn send(
    store: &Store,
    sender: &Sender,
    mut batch: Batch,
    keys: Vec<CacheKey>,
) -> Result<Claimed> {
    let mut out = Claimed::default();
    let pieces = std::mem::take(&mut batch.pieces);
    let found = store.lookup(&keys).await?;
    let (arrived, open) = split_found(pieces.into_iter().zip(keys).zip(found));
    out.arrived = arrived;
    let mut mine = Vec::new();
    for (piece, key, owned, left) in claim_open(store, open).await? {
        if owned {
            mine.push((piece, key));
        } else {
            out.pending.add(piece, key, left);
        }
    }
    if mine.is_empty() {
        return Ok(out);
    }
    let (pieces, keys): (Vec<Piece>, Vec<CacheKey>) = mine.into_iter().unzip();
    batch.chars = pieces.iter().map(|p| p.chars).sum();
    batch.pieces = pieces.clone();
    let held = store.hold(keys.clone(), DEFAULT_LEASE);
    let results = sender.send_batch(batch).await;
    drop(held);
    let mut answers = Vec::new();
    let mut failed = Vec::new();
    let key_of = |id| pieces.iter().position(|p| p.id == id);
    for (id, r) in results {
        let Some(at) = key_of(id) else { continue };
        match r {
            Ok(t) => answers.push((at, t)),
            Err(flag) => {
                failed.push(keys[at].clone());
                out.results.push((id, Err(flag)));
            }
        }
    }
    if !failed.is_empty() {
        store.release(&failed).await?;
    }
    let done: Vec<(CacheKey, String)> = (answers.iter())
        .map(|(at, t)| (keys[*at].clone(), t.clone()))
        .collect();
    let completed = store.complete(&done).await?;
    for ((at, t), c) in answers.into_iter().zip(completed) {
        match c {
            Completed::Stored => out.results.push((pieces[at].id, Ok(t))),
            Completed::Kept(hit) => out.arrived.push((pieces[at].clone(), hit)),
        }
    }
    Ok(out)
}

/// Wait for pending pieces: sleep, look them up again, claim those whose lease was
/// given back or ran out. Returns once something changed (or after one look when
/// nothing did), so the coordinator sees arrivals as they come.
///
/// # Errors
/// The store cannot be read or written.
pub(super) async fn wait(store: Store, pending: Pending) -> Result<Waited> {
    let mut out = Waited::default();
    tokio::time::sleep(poll_after(pending.left, pending.polls)).await;
    let (pieces, keys): (Vec<Piece>, Vec<CacheKey>) = pending.pieces.into_iter().unzip();
    let found = store.lookup(&keys).await?;
    let (arrived, open) = split_found(pieces.into_iter().zip(keys).zip(found));
    out.arrived = arrived;
    for (piece, key, owned, left) in claim_open(&store, open).await? {
        if owned {
            out.ours.push(piece);
        } else {
            out.pending.add(piece, key, left);
        }
    }
    out.pending.polls = pending.polls + 1;
    Ok(out)
}

/// What a lookup found: the translations, and the pieces to claim with the time
/// left on another process's lease of each (zero when none was seen). A pending piece
/// is claimed too: the lease the lookup saw may be this process's own (a piece it
/// took over after waiting), which its claim renews; another's live lease makes the
/// claim fail, and the piece waits.
#[allow(clippy::type_complexity)]
fn split_found(
    found: impl Iterator<Item = ((Piece, CacheKey), Found)>,
) -> (Vec<(Piece, Hit)>, Vec<(Piece, CacheKey, Duration)>) {
    let mut arrived = Vec::new();
    let mut open = Vec::new();
    for ((piece, key), found) in found {
        match found {
            Found::Hit(hit) => arrived.push((piece, hit)),
            Found::Pending(left) => open.push((piece, key, left)),
            Found::Miss => open.push((piece, key, Duration::ZERO)),
            Found::Repaired(notice) => {
                tracing::warn!("{notice}");
                open.push((piece, key, Duration::ZERO));
            }
        }
    }
    (arrived, open)
}

/// Claim `open` pieces: each with its key, whether it is now ours, and the time left
/// on the lease seen.
async fn claim_open(
    store: &Store,
    open: Vec<(Piece, CacheKey, Duration)>,
) -> Result<Vec<(Piece, CacheKey, bool, Duration)>> {
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<CacheKey> = open.iter().map(|(_, k, _)| k.clone()).collect();
    let owned = store.claim(&keys, DEFAULT_LEASE).await?;
    Ok(open
        .into_iter()
        .zip(owned)
        .map(|((piece, key, left), owned)| (piece, key, owned, left))
        .collect())
}

impl Pending {
    fn add(&mut self, piece: Piece, key: CacheKey, left: Duration) {
        self.pieces.push((piece, key));
        self.left = self.left.max(left);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }
}
