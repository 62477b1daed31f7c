//! Test support for tarjama, shared by the integration tests (`tests/it`), the local
//! stand-in server (`examples/fake_server.rs`) and the benchmark's server
//! (`bench/server.rs`): one emulator per translation API, each following the API's
//! documented wire format, all built on the generic [`server`] core (which also
//! serves raw canned answers for odd bodies), plus the raw-TCP fault server
//! ([`faulty`]), a proxy in front of a real PostgreSQL ([`pg`]) and synthetic Arabic
//! corpora ([`corpus`]).
//!
//! It does not depend on tarjama itself: the helpers that drive the `translate`
//! binary or the library (`harness`, `client`, `cachedb`) live with the tests.

pub mod apertium_emu;
pub mod azure_emu;
pub mod corpus;
pub mod deepl_emu;
pub mod edge_emu;
pub mod emulator;
pub mod faulty;
pub mod google_emu;
pub mod google_web_emu;
pub mod matrix;
pub mod openai_emu;
pub mod pg;
pub mod server;
pub mod wait;
