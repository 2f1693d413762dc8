//! The swappable revocation stores and the one trait they share.
//!
//! A store is picked by URL with [`open`]; every store passes the same checks in
//! [`conformance`]. Adding a backend is one new file plus one line in [`open`].

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::token::UnixSeconds;

pub mod conformance;
mod delayed;
mod hashmap;
mod jti;
mod memory;
mod mongo;
mod naive;
mod none;
mod postgres;
mod redis;
mod scratch;
mod url_params;

pub use delayed::{precise_sleep, DelayedStore};
pub use hashmap::HashMapStore;
pub use jti::Jti;
pub use memory::MemoryStore;
pub use mongo::MongoStore;
pub use naive::NaiveStore;
pub use none::NoneStore;
pub use postgres::PostgresStore;
pub use redis::RedisStore;
pub use scratch::ScratchStore;

/// Sizes as the backend itself reports them; `None` where it cannot tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStats {
    /// Physical entries held, including expired ones the backend has not removed yet.
    pub entries: Option<u64>,
    /// Bytes the backend reports for them (see each store's docs for what is counted).
    pub bytes: Option<u64>,
}

/// What a store promises, so shared checks know what to expect of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// `revoke` has an effect (false only for `none:`).
    pub remembers: bool,
    /// Entries stop counting once their `expires_at` has passed (false for `naive:`).
    pub expires: bool,
    /// Several server processes pointed at the same URL see one list.
    pub shared: bool,
}

/// Everything that can go wrong talking to a store.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    #[error(
        "unknown store URL `{0}`: use none:, naive:, memory:, hashmap:, redis://host:port/db, \
         mongodb://host:port/db or postgres://user@host:port/db"
    )]
    UnknownScheme(String),
    #[error("bad store URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot reach {backend} at {url}: {reason}; {fix}")]
    Unreachable { backend: &'static str, url: String, reason: String, fix: &'static str },
    #[error("{backend} error: {message}")]
    Backend { backend: &'static str, message: String },
}

impl StoreError {
    pub(crate) fn backend(backend: &'static str, err: impl fmt::Display) -> Self {
        StoreError::Backend { backend, message: err.to_string() }
    }
}

/// A list of revoked token ids.
///
/// # Contract
///
/// - `revoke(jti, expires_at)` is idempotent: revoking twice is the same as once.
/// - Read-your-writes: once `revoke` has returned `Ok`, `is_revoked(jti)` on the same store
///   answers `true` (for shared stores, from any process using the same URL).
/// - An entry stops counting once `expires_at` has passed (`now >= expires_at`), because the
///   token it blocks is dead by then anyway. `naive:` is the exception: it never forgets.
///   Physical removal may lag (see [`StoreStats::entries`]); the answer may not.
/// - A backend failure is returned as `Err`, never as "not revoked": the caller decides whether
///   to fail closed (the default) or open.
/// - Stores keep the `jti`, never the token.
#[async_trait]
pub trait RevocationStore: Send + Sync + 'static {
    /// Short name used in results and charts (`memory`, `redis`, …).
    fn name(&self) -> &'static str;

    /// What this store promises.
    fn capabilities(&self) -> Capabilities;

    /// Marks `jti` revoked until `expires_at`.
    async fn revoke(&self, jti: Jti, expires_at: UnixSeconds) -> Result<(), StoreError>;

    /// Whether `jti` is revoked now. This is the per-request check.
    async fn is_revoked(&self, jti: Jti) -> Result<bool, StoreError>;

    /// Revokes many ids at once, for fills (benchmarks, `revbench footprint`); callers send
    /// chunks of a few thousand. Remote stores override it with one batched write; the default
    /// revokes one by one.
    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        for &(jti, expires_at) in entries {
            self.revoke(jti, expires_at).await?;
        }
        Ok(())
    }

    /// Physical entries and bytes as the backend reports them.
    async fn stats(&self) -> Result<StoreStats, StoreError>;

    /// Whether the backend answers; used by `/healthz`.
    async fn health(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The backend server's version, for the run's environment block (`None` in-process).
    async fn server_version(&self) -> Option<String> {
        None
    }

    /// Removes every entry this store owns (its key prefix, collection or table), so a
    /// measurement starts from empty.
    async fn clear(&self) -> Result<(), StoreError>;
}

/// A store behind a cheap, shareable handle.
pub type SharedStore = Arc<dyn RevocationStore>;

/// The URL schemes [`open`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    None,
    Naive,
    Memory,
    HashMap,
    Redis,
    Mongo,
    Postgres,
}

impl FromStr for Scheme {
    type Err = StoreError;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or(url);
        Ok(match scheme {
            "none" => Scheme::None,
            "naive" => Scheme::Naive,
            "memory" => Scheme::Memory,
            "hashmap" => Scheme::HashMap,
            "redis" => Scheme::Redis,
            "mongodb" => Scheme::Mongo,
            "postgres" | "postgresql" => Scheme::Postgres,
            _ => return Err(StoreError::UnknownScheme(url.to_string())),
        })
    }
}

/// Opens the store a URL names, connecting (and checking the connection) for remote ones.
///
/// | URL | store |
/// |---|---|
/// | `none:` | [`NoneStore`] |
/// | `naive:` | [`NaiveStore`] |
/// | `memory:` | [`MemoryStore`] |
/// | `hashmap:` | [`HashMapStore`] |
/// | `redis://host:port/db?prefix=P` | [`RedisStore`] |
/// | `mongodb://host:port/db` | [`MongoStore`] |
/// | `postgres://user@host:port/db?pool=N&unlogged=true` | [`PostgresStore`] |
pub async fn open(url: &str) -> Result<SharedStore, StoreError> {
    Ok(match url.parse::<Scheme>()? {
        Scheme::None => Arc::new(NoneStore),
        Scheme::Naive => Arc::new(NaiveStore::default()),
        Scheme::Memory => Arc::new(MemoryStore::new()),
        Scheme::HashMap => Arc::new(HashMapStore::new()),
        Scheme::Redis => Arc::new(RedisStore::connect(url).await?),
        Scheme::Mongo => Arc::new(MongoStore::connect(url).await?),
        Scheme::Postgres => PostgresStore::connect(url).await?,
    })
}

/// The current time in milliseconds since the Unix epoch, for stores that expire precisely.
pub(crate) fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unknown schemes are refused with a message that lists the valid ones.
    #[tokio::test]
    async fn unknown_scheme_lists_the_valid_ones() {
        let err = open("memcached://localhost").await.err().unwrap();
        let message = err.to_string();
        assert!(message.contains("memcached://localhost"), "{message}");
        assert!(message.contains("redis://"), "{message}");
    }

    /// Scheme parsing accepts the bare name and the name with a colon.
    #[test]
    fn schemes_parse() {
        assert_eq!("memory:".parse::<Scheme>().unwrap(), Scheme::Memory);
        assert_eq!("hashmap:".parse::<Scheme>().unwrap(), Scheme::HashMap);
        assert_eq!("naive".parse::<Scheme>().unwrap(), Scheme::Naive);
        assert_eq!("postgresql://x".parse::<Scheme>().unwrap(), Scheme::Postgres);
        assert!("redis".parse::<Scheme>().is_ok());
        assert!("".parse::<Scheme>().is_err());
    }
}
