//! A flat open-addressing set of 128-bit keys, at about 19–22 bytes per key: the partition of
//! `compact:`.
//!
//! - **Tags apart from keys**: a tag is one byte per slot (`0` for an empty slot, else 8 bits
//!   of the key's hash), read 16 at a time (one `u128` word, so a group never straddles a
//!   cache line): a miss usually reads one group of tags and no key. The tags of a table
//!   (1/17 of its bytes) have an allocation of their own, so the tags of many tables lie
//!   close together and misses among them touch fewer memory pages than if each table's
//!   tags sat before its keys (`compact:` at 1 M ids: 28 against 31 ns a miss). The table
//!   itself is small (two slices and a count), so an index of tables holds them inline and a
//!   lookup goes from the index straight to the tags.
//! - **Where a key goes** comes from its hash ([`Key`]): the key's two 64-bit halves
//!   multiplied and the 128-bit product's halves xored (a folded multiply, as in foldhash and
//!   wyhash). The top bits pick the home group by a multiply-shift (any number of groups, not
//!   only powers of two), the low byte is the tag; bits 8–31 are left to the caller.
//!   Keys must come in already keyed with a secret (`compact:` stores each id xor a random
//!   per-store seed): without the seed, no one can choose ids that share a hash.
//! - **Linear probing by group, no deletion**: a key goes to the first group from its home
//!   with a free slot; a lookup stops at the first group that holds an empty slot. No key is
//!   removed in place (a partition is dropped whole; [`IdTable::retain`] rebuilds the table),
//!   so there are no tombstones.
//! - **Load between 0.7 and 0.875**: a table that would pass 7/8 full is rebuilt 1.25 times as
//!   large (each key moves about four times over the table's life).

/// Slots per group: the tags probed together.
const GROUP: usize = 16;
/// Most a table is filled, as a fraction `MAX_LOAD.0 / MAX_LOAD.1`.
const MAX_LOAD: (usize, usize) = (7, 8);
/// Load a table is rebuilt at when it grows, as a fraction.
const GROW_LOAD: (usize, usize) = (7, 10);

const LOW_BITS: u128 = u128::from_ne_bytes([0x01; 16]);
const HIGH_BITS: u128 = u128::from_ne_bytes([0x80; 16]);

/// A key as stored, with its hash (computed once per check, for the caller's stripe and the
/// table's slot).
#[derive(Debug, Clone, Copy)]
pub struct Key {
    stored: u128,
    hash: u64,
}

impl Key {
    /// `stored`, with its folded-multiply hash.
    #[inline]
    pub fn new(stored: u128) -> Self {
        let product = u128::from(stored as u64) * u128::from((stored >> 64) as u64);
        Self { stored, hash: product as u64 ^ (product >> 64) as u64 }
    }

    /// The key as stored.
    #[inline]
    pub fn stored(self) -> u128 {
        self.stored
    }

    /// Its hash: the table uses the top bits and the low byte; bits 8–31 are free for the
    /// caller.
    #[inline]
    pub fn hash(self) -> u64 {
        self.hash
    }

    /// The home group among `groups`: the hash's top bits, scaled.
    #[inline]
    fn home(self, groups: usize) -> usize {
        ((u128::from(self.hash) * groups as u128) >> 64) as usize
    }

    /// The tag: the hash's low byte, never 0 (0 marks an empty slot).
    #[inline]
    fn tag(self) -> u8 {
        (self.hash as u8).max(1)
    }
}

/// A set of keyed 128-bit keys; the default is empty and holds no allocation.
#[derive(Default)]
pub struct IdTable {
    /// One tag word per group: `tags[g]` holds the tags of slots `g * GROUP ..`, slot `i` in
    /// byte `i`, little-endian.
    tags: Box<[u128]>,
    /// `GROUP` keys per group, slot by slot.
    keys: Box<[u128]>,
    len: usize,
}

