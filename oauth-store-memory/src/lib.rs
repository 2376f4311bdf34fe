//! # finrift `oauth-store-memory`
//!
//! An in-memory [`Storage`](oauth_core::Storage) for demos, tests and single-process
//! servers. Data is lost when the process ends.
//!
//! It is safe under concurrent use from many tasks and threads, and takes no global lock
//! on the hot path: codes, tokens and grants live in 16-way sharded maps, keyed by hash.
//! Single-use operations hold the one shard lock they need while they check and change a
//! record, which is what makes them atomic.
//!
//! ```
//! use oauth_core::{Config, Engine, ManualClock};
//! use oauth_store_memory::MemoryStore;
//! use time::OffsetDateTime;
//!
//! let engine = Engine::new(
//!     MemoryStore::new(),
//!     ManualClock::new(OffsetDateTime::UNIX_EPOCH),
//!     Config::new("https://auth.example").unwrap(),
//! );
//! # let _ = engine;
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod challenge;
mod grant;
mod moment;
mod profile;
mod sharded;
mod store;
mod text;
mod token;

pub use store::MemoryStore;
