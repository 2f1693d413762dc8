//! The swappable revocation stores and the one trait they share.
//!
//! A store is picked by URL with [`open`], from the table [`SCHEMES`]; every store passes the
//! one conformance suite in `tests/common/conformance.rs`. Adding a store is one new file (the
//! store and its `SCHEME`) plus one line in [`SCHEMES`].

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use futures_util::future::BoxFuture;

use crate::redact::redact;
use crate::time::UnixSeconds;

pub mod backends;
pub mod expiry;
mod fill;
pub mod in_process;
pub mod profile;
pub mod strategies;
mod url_params;
pub mod wrappers;

pub use backends::mongo::{MongoStore, OPERATION_TIMEOUT as MONGO_OPERATION_TIMEOUT};
pub use backends::mongo_server::MongoServer;
pub use backends::postgres::PostgresStore;
pub use backends::redis::RedisStore;
pub use backends::redis_buckets::RedisBucketsStore;
pub use backends::redis_cluster::RedisClusterStore;
pub use expiry::{stored_exp, stored_exp_millis, MAX_STORED_EXP};
pub use fill::{fill, random_entries, spread_entries, FillProgress};
pub use in_process::compact::CompactStore;
pub use in_process::cutoff::{Cutoff, CutoffStore};
pub use in_process::hashmap::HashMapStore;
pub use in_process::memory::MemoryStore;
pub use in_process::naive::NaiveStore;
pub use in_process::none::NoneStore;
pub use profile::{EntryUnit, Profile};
pub use strategies::cutoff_redis::CutoffRedisStore;
pub use strategies::filter_redis::FilterRedisStore;
pub use strategies::hybrid::HybridStore;
pub use strategies::refresh::{FamilyId, Grant, RefreshTokens, Rotation};
pub use strategies::refresh_redis::RefreshRedisStore;
pub use wrappers::delayed::DelayedStore;
pub use wrappers::namespace::{database_parent, namespaced, parse_tag, pointed_at};
pub use wrappers::scratch::ScratchStore;

pub use crate::jti::Jti;

/// Sizes as the backend itself reports them; `None` where it cannot tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreStats {
    /// Physical entries held, including expired ones the backend has not removed yet.
    pub entries: Option<u64>,
    /// Bytes the backend reports for them (see each store's docs for what is counted).
    pub bytes: Option<u64>,
}

/// How a store with a local filter in front of a shared one answered its checks, counted
/// since it opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckAnswers {
    /// Answered in the process, without a round trip.
    pub local: u64,
    /// Asked of the shared store (one round trip each, pipelined with concurrent ones).
    pub store: u64,
}

/// What a store promises, so shared checks know what to expect of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// `revoke` has an effect. False for `none:` and for the strategies that keep no token
    /// ids (they act through `log_out` and `is_refused`).
    pub remembers: bool,
    /// Entries stop counting once their `expires_at` has passed (false for `naive:`).
    pub expires: bool,
    /// Several server processes pointed at the same URL see one list.
    pub shared: bool,
}

/// Everything that can go wrong talking to a store. Its messages never show a password: every
/// URL and driver message in them goes through [`redact`].
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    #[error(
        "unknown store URL `{}`: use one of {examples}",
        redact(.0),
        examples = scheme_examples()
    )]
    UnknownScheme(String),
    #[error("bad store URL `{}`: {}", redact(.url), redact(.reason))]
    BadUrl { url: String, reason: String },
    #[error("cannot reach {backend} at {}: {}; {fix}", redact(.url), redact(.reason))]
    Unreachable { backend: &'static str, url: String, reason: String, fix: &'static str },
    #[error("{backend} error: {}", redact(.message))]
    Backend { backend: &'static str, message: String },
}

impl StoreError {
    pub(crate) fn backend(backend: &'static str, err: impl fmt::Display) -> Self {
        StoreError::Backend { backend, message: err.to_string() }
    }
}

/// What the per-request check knows of a verified token: enough for a deny-list (`jti`) and
/// for a per-user cut-off (`sub`, `iat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenFacts<'a> {
    pub jti: Jti,
    pub sub: &'a str,
    pub iat: UnixSeconds,
    pub exp: UnixSeconds,
}