impl IdTable {
    /// Whether `key` is in the set.
    #[inline]
    pub fn contains(&self, key: Key) -> bool {
        let groups = self.groups();
        if groups == 0 {
            return false;
        }
        let (tags, keys) = (&self.tags, &self.keys);
        let tag = key.tag();
        let mut group = key.home(groups);
        loop {
            let word = tags[group];
            let mut found = matches(word, tag);
            while found != 0 {
                let slot = group * GROUP + (found.trailing_zeros() / 8) as usize;
                if keys[slot] == key.stored {
                    return true;
                }
                found &= found - 1;
            }
            if empties(word) != 0 {
                return false;
            }
            group = if group + 1 == groups { 0 } else { group + 1 };
        }
    }

    /// Adds `key`; returns whether it was new.
    pub fn insert(&mut self, key: Key) -> bool {
        if self.contains(key) {
            return false;
        }
        if (self.len + 1) * MAX_LOAD.1 > self.slots() * MAX_LOAD.0 {
            let want = (self.len + 1) * GROW_LOAD.1 / GROW_LOAD.0;
            self.rebuild(want.max(self.slots() + GROUP));
        }
        self.place(key);
        true
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        (self.tags.len() + self.keys.len()) * std::mem::size_of::<u128>()
    }

    #[inline]
    fn groups(&self) -> usize {
        self.tags.len()
    }

    fn slots(&self) -> usize {
        self.groups() * GROUP
    }

    /// Keeps only the keys `keep` accepts (given as stored), in a table of the same size (a
    /// rebuild, so no tombstone is left); returns how many were removed.
    pub fn retain(&mut self, keep: impl Fn(u128) -> bool) -> usize {
        let before = self.len;
        self.rebuild_keeping(self.slots(), keep);
        before - self.len
    }

    /// Moves every key into a table of at least `slots` slots.
    fn rebuild(&mut self, slots: usize) {
        self.rebuild_keeping(slots, |_| true);
    }

    /// Moves the keys `keep` accepts into a table of at least `slots` slots.
    fn rebuild_keeping(&mut self, slots: usize, keep: impl Fn(u128) -> bool) {
        let groups = slots.div_ceil(GROUP);
        let old = std::mem::replace(
            self,
            Self {
                tags: vec![0; groups].into_boxed_slice(),
                keys: vec![0; groups * GROUP].into_boxed_slice(),
                len: 0,
            },
        );
        let (tags, keys) = (&old.tags, &old.keys);
        for (group, word) in tags.iter().enumerate() {
            for (byte, tag) in word.to_le_bytes().into_iter().enumerate() {
                let stored = keys[group * GROUP + byte];
                if tag != 0 && keep(stored) {
                    self.place(Key::new(stored));
                }
            }
        }
    }

    /// Puts `key`, known absent, in the first free slot from its home group (one exists).
    fn place(&mut self, key: Key) {
        let groups = self.groups();
        let (tags, keys) = (&mut self.tags, &mut self.keys);
        let mut group = key.home(groups);
        loop {
            let free = empties(tags[group]);
            if free != 0 {
                let byte = free.trailing_zeros() / 8;
                tags[group] |= u128::from(key.tag()) << (byte * 8);
                keys[group * GROUP + byte as usize] = key.stored;
                self.len += 1;
                return;
            }
            group = if group + 1 == groups { 0 } else { group + 1 };
        }
    }
}

/// The high bit of each byte of `word` that is 0, and possibly of bytes above one that is:
/// non-zero exactly when some byte is 0. The lowest set bit is always a true zero byte.
#[inline]
fn empties(word: u128) -> u128 {
    word.wrapping_sub(LOW_BITS) & !word & HIGH_BITS
}

