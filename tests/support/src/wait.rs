//! Waiting in tests without asserting a duration: a condition is polled, or an
//! operation awaited, under a guard of [`HANG`] that only a hang reaches. A slow or
//! loaded machine makes a test slower, never makes it fail; a bug that never
//! finishes fails it with a message saying what was awaited.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a wait may take before the test calls it a hang: far longer than any of
/// them takes even on a loaded machine.
pub const HANG: Duration = Duration::from_secs(60);

/// Poll `done` (every millisecond) until it holds; panic naming `what` after [`HANG`].
pub fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG;
    while !done() {
        assert!(Instant::now() < deadline, "hung waiting for: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// [`until`] on the tokio runtime (sleeps between polls instead of blocking).
pub async fn until_async(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + HANG;
    while !done() {
        assert!(Instant::now() < deadline, "hung waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Await `f`; panic naming `what` if it has not finished after [`HANG`].
pub async fn finishes<F: Future>(what: &str, f: F) -> F::Output {
    match tokio::time::timeout(HANG, f).await {
        Ok(out) => out,
        Err(_) => panic!("hung: {what}"),
    }
}

/// Run `f` on a thread of its own; panic naming `what` if it has not returned after
/// [`HANG`] (the thread is then left behind).
pub fn finishes_blocking<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(HANG) {
        Ok(out) => out,
        Err(_) => panic!("hung: {what}"),
    }
}
