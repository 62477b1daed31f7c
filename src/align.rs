//! Align: stub.
