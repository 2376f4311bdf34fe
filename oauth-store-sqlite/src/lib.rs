//! # finrift `oauth-store-sqlite`
//!
//! The durable single-node storage backend for finrift, on SQLite. It is planned, not yet
//! written: this crate holds its place in the workspace so that the layout is stable.
//! Until it lands, use `oauth-store-memory` or implement the
//! [`Storage`](oauth_core::Storage) traits yourself.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use oauth_core::Storage;