/// A list of revoked token ids.
///
/// # Contract
///
/// - `revoke(jti, expires_at)` is idempotent: revoking twice is the same as once.
/// - Read-your-writes: once `revoke(jti, expires_at)` has returned `Ok`, `is_revoked(jti,
///   expires_at)` on the same store answers `true` (for shared stores, from any process using
///   the same URL) — for stores that remember ([`Capabilities::remembers`]). The others keep no
///   token ids and leave `revoke` and `is_revoked` at their defaults: `revoke` records nothing,
///   `is_revoked` is `false`.
/// - The check is asked with the token's own `exp`, the value its logout passed to `revoke`
///   (a token id comes with one `exp`). A store may use it to find the entry (a partition by
///   expiry); asked with another `expires_at` than the one revoked with, its answer is
///   unspecified.
/// - An entry stops counting once `expires_at` has passed (`now >= expires_at`), because the
///   token it blocks is dead by then anyway. `naive:` is the exception: it never forgets.
///   Physical removal may lag (see [`StoreStats::entries`]); the answer may not.
/// - `forget_many` undoes `revoke` for the ids it is given, and for those only: once it has
///   returned `Ok`, they read as not revoked and every other id as before (for stores that
///   keep a copy per process in front of a shared store, in the process that forgot).
/// - A backend failure is returned as `Err`, never as "not revoked": the caller decides whether
///   to fail closed (the default) or open.
/// - Stores keep the `jti`, never the token.
#[async_trait]
pub trait RevocationStore: Send + Sync + 'static {
    /// Short name used in results and charts (`memory`, `redis`, …).
    fn name(&self) -> &'static str;

    /// What this store promises.
    fn capabilities(&self) -> Capabilities;

    /// Marks `jti` revoked until `expires_at`. The default records nothing, for a store that
    /// keeps no token ids (`remembers: false`); every store that remembers overrides it.
    async fn revoke(&self, _jti: Jti, _expires_at: UnixSeconds) -> Result<(), StoreError> {
        Ok(())
    }

    /// Whether `jti`, of a token expiring at `expires_at`, is revoked now: a deny-list's
    /// per-request check. The default answers as [`is_revoked_now`] does, and where that has
    /// no answer, `false` for a store that keeps no token ids (`remembers: false`) and an
    /// error for one that does (it overrides neither: a check that fails closed, never one
    /// that lets every revoked token in).
    ///
    /// [`is_revoked_now`]: RevocationStore::is_revoked_now
    async fn is_revoked(&self, jti: Jti, expires_at: UnixSeconds) -> Result<bool, StoreError> {
        match self.is_revoked_now(jti, expires_at) {
            Some(revoked) => Ok(revoked),
            None if !self.capabilities().remembers => Ok(false),
            None => Err(StoreError::backend(
                self.name(),
                "this store keeps token ids but answers no check (it implements neither \
                 is_revoked nor is_revoked_now)",
            )),
        }
    }

    /// [`is_revoked`] answered without waiting, by a store that can (an in-process set under
    /// a lock): `Some` must be what `is_revoked` would answer. The server (through
    /// [`is_refused_now`]) and the criterion bench ask it first and await `is_revoked` on
    /// `None` (this default), so an in-process check costs no boxed future. A wrapper that adds
    /// to the check (a delay, a count) keeps this default.
    ///
    /// [`is_revoked`]: RevocationStore::is_revoked
    /// [`is_refused_now`]: RevocationStore::is_refused_now
    fn is_revoked_now(&self, _jti: Jti, _expires_at: UnixSeconds) -> Option<bool> {
        None
    }

    /// Revokes many ids at once, for fills (benchmarks, `revbench footprint`); callers send
    /// chunks of a few thousand. Remote stores override it with one batched write; the default
    /// revokes one by one.
    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        for &(jti, expires_at) in entries {
            self.revoke(jti, expires_at).await?;
        }
        Ok(())
    }

    /// Removes the entries of `entries` (each id with the `exp` it was revoked with, so a
    /// store partitioned by expiry finds it), as if they had never been revoked; returns how
    /// many it held. Ids it does not hold are skipped. For the harness: a sweep removes what
    /// its load revoked from a store it keeps filled across measurements. Shared stores remove
    /// them in the shared store (and the calling process's own copy, if it keeps one); the
    /// copies other processes keep are not told (they reload when they restart). The default
    /// removes nothing, for a store that keeps no token ids (`remembers: false`); every store
    /// that remembers overrides it.
    async fn forget_many(&self, _entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        Ok(0)
    }

    /// The server's per-request check of a verified token. Deny-lists ask [`is_revoked`] for
    /// its jti and exp (this default); a per-user cut-off looks up its `sub` instead.
    ///
    /// [`is_revoked`]: RevocationStore::is_revoked
    async fn is_refused(&self, token: TokenFacts<'_>) -> Result<bool, StoreError> {
        self.is_revoked(token.jti, token.exp).await
    }

    /// [`is_refused`] answered without waiting, where the store can ([`is_revoked_now`] by
    /// default); a store that overrides `is_refused` overrides this too or answers `None`.
    ///
    /// [`is_refused`]: RevocationStore::is_refused
    /// [`is_revoked_now`]: RevocationStore::is_revoked_now
    fn is_refused_now(&self, token: TokenFacts<'_>) -> Option<bool> {
        self.is_revoked_now(token.jti, token.exp)
    }

    /// The server's logout of a verified token. Deny-lists revoke its jti until its `exp`
    /// (this default); a per-user cut-off refuses every token of the user issued so far.
    async fn log_out(&self, token: TokenFacts<'_>) -> Result<(), StoreError> {
        self.revoke(token.jti, token.exp).await
    }

    /// The `iat` to give a token issued to `sub` at `now`: `now` (this default, no I/O); a
    /// per-user cut-off never issues a token its own cut-off would refuse.
    async fn issue_at(&self, _sub: &str, now: UnixSeconds) -> Result<UnixSeconds, StoreError> {
        Ok(now)
    }

    /// Refresh-token rotation, for a strategy that issues refresh tokens beside short-lived
    /// access tokens (`refresh+redis://`, see [`strategies::refresh`]); `None` (this default) for the others.
    fn refresh_tokens(&self) -> Option<&dyn RefreshTokens> {
        None
    }

    /// Physical entries and bytes as the backend reports them.
    async fn stats(&self) -> Result<StoreStats, StoreError>;

    /// For a strategy that keeps a copy per replica in front of a shared store
    /// (`hybrid+redis`, `filter+redis`): the shared store's entries and bytes, where
    /// [`stats`](RevocationStore::stats) gives the copy's. `None` (this default) for the others.
    async fn shared_stats(&self) -> Option<Result<StoreStats, StoreError>> {
        None
    }

    /// Checks answered locally and checks asked of the shared store, for a store that answers
    /// some checks from a local filter (`filter+redis`). `None` (this default) for the others.
    fn check_answers(&self) -> Option<CheckAnswers> {
        None
    }

    /// Revocations that returned before every replica had acknowledged them, for a store
    /// that pushes revocations to its replicas (`hybrid+redis`): each is a window in which
    /// another replica may still accept the token. `None` (this default) for the others.
    fn sync_timeouts(&self) -> Option<u64> {
        None
    }

    /// Revocations a store that queues writes while its backend is away (`hybrid+redis`)
    /// could not queue because its queue was full: each failed (a 503 for its logout) after
    /// being applied in this process only. `None` (this default) for the others.
    fn queue_overflows(&self) -> Option<u64> {
        None
    }

    /// What the waits of `--inject-latency` delivered so far; `None` (this default) for a
    /// store without one.
    fn injected_delay(&self) -> Option<crate::injected_delay::DelayCounts> {
        None
    }

    /// Whether the backend answers; used by `/healthz`.
    async fn health(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The backend server's version, for the run's environment block (`None` in-process).
    async fn server_version(&self) -> Option<String> {
        None
    }

    /// Set when the server that answered is not the product the store is named after (a
    /// wire-compatible stand-in): what its figures must not be taken for. Shown beside them.
    async fn server_caveat(&self) -> Option<String> {
        None
    }

    /// Removes every entry this store owns (its key prefix, collection or table), so a
    /// measurement starts from empty.
    async fn clear(&self) -> Result<(), StoreError>;

    /// Removes the store's namespace itself (drops its table or database), for a store opened
    /// in a namespace of its own ([`ScratchStore`]). The default empties it.
    async fn destroy(&self) -> Result<(), StoreError> {
        self.clear().await
    }
}

