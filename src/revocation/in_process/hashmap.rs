//! `hashmap:` — a purpose-built in-process revocation list: the floor an in-process store can
//! reach. A general-purpose cache (moka, `memory:`) pays on every read for eviction bookkeeping a
//! revocation list does not need; this store keeps only what the contract asks for.
//!
//! - **Lookup**: jti → exp in `SHARDS` lock-striped hash tables. Each jti is hashed once (a
//!   seeded folded multiply of its 128 bits) and the hash picks both the shard and the slot. An
//!   entry is 20 bytes: the id as `[u32; 4]` (so it needs 4-byte, not 16-byte, alignment) and
//!   `exp` as `u32` seconds (enough until 2106).
//! - **Exact expiry**: a lookup compares `exp` with a coarse clock (`CLOCK_REALTIME_COARSE` on
//!   Linux: a few nanoseconds, behind real time by at most one kernel tick). When it lags, it
//!   lags towards "still revoked" during the tick after `exp`, when the token itself is already
//!   refused by verification — so no revoked token is ever accepted.
//! - **Sweep by time buckets**: each shard indexes its entries by `exp / BUCKET_SECS` (8 bytes
//!   per entry: the hash). A sweeper thread wakes every `SWEEP_INTERVAL` and takes only the
//!   buckets whose time has fully passed, so a sweep touches only what expired.
//! - The sweeper holds a `Weak` handle: it ends at its next wake-up after the store is dropped
//!   (dropping the store also wakes it at once).

use super::sweeper::Sweeper;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use hashbrown::hash_table::Entry as TableEntry;
use hashbrown::HashTable;

use crate::lock::RwLockExt;
use crate::revocation::{
    fresh, profile, Capabilities, EntryUnit, Jti, Namespacing, Profile, RevocationStore, Scheme,
    StoreError, StoreStats,
};
use crate::time::UnixSeconds;

/// Lock stripes. 64 keeps two cores (or sixty-four) from queueing on one lock while each
/// shard's table stays large enough that its fixed overhead does not matter.
const SHARDS: usize = 64;
/// Width of a sweep bucket: entries leave at most this long (plus one interval) after `exp`.
const BUCKET_SECS: u32 = 10;
/// How often the sweeper looks for buckets whose time has passed.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// Seconds since the Unix epoch as stored in an entry.
type ExpSecs = u32;

/// One revoked id: 20 bytes, 4-byte aligned.
#[derive(Debug, Clone, Copy)]
struct Entry {
    jti: [u32; 4],
    exp: ExpSecs,
}

#[derive(Default)]
struct Shard {
    table: HashTable<Entry>,
    /// `exp / BUCKET_SECS` → hashes of the entries revoked with an `exp` in that bucket. A
    /// re-revoked id may appear in two buckets; the sweep only removes an entry whose `exp`
    /// has passed, so the stale record is a no-op.
    expiring: BTreeMap<ExpSecs, Vec<u64>>,
}

struct Shared {
    shards: Box<[RwLock<Shard>]>,
    /// Random per store, so ids cannot be chosen to pile into one shard or slot.
    seed: [u64; 2],
}

/// The sharded jti → exp map with a background sweep.
pub struct HashMapStore {
    shared: Arc<Shared>,
    /// Dropped after `shared`: the thread then finds the store gone.
    _sweeper: Sweeper,
}

impl HashMapStore {
    /// An empty store whose sweeper runs every `SWEEP_INTERVAL`.
    pub fn new() -> Self {
        Self::with_sweep_interval(SWEEP_INTERVAL)
    }

    /// An empty store whose sweeper runs every `interval`.
    fn with_sweep_interval(interval: Duration) -> Self {
        let shared = Arc::new(Shared {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            seed: [rand::random(), rand::random()],
        });
        let sweeper = Sweeper::spawn("revbench-hashmap-sweep", &shared, interval, |shared| {
            shared.sweep(coarse_now());
        });
        Self { shared, _sweeper: sweeper }
    }

    /// Marks `jti` revoked until `expires_at`, synchronously (the trait's `revoke` is this,
    /// boxed): for stores that wrap this table, such as `hybrid+redis:`.
    pub fn insert(&self, jti: Jti, expires_at: UnixSeconds) {
        self.shared.insert(words(jti), clamp(expires_at));
    }

    /// Removes `jti`'s entry, if it holds one; returns whether it did (for stores that wrap
    /// this table, such as `hybrid+redis:`).
    pub fn remove(&self, jti: Jti) -> bool {
        self.shared.remove(words(jti))
    }

    /// Physically removes every entry whose bucket has fully passed by `now`; returns how many.
    #[cfg(test)]
    fn sweep(&self, now: UnixSeconds) -> usize {
        self.shared.sweep(clamp(now))
    }
}

