//! `filter+redis://host:port/db?prefix=P` — a filter per replica in front of Redis.
//!
//! Every replica holds a split-block Bloom filter of the revoked ids per expiry bucket
//! ([`super::bloom`], about 10 bits per id); Redis holds the deny-list itself in `redis://`'s
//! layout (one key `P<jti>` per revoked token, expiring with it):
//!
//! - **check**: an id the filter does not contain is answered locally, "not revoked" (a Bloom
//!   filter has no false negatives); a possible hit (the revoked share of the traffic, plus
//!   about 1 % of the rest) is confirmed in Redis with one `EXISTS`, in the pipeline of the
//!   concurrent checks as for `redis://`. Both kinds are counted ([`CheckAnswers`], `/stats`).
//!   A check of a token whose `exp` has passed answers `false` without either.
//! - **kept in sync as `hybrid+redis` keeps its table** ([`super::feed`]): a revoke goes into
//!   the local filter, then to Redis and every replica, and returns once they have
//!   acknowledged it; on start and on every reconnect the replica loads every live key again,
//!   into new filters sized per bucket from its count, which replace the old ones when the load
//!   is complete (a filter can only be added to, so a reload is also when its segments are
//!   folded into one per bucket).
//! - **expiry**: a bucket's filters are dropped whole once its last token has expired.
//!
//! # Contract, where it differs from [`RevocationStore`]'s
//!
//! - **No replay while out of sync**: while the filter may be missing revocations (Redis lost,
//!   reconnecting, reloading for the first time) every check is asked of Redis, so a check
//!   fails closed (503) when Redis cannot answer, and is exact when it can.
//! - **A revoke needs Redis**: while Redis cannot take it, the revoke fails (a 503 for the
//!   logout, which the client retries); nothing is queued.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;

use super::bloom::{bucket_of, hash_of, BucketFilters};
use super::feed::{Feed, LocalCopy};
use crate::lock::{MutexExt, RwLockExt};
use crate::revocation::{
    opener, profile, Capabilities, CheckAnswers, EntryUnit, Jti, Namespacing, Profile,
    RevocationStore, Scheme, StoreError, StoreStats,
};
use crate::time::{now_secs, UnixSeconds};

/// Key prefix used when the URL sets none.
const DEFAULT_PREFIX: &str = "revbench:filter:";
const BACKEND: &str = "filter";

/// The `filter+redis://` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: BACKEND,
    url_schemes: &["filter+redis"],
    example: "filter+redis://host:port/db",
    namespacing: Namespacing::KeyPrefix,
    open: opener!(FilterRedisStore::connect),
    profile: Profile {
        summary: "a Bloom filter per replica (synced by pub/sub) answers most checks; a possible \
                  hit is confirmed in Redis",
        needs: "Redis (pub/sub and keys)",
        when_down: profile::FAILS_CLOSED,
        unit: EntryUnit::RevokedToken,
    },
};

/// The filters of one replica, and the next ones while a full load builds them.
#[derive(Default)]
struct FilterCopy {
    filters: RwLock<BucketFilters>,
    /// While a full load runs: every id inserted since it started, by bucket. Held while the
    /// built filters replace the old ones, so no insert falls between.
    reload: Mutex<Option<HashMap<u64, Vec<u64>>>>,
}

impl FilterCopy {
    /// Adds the live ones of `entries` (a passed `exp` is never asked about).
    fn insert_many(&self, entries: &[(Jti, UnixSeconds)]) {
        let now = now_secs();
        let live: Vec<(Jti, UnixSeconds)> =
            entries.iter().copied().filter(|&(_, exp)| exp > now).collect();
        let mut reload = self.reload.locked();
        if let Some(next) = reload.as_mut() {
            for &(jti, exp) in &live {
                next.entry(bucket_of(exp)).or_default().push(hash_of(jti));
            }
        }
        let mut filters = self.filters.write_locked();
        filters.drop_passed(now);
        filters.insert_many(&live);
    }
}

impl LocalCopy for FilterCopy {
    fn insert(&self, jti: Jti, exp: UnixSeconds) {
        self.insert_many(&[(jti, exp)]);
    }

    fn reload_started(&self) {
        *self.reload.locked() = Some(HashMap::new());
    }

    fn reload_done(&self) {
        let mut reload = self.reload.locked();
        if let Some(next) = reload.take() {
            let mut built = BucketFilters::built(next);
            built.drop_passed(now_secs());
            *self.filters.write_locked() = built;
        }
    }
}

/// The filter per replica in front of Redis.
pub struct FilterRedisStore {
    copy: Arc<FilterCopy>,
    feed: Feed,
    /// A handle that is no replica (the harness's): it loads nothing, so it asks Redis always.
    passive: bool,
    /// Checks answered from the filter alone.
    local: AtomicU64,
    /// Checks confirmed in Redis (a round trip each).
    confirmed: AtomicU64,
}