/// A store behind a cheap, shareable handle.
pub type SharedStore = Arc<dyn RevocationStore>;

/// Opens a store of one scheme from its URL (connecting and checking remote ones):
/// `fresh::<Store>` for an in-process store, `opener!(Store::connect)` for one that connects.
pub type Opener = for<'a> fn(&'a str) -> BoxFuture<'a, Result<SharedStore, StoreError>>;

/// The [`Opener`] of an in-process store: a new, empty `S` (its URL is only the scheme).
pub(crate) fn fresh<S: RevocationStore + Default>(
    _url: &str,
) -> BoxFuture<'_, Result<SharedStore, StoreError>> {
    Box::pin(std::future::ready(Ok(Arc::new(S::default()) as SharedStore)))
}

/// The [`Opener`] that shares what `$connect(url).await` returns, for a store opened by an
/// `async fn connect(url: &str) -> Result<Store, StoreError>` (or `Result<Arc<Store>, …>`).
macro_rules! opener {
    ($connect:path) => {
        |url| {
            Box::pin(async move {
                Ok($crate::revocation::IntoShared::into_shared($connect(url).await?))
            })
        }
    };
}
pub(crate) use opener;

/// A store, or a store already behind an `Arc`, as a [`SharedStore`] (for [`opener!`]).
pub(crate) trait IntoShared {
    fn into_shared(self) -> SharedStore;
}

