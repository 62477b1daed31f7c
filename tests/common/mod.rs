//! Shared test support: local API emulators, built on the generic [`server`] core.
#![allow(dead_code)]

pub mod apertium_emu;
pub mod azure_emu;
pub mod cachedb;
pub mod client;
pub mod corpus;
pub mod deepl_emu;
pub mod edge_emu;
pub mod emulator;
pub mod faulty;
pub mod google_emu;
pub mod google_web_emu;
pub mod harness;
pub mod matrix;
pub mod openai_emu;
pub mod pg;
pub mod server;
