//! The feed that keeps a per-replica copy of a Redis deny-list in sync: shared by
//! `hybrid+redis://` (a table per replica) and `filter+redis://` (a filter per replica).
//!
//! - **revoke**: one `MULTI` of `SET P<jti> <exp> EXAT <exp>` and `PUBLISH P__revoked
//!   <jti>:<exp>:<nonce>:<origin>`; every replica subscribed to the channel adds the id to its
//!   own copy and answers on the revoking process's own channel, `PUBLISH P__acks:<origin>
//!   <nonce>` (the revoking process counts its own copy without a round trip). The revoke
//!   returns once as many acknowledgements came back as `PUBLISH` reached subscribers (or after
//!   `ACK_TIMEOUT`), so when a logout has answered, every replica already refuses the token.
//!   Each process has an acknowledgement channel of its own, so a logout is delivered 2N − 1
//!   times on N replicas (the revocation to each, an acknowledgement from each other one).
//! - **start and reconnect**: subscribe first, then `SCAN` the prefix and load every live
//!   entry (its `exp` is the key's value), then report in sync. Subscribing before loading
//!   means a revocation published during the load is seen by one or the other (inserts are
//!   idempotent), so nothing falls between them. [`Feed::open`] returns only after the first
//!   load, so a server never listens with an empty copy.
//! - **while Redis is away** ([`Feed::revoke_or_queue`]): revocations are queued (up to
//!   `MAX_PENDING`) and written and published when Redis returns; past the bound a revoke
//!   fails and is counted.
//!
//! Why pub/sub and not a Redis Stream: a stream lets a replica that was away read what it
//! missed, but only while the stream still holds it — an unbounded stream grows by one entry
//! per logout forever, and a trimmed one forces a full reload after a long absence anyway. The
//! keys are already the complete, self-expiring list of live revocations, so one mechanism
//! (reload the keys on every (re)connect) covers every absence, and pub/sub only has to carry
//! the live feed.

use std::collections::HashMap;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use tokio::sync::watch;

use crate::lock::MutexExt;
use crate::revocation::backends::redis::scan_prefix;
use crate::revocation::expiry::stored_exp;
use crate::revocation::url_params::StoreUrl;
use crate::revocation::{HashMapStore, Jti, RedisStore, StoreError};
use crate::time::UnixSeconds;

/// Revocations queued while Redis is unreachable; beyond this, revoke fails.
pub(super) const MAX_PENDING: usize = 100_000;
/// How long `open` waits for the first subscribe-and-load.
const FIRST_SYNC_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one connection attempt of the subscriber may take.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(1);
/// Pauses between reconnection attempts: short first, then capped.
const RETRY_MIN: Duration = Duration::from_millis(50);
const RETRY_MAX: Duration = Duration::from_millis(250);
/// Longest a revoke waits for the other replicas to acknowledge it.
const ACK_TIMEOUT: Duration = Duration::from_millis(100);
/// How long [`Feed::caught_up`] waits for this process's subscriber to reach its marker.
const CAUGHT_UP_TIMEOUT: Duration = Duration::from_secs(5);
/// The start of a marker on the channel (`caught-up:<nonce>:<origin>`): no revocation, only
/// acknowledged by the subscriber of the process that sent it.
const MARKER: &str = "caught-up";
/// While connected, how often queued revocations are retried (a write can fail alone).
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// Queued revocations written per `MULTI` when Redis returns.
const FLUSH_BATCH: usize = 1000;

/// A replica's own copy of the deny-list, which the feed keeps in sync.
pub(crate) trait LocalCopy: Send + Sync + 'static {
    /// Adds one live revocation (idempotent).
    fn insert(&self, jti: Jti, exp: UnixSeconds);

    /// A full load is about to insert every live entry again (a copy that can only be added
    /// to starts a new one beside the old, which keeps answering meanwhile).
    fn reload_started(&self) {}

    /// The full load is complete: every live entry has been inserted since `reload_started`.
    fn reload_done(&self) {}
}

