//! Pipeline: stub.
