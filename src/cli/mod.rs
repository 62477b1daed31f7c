//! CLI: stub.

/// Run the command line; returns the exit code.
#[must_use]
pub fn run() -> i32 {
    0
}
