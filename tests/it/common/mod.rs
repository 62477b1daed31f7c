//! Shared test support: the emulators and helpers of the `tarjama-testkit` crate
//! (tests/support), under the names the tests use, plus the helpers that drive
//! tarjama itself (the binary, the library, the cache file).

pub use tarjama_testkit::{
    apertium_emu, azure_emu, corpus, deepl_emu, edge_emu, emulator, faulty, google_emu,
    google_web_emu, matrix, openai_emu, pg, server, wait,
};

pub mod cachedb;
pub mod client;
pub mod harness;
