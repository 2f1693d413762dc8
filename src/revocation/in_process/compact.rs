//! `compact:` — an exact in-process set of revoked ids, partitioned by expiry (five minutes a
//! partition), at about 19–24 bytes per revoked token (an id is 16).
//!
//! - **Partitions by expiry**: an id revoked until `exp` goes to the partition of
//!   `exp / BUCKET_SECS`. The check receives the token's `exp` too, so it looks in that one
//!   partition, found by index (partitions sit inline in a window by bucket); a partition
//!   whose time has passed is dropped whole by the sweeper, so expiry costs nothing per entry
//!   and no `exp` is stored per entry.
//! - **A flat table per partition** ([`IdTable`]): the ids (xor a random per-store seed, and
//!   placed by a folded-multiply hash of that, so they are spread evenly whatever ids come in)
//!   in open addressing, 0.7–0.875 full, with a tag byte per slot beside them: a miss reads
//!   the stripe's index and one group of 16 tags, a hit that and one id.
//! - **Exact**: no false answers. An entry stops counting at its `exp`: a check that finds
//!   the id answers `true` only while the token's own `exp` has not passed (a coarse clock,
//!   lagging towards "still revoked" by at most a kernel tick, as `hashmap:`'s). A miss is
//!   `false` whatever the time, so it reads no clock.
//! - `SHARDS` lock stripes by id, so a table's rebuild blocks the checks of one stripe only.

use super::id_table::{IdTable, Key};
use super::sweeper::Sweeper;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;

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
/// interval) after its tokens' `exp`. Wider partitions make fewer, larger tables, and checks
/// among fewer tables touch fewer memory pages: with 1 M ids expiring over an hour, one-minute
/// partitions (960 tables in 16 stripes) took 28 ns a miss, five-minute ones (192) 21–24 ns.
const BUCKET_SECS: u32 = 300;
/// How often the sweeper drops passed partitions.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// Most partitions a stripe indexes directly (about 7.1 days of five minutes, at most 80 KiB
/// of index); partitions further out than that from the earliest are found through an
/// ordered map.
const WINDOW: usize = 1 << 11;

/// Seconds since the Unix epoch, clamped to `u32` (until 2106; later ones share one partition).
type ExpSecs = u32;

/// The partitions of one stripe, by bucket (`exp / BUCKET_SECS`).
#[derive(Default)]
struct Shard {
    /// The bucket of `near[0]`.
    first: ExpSecs,
    /// Consecutive buckets from `first`, at most `WINDOW` of them, inline (an empty table
    /// holds no allocation): a check goes from here straight to the tags.
    near: VecDeque<IdTable>,
    /// Buckets that did not fit in the window when their first id came.
    far: BTreeMap<ExpSecs, IdTable>,
}

impl Shard {
    fn contains(&self, bucket: ExpSecs, key: Key) -> bool {
        let near = bucket
            .checked_sub(self.first)
            .and_then(|at| self.near.get(at as usize))
            .is_some_and(|table| table.contains(key));
        near || (!self.far.is_empty() && self.far.get(&bucket).is_some_and(|t| t.contains(key)))
    }

    fn insert(&mut self, bucket: ExpSecs, key: Key) {
        if self.contains(bucket, key) {
            return;
        }
        let table = match self.near_slot(bucket) {
            Some(table) => table,
            None => self.far.entry(bucket).or_default(),
        };
        table.insert(key);
    }

    /// Keeps only the ids `keep` accepts in the partition of `bucket` (its table in the
    /// window and, if the window moved since it was made, its table among the far ones);
    /// returns how many were removed.
    fn retain(&mut self, bucket: ExpSecs, keep: impl Fn(u128) -> bool) -> usize {
        let near = bucket.checked_sub(self.first).and_then(|at| self.near.get_mut(at as usize));
        let far = self.far.get_mut(&bucket);
        near.into_iter().chain(far).map(|table| table.retain(&keep)).sum()
    }

    /// The window's slot for `bucket`, the window grown to reach it if that keeps it within
    /// `WINDOW`; `None` if it does not.
    fn near_slot(&mut self, bucket: ExpSecs) -> Option<&mut IdTable> {
        if self.near.is_empty() {
            self.first = bucket;
        }
        let end = self.first as u64 + self.near.len() as u64;
        if bucket < self.first {
            if end - u64::from(bucket) > WINDOW as u64 {
                return None;
            }
            for _ in bucket..self.first {
                self.near.push_front(IdTable::default());
            }
            self.first = bucket;
        } else if u64::from(bucket) >= end {
            if u64::from(bucket - self.first) >= WINDOW as u64 {
                return None;
            }
            self.near.resize_with((bucket - self.first) as usize + 1, IdTable::default);
        }
        self.near.get_mut((bucket - self.first) as usize)
    }