impl Default for HashMapStore {
    fn default() -> Self {
        Self::new()
    }
}

impl Shared {
    fn hash(&self, jti: [u32; 4]) -> u64 {
        let lo = u64::from(jti[0]) | u64::from(jti[1]) << 32;
        let hi = u64::from(jti[2]) | u64::from(jti[3]) << 32;
        folded_multiply(lo ^ self.seed[0], hi ^ self.seed[1])
    }

    fn shard(&self, hash: u64) -> &RwLock<Shard> {
        // Bits 32.. : hashbrown takes the slot from the low bits and its tag from the top 7, so
        // these are independent of both.
        &self.shards[(hash >> 32) as usize % SHARDS]
    }

    fn insert(&self, jti: [u32; 4], exp: ExpSecs) {
        let hash = self.hash(jti);
        let mut shard = self.shard(hash).write_locked();
        match shard.table.entry(hash, |e| e.jti == jti, |e| self.hash(e.jti)) {
            TableEntry::Occupied(found) if found.get().exp == exp => return,
            TableEntry::Occupied(mut found) => found.get_mut().exp = exp,
            TableEntry::Vacant(slot) => {
                slot.insert(Entry { jti, exp });
            }
        }
        shard.expiring.entry(exp / BUCKET_SECS).or_default().push(hash);
    }

    /// The expiry index keeps the entry's hash until its bucket is swept: the sweep removes
    /// only an entry it finds, so the stale record is a no-op.
    fn remove(&self, jti: [u32; 4]) -> bool {
        let hash = self.hash(jti);
        let mut shard = self.shard(hash).write_locked();
        shard.table.find_entry(hash, |e| e.jti == jti).map(|found| found.remove()).is_ok()
    }

    fn contains_live(&self, jti: [u32; 4], now: ExpSecs) -> bool {
        let hash = self.hash(jti);
        self.shard(hash)
            .read_locked()
            .table
            .find(hash, |e| e.jti == jti)
            .is_some_and(|e| now < e.exp)
    }

    fn sweep(&self, now: ExpSecs) -> usize {
        let mut removed = 0;
        for lock in self.shards.iter() {
            // One bucket per lock hold, so a large backlog never blocks readers for long.
            loop {
                let mut shard = lock.write_locked();
                let Some(bucket) = shard.expiring.first_entry() else { break };
                let bucket_end = (u64::from(*bucket.key()) + 1) * u64::from(BUCKET_SECS);
                if bucket_end > u64::from(now) {
                    break;
                }
                for hash in bucket.remove() {
                    let expired = |e: &Entry| e.exp <= now && self.hash(e.jti) == hash;
                    if let Ok(found) = shard.table.find_entry(hash, expired) {
                        found.remove();
                        removed += 1;
                    }
                }
                // hashbrown never shrinks on its own: give memory back after a mass expiry.
                if shard.table.len() * 4 < shard.table.capacity() {
                    let len = shard.table.len();
                    shard.table.shrink_to(len * 2, |e| self.hash(e.jti));
                }
            }
        }
        removed
    }

    fn clear(&self) {
        for lock in self.shards.iter() {
            *lock.write_locked() = Shard::default();
        }
    }

    /// Entries held, and the heap they occupy: table slots and control bytes plus the index.
    fn stats(&self) -> StoreStats {
        let (mut entries, mut bytes) = (0, 0);
        for lock in self.shards.iter() {
            let shard = lock.read_locked();
            entries += shard.table.len() as u64;
            bytes += shard.table.allocation_size() as u64;
            bytes += shard.expiring.values().map(|v| v.capacity() * 8).sum::<usize>() as u64;
        }
        StoreStats { entries: Some(entries), bytes: Some(bytes) }
    }
}

/// The high and low halves of the 128-bit product, folded: a fast, well-mixing hash for ids
/// that are already random (the construction foldhash and ahash use).
fn folded_multiply(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

fn words(jti: Jti) -> [u32; 4] {
    let v = jti.0;
    [v as u32, (v >> 32) as u32, (v >> 64) as u32, (v >> 96) as u32]
}

fn clamp(secs: UnixSeconds) -> ExpSecs {
    ExpSecs::try_from(secs).unwrap_or(ExpSecs::MAX)
}

/// Unix seconds from the kernel's coarse clock (no syscall, no hardware counter read).
pub(in crate::revocation) fn coarse_now() -> ExpSecs {
    #[cfg(target_os = "linux")]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid, writable timespec and the clock id is a constant Linux has
        // had since 2.6.32; the call only writes `ts`.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
        if rc == 0 {
            return clamp(ts.tv_sec.max(0) as UnixSeconds);
        }
    }
    clamp(crate::time::now_secs())
}

