//! The integration tests, as one test binary: each module is one suite (the
//! command line, each provider against its emulator, the outputs, faults, …), and
//! `common` holds what they share. One binary links tokio, reqwest, axum and
//! rusqlite once instead of once per suite.

mod common;

mod align;
mod apertium_real;
mod bad_input;
mod browser;
mod cache_copy;
mod chain;
mod cli;
mod concurrency;
mod crash_loop;
mod detect;
mod e2e;
mod faults;
mod fuzz_regressions;
mod import;
mod ingest;
mod limit;
mod outputs;
mod props;
mod provider_apertium;
mod provider_azure;
mod provider_deepl;
mod provider_google;
mod provider_matrix;
mod provider_openai;
mod providers;
mod readback;
mod real_corpus;
mod secrets;
mod seeds;
mod segment_props;
mod shared_store;
mod team;
mod xliff;