    /// Takes out every partition of a bucket before `live`.
    fn take_passed(&mut self, live: ExpSecs) -> Vec<IdTable> {
        let mut passed = Vec::new();
        while self.first < live {
            let Some(table) = self.near.pop_front() else { break };
            if !table.is_empty() {
                passed.push(table);
            }
            self.first += 1;
        }
        let kept = self.far.split_off(&live);
        passed.extend(std::mem::replace(&mut self.far, kept).into_values());
        passed
    }

    fn tables(&self) -> impl Iterator<Item = &IdTable> {
        self.near.iter().filter(|table| !table.is_empty()).chain(self.far.values())
    }
}

struct Shared {
    shards: Box<[RwLock<Shard>]>,
    /// Random per store: ids are stored xor it, so no one who does not know it can choose
    /// ids that share a hash.
    seed: u128,
}

impl Shared {
    /// The stored form of `jti` (xor the seed, a bijection) and its hash, so the tables' slots
    /// are filled evenly whatever ids are revoked.
    #[inline]
    fn key(&self, jti: Jti) -> Key {
        Key::new(jti.0 ^ self.seed)
    }

    #[inline]
    fn shard(&self, key: Key) -> &RwLock<Shard> {
        &self.shards[shard_of(key)]
    }

    fn insert(&self, jti: Jti, exp: UnixSeconds, now: ExpSecs) {
        if exp <= u64::from(now) {
            return; // already past: the token it blocks is refused anyway
        }
        let key = self.key(jti);
        self.shard(key).write_locked().insert(clamp(exp) / BUCKET_SECS, key);
    }

    /// Whether `jti` of a token expiring at `exp` is revoked; `now` is read only when the id
    /// is found (a miss is `false` at any time).
    #[inline]
    fn contains_live(&self, jti: Jti, exp: UnixSeconds, now: impl FnOnce() -> ExpSecs) -> bool {
        let key = self.key(jti);
        let found = self.shard(key).read_locked().contains(clamp(exp) / BUCKET_SECS, key);
        found && exp > u64::from(now())
    }

    /// Removes the ids of `entries` from their partitions (one rebuild per partition touched);
    /// returns how many it held.
    fn remove_many(&self, entries: &[(Jti, UnixSeconds)]) -> usize {
        let mut by_partition: HashMap<(usize, ExpSecs), HashSet<u128>> = HashMap::new();
        for &(jti, exp) in entries {
            let key = self.key(jti);
            let at = (shard_of(key), clamp(exp) / BUCKET_SECS);
            by_partition.entry(at).or_default().insert(key.stored());
        }
        let mut removed = 0;
        for ((shard, bucket), keys) in by_partition {
            removed += self.shards[shard].write_locked().retain(bucket, |key| !keys.contains(&key));
        }
        removed
    }

    /// Drops every partition whose time has fully passed by `now`; returns how many ids were
    /// dropped.
    fn sweep(&self, now: ExpSecs) -> usize {
        let mut dropped = 0;
        for lock in self.shards.iter() {
            // Partitions from `now / BUCKET_SECS` on may still hold live entries.
            let passed = lock.write_locked().take_passed(now / BUCKET_SECS);
            dropped += passed.iter().map(IdTable::len).sum::<usize>();
            drop(passed); // freed outside the lock
        }
        dropped
    }

    fn stats(&self) -> StoreStats {
        let (mut entries, mut bytes) = (0, 0);
        for lock in self.shards.iter() {
            let shard = lock.read_locked();
            entries += shard.tables().map(IdTable::len).sum::<usize>() as u64;
            bytes += shard.tables().map(IdTable::bytes).sum::<usize>() as u64;
        }
        StoreStats { entries: Some(entries), bytes: Some(bytes) }
    }
}

