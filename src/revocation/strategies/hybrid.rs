//! `hybrid+redis://host:port/db?prefix=P` — local check, shared truth.
//!
//! Every replica answers `is_revoked` from its own in-process [`HashMapStore`] (no network on
//! the request path); Redis holds the truth and carries revocations between replicas:
//!
//! - **revoke**: into the local table at once, then one `MULTI` of `SET P<jti> <exp> EXAT
//!   <exp>` and `PUBLISH P__revoked <jti>:<exp>:<nonce>:<origin>`; every replica subscribed to
//!   the channel adds the id to its own table and answers on the revoking process's own
//!   channel, `PUBLISH P__acks:<origin> <nonce>` (the revoking process counts its own copy
//!   without a round trip). The revoke returns once as many acknowledgements came back as
//!   `PUBLISH` reached subscribers (or after `ACK_TIMEOUT`), so when a logout has answered,
//!   every replica already refuses the token. Without the wait, a copy replayed on another
//!   replica right after its logout would race the message, and under load some would get in.
//!   Each process has an acknowledgement channel of its own, so a logout is delivered 2N − 1
//!   times on N replicas (the revocation to each, an acknowledgement from each other one);
//!   on one shared channel every replica would receive every acknowledgement, N + N².
//! - **start and reconnect**: subscribe first, then `SCAN` the prefix and load every live
//!   entry (its `exp` is the key's value), then report healthy. Subscribing before loading
//!   means a revocation published during the load is seen by one or the other (inserts are
//!   idempotent), so nothing falls between them. `connect` returns only after the first load,
//!   so a server never listens with an empty table.
//!
//! Why pub/sub and not a Redis Stream: a stream lets a replica that was away read what it
//! missed, but only while the stream still holds it — an unbounded stream grows by one entry
//! per logout forever, and a trimmed one forces a full reload after a long absence anyway. The
//! keys are already the complete, self-expiring list of live revocations, so one mechanism
//! (reload the keys on every (re)connect) covers every absence, and pub/sub only has to carry
//! the live feed, which it delivers in well under a millisecond on loopback (measured in
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

use std::collections::HashMap;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt};
use tokio::sync::watch;

use crate::lock::MutexExt;
use crate::revocation::url_params::StoreUrl;

use crate::revocation::backends::redis::scan_prefix;
use crate::revocation::expiry::stored_exp;
use crate::revocation::{
    opener, Capabilities, EntryUnit, HashMapStore, Jti, Namespacing, Profile, RedisStore,
    RevocationStore, Scheme, StoreError, StoreStats,
};
use crate::time::UnixSeconds;

/// Key prefix used when the URL sets none.
const DEFAULT_PREFIX: &str = "revbench:hybrid:";
/// Revocations queued while Redis is unreachable; beyond this, revoke fails.
const MAX_PENDING: usize = 100_000;
/// How long `connect` waits for the first subscribe-and-load.
const FIRST_SYNC_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one connection attempt of the subscriber may take.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Pauses between reconnection attempts: short first, then capped.
const RETRY_MIN: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_millis(250);
/// Longest a revoke waits for the other replicas to acknowledge it.
const ACK_TIMEOUT: Duration = Duration::from_millis(100);
/// While connected, how often queued revocations are retried (a write can fail alone).
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Queued revocations written per `MULTI` when Redis returns.
const FLUSH_BATCH: usize = 1000;
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

/// Sync state shared by the store and its subscriber task.
struct SyncState {
    /// The local table has every live entry and the subscription is up.
    synced: AtomicBool,
    /// Revocations made while not synced, written when Redis returns. The lock also orders
    /// "check `synced`, then queue" against "set `synced`, then take the queue", so no entry is
    /// queued after the last flush.
    pending: Mutex<Vec<(Jti, UnixSeconds)>>,
    /// Full loads done (the first plus one per reconnect).
    loads: AtomicU64,
    /// Pub/sub messages applied.
    messages: AtomicU64,
    /// Signals `connect` when the first load is done.
    first_sync: watch::Sender<bool>,
    /// Revokes waiting for acknowledgements: nonce → acknowledgements so far.
    waiting: Mutex<HashMap<u64, watch::Sender<u64>>>,
    /// Revokes that stopped waiting at [`ACK_TIMEOUT`].
    ack_timeouts: AtomicU64,
    /// Revocations not queued because [`MAX_PENDING`] were queued already.
    queue_overflows: AtomicU64,
}