impl LocalCopy for HashMapStore {
    fn insert(&self, jti: Jti, exp: UnixSeconds) {
        HashMapStore::insert(self, jti, exp);
    }
}

/// A nonce registered in [`SyncState::waiting`], with the receiver of its acknowledgements.
/// Dropping it unregisters the nonce, so a caller cancelled mid-wait (a logout whose client
/// went away) leaves nothing in the map.
struct Awaiting<'a> {
    sync: &'a SyncState,
    nonce: u64,
    acks: watch::Receiver<u64>,
}

impl<'a> Awaiting<'a> {
    fn register(sync: &'a SyncState) -> Self {
        let nonce = rand::random();
        let (acked, acks) = watch::channel(0);
        sync.waiting.locked().insert(nonce, acked);
        Self { sync, nonce, acks }
    }

    /// Whether `count` acknowledgements arrived within `limit`.
    async fn reached(&mut self, count: u64, limit: Duration) -> bool {
        let all = tokio::time::timeout(limit, self.acks.wait_for(|n| *n >= count));
        matches!(all.await, Ok(Ok(_)))
    }
}

impl Drop for Awaiting<'_> {
    fn drop(&mut self) {
        self.sync.waiting.locked().remove(&self.nonce);
    }
}

/// Sync state shared by the feed and its subscriber task.
pub(super) struct SyncState {
    /// Names the strategy in errors.
    backend: &'static str,
    /// The local copy has every live entry and the subscription is up.
    synced: AtomicBool,
    /// Revocations made while not synced, written when Redis returns. The lock also orders
    /// "check `synced`, then queue" against "set `synced`, then take the queue", so no entry is
    /// queued after the last flush.
    pending: Mutex<Vec<(Jti, UnixSeconds)>>,
    /// Full loads done (the first plus one per reconnect).
    loads: AtomicU64,
    /// Pub/sub messages applied.
    messages: AtomicU64,
    /// Signals `open` when the first load is done.
    first_sync: watch::Sender<bool>,
    /// Revokes waiting for acknowledgements: nonce → acknowledgements so far.
    waiting: Mutex<HashMap<u64, watch::Sender<u64>>>,
    /// Revokes that stopped waiting at [`ACK_TIMEOUT`].
    ack_timeouts: AtomicU64,
    /// Revocations not queued because [`MAX_PENDING`] were queued already.
    queue_overflows: AtomicU64,
}

