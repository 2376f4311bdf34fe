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
//! A purge goes in steps that each look at a bounded number of records (16 per record
//! its limit lets it remove), resuming where the last step stopped, so that no step holds
//! a lock for long however large the store: with no expiry index to keep (it would cost
//! every record an entry), a whole purge reads every record once, spread over its steps.
//!
//! Records are not kept as such, but rebuilt on read from a compact layout: what a grant's
//! code, grant record and tokens have in common is stored once and shared by them, what
//! many grants have in common (client, scope, redirect URI) is interned, and instants,
//! short strings and PKCE challenges are packed inline. A live grant after a full
//! authorization-code flow costs about 490 bytes at 200,000 grants (it moves with the
//! tables' fill, from full to just doubled): its shared data takes 160 (a 152-byte block,
//! as the allocator rounds it; 8 of them point to what few grants have, a token's own
//! owner, an OpenID Connect sign-in and a DPoP key binding, null for a plain OAuth grant),
//! the rest is the four entries keyed by 32-byte hashes (each in a shard's vector, with its
//! 8-byte position in the shard's hash table) and the spare room of vectors and tables. An OpenID Connect grant's sign-in is one allocation more (about 200 bytes
//! with one `amr` and a nonce), shared by its code and its refresh tokens. A code bound to
//! a DPoP key costs 160 bytes more (48 when it has a sign-in: the key's thumbprint, packed,
//! beside it), shared by the tokens bound to the same key; a token bound to a key that its
//! grant's data does not hold (a code redeemed with DPoP but not bound to a key, a client
//! acting for itself with DPoP) gets an identity of its own, about 320 bytes.
//!
//! It also keeps a deployment's sealed signing keys
//! ([`KeySetStore`](oauth_core::KeySetStore)), for a `KeyVault` in tests and demos; in one
//! process only, so instances that must share keys use a database.
//!
//! ```
//! use oauth_core::{Config, Engine, ManualClock};
//! use oauth_store_memory::MemoryStore;
//! use time::OffsetDateTime;
//!
//! # fn main() -> Result<(), oauth_core::Fault> {
//! let config = Config::builder("https://auth.example").build()?;
//! let clock = ManualClock::new(OffsetDateTime::UNIX_EPOCH);
//! let engine = Engine::builder(MemoryStore::new(), clock, config).build()?;
//! # let _ = engine;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bound_key;
mod challenge;
mod digest_hash;
mod grant;
mod key_set;
mod moment;
mod profile;
mod purge;
mod shard;
mod shard_pick;
mod sharded;
mod store;
mod text;
mod token;

pub use store::MemoryStore;