/// The stripe of `key`: bits 8 and up of its hash, which the table leaves to its caller.
#[inline]
fn shard_of(key: Key) -> usize {
    (key.hash() >> 8) as usize % SHARDS
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
        summary: "in-process flat id tables, one per five minutes of expiry, dropped whole",
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

    fn is_revoked_now(&self, jti: Jti, expires_at: UnixSeconds) -> Option<bool> {
        Some(self.shared.contains_live(jti, expires_at, coarse_now))
    }

    async fn forget_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        Ok(self.shared.remove_many(entries) as u64)
    }

    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        let now = coarse_now();
        for &(jti, expires_at) in entries {
            self.shared.insert(jti, expires_at, now);
        }
        Ok(())
    }

    /// `entries` includes ids of passed partitions not dropped yet; `bytes` is the heap held
    /// by the tables (not the partitions' index).
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

    /// Every id is found at every size its partition grows through, and ids never revoked
    /// are not (the tables are exact).
    #[test]
    fn tables_are_exact_as_they_grow() {
        let store = store();
        let shared = &store.shared;
        let now = clamp(now_secs());
        let exp = now_secs() + 600;
        let ids: Vec<Jti> = (0..50_000).map(|_| Jti::random()).collect();
        for (i, &jti) in ids.iter().enumerate() {
            shared.insert(jti, exp, now);
            if i % 9_999 == 0 {
                assert!(ids[..=i].iter().all(|&j| shared.contains_live(j, exp, || now)), "at {i}");
            }
        }
        assert!(ids.iter().all(|&j| shared.contains_live(j, exp, || now)));
        assert!((0..50_000).all(|_| !shared.contains_live(Jti::random(), exp, || now)));
        // A miss is `false` at any time: it never reads the clock.
        assert!(!shared.contains_live(Jti::random(), exp, || panic!("a miss read the clock")));
        assert_eq!(shared.stats().entries, Some(50_000));
    }

    /// Ids that are not random (sequential, or equal in their top bits) are still found: the
    /// bijection spreads them over the tables.
    #[test]
    fn clustered_ids_are_found() {
        let store = store();
        let shared = &store.shared;
        let (now, exp) = (clamp(now_secs()), now_secs() + 600);
        for i in 0..20_000u128 {
            shared.insert(Jti(i), exp, now);
            shared.insert(Jti(i << 100), exp, now);
        }
        assert!((0..20_000u128).all(|i| shared.contains_live(Jti(i), exp, || now)));
        assert!((0..20_000u128).all(|i| shared.contains_live(Jti(i << 100), exp, || now)));
        assert!(!shared.contains_live(Jti(20_000), exp, || now));
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
        let bytes_before = shared.stats().bytes.unwrap();
        assert_eq!(shared.sweep(clamp(soon + u64::from(BUCKET_SECS))), 1);
        assert_eq!(shared.stats().entries, Some(1));
        let bytes_after = shared.stats().bytes.unwrap();
        assert!(0 < bytes_after && bytes_after < bytes_before, "{bytes_before} → {bytes_after}");
        assert!(shared.contains_live(b, later, || clamp(soon + u64::from(BUCKET_SECS))));
    }

    /// Partitions far apart (beyond the window, on either side of it, and past 2106) hold
    /// their ids, are found by the check, and are dropped whole when their time has passed.
    #[test]
    fn far_partitions_are_found_and_dropped() {
        let store = store();
        let shared = &store.shared;
        let now = now_secs();
        let window = WINDOW as u64 * u64::from(BUCKET_SECS);
        let exps = [now + 600, now + 2 * window, now + 60, now + window / 2, u64::MAX];
        let ids: Vec<Jti> = exps.iter().map(|_| Jti::random()).collect();
        for k in 0..ids.len() {
            shared.insert(ids[k], exps[k], clamp(now));
            for i in 0..ids.len() {
                let found = shared.contains_live(ids[i], exps[i], || clamp(now));
                assert_eq!(found, i <= k, "id {i} after inserting {k}");
            }
        }
        let later = clamp(now + 2 * window + u64::from(BUCKET_SECS));
        assert_eq!(shared.sweep(later), 4);
        assert!(shared.contains_live(ids[4], u64::MAX, || later));
        assert_eq!(shared.stats().entries, Some(1));
    }

    /// A check after the token's own `exp` is `false`, without a sweep.
    #[tokio::test]
    async fn expiry_is_the_tokens_own() {
        let store = store();
        let jti = Jti::random();
        let exp = now_secs() + 600;
        store.revoke(jti, exp).await.unwrap();
        assert!(store.shared.contains_live(jti, exp, || clamp(exp - 1)));
        assert!(!store.shared.contains_live(jti, exp, || clamp(exp)));
    }
}
