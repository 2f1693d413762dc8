//! `compact:` — an exact in-process set of revoked ids, partitioned by expiry, at about 17–19
//! bytes per revoked token (an id is 16).
//!
//! - **Partitions by expiry**: an id revoked until `exp` goes to the partition of
//!   `exp / BUCKET_SECS`. The check receives the token's `exp` too, so it looks in that one
//!   partition; a partition whose time has passed is dropped whole by the sweeper, so expiry
//!   costs nothing per entry and no `exp` is stored per entry.
//! - **A sorted run per partition**: the ids (through a seeded bijection, so they are spread
//!   evenly whatever ids come in) in one sorted `Box<[u128]>`, with a directory of offsets by
//!   their top bits (about one `u32` per two to four ids): a lookup reads one directory slot and
//!   scans the few ids it points to.
//! - **A small insert buffer**: new ids go to a hash table beside the run and are merged into
//!   it in batches: when the buffer reaches a sixteenth of the run, or when the partition has
//!   been idle for one sweep interval (so a store that stopped growing is all runs).
//! - **Exact**: no false answers. An entry stops counting at its `exp`: the check answers
//!   `false` once the token's own `exp` has passed (a coarse clock, lagging towards "still
//!   revoked" by at most a kernel tick, as `hashmap:`'s).
//! - `SHARDS` lock stripes by id, so a merge blocks the checks of one stripe only.

use super::sweeper::Sweeper;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use hashbrown::HashTable;

use super::hashmap::coarse_now;
use crate::lock::RwLockExt;
use crate::revocation::{
    fresh, profile, Capabilities, EntryUnit, Jti, Namespacing, Profile, RevocationStore, Scheme,
    StoreError, StoreStats,
};
use crate::time::UnixSeconds;

/// Lock stripes (by id).
const SHARDS: usize = 16;
/// Width of an expiry partition: a partition is dropped at most this long (plus one sweep
/// interval) after its tokens' `exp`.
const BUCKET_SECS: u32 = 60;
/// How often the sweeper drops passed partitions and merges idle buffers.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// A buffer is merged into its run once it holds this many ids, or a sixteenth of the run.
const MIN_MERGE: usize = 1024;

/// Seconds since the Unix epoch, clamped to `u32` (until 2106; later ones share one partition).
type ExpSecs = u32;

/// Sorted ids with a directory by top bits.
#[derive(Default)]
struct Run {
    keys: Box<[u128]>,
    /// `dir[s]..dir[s + 1]` are the keys whose top `bits` bits are `s`.
    dir: Box<[u32]>,
    bits: u32,
}

impl Run {
    /// The run of `keys`, sorted and without duplicates.
    fn new(keys: Vec<u128>) -> Self {
        let keys = keys.into_boxed_slice();
        // About two to four keys per directory slot.
        let bits = (keys.len() / 2).max(1).ilog2().min(30);
        let slots = 1usize << bits;
        let mut dir = Vec::with_capacity(slots + 1);
        let mut at = 0usize;
        for slot in 0..slots {
            dir.push(at as u32);
            while at < keys.len() && slot_of(keys[at], bits) == slot {
                at += 1;
            }
        }
        dir.push(at as u32);
        Self { keys, dir: dir.into_boxed_slice(), bits }
    }

    fn contains(&self, key: u128) -> bool {
        if self.keys.is_empty() {
            return false;
        }
        let slot = slot_of(key, self.bits);
        let (from, to) = (self.dir[slot] as usize, self.dir[slot + 1] as usize);
        self.keys[from..to].contains(&key)
    }

    fn bytes(&self) -> usize {
        self.keys.len() * 16 + self.dir.len() * 4
    }
}

/// The directory slot of `key`: its top `bits` bits.
fn slot_of(key: u128, bits: u32) -> usize {
    ((key >> 96) as u64 >> (32 - bits)) as usize
}

/// The ids of one expiry partition in one stripe.
#[derive(Default)]
struct Partition {
    run: Run,
    /// New ids not merged yet, hashed by their low 64 bits (already mixed).
    buffer: HashTable<u128>,
    /// The buffer's length at the last sweep: unchanged means the partition is idle.
    seen: usize,
}

impl Partition {
    fn contains(&self, key: u128) -> bool {
        self.run.contains(key)
            || (!self.buffer.is_empty() && self.buffer.find(key as u64, |&k| k == key).is_some())
    }

    fn insert(&mut self, key: u128) {
        if self.contains(key) {
            return;
        }
        self.buffer.insert_unique(key as u64, key, |&k| k as u64);
        if self.buffer.len() >= MIN_MERGE.max(self.run.keys.len() / 16) {
            self.merge();
        }
    }

