//! `hybrid+redis://host:port/db?prefix=P` — local check, shared truth.
//!
//! Every replica answers `is_revoked` from its own in-process [`HashMapStore`] (no network on
//! the request path); Redis holds the truth and carries revocations between replicas:
//!
//! - **revoke**: into the local table at once, then written to Redis and pushed to every
//!   replica, and the revoke returns once every replica has acknowledged it (see
//!   [`super::feed`]): when a logout has answered, every replica already refuses the token.
//!   Without the wait, a copy replayed on another replica right after its logout would race the
//!   message, and under load some would get in.
//! - **start and reconnect**: subscribe, then load every live entry, then report healthy;
//!   `connect` returns only after the first load, so a server never listens with an empty table.
//!
//! Pub/sub delivers in well under a millisecond on loopback (measured in
//! `tests/stores/hybrid.rs`, printed by `cargo test --test stores hybrid:: -- --nocapture`).
//!
//! # Contract, where it differs from [`RevocationStore`]'s
//!
//! - **Propagation delay**: read-your-writes holds in the process that revoked, and in every
//!   other process once `revoke` has returned — unless a replica did not acknowledge within
//!   `ACK_TIMEOUT` (counted, see [`HybridStore::ack_timeouts`]); then it learns of it after
//!   its pub/sub delivery. The delay is the pub/sub hop plus the acknowledgement (sub-
//!   millisecond on loopback at rest).
//! - **While Redis is down** the store does not fail: checks keep answering from the local
//!   table (no 503s), and a revoke made here is refused here at once and queued (up to
//!   `MAX_PENDING`, whatever path queues it: Redis unreachable, a publish that failed, a
//!   flush that failed); the queue is written and published when Redis returns, so other
//!   replicas learn of it late — or never, if this process dies first. Past the bound a
//!   revoke fails (a 503 for the logout, which the client retries) and is counted
//!   ([`HybridStore::queue_overflows`], `/stats` `queue_overflows`). Revocations made on
//!   other replicas during the outage are late here until the reconnect reloads the keys.
//!   `health()` answers an error meanwhile ("not in sync"), so `/healthz` shows it.

use std::sync::Arc;

use async_trait::async_trait;

use super::feed::Feed;
use crate::revocation::{
    opener, Capabilities, EntryUnit, HashMapStore, Jti, Namespacing, Profile, RevocationStore,
    Scheme, StoreError, StoreStats,
};
use crate::time::UnixSeconds;

/// Key prefix used when the URL sets none.
const DEFAULT_PREFIX: &str = "revbench:hybrid:";
const BACKEND: &str = "hybrid";

/// The `hybrid+redis://` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: BACKEND,
    url_schemes: &["hybrid+redis"],
    example: "hybrid+redis://host:port/db",
    namespacing: Namespacing::KeyPrefix,
    open: opener!(HybridStore::connect),
    profile: Profile {
        summary: "in-process check on every replica; revocations written to Redis and pushed \
                  to every replica (pub/sub)",
        needs: "Redis (pub/sub and keys)",
        when_down: "keeps answering from the local table (no 503); revocations made on other \
                    replicas are late until Redis returns",
        unit: EntryUnit::RevokedToken,
    },
};

/// The local table kept in sync through Redis.
pub struct HybridStore {
    local: Arc<HashMapStore>,
    feed: Feed,
}

impl HybridStore {
    /// Connects, subscribes, loads the live entries, and returns once the table is in sync.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::open(url, true).await
    }

    /// A handle on the same keys that takes no part in the replicas' sync: it neither
    /// subscribes nor acknowledges, and its revokes are written and published without
    /// waiting. The harness clears, fills and removes a measurement's store with it, so it
    /// is not one more replica acknowledging every logout (2N − 1 deliveries on N replicas
    /// stay 2N − 1).
    pub async fn connect_passive(url: &str) -> Result<Self, StoreError> {
        Self::open(url, false).await
    }

    async fn open(url: &str, subscribe: bool) -> Result<Self, StoreError> {
        let local = Arc::new(HashMapStore::new());
        let redis_url = url.strip_prefix("hybrid+").unwrap_or(url);
        let feed =
            Feed::open(url, redis_url, DEFAULT_PREFIX, local.clone(), subscribe, BACKEND).await?;
        Ok(Self { local, feed })
    }

    /// Full loads so far (1 after connect, one more per reconnect).
    pub fn loads(&self) -> u64 {
        self.feed.loads()
    }

    /// Revocations queued while Redis was unreachable and not written yet.
    pub fn pending(&self) -> usize {
        self.feed.pending()
    }

    /// Revokes that returned before every replica had acknowledged them.
    pub fn ack_timeouts(&self) -> u64 {
        self.feed.ack_timeouts()
    }

    /// Revocations that could not be queued for Redis because the queue was full.
    pub fn queue_overflows(&self) -> u64 {
        self.feed.sync().queue_overflows()
    }
}

#[async_trait]
impl RevocationStore for HybridStore {
    fn name(&self) -> &'static str {
        BACKEND
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: true, expires: true, shared: true }
    }

    /// Local at once; Redis and the other replicas now, or when Redis returns.
    async fn revoke(&self, jti: Jti, expires_at: UnixSeconds) -> Result<(), StoreError> {
        self.local.insert(jti, expires_at);
        self.feed.revoke_or_queue(jti, expires_at).await
    }

    /// The local table only: never a network round trip, never an error.
    async fn is_revoked(&self, jti: Jti, expires_at: UnixSeconds) -> Result<bool, StoreError> {
        self.local.is_revoked(jti, expires_at).await
    }

    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        for &(jti, exp) in entries {
            self.local.insert(jti, exp);
        }
        self.feed.write_many(entries).await
    }

    /// From Redis and this process's table; the other replicas keep theirs until they
    /// restart (a sweep restarts them every round, and they load what Redis holds).
    async fn forget_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        // Revocations of these ids still on their way through the feed would put them back:
        // without the certainty that none are, remove nothing.
        self.feed.caught_up().await?;
        for &(jti, _) in entries {
            self.local.remove(jti);
        }
        self.feed.redis().forget_many(entries).await
    }

    /// The local table's entries and bytes (what each replica holds in memory).
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.local.stats().await
    }

    /// Redis's keys and memory (the truth every replica's table is loaded from).
    async fn shared_stats(&self) -> Option<Result<StoreStats, StoreError>> {
        Some(self.feed.redis().stats().await)
    }

    fn sync_timeouts(&self) -> Option<u64> {
        Some(self.ack_timeouts())
    }

    fn queue_overflows(&self) -> Option<u64> {
        Some(self.queue_overflows())
    }

    /// An error while the table is out of sync (Redis unreachable, reconnecting).
    async fn health(&self) -> Result<(), StoreError> {
        self.feed.health()
    }

    async fn server_version(&self) -> Option<String> {
        self.feed.redis().server_version().await
    }

    /// Deletes the keys under the prefix and empties this process's table (other replicas
    /// keep theirs: clear before starting them).
    async fn clear(&self) -> Result<(), StoreError> {
        self.feed.redis().clear().await?;
        self.local.clear().await
    }
}
