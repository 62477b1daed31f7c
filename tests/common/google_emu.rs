//! Stub: emulator to be written (issue 3).