impl FilterRedisStore {
    /// Connects, subscribes, loads the live entries, and returns once the filter is in sync.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::open(url, true).await
    }

    /// A handle on the same keys that takes no part in the replicas' sync (neither subscribes
    /// nor loads; every check asks Redis): the harness's, to clear, fill and remove a store.
    pub async fn connect_passive(url: &str) -> Result<Self, StoreError> {
        Self::open(url, false).await
    }

    async fn open(url: &str, subscribe: bool) -> Result<Self, StoreError> {
        let copy = Arc::new(FilterCopy::default());
        let redis_url = url.strip_prefix("filter+").unwrap_or(url);
        let feed =
            Feed::open(url, redis_url, DEFAULT_PREFIX, copy.clone(), subscribe, BACKEND).await?;
        let (local, confirmed) = (AtomicU64::new(0), AtomicU64::new(0));
        Ok(Self { copy, feed, passive: !subscribe, local, confirmed })
    }

    /// Full loads so far (1 after connect, one more per reconnect).
    pub fn loads(&self) -> u64 {
        self.feed.loads()
    }

    /// Filter segments held (one per bucket after a load; more as buckets grow).
    pub fn segments(&self) -> usize {
        self.copy.filters.read_locked().segments()
    }

    /// Whether the filter alone can answer "not revoked" for this id.
    fn filter_clears(&self, jti: Jti, expires_at: UnixSeconds, now: UnixSeconds) -> bool {
        if self.passive || !self.feed.is_synced() {
            return false;
        }
        let filters = self.copy.filters.read_locked();
        let clear = !filters.may_contain(jti, expires_at);
        if filters.has_passed(now) {
            drop(filters);
            self.copy.filters.write_locked().drop_passed(now);
        }
        clear
    }
}

#[async_trait]
impl RevocationStore for FilterRedisStore {
    fn name(&self) -> &'static str {
        BACKEND
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: true, expires: true, shared: true }
    }

    /// Into the local filter, then Redis and every replica (waiting for their
    /// acknowledgements); an error when Redis does not take it.
    async fn revoke(&self, jti: Jti, expires_at: UnixSeconds) -> Result<(), StoreError> {
        self.copy.insert(jti, expires_at);
        self.feed.publish(jti, expires_at).await
    }

    /// The filter; Redis only for a possible hit (or while out of sync).
    async fn is_revoked(&self, jti: Jti, expires_at: UnixSeconds) -> Result<bool, StoreError> {
        let now = now_secs();
        if expires_at <= now {
            return Ok(false);
        }
        if self.filter_clears(jti, expires_at, now) {
            self.local.fetch_add(1, Ordering::Relaxed);
            return Ok(false);
        }
        self.confirmed.fetch_add(1, Ordering::Relaxed);
        self.feed.redis().is_revoked(jti, expires_at).await
    }

    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        self.copy.insert_many(entries);
        self.feed.write_many(entries).await
    }

    /// From Redis only: a Bloom filter cannot remove an id, so a forgotten id's check is
    /// confirmed in Redis (and answered "not revoked") until the replica reloads its filter
    /// (a sweep restarts its replicas every round).
    async fn forget_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        self.feed.redis().forget_many(entries).await
    }

    /// The filters' ids and bytes (what each replica holds); Redis's are in
    /// [`RevocationStore::shared_stats`]. An id the filter already answered "maybe" for when
    /// it was added is not counted (its bits were set already): under 1 % of them.
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        let filters = self.copy.filters.read_locked();
        Ok(StoreStats { entries: Some(filters.entries()), bytes: Some(filters.bytes()) })
    }

    async fn shared_stats(&self) -> Option<Result<StoreStats, StoreError>> {
        Some(self.feed.redis().stats().await)
    }

    fn check_answers(&self) -> Option<CheckAnswers> {
        Some(CheckAnswers {
            local: self.local.load(Ordering::Relaxed),
            store: self.confirmed.load(Ordering::Relaxed),
        })
    }

    fn sync_timeouts(&self) -> Option<u64> {
        Some(self.feed.ack_timeouts())
    }

    /// An error while the filter is out of sync (checks then all go to Redis).
    async fn health(&self) -> Result<(), StoreError> {
        self.feed.health()
    }

    async fn server_version(&self) -> Option<String> {
        self.feed.redis().server_version().await
    }

    /// Deletes the keys under the prefix and empties this process's filters (other replicas
    /// keep theirs: clear before starting them).
    async fn clear(&self) -> Result<(), StoreError> {
        self.feed.redis().clear().await?;
        *self.copy.filters.write_locked() = BucketFilters::default();
        Ok(())
    }
}