impl<S: RevocationStore> IntoShared for S {
    fn into_shared(self) -> SharedStore {
        Arc::new(self)
    }
}

impl<S: RevocationStore> IntoShared for Arc<S> {
    fn into_shared(self) -> SharedStore {
        self
    }
}

/// How a measurement gets a namespace of its own in a store of this kind (see [`namespaced`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespacing {
    /// Nothing to do: every process has its own store.
    InProcess,
    /// A key prefix (`?prefix=`).
    KeyPrefix,
    /// A table (`?table=`).
    Table,
    /// A database (the URL's path).
    Database,
}

/// One kind of store: the one place its name, URL form and constructor are written.
#[derive(Debug)]
pub struct Scheme {
    /// Short name in results, charts, colours and errors (`memory`, `redis`, …).
    pub name: &'static str,
    /// URL schemes that select it (`postgres`, `postgresql`).
    pub url_schemes: &'static [&'static str],
    /// A URL of the form users write, for help and errors.
    pub example: &'static str,
    pub namespacing: Namespacing,
    pub open: Opener,
    /// What the strategy is, needs and does when its store is down, for the report's
    /// decision view (descriptions only; every number there is measured).
    pub profile: Profile,
}

/// Every store revbench knows. **Adding a store: its own file, plus one line here.**
pub static SCHEMES: &[&Scheme] = &[
    &in_process::none::SCHEME,
    &in_process::naive::SCHEME,
    &in_process::memory::SCHEME,
    &in_process::hashmap::SCHEME,
    &backends::redis::SCHEME,
    &backends::mongo::SCHEME,
    &backends::postgres::SCHEME,
    // Strategies beyond a per-request deny-list lookup (after the stores, so colours stay).
    &strategies::hybrid::SCHEME,
    &in_process::cutoff::SCHEME,
    &strategies::cutoff_redis::SCHEME,
    &backends::redis_cluster::SCHEME,
    &strategies::refresh_redis::SCHEME,
    &in_process::compact::SCHEME,
    &backends::redis_buckets::SCHEME,
    &strategies::filter_redis::SCHEME,
];

impl Scheme {
    /// The scheme a URL names (`memory:`, `redis://…`; a bare `memory` works too).
    pub fn of(url: &str) -> Result<&'static Scheme, StoreError> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or(url);
        SCHEMES
            .iter()
            .copied()
            .find(|s| s.url_schemes.contains(&scheme))
            .ok_or_else(|| StoreError::UnknownScheme(crate::redact::redact(url)))
    }

    /// The scheme whose short name is `name` (as in results files).
    pub fn named(name: &str) -> Option<&'static Scheme> {
        SCHEMES.iter().copied().find(|s| s.name == name)
    }

    /// Whether the store lives in the server process (not shared between processes).
    pub fn in_process(&self) -> bool {
        self.namespacing == Namespacing::InProcess
    }
}

