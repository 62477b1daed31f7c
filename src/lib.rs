//! tarjama: aligned bilingual documents from Arabic and Persian press articles.
//!
//! The library owns the whole pipeline; the `translate` binary only parses arguments
//! and turns the outcome into an exit code. Data flows one way:
//!
//! ```text
//! ingest → segment → detect → pipeline (cache ⇄ limit ⇄ provider) → align → write
//! ```
//!
//! - [`ingest`] walks INPUTs, decodes bytes, extracts HTML article text, normalizes.
//! - [`segment`] cuts paragraphs (joining hard-wrapped lines), classifies them and
//!   splits sentences.
//! - [`detect`] tags documents and paragraphs with a language.
//! - [`provider`] speaks each translation API's wire format.
//! - [`limit`] decides when a request may leave: rate, concurrency, retries, breaker.
//! - [`cache`] keeps every translation on disk, crash-safe and shared between runs.
//! - [`pipeline`] orchestrates: dedupe, cache first, batch, send, record outcomes.
//! - [`align`] pairs each source paragraph with its translation, aligns their
//!   sentences (Gale–Church) and sets the quality flags.
//! - [`write`](mod@write) renders HTML, Markdown, TMX, JSONL, XLIFF, `index.html` and `report.json`.
//! - [`import`] reads human corrections (corrections file, XLIFF, TMX, JSONL) into
//!   the cache as reviewed translations (`translate import`).
//! - [`cli`] is the command line on top.

// Items are `pub` only when they are the library's API (the binary, tests/, examples/
// and bench/ use it); everything else is `pub(crate)` or narrower. Set here rather
// than in Cargo.toml's [lints] so it does not fire on the test helpers that each
// integration-test binary compiles as private modules.
#![warn(unreachable_pub)]

pub mod align;
pub mod cache;
pub mod cli;
pub mod config;
pub mod detect;
pub mod error;
pub mod import;
pub mod ingest;
pub mod limit;
pub mod model;
pub mod pipeline;
pub mod provider;
pub mod secret;
pub mod segment;
pub mod write;