    /// Merges the buffer into the run (the buffer holds no id the run has).
    fn merge(&mut self) {
        let mut fresh: Vec<u128> = self.buffer.drain().collect();
        fresh.sort_unstable();
        let old = std::mem::take(&mut self.run.keys);
        let mut merged = Vec::with_capacity(old.len() + fresh.len());
        let (mut a, mut b) = (old.iter().copied().peekable(), fresh.into_iter().peekable());
        while let (Some(&x), Some(&y)) = (a.peek(), b.peek()) {
            if x < y {
                merged.push(x);
                a.next();
            } else {
                merged.push(y);
                b.next();
            }
        }
        merged.extend(a);
        merged.extend(b);
        drop(old);
        self.run = Run::new(merged);
        self.buffer = HashTable::new();
        self.seen = 0;
    }

    fn len(&self) -> usize {
        self.run.keys.len() + self.buffer.len()
    }

    fn bytes(&self) -> usize {
        self.run.bytes() + self.buffer.allocation_size()
    }
}

type Shard = BTreeMap<ExpSecs, Partition>;

struct Shared {
    shards: Box<[RwLock<Shard>]>,
    /// Random per store: ids are stored through a bijection seeded with it.
    seed: u128,
}

impl Shared {
    /// The stored form of `jti`: a seeded bijection ([`Jti::spread`]), so the run's directory
    /// is even whatever ids are revoked.
    fn key(&self, jti: Jti) -> u128 {
        jti.spread(self.seed)
    }

    fn shard(&self, key: u128) -> &RwLock<Shard> {
        &self.shards[(key >> 64) as usize % SHARDS]
    }

    fn insert(&self, jti: Jti, exp: UnixSeconds, now: ExpSecs) {
        if exp <= u64::from(now) {
            return; // already past: the token it blocks is refused anyway
        }
        let key = self.key(jti);
        let bucket = clamp(exp) / BUCKET_SECS;
        self.shard(key).write_locked().entry(bucket).or_default().insert(key);
    }

    fn contains_live(&self, jti: Jti, exp: UnixSeconds, now: ExpSecs) -> bool {
        if exp <= u64::from(now) {
            return false;
        }
        let key = self.key(jti);
        let bucket = clamp(exp) / BUCKET_SECS;
        self.shard(key).read_locked().get(&bucket).is_some_and(|p| p.contains(key))
    }

    /// Drops every partition whose time has fully passed by `now` and merges idle buffers;
    /// returns how many ids were dropped.
    fn sweep(&self, now: ExpSecs) -> usize {
        let mut dropped = 0;
        for lock in self.shards.iter() {
            let passed = {
                let mut shard = lock.write_locked();
                // Partitions from `now / BUCKET_SECS` on may still hold live entries.
                let live = shard.split_off(&(now / BUCKET_SECS));
                std::mem::replace(&mut *shard, live)
            };
            dropped += passed.values().map(Partition::len).sum::<usize>();
            drop(passed); // freed outside the lock
            let buckets: Vec<ExpSecs> = lock.read_locked().keys().copied().collect();
            for bucket in buckets {
                // One partition per lock hold.
                let mut shard = lock.write_locked();
                if let Some(partition) = shard.get_mut(&bucket) {
                    let len = partition.buffer.len();
                    if len > 0 && len == partition.seen {
                        partition.merge();
                    } else {
                        partition.seen = len;
                    }
                }
            }
        }
        dropped
    }

    fn stats(&self) -> StoreStats {
        let (mut entries, mut bytes) = (0, 0);
        for lock in self.shards.iter() {
            let shard = lock.read_locked();
            entries += shard.values().map(Partition::len).sum::<usize>() as u64;
            bytes += shard.values().map(Partition::bytes).sum::<usize>() as u64;
        }
        StoreStats { entries: Some(entries), bytes: Some(bytes) }
    }
}

fn clamp(secs: UnixSeconds) -> ExpSecs {
    ExpSecs::try_from(secs).unwrap_or(ExpSecs::MAX)
}

/// The partitioned set with a background sweep.
pub struct CompactStore {
    shared: Arc<Shared>,
    /// Dropped after `shared`: the thread then finds the store gone.
    _sweeper: Sweeper,
}

impl CompactStore {
    /// An empty store whose sweeper runs every `SWEEP_INTERVAL`.
    pub fn new() -> Self {
        Self::with_sweep_interval(SWEEP_INTERVAL)
    }

    fn with_sweep_interval(interval: Duration) -> Self {
        let shared = Arc::new(Shared {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            seed: rand::random(),
        });
        let sweeper = Sweeper::spawn("revbench-compact-sweep", &shared, interval, |shared| {
            shared.sweep(coarse_now());
        });
        Self { shared, _sweeper: sweeper }
    }
}

impl Default for CompactStore {
    fn default() -> Self {
        Self::new()
    }
}

/// The `compact:` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: "compact",
    url_schemes: &["compact"],
    example: "compact:",
    namespacing: Namespacing::InProcess,
    open: fresh::<CompactStore>,
    profile: Profile {
        summary: "in-process sorted id sets, one per expiry minute, dropped whole",
        needs: profile::IN_PROCESS,
        when_down: profile::NO_STORE_TO_LOSE,
        unit: EntryUnit::RevokedToken,
    },
};