/// The `hashmap:` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: "hashmap",
    url_schemes: &["hashmap"],
    example: "hashmap:",
    namespacing: Namespacing::InProcess,
    open: fresh::<HashMapStore>,
    profile: Profile {
        summary: "in-process map id → `exp`, swept by time buckets",
        needs: profile::IN_PROCESS,
        when_down: profile::NO_STORE_TO_LOSE,
        unit: EntryUnit::RevokedToken,
    },
};

#[async_trait]
impl RevocationStore for HashMapStore {
    fn name(&self) -> &'static str {
        SCHEME.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: true, expires: true, shared: false }
    }

    async fn revoke(&self, jti: Jti, expires_at: UnixSeconds) -> Result<(), StoreError> {
        self.shared.insert(words(jti), clamp(expires_at));
        Ok(())
    }

    fn is_revoked_now(&self, jti: Jti, _expires_at: UnixSeconds) -> Option<bool> {
        Some(self.shared.contains_live(words(jti), coarse_now()))
    }

    async fn forget_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        Ok(entries.iter().filter(|&&(jti, _)| self.remove(jti)).count() as u64)
    }

    /// `entries` includes expired entries not swept yet; `bytes` is the heap held by the
    /// tables and the expiry index (not the `BTreeMap` nodes, a few per shard).
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        Ok(self.shared.stats())
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.shared.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::now_secs;

    /// A sweep removes exactly the entries whose bucket has passed and leaves live ones.
    #[tokio::test]
    async fn sweep_removes_only_expired_buckets() {
        let store = HashMapStore::with_sweep_interval(Duration::from_secs(3600));
        let now = now_secs();
        let (dead, live) = (Jti::random(), Jti::random());
        store.revoke(dead, now - 100).await.unwrap();
        store.revoke(live, now + 100).await.unwrap();
        assert_eq!(store.stats().await.unwrap().entries, Some(2));
        assert_eq!(store.sweep(now), 1);
        assert_eq!(store.stats().await.unwrap().entries, Some(1));
        assert!(store.is_revoked(live, now + 100).await.unwrap());
        assert!(!store.is_revoked(dead, now - 100).await.unwrap());
    }

    /// Re-revoking with a later exp keeps the entry through the old bucket's sweep.
    #[tokio::test]
    async fn re_revoke_survives_its_old_bucket() {
        let store = HashMapStore::with_sweep_interval(Duration::from_secs(3600));
        let now = now_secs();
        let jti = Jti::random();
        store.revoke(jti, now + 5).await.unwrap();
        store.revoke(jti, now + 500).await.unwrap();
        assert_eq!(store.sweep(now + 100), 0);
        assert!(store.shared.contains_live(words(jti), clamp(now + 100)));
        assert_eq!(store.sweep(now + 1000), 1);
        assert_eq!(store.stats().await.unwrap().entries, Some(0));
    }

    /// The background sweeper removes expired entries on its own.
    #[tokio::test]
    async fn sweeper_runs_in_the_background() {
        let store = HashMapStore::with_sweep_interval(Duration::from_millis(10));
        store.revoke(Jti::random(), now_secs() - 3600).await.unwrap();
        for _ in 0..200 {
            if store.stats().await.unwrap().entries == Some(0) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the sweeper never removed the expired entry");
    }

    /// Dropping the store frees it: the sweeper does not keep it alive.
    #[test]
    fn drop_frees_the_store_despite_the_sweeper() {
        let store = HashMapStore::with_sweep_interval(Duration::from_millis(5));
        let weak = Arc::downgrade(&store.shared);
        drop(store);
        for _ in 0..200 {
            if weak.upgrade().is_none() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the store's data outlived the store");
    }

    /// The coarse clock agrees with the system clock to within a second.
    #[test]
    fn coarse_clock_tracks_the_system_clock() {
        let system = now_secs();
        let coarse = u64::from(coarse_now());
        assert!(coarse + 1 >= system && coarse <= system + 1, "{coarse} vs {system}");
    }

    /// Ids split into words and back without loss, and distinct ids hash apart.
    #[test]
    fn words_keep_every_bit() {
        let jti = Jti(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
        let w = words(jti);
        let back = w.iter().rev().fold(0u128, |acc, &x| acc << 32 | u128::from(x));
        assert_eq!(back, jti.0);
        let store = HashMapStore::with_sweep_interval(Duration::from_secs(3600));
        assert_ne!(store.shared.hash(w), store.shared.hash(words(Jti(jti.0 ^ 1))));
    }
}