impl SyncState {
    /// Queues revocations to write when Redis answers, as many as [`MAX_PENDING`] allows;
    /// the rest are counted as overflows. Returns how many did not fit.
    fn queue(
        &self,
        pending: &mut Vec<(Jti, UnixSeconds)>,
        entries: &[(Jti, UnixSeconds)],
    ) -> usize {
        let room = MAX_PENDING.saturating_sub(pending.len()).min(entries.len());
        pending.extend_from_slice(&entries[..room]);
        let overflow = entries.len() - room;
        self.queue_overflows.fetch_add(overflow as u64, Ordering::Relaxed);
        overflow
    }

    /// [`SyncState::queue`] for one revoke, which fails when it does not fit.
    fn queue_one(
        &self,
        pending: &mut Vec<(Jti, UnixSeconds)>,
        entry: (Jti, UnixSeconds),
    ) -> Result<(), StoreError> {
        if self.queue(pending, &[entry]) == 0 {
            return Ok(());
        }
        Err(StoreError::backend(
            BACKEND,
            format!("Redis is unreachable and {MAX_PENDING} revocations are queued"),
        ))
    }
}

/// The local table kept in sync through Redis.
pub struct HybridStore {
    local: Arc<HashMapStore>,
    redis: RedisStore,
    channel: String,
    /// This process's id in revocation messages: acknowledgements come back on
    /// `P__acks:<origin>`.
    origin: u64,
    sync: Arc<SyncState>,
    /// Dropping it stops the subscriber thread; `None` for a passive handle, which has none.
    _stop: Option<tokio::sync::oneshot::Sender<()>>,
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
        let parsed = StoreUrl::parse(url.strip_prefix("hybrid+").unwrap_or(url))?;
        let redis = RedisStore::connect_parsed(parsed, DEFAULT_PREFIX).await?;
        let prefix = redis.prefix().to_string();
        let (first_sync, mut first_synced) = watch::channel(false);
        let sync = Arc::new(SyncState {
            synced: AtomicBool::new(false),
            pending: Mutex::default(),
            loads: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            first_sync,
            waiting: Mutex::default(),
            ack_timeouts: AtomicU64::new(0),
            queue_overflows: AtomicU64::new(0),
        });
        let local = Arc::new(HashMapStore::new());
        let channel = format!("{prefix}__revoked");
        let origin: u64 = rand::random();
        let subscriber = Subscriber {
            client: redis.client().clone(),
            redis: redis.clone(),
            channel: channel.clone(),
            acks_prefix: format!("{prefix}__acks:"),
            origin,
            local: local.clone(),
            sync: sync.clone(),
        };
        if !subscribe {
            sync.synced.store(true, Ordering::Release);
            return Ok(Self { local, redis, channel, origin, sync, _stop: None });
        }
        let stop = subscriber.spawn_thread()?;
        let store = Self { local, redis, channel, origin, sync, _stop: Some(stop) };
        let synced = tokio::time::timeout(FIRST_SYNC_TIMEOUT, first_synced.wait_for(|s| *s)).await;
        if !matches!(synced, Ok(Ok(_))) {
            return Err(StoreError::Unreachable {
                backend: BACKEND,
                url: crate::redact::redact(url),
                reason: format!(
                    "could not subscribe and load the live entries within {} s",
                    FIRST_SYNC_TIMEOUT.as_secs()
                ),
                fix: "check that Redis answers at that address, or pass another --store URL",
            });
        }
        Ok(store)
    }

    /// Full loads so far (1 after connect, one more per reconnect).
    pub fn loads(&self) -> u64 {
        self.sync.loads.load(Ordering::Relaxed)
    }

    /// Revocations queued while Redis was unreachable and not written yet.
    pub fn pending(&self) -> usize {
        self.sync.pending.locked().len()
    }

    /// Revokes that returned before every replica had acknowledged them.
    pub fn ack_timeouts(&self) -> u64 {
        self.sync.ack_timeouts.load(Ordering::Relaxed)
    }

    /// Revocations that could not be queued for Redis because the queue was full.
    pub fn queue_overflows(&self) -> u64 {
        self.sync.queue_overflows.load(Ordering::Relaxed)
    }

    /// Writes and publishes one revocation, then waits for every subscriber's acknowledgement
    /// (at most [`ACK_TIMEOUT`]).
    async fn publish_and_wait(&self, jti: Jti, exp: UnixSeconds) -> Result<(), StoreError> {
        let nonce: u64 = rand::random();
        let (acked, mut acks) = watch::channel(0);
        self.sync.waiting.locked().insert(nonce, acked);
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("SET").arg(self.redis.key(jti)).arg(exp).arg("EXAT").arg(stored_exp(exp)).ignore();
        let message = format!("{jti}:{exp}:{nonce}:{}", self.origin);
        pipe.cmd("PUBLISH").arg(&self.channel).arg(message);
        let published: Result<(u64,), _> = pipe.query_async(&mut self.redis.connection()).await;
        if let Ok((receivers,)) = published {
            let all = tokio::time::timeout(ACK_TIMEOUT, acks.wait_for(|n| *n >= receivers));
            if !matches!(all.await, Ok(Ok(_))) {
                self.sync.ack_timeouts.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sync.waiting.locked().remove(&nonce);
        published.map(|_| ()).map_err(|e| StoreError::backend(BACKEND, e))
    }

    /// Whether the local table is in sync (subscribed and loaded).
    fn is_synced(&self) -> bool {
        self.sync.synced.load(Ordering::Acquire)
    }
}

/// `SET` + `PUBLISH` for each entry, in one `MULTI` per call.
async fn write_and_publish(
    redis: &RedisStore,
    channel: &str,
    entries: &[(Jti, UnixSeconds)],
) -> Result<(), StoreError> {
    let mut pipe = redis::pipe();
    pipe.atomic();
    for &(jti, exp) in entries {
        pipe.cmd("SET").arg(redis.key(jti)).arg(exp).arg("EXAT").arg(stored_exp(exp)).ignore();
        pipe.cmd("PUBLISH").arg(channel).arg(format!("{jti}:{exp}")).ignore();
    }
    pipe.query_async::<()>(&mut redis.connection())
        .await
        .map_err(|e| StoreError::backend(BACKEND, e))
}

/// The background task: subscribe, load, apply messages; on any loss, start over.
struct Subscriber {
    client: redis::Client,
    redis: RedisStore,
    channel: String,
    /// `P__acks:`: a process's acknowledgement channel is this and its origin id.
    acks_prefix: String,
    /// This process's origin id (see [`HybridStore`]).
    origin: u64,
    local: Arc<HashMapStore>,
    sync: Arc<SyncState>,
}

impl Subscriber {
    /// Runs the subscriber on a thread of its own with a single-threaded runtime, so applying
    /// a revocation never waits for a worker busy with the server's requests: under load, on
    /// the server's runtime, a copy replayed on another replica right after its logout could
    /// be checked before the revocation was applied. Dropping the returned sender stops it.
    fn spawn_thread(self) -> Result<tokio::sync::oneshot::Sender<()>, StoreError> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::backend(BACKEND, format!("cannot start a runtime: {e}")))?;
        std::thread::Builder::new()
            .name("revbench-hybrid-sync".into())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::select! {
                        () = self.run() => {}
                        _ = stopped => {}
                    }
                });
            })
            .map_err(|e| StoreError::backend(BACKEND, format!("cannot start a thread: {e}")))?;
        Ok(stop)
    }

    async fn run(self) {
        let mut retry = RETRY_MIN;
        // Ends only when the store drops (its thread then leaves this future).
        loop {
            if self.session().await {
                retry = RETRY_MIN;
            }
            self.sync.synced.store(false, Ordering::Release);
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(RETRY_MAX);
        }
    }

    /// One connection's life; returns whether it got in sync at all.
    async fn session(&self) -> bool {
        let own_acks = format!("{}{}", self.acks_prefix, self.origin);
        let subscribe = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(&[&self.channel, &own_acks]).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let Ok(Ok(pubsub)) = tokio::time::timeout(SUBSCRIBE_TIMEOUT, subscribe).await else {
            return false;
        };
        let mut messages = pubsub.into_on_message();
        if self.load().await.is_err() {
            return false;
        }
        self.sync.loads.fetch_add(1, Ordering::Relaxed);
        let queued = {
            let mut pending = self.sync.pending.locked();
            self.sync.synced.store(true, Ordering::Release);
            std::mem::take(&mut *pending)
        };
        self.sync.first_sync.send_replace(true);
        self.flush(queued).await;
        let mut tick = tokio::time::interval(FLUSH_INTERVAL);
        loop {
            tokio::select! {
                message = messages.next() => match message {
                    Some(message) if message.get_channel_name() == own_acks => {
                        let payload = std::str::from_utf8(message.get_payload_bytes()).ok();
                        if let Some(nonce) = payload.and_then(|n| n.parse().ok()) {
                            self.acknowledged(nonce);
                        }
                    }
                    Some(message) => self.apply(message.get_payload_bytes()),
                    None => return true,
                },
                _ = tick.tick() => {
                    let queued = std::mem::take(
                        &mut *self.sync.pending.locked(),
                    );
                    self.flush(queued).await;
                }
            }
        }
    }

    /// Writes queued revocations; what fails goes back in the queue, as far as it has room
    /// (revokes may have queued more meanwhile).
    async fn flush(&self, queued: Vec<(Jti, UnixSeconds)>) {
        for chunk in queued.chunks(FLUSH_BATCH) {
            if write_and_publish(&self.redis, &self.channel, chunk).await.is_err() {
                self.sync.queue(&mut self.sync.pending.locked(), chunk);
            }
        }
    }

    /// `<jti>:<exp>[:<nonce>:<origin>]` → the local table, then the acknowledgement when
    /// asked for: counted here for this process's own revokes, else published to the origin's
    /// channel. Anything else on the channel is ignored.
    fn apply(&self, payload: &[u8]) {
        let Some((jti, exp, reply)) = parse_payload(payload) else { return };
        self.local.insert(jti, exp);
        self.sync.messages.fetch_add(1, Ordering::Relaxed);
        match reply {
            Some(Reply { nonce, origin }) if origin == self.origin => self.acknowledged(nonce),
            Some(Reply { nonce, origin }) => {
                let mut conn = self.redis.connection();
                let channel = format!("{}{origin}", self.acks_prefix);
                // Sent aside, so the next message is applied without waiting for this round
                // trip.
                tokio::spawn(async move {
                    let mut publish = redis::cmd("PUBLISH");
                    publish.arg(channel).arg(nonce);
                    let _ = publish.query_async::<u64>(&mut conn).await;
                });
            }
            None => {}
        }
    }

    /// One acknowledgement of a revoke this process may be waiting for.
    fn acknowledged(&self, nonce: u64) {
        let waiting = self.sync.waiting.locked();
        if let Some(acked) = waiting.get(&nonce) {
            acked.send_modify(|n| *n += 1);
        }
    }

    /// Every live key under the prefix, with its `exp` from the value, into the local table.
    async fn load(&self) -> Result<(), StoreError> {
        let (mut scan, mut conn) = (self.redis.connection(), self.redis.connection());
        let prefix = self.redis.prefix();
        let mut batches = pin!(scan_prefix(&mut scan, prefix, BACKEND));
        while let Some(keys) = batches.try_next().await? {
            let values: Vec<Option<u64>> = redis::cmd("MGET")
                .arg(&keys)
                .query_async(&mut conn)
                .await
                .map_err(|e| StoreError::backend(BACKEND, e))?;
            for (key, exp) in keys.iter().zip(values) {
                // A key that expired since the SCAN reads as nil: skipped.
                let jti = key.get(prefix.len()..).and_then(|id| id.parse().ok());
                if let (Some(jti), Some(exp)) = (jti, exp) {
                    self.local.insert(jti, exp);
                }
            }
        }
        Ok(())
    }
}