/// The high bit of each byte of `word` equal to `tag` (and possibly of bytes above one that
/// is): every true match is included; the caller compares keys.
#[inline]
fn matches(word: u128, tag: u8) -> u128 {
    empties(word ^ (LOW_BITS * u128::from(tag)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed stand-in for `compact:`'s random per-store seed.
    const SEED: u128 = 0x3c6e_f372_fe94_f82b_a54f_f53a_5f1d_36f1;

    /// Sequential ids keyed as `compact:` keys them: the worst case for spreading.
    fn keys(ids: std::ops::Range<u128>) -> Vec<Key> {
        ids.map(|id| Key::new(id ^ SEED)).collect()
    }

    /// Every key inserted is found at every size it grows through, and no other key is.
    #[test]
    fn exact_through_growth() {
        let mut table = IdTable::default();
        let all = keys(0..40_000);
        let strangers = keys(40_000..80_000);
        for (i, &key) in all.iter().enumerate() {
            assert!(table.insert(key));
            if i.is_power_of_two() {
                assert!(all[..=i].iter().all(|&k| table.contains(k)), "at {i}");
                assert!(!all[i + 1..].iter().chain(&strangers).any(|&k| table.contains(k)));
            }
        }
        assert!(!table.insert(all[7]));
        assert_eq!(table.len(), 40_000);
        assert!(all.iter().all(|&k| table.contains(k)));
        assert!(!strangers.iter().any(|&k| table.contains(k)));
    }

    /// `retain` removes exactly the keys it refuses; the others are still found.
    #[test]
    fn retain_removes_only_refused_keys() {
        let mut table = IdTable::default();
        let all = keys(0..10_000);
        all.iter().for_each(|&key| assert!(table.insert(key)));
        let kept = |stored: u128| stored % 3 != 0;
        let refused = all.iter().filter(|key| !kept(key.stored())).count();
        assert_eq!(table.retain(kept), refused);
        assert_eq!(table.len(), all.len() - refused);
        assert!(all.iter().all(|&key| table.contains(key) == kept(key.stored())));
    }

    /// Keys that share one hash (so one tag and one home group) are all found, and a key
    /// with that hash that was not inserted is not.
    #[test]
    fn colliding_keys_are_found() {
        let mut table = IdTable::default();
        // A low half of 0 gives a product, so a hash, of 0 whatever the high half.
        let same_hash = |i: u128| Key::new(i << 64);
        for i in 0..2_000u128 {
            assert!(table.insert(same_hash(i)));
        }
        assert!((0..2_000u128).all(|i| table.contains(same_hash(i))));
        assert!(!table.contains(same_hash(2_000)));
        assert!(!table.contains(Key::new(1)));
    }

    /// Sequential ids, keyed, spread over the home groups and the tags: no group is the home
    /// of more than 3× the mean, and the tags take most of their 255 values.
    #[test]
    fn keyed_sequential_ids_spread() {
        let all = keys(0..100_000);
        let groups = 100_000 / GROUP; // 16 keys per group on average, as at a load of 1
        let mut per_group = vec![0u32; groups];
        for key in &all {
            per_group[key.home(groups)] += 1;
        }
        let busiest = per_group.iter().max().copied().unwrap_or(0);
        assert!(busiest <= 3 * GROUP as u32, "a home group of {busiest} keys");
        let tags: std::collections::HashSet<u8> = all.iter().map(|k| k.tag()).collect();
        assert!(tags.len() >= 250, "{} distinct tags", tags.len());
    }

    /// A table of 1,000 keys or more stays between 0.7 and 0.875 full as it grows: at most
    /// 17 / 0.7 ≈ 24.3 bytes per key, and every key is still found.
    #[test]
    fn load_stays_high() {
        let mut table = IdTable::default();
        let all = keys(0..100_000);
        for (i, &key) in all.iter().enumerate() {
            table.insert(key);
            let load = table.len() as f64 / table.slots() as f64;
            assert!(i < 1_000 || (0.69..=0.875).contains(&load), "load {load} at {i}");
        }
        assert!(all.iter().all(|&k| table.contains(k)));
        assert!(table.bytes() <= 100_000 * 25, "{} bytes", table.bytes());
    }

    /// An empty table holds no allocation and finds nothing.
    #[test]
    fn empty_table_is_free() {
        let table = IdTable::default();
        assert_eq!((table.bytes(), table.len()), (0, 0));
        assert!(!table.contains(Key::new(SEED)));
    }
}
