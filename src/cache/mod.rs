//! Cache: stub.
