//! Shared test support: local API emulators.
#![allow(dead_code)]

pub mod emulator;
pub mod harness;
