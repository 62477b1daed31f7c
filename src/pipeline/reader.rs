//! The reader thread: reads, decodes, segments and detects the inputs in order, a
//! bounded amount ahead of the coordinator, so that on two cores the text work and
//! the cache-and-write work overlap. An input prepared by an earlier run on the same
//! cache, unchanged since, is read back from the cache instead ([`super::prepared`]).
//! The reader also makes each content paragraph's keys ([`ParaKeys`](super::memory::ParaKeys): normalizing
//! and hashing), so the coordinator's share of the work is looking them up.

use std::sync::Arc;

use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::model::{FileError, InputFile};

use super::ids::DocId;
pub(super) use super::prepared::Admitted;
use super::prepared::Preparer;

/// What reading one input gave.
pub(super) type Read = (DocId, std::result::Result<Admitted, FileError>);

/// Documents read ahead of the coordinator.
const READ_AHEAD: usize = 32;

/// Input bytes read ahead of the coordinator, at most (a document's file size counts
/// from before it is read until the coordinator takes it).
const READ_AHEAD_BYTES: u64 = 64 << 20;

/// Read `files` with `preparer` on a thread of their own (see the module doc).
pub(super) fn spawn_reader(files: Vec<InputFile>, preparer: Preparer) -> Reader {
    spawn_reader_within(files, preparer, READ_AHEAD_BYTES)
}

/// [`spawn_reader`] with a read-ahead budget of `budget` bytes.
fn spawn_reader_within(files: Vec<InputFile>, mut preparer: Preparer, budget: u64) -> Reader {
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    let bytes = Arc::new(Semaphore::new(budget as usize));
    #[cfg(test)]
    let seen_by_tests = Arc::clone(&bytes);
    std::thread::spawn(move || {
        for (d, file) in files.into_iter().enumerate() {
            // Reserve the file's size before reading it, so that the documents waiting
            // in the queue never hold more than the budget of input (a file as large
            // as the whole budget still goes through, alone).
            let size = fs_err::metadata(&file.path).map_or(1, |m| m.len());
            let permits = size.clamp(1, budget) as u32;
            let Ok(permit) =
                futures::executor::block_on(Arc::clone(&bytes).acquire_many_owned(permits))
            else {
                break;
            };
            let read = preparer.read(&file);
            if tx.blocking_send((DocId::new(d), read, permit)).is_err() {
                break; // the run ended early
            }
        }
    });
    Reader {
        rx,
        #[cfg(test)]
        bytes: seen_by_tests,
    }
}

/// The documents [`spawn_reader`] has read, in input order.
pub(super) struct Reader {
    rx: mpsc::Receiver<(
        DocId,
        std::result::Result<Admitted, FileError>,
        OwnedSemaphorePermit,
    )>,
    /// The read-ahead budget, for the tests to see what is reserved.
    #[cfg(test)]
    bytes: Arc<Semaphore>,
}

impl Reader {
    /// The next document; `None` after the last. Taking it frees its share of the
    /// read-ahead budget. Cancel-safe, like the channel under it.
    pub(super) async fn recv(&mut self) -> Option<Read> {
        self.rx.recv().await.map(|(d, read, _permit)| (d, read))
    }

    /// The next document if one is ready, without waiting (see [`Reader::recv`]).
    pub(super) fn try_recv(&mut self) -> std::result::Result<Read, TryRecvError> {
        self.rx.try_recv().map(|(d, read, _permit)| (d, read))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceFormat;

    #[test]
    fn the_reader_holds_no_more_than_its_byte_budget_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<InputFile> = (0..4)
            .map(|i| {
                let path = dir.path().join(format!("{i}.txt"));
                fs_err::write(&path, "كلمة ".repeat(100)).unwrap(); // 900 bytes
                InputFile {
                    path,
                    rel: format!("{i}.txt"),
                    format: SourceFormat::Text,
                }
            })
            .collect();
        // Room for two files' bytes: two are read, the third waits for the first to
        // be taken.
        let services = [crate::pipeline::Service {
            name: "libretranslate".into(),
            settings: crate::config::Config::builtin().providers["libretranslate"].clone(),
        }];
        let chain = super::super::chain::Chain::new(&services, "en").unwrap();
        let keys = super::super::memory::KeyMaker::new(&chain);
        let preparer = Preparer::new(None, "en".into(), keys, None);
        let mut reader = spawn_reader_within(files, preparer, 2_500);
        // Two files are read and hold 1,800 bytes; the third's 900 do not fit in the
        // 700 left, so the reader waits for them. (A waiter is handed the permits as
        // they are freed: none show as available while it waits.)
        let held_back = |r: &Reader| r.rx.len() == 2 && r.bytes.available_permits() == 0;
        wait_until(|| held_back(&reader), "two documents read ahead");
        let (first, _) = reader.try_recv().unwrap();
        assert_eq!(first, DocId::new(0));
        // Taking one frees its share: the third is read, and the fourth waits.
        wait_until(|| held_back(&reader), "taking a document frees its share");
        let rest: Vec<DocId> = std::iter::from_fn(|| {
            futures::executor::block_on(reader.recv()).map(|(d, read)| {
                assert!(read.is_ok());
                d
            })
        })
        .collect();
        assert_eq!(rest, [1, 2, 3].map(DocId::new));
    }

    /// Polls `done` until it holds; panics after a minute, which only a hang takes.
    fn wait_until(done: impl Fn() -> bool, what: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !done() {
            assert!(
                std::time::Instant::now() < deadline,
                "hung waiting for: {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}