#[async_trait]
impl RevocationStore for CompactStore {
    fn name(&self) -> &'static str {
        SCHEME.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: true, expires: true, shared: false }
    }

    async fn revoke(&self, jti: Jti, expires_at: UnixSeconds) -> Result<(), StoreError> {
        self.shared.insert(jti, expires_at, coarse_now());
        Ok(())
    }

    async fn is_revoked(&self, jti: Jti, expires_at: UnixSeconds) -> Result<bool, StoreError> {
        Ok(self.shared.contains_live(jti, expires_at, coarse_now()))
    }

    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        let now = coarse_now();
        for &(jti, expires_at) in entries {
            self.shared.insert(jti, expires_at, now);
        }
        Ok(())
    }

    /// `entries` includes ids of passed partitions not dropped yet; `bytes` is the heap held
    /// by the runs, their directories and the buffers (not the `BTreeMap` nodes).
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        Ok(self.shared.stats())
    }

    async fn clear(&self) -> Result<(), StoreError> {
        for lock in self.shared.shards.iter() {
            let old = std::mem::take(&mut *lock.write_locked());
            drop(old);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::now_secs;

    fn store() -> CompactStore {
        CompactStore::with_sweep_interval(Duration::from_secs(3600))
    }

    /// Every id of a run of any size is found, through the buffer and after merges, and ids
    /// never revoked are not (the run is exact).
    #[test]
    fn runs_are_exact_across_merges() {
        let store = store();
        let shared = &store.shared;
        let now = clamp(now_secs());
        let exp = now_secs() + 600;
        let ids: Vec<Jti> = (0..50_000).map(|_| Jti::random()).collect();
        for (i, &jti) in ids.iter().enumerate() {
            shared.insert(jti, exp, now);
            if i % 9_999 == 0 {
                assert!(ids[..=i].iter().all(|&j| shared.contains_live(j, exp, now)), "at {i}");
            }
        }
        assert!(ids.iter().all(|&j| shared.contains_live(j, exp, now)));
        assert!((0..50_000).all(|_| !shared.contains_live(Jti::random(), exp, now)));
        assert_eq!(shared.stats().entries, Some(50_000));
    }

    /// Ids that are not random (sequential, or equal in their top bits) are still found: the
    /// bijection spreads them over the directory.
    #[test]
    fn clustered_ids_are_found() {
        let store = store();
        let shared = &store.shared;
        let (now, exp) = (clamp(now_secs()), now_secs() + 600);
        for i in 0..20_000u128 {
            shared.insert(Jti(i), exp, now);
            shared.insert(Jti(i << 100), exp, now);
        }
        assert!((0..20_000u128).all(|i| shared.contains_live(Jti(i), exp, now)));
        assert!((0..20_000u128).all(|i| shared.contains_live(Jti(i << 100), exp, now)));
        assert!(!shared.contains_live(Jti(20_000), exp, now));
        assert_eq!(shared.stats().entries, Some(40_000 - 1)); // Jti(0) twice
    }

    /// A partition is dropped whole once its time has passed, and not before.
    #[test]
    fn passed_partitions_are_dropped_whole() {
        let store = store();
        let shared = &store.shared;
        let now = now_secs();
        let (soon, later) = (now + 10, now + 10 + 2 * u64::from(BUCKET_SECS));
        let (a, b) = (Jti::random(), Jti::random());
        shared.insert(a, soon, clamp(now));
        shared.insert(b, later, clamp(now));
        assert_eq!(shared.sweep(clamp(now)), 0);
        assert_eq!(shared.sweep(clamp(soon + u64::from(BUCKET_SECS))), 1);
        assert_eq!(shared.stats().entries, Some(1));
        assert!(shared.contains_live(b, later, clamp(soon + u64::from(BUCKET_SECS))));
    }

    /// An idle buffer is merged at the second sweep that finds it unchanged.
    #[test]
    fn idle_buffers_are_merged() {
        let store = store();
        let shared = &store.shared;
        let (now, exp) = (clamp(now_secs()), now_secs() + 600);
        let jti = Jti::random();
        shared.insert(jti, exp, now);
        let buffered = || {
            shared
                .shards
                .iter()
                .map(|s| s.read_locked().values().map(|p| p.buffer.len()).sum::<usize>())
                .sum::<usize>()
        };
        assert_eq!(buffered(), 1);
        shared.sweep(now);
        assert_eq!(buffered(), 1);
        shared.sweep(now);
        assert_eq!(buffered(), 0);
        assert!(shared.contains_live(jti, exp, now));
    }

    /// A check after the token's own `exp` is `false`, without a sweep.
    #[tokio::test]
    async fn expiry_is_the_tokens_own() {
        let store = store();
        let jti = Jti::random();
        let exp = now_secs() + 600;
        store.revoke(jti, exp).await.unwrap();
        assert!(store.shared.contains_live(jti, exp, clamp(exp - 1)));
        assert!(!store.shared.contains_live(jti, exp, clamp(exp)));
    }
}