/// Every scheme's example URL, e.g. `none:, naive:, …, postgres://user@host:port/db`.
pub fn scheme_examples() -> String {
    SCHEMES.iter().map(|s| s.example).collect::<Vec<_>>().join(", ")
}

/// Opens the store a URL names, connecting (and checking the connection) for remote ones.
/// The forms are listed in [`SCHEMES`].
pub async fn open(url: &str) -> Result<SharedStore, StoreError> {
    (Scheme::of(url)?.open)(url).await
}

/// Opens the store a URL names as a handle for the harness (to clear, fill, count and remove
/// a measurement's store) that takes no part in the servers' own traffic: `hybrid+redis` and
/// `filter+redis` open their `connect_passive`, which does not subscribe, so the harness is not
/// one more replica acknowledging every logout. Every other store opens as [`open`] does.
pub async fn open_passive(url: &str) -> Result<SharedStore, StoreError> {
    let scheme = Scheme::of(url)?;
    if std::ptr::eq(scheme, &strategies::hybrid::SCHEME) {
        return Ok(Arc::new(HybridStore::connect_passive(url).await?));
    }
    if std::ptr::eq(scheme, &strategies::filter_redis::SCHEME) {
        return Ok(Arc::new(FilterRedisStore::connect_passive(url).await?));
    }
    open(url).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store that keeps ids but implements neither check.
    struct Forgetful;

    #[async_trait]
    impl RevocationStore for Forgetful {
        fn name(&self) -> &'static str {
            "forgetful"
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities { remembers: true, expires: true, shared: false }
        }
        async fn stats(&self) -> Result<StoreStats, StoreError> {
            Ok(StoreStats { entries: None, bytes: None })
        }
        async fn clear(&self) -> Result<(), StoreError> {
            Ok(())
        }
    }

    /// The default check fails closed for a store that keeps ids but answers no check, and
    /// answers "not revoked" for one that keeps none (`none:`).
    #[tokio::test]
    async fn the_default_check_fails_closed_where_it_has_no_answer() {
        let err = Forgetful.is_revoked(Jti::random(), 0).await.unwrap_err();
        assert!(err.to_string().contains("answers no check"), "{err}");
        let none = open("none:").await.unwrap();
        assert!(!none.is_revoked(Jti::random(), u64::MAX).await.unwrap());
    }

    /// Unknown schemes are refused with a message that lists the valid ones.
    #[tokio::test]
    async fn unknown_scheme_lists_the_valid_ones() {
        let err = open("memcached://localhost").await.err().unwrap();
        let message = err.to_string();
        assert!(message.contains("memcached://localhost"), "{message}");
        assert!(message.contains("redis://"), "{message}");
    }

    /// Scheme lookup accepts the bare name and the name with a colon, and every scheme is
    /// found by its own name and example.
    #[test]
    fn schemes_parse() {
        assert_eq!(Scheme::of("memory:").unwrap().name, "memory");
        assert_eq!(Scheme::of("hashmap:").unwrap().name, "hashmap");
        assert_eq!(Scheme::of("naive").unwrap().name, "naive");
        assert_eq!(Scheme::of("postgresql://x").unwrap().name, "postgres");
        assert!(Scheme::of("redis").is_ok());
        assert!(Scheme::of("").is_err());
        for scheme in SCHEMES {
            assert_eq!(Scheme::of(scheme.example).unwrap().name, scheme.name);
            assert_eq!(Scheme::named(scheme.name).unwrap().example, scheme.example);
        }
    }

    /// Every store reports the name its scheme gives it.
    #[tokio::test]
    async fn in_process_stores_carry_their_scheme_name() {
        for scheme in SCHEMES.iter().filter(|s| s.in_process()) {
            assert_eq!(open(scheme.example).await.unwrap().name(), scheme.name);
        }
    }
}