/// Where the acknowledgement of a revocation message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reply {
    nonce: u64,
    origin: u64,
}

/// `<jti>:<exp>` (a flush: no acknowledgement) or `<jti>:<exp>:<nonce>:<origin>`.
fn parse_payload(payload: &[u8]) -> Option<(Jti, UnixSeconds, Option<Reply>)> {
    let mut parts = std::str::from_utf8(payload).ok()?.split(':');
    let (jti, exp) = (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    let reply = match (parts.next(), parts.next()) {
        (None, None) => None,
        (Some(nonce), Some(origin)) => {
            Some(Reply { nonce: nonce.parse().ok()?, origin: origin.parse().ok()? })
        }
        _ => return None,
    };
    parts.next().is_none().then_some((jti, exp, reply))
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
        {
            let mut pending = self.sync.pending.locked();
            if !self.sync.synced.load(Ordering::Acquire) {
                return self.sync.queue_one(&mut pending, (jti, expires_at));
            }
        }
        if self._stop.is_none() {
            // A passive handle is no replica: nobody acknowledges to it.
            return write_and_publish(&self.redis, &self.channel, &[(jti, expires_at)]).await;
        }
        if self.publish_and_wait(jti, expires_at).await.is_err() {
            // Refused here already; the subscriber writes it when Redis answers again.
            return self.sync.queue_one(&mut self.sync.pending.locked(), (jti, expires_at));
        }
        Ok(())
    }

    /// The local table only: never a network round trip, never an error.
    async fn is_revoked(&self, jti: Jti, expires_at: UnixSeconds) -> Result<bool, StoreError> {
        self.local.is_revoked(jti, expires_at).await
    }

    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        for &(jti, exp) in entries {
            self.local.insert(jti, exp);
        }
        write_and_publish(&self.redis, &self.channel, entries).await
    }

    /// The local table's entries and bytes (what each replica holds in memory).
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.local.stats().await
    }

    fn sync_timeouts(&self) -> Option<u64> {
        Some(self.ack_timeouts())
    }

    fn queue_overflows(&self) -> Option<u64> {
        Some(self.queue_overflows())
    }

    /// An error while the table is out of sync (Redis unreachable, reconnecting).
    async fn health(&self) -> Result<(), StoreError> {
        if self.is_synced() {
            Ok(())
        } else {
            Err(StoreError::backend(
                BACKEND,
                "not in sync with Redis (reconnecting): revocations from other replicas are late",
            ))
        }
    }

    async fn server_version(&self) -> Option<String> {
        self.redis.server_version().await
    }

    /// Deletes the keys under the prefix and empties this process's table (other replicas
    /// keep theirs: clear before starting them).
    async fn clear(&self) -> Result<(), StoreError> {
        self.redis.clear().await?;
        self.local.clear().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Payloads round-trip; garbage on the channel is ignored.
    #[test]
    fn payloads_parse() {
        let jti = Jti::random();
        let text = format!("{jti}:1234");
        assert_eq!(parse_payload(text.as_bytes()), Some((jti, 1234, None)));
        let acked = format!("{jti}:1234:99:7");
        let reply = Reply { nonce: 99, origin: 7 };
        assert_eq!(parse_payload(acked.as_bytes()), Some((jti, 1234, Some(reply))));
        assert_eq!(parse_payload(format!("{acked}:1").as_bytes()), None);
        assert_eq!(parse_payload(format!("{jti}:1234:99").as_bytes()), None, "no origin");
        assert_eq!(parse_payload(format!("{jti}:1234:99:x").as_bytes()), None);
        assert_eq!(parse_payload(b"hello"), None);
        assert_eq!(parse_payload(b"zz:1"), None);
        assert_eq!(parse_payload(format!("{jti}:soon").as_bytes()), None);
    }

    fn sync_state() -> SyncState {
        SyncState {
            synced: AtomicBool::new(false),
            pending: Mutex::default(),
            loads: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            first_sync: watch::channel(false).0,
            waiting: Mutex::default(),
            ack_timeouts: AtomicU64::new(0),
            queue_overflows: AtomicU64::new(0),
        }
    }

    /// The queue every path fills (Redis unreachable, a failed publish, a failed flush) stops
    /// at `MAX_PENDING`; what does not fit is refused and counted.
    #[test]
    fn the_queue_is_bounded_and_overflows_are_counted() {
        let sync = sync_state();
        let mut pending = vec![(Jti::random(), 1); MAX_PENDING - 2];
        let batch: Vec<_> = (0..5).map(|_| (Jti::random(), 2)).collect();
        assert_eq!(sync.queue(&mut pending, &batch), 3, "two fit");
        assert_eq!(pending.len(), MAX_PENDING);
        assert_eq!(&pending[MAX_PENDING - 2..], &batch[..2]);
        assert!(sync.queue_one(&mut pending, (Jti::random(), 3)).is_err());
        assert_eq!(pending.len(), MAX_PENDING);
        assert_eq!(sync.queue_overflows.load(Ordering::Relaxed), 4);
        pending.pop();
        assert!(sync.queue_one(&mut pending, (Jti::random(), 3)).is_ok());
        assert_eq!(sync.queue_overflows.load(Ordering::Relaxed), 4);
    }
}