impl SyncState {
    pub(super) fn new(backend: &'static str) -> Self {
        SyncState {
            backend,
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

    /// Queues revocations to write when Redis answers, as many as [`MAX_PENDING`] allows;
    /// the rest are counted as overflows. Returns how many did not fit.
    pub(super) fn queue(
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
    pub(super) fn queue_one(
        &self,
        pending: &mut Vec<(Jti, UnixSeconds)>,
        entry: (Jti, UnixSeconds),
    ) -> Result<(), StoreError> {
        if self.queue(pending, &[entry]) == 0 {
            return Ok(());
        }
        Err(StoreError::backend(
            self.backend,
            format!("Redis is unreachable and {MAX_PENDING} revocations are queued"),
        ))
    }

    pub(super) fn queue_overflows(&self) -> u64 {
        self.queue_overflows.load(Ordering::Relaxed)
    }
}

/// Redis as the shared truth and the channel between replicas, for one local copy.
pub(crate) struct Feed {
    redis: RedisStore,
    channel: String,
    /// This process's id in revocation messages: acknowledgements come back on
    /// `P__acks:<origin>`.
    origin: u64,
    sync: Arc<SyncState>,
    /// Dropping it stops the subscriber thread; `None` for a passive handle, which has none.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Feed {
    /// Connects to the Redis of `url` (`<strategy>+redis://…`, `strategy+` already cut off
    /// in `redis_url`), subscribes, loads the live entries into `local`, and returns once it
    /// is in sync. A passive feed (`subscribe: false`) neither subscribes nor loads: the
    /// harness's handle, which is no replica.
    pub(super) async fn open(
        url: &str,
        redis_url: &str,
        default_prefix: &str,
        local: Arc<dyn LocalCopy>,
        subscribe: bool,
        backend: &'static str,
    ) -> Result<Self, StoreError> {
        let redis = RedisStore::connect_parsed(StoreUrl::parse(redis_url)?, default_prefix).await?;
        let prefix = redis.prefix().to_string();
        let sync = Arc::new(SyncState::new(backend));
        let mut first_synced = sync.first_sync.subscribe();
        let channel = format!("{prefix}__revoked");
        let origin: u64 = rand::random();
        if !subscribe {
            sync.synced.store(true, Ordering::Release);
            return Ok(Self { redis, channel, origin, sync, stop: None });
        }
        let subscriber = Subscriber {
            client: redis.client().clone(),
            redis: redis.clone(),
            channel: channel.clone(),
            acks_prefix: format!("{prefix}__acks:"),
            origin,
            local,
            sync: sync.clone(),
        };
        let stop = subscriber.spawn_thread()?;
        let feed = Self { redis, channel, origin, sync, stop: Some(stop) };
        let synced = tokio::time::timeout(FIRST_SYNC_TIMEOUT, first_synced.wait_for(|s| *s)).await;
        if !matches!(synced, Ok(Ok(_))) {
            return Err(StoreError::Unreachable {
                backend,
                url: crate::redact::redact(url),
                reason: format!(
                    "could not subscribe and load the live entries within {} s",
                    FIRST_SYNC_TIMEOUT.as_secs()
                ),
                fix: "check that Redis answers at that address, or pass another --store URL",
            });
        }
        Ok(feed)
    }

    /// The Redis behind the feed (its keys are `redis://`'s: `P<jti>`).
    pub(super) fn redis(&self) -> &RedisStore {
        &self.redis
    }

    pub(super) fn sync(&self) -> &SyncState {
        &self.sync
    }

    /// Whether the local copy is in sync (subscribed and loaded).
    pub(super) fn is_synced(&self) -> bool {
        self.sync.synced.load(Ordering::Acquire)
    }

    /// Full loads so far (1 after open, one more per reconnect).
    pub(super) fn loads(&self) -> u64 {
        self.sync.loads.load(Ordering::Relaxed)
    }

    /// Revocations queued while Redis was unreachable and not written yet.
    pub(super) fn pending(&self) -> usize {
        self.sync.pending.locked().len()
    }

    /// Revokes that returned before every replica had acknowledged them.
    pub(super) fn ack_timeouts(&self) -> u64 {
        self.sync.ack_timeouts.load(Ordering::Relaxed)
    }

    /// The error a strategy answers while its copy is out of sync.
    pub(super) fn health(&self) -> Result<(), StoreError> {
        if self.is_synced() {
            return Ok(());
        }
        Err(StoreError::backend(
            self.sync.backend,
            "not in sync with Redis (reconnecting): revocations from other replicas are late",
        ))
    }

    /// Writes and publishes one revocation (already in the local copy) and waits for the other
    /// replicas; while Redis is away, or when the write fails, queues it for when Redis
    /// returns (an error once the queue is full).
    pub(super) async fn revoke_or_queue(
        &self,
        jti: Jti,
        expires_at: UnixSeconds,
    ) -> Result<(), StoreError> {
        {
            let mut pending = self.sync.pending.locked();
            if !self.sync.synced.load(Ordering::Acquire) {
                return self.sync.queue_one(&mut pending, (jti, expires_at));
            }
        }
        if self.publish(jti, expires_at).await.is_err() {
            // Refused here already; the subscriber writes it when Redis answers again.
            return self.sync.queue_one(&mut self.sync.pending.locked(), (jti, expires_at));
        }
        Ok(())
    }

    /// Writes and publishes one revocation, then waits for every subscriber's acknowledgement
    /// (at most [`ACK_TIMEOUT`]); a passive handle does not wait (nobody acknowledges to it).
    /// An `Err` when Redis did not take it.
    pub(super) async fn publish(&self, jti: Jti, exp: UnixSeconds) -> Result<(), StoreError> {
        if self.stop.is_none() {
            return self.write_many(&[(jti, exp)]).await;
        }
        let mut awaiting = Awaiting::register(&self.sync);
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("SET").arg(self.redis.key(jti)).arg(exp).arg("EXAT").arg(stored_exp(exp)).ignore();
        let message = format!("{jti}:{exp}:{}:{}", awaiting.nonce, self.origin);
        pipe.cmd("PUBLISH").arg(&self.channel).arg(message);
        let published: Result<(u64,), _> = pipe.query_async(&mut self.redis.connection()).await;
        if let Ok((receivers,)) = published {
            if !awaiting.reached(receivers, ACK_TIMEOUT).await {
                self.sync.ack_timeouts.fetch_add(1, Ordering::Relaxed);
            }
        }
        published.map(|_| ()).map_err(|e| StoreError::backend(self.sync.backend, e))
    }

    /// Waits until this process's subscriber has applied every message published before now:
    /// a marker on the channel, which Redis delivers after them, acknowledged by this
    /// subscriber alone (at most [`CAUGHT_UP_TIMEOUT`]). An `Err` when Redis did not take the
    /// marker or the subscriber did not reach it in time: messages may still be on their way.
    /// A passive handle has no subscriber and returns at once.
    pub(super) async fn caught_up(&self) -> Result<(), StoreError> {
        if self.stop.is_none() {
            return Ok(());
        }
        let mut awaiting = Awaiting::register(&self.sync);
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(&self.channel).arg(format!("{MARKER}:{}:{}", awaiting.nonce, self.origin));
        let backend = self.sync.backend;
        if let Err(e) = publish.query_async::<u64>(&mut self.redis.connection()).await {
            return Err(StoreError::backend(backend, format!("publishing a marker: {e}")));
        }
        if !awaiting.reached(1, CAUGHT_UP_TIMEOUT).await {
            let message = format!(
                "this process's subscriber did not reach its marker within {}s: revocations \
                 may still be on their way",
                CAUGHT_UP_TIMEOUT.as_secs()
            );
            return Err(StoreError::backend(backend, message));
        }
        Ok(())
    }

    /// Writes and publishes many revocations (already in the local copy), one `MULTI` per
    /// [`FLUSH_BATCH`], without waiting for acknowledgements: fills. Each `MULTI` is a request
    /// of its own, so a fill's batch of thousands never waits for one long answer.
    pub(super) async fn write_many(
        &self,
        entries: &[(Jti, UnixSeconds)],
    ) -> Result<(), StoreError> {
        for chunk in entries.chunks(FLUSH_BATCH) {
            write_and_publish(&self.redis, &self.channel, chunk, self.sync.backend).await?;
        }
        Ok(())
    }
}

/// `SET` + `PUBLISH` for each entry, in one `MULTI` per call.
async fn write_and_publish(
    redis: &RedisStore,
    channel: &str,
    entries: &[(Jti, UnixSeconds)],
    backend: &'static str,
) -> Result<(), StoreError> {
    let mut pipe = redis::pipe();
    pipe.atomic();
    for &(jti, exp) in entries {
        pipe.cmd("SET").arg(redis.key(jti)).arg(exp).arg("EXAT").arg(stored_exp(exp)).ignore();
        pipe.cmd("PUBLISH").arg(channel).arg(format!("{jti}:{exp}")).ignore();
    }
    pipe.query_async::<()>(&mut redis.connection())
        .await
        .map_err(|e| StoreError::backend(backend, e))
}

/// The background task: subscribe, load, apply messages; on any loss, start over.
struct Subscriber {
    client: redis::Client,
    redis: RedisStore,
    channel: String,
    /// `P__acks:`: a process's acknowledgement channel is this and its origin id.
    acks_prefix: String,
    /// This process's origin id (see [`Feed`]).
    origin: u64,
    local: Arc<dyn LocalCopy>,
    sync: Arc<SyncState>,
}

impl Subscriber {
    /// Runs the subscriber on a thread of its own with a single-threaded runtime, so applying
    /// a revocation never waits for a worker busy with the server's requests: under load, on
    /// the server's runtime, a copy replayed on another replica right after its logout could
    /// be checked before the revocation was applied. Dropping the returned sender stops it.
    fn spawn_thread(self) -> Result<tokio::sync::oneshot::Sender<()>, StoreError> {
        let backend = self.sync.backend;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::backend(backend, format!("cannot start a runtime: {e}")))?;
        std::thread::Builder::new()
            .name(format!("revbench-{backend}-sync"))
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::select! {
                        () = self.run() => {}
                        _ = stopped => {}
                    }
                });
            })
            .map_err(|e| StoreError::backend(backend, format!("cannot start a thread: {e}")))?;
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
        self.local.reload_started();
        if self.load().await.is_err() {
            return false;
        }
        self.local.reload_done();
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
            if write_and_publish(&self.redis, &self.channel, chunk, self.sync.backend)
                .await
                .is_err()
            {
                self.sync.queue(&mut self.sync.pending.locked(), chunk);
            }
        }
    }

    /// `<jti>:<exp>[:<nonce>:<origin>]` → the local copy, then the acknowledgement when
    /// asked for: counted here for this process's own revokes, else published to the origin's
    /// channel. Anything else on the channel is ignored.
    fn apply(&self, payload: &[u8]) {
        if let Some((nonce, origin)) = parse_marker(payload) {
            if origin == self.origin {
                self.acknowledged(nonce);
            }
            return;
        }
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

    /// Every live key under the prefix, with its `exp` from the value, into the local copy.
    async fn load(&self) -> Result<(), StoreError> {
        let backend = self.sync.backend;
        let (mut scan, mut conn) = (self.redis.connection(), self.redis.connection());
        let prefix = self.redis.prefix();
        let mut batches = pin!(scan_prefix(&mut scan, prefix, backend));
        while let Some(keys) = batches.try_next().await? {
            let values: Vec<Option<u64>> = redis::cmd("MGET")
                .arg(&keys)
                .query_async(&mut conn)
                .await
                .map_err(|e| StoreError::backend(backend, e))?;
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

/// `caught-up:<nonce>:<origin>` → `(nonce, origin)`.
fn parse_marker(payload: &[u8]) -> Option<(u64, u64)> {
    let text = std::str::from_utf8(payload).ok()?;
    let (nonce, origin) = text.strip_prefix(MARKER)?.strip_prefix(':')?.split_once(':')?;
    Some((nonce.parse().ok()?, origin.parse().ok()?))
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
        assert_eq!(parse_marker(b"caught-up:99:7"), Some((99, 7)));
        assert_eq!(parse_payload(b"caught-up:99:7"), None, "a marker revokes nothing");
        assert_eq!(parse_marker(format!("{jti}:1234:99:7").as_bytes()), None);
        assert_eq!(parse_marker(b"caught-up:99"), None, "no origin");
    }

    /// The queue every path fills (Redis unreachable, a failed publish, a failed flush) stops
    /// at `MAX_PENDING`; what does not fit is refused and counted.
    #[test]
    fn the_queue_is_bounded_and_overflows_are_counted() {
        let sync = SyncState::new("test");
        let mut pending = vec![(Jti::random(), 1); MAX_PENDING - 2];
        let batch: Vec<_> = (0..5).map(|_| (Jti::random(), 2)).collect();
        assert_eq!(sync.queue(&mut pending, &batch), 3, "two fit");
        assert_eq!(pending.len(), MAX_PENDING);
        assert_eq!(&pending[MAX_PENDING - 2..], &batch[..2]);
        assert!(sync.queue_one(&mut pending, (Jti::random(), 3)).is_err());
        assert_eq!(pending.len(), MAX_PENDING);
        assert_eq!(sync.queue_overflows(), 4);
        pending.pop();
        assert!(sync.queue_one(&mut pending, (Jti::random(), 3)).is_ok());
        assert_eq!(sync.queue_overflows(), 4);
    }
}
