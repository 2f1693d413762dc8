//! A flat open-addressing set of 128-bit keys, at about 19–22 bytes per key: the partition of
//! `compact:`.
//!
//! - **Two flat arrays**: the keys (`u128`) and, beside them, one tag byte per slot (`0` for an
//!   empty slot, else 8 bits of the key). Tags are read 16 at a time (one `u128` word, so a
//!   group never straddles a cache line): a miss usually reads one group of tags and no key.
//! - **Keys must already be spread** (a seeded bijection, as `compact:` stores them): the low
//!   64 bits pick the home group by a multiply-shift (any number of groups, not only powers of
//!   two), the top 8 bits are the tag.
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

/// A set of spread 128-bit keys.
#[derive(Default)]
pub struct IdTable {
    /// `tags[g]` holds the tags of slots `g * GROUP ..`, slot `i` in byte `i` (little-endian).
    tags: Box<[u128]>,
    keys: Box<[u128]>,
    len: usize,
}

impl IdTable {
    /// Whether `key` is in the set.
    #[inline]
    pub fn contains(&self, key: u128) -> bool {
        let groups = self.tags.len();
        if groups == 0 {
            return false;
        }
        let tag = tag_of(key);
        let mut group = home(key, groups);
        loop {
            let word = self.tags[group];
            let mut found = matches(word, tag);
            while found != 0 {
                let slot = group * GROUP + (found.trailing_zeros() / 8) as usize;
                if self.keys[slot] == key {
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
    pub fn insert(&mut self, key: u128) -> bool {
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

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        self.tags.len() * std::mem::size_of::<u128>() * (1 + GROUP)
    }

    fn slots(&self) -> usize {
        self.tags.len() * GROUP
    }

    /// Keeps only the keys `keep` accepts, in a table of the same size (a rebuild, so no
    /// tombstone is left); returns how many were removed.
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
        for (group, word) in old.tags.iter().enumerate() {
            for (byte, tag) in word.to_le_bytes().into_iter().enumerate() {
                let key = old.keys[group * GROUP + byte];
                if tag != 0 && keep(key) {
                    self.place(key);
                }
            }
        }
    }

    /// Puts `key`, known absent, in the first free slot from its home group (one exists).
    fn place(&mut self, key: u128) {
        let groups = self.tags.len();
        let mut group = home(key, groups);
        loop {
            let free = empties(self.tags[group]);
            if free != 0 {
                let byte = free.trailing_zeros() / 8;
                self.tags[group] |= u128::from(tag_of(key)) << (byte * 8);
                self.keys[group * GROUP + byte as usize] = key;
                self.len += 1;
                return;
            }
            group = if group + 1 == groups { 0 } else { group + 1 };
        }
    }
}

/// The home group of `key` among `groups`: its low 64 bits, scaled.
#[inline]
fn home(key: u128, groups: usize) -> usize {
    ((u128::from(key as u64) * groups as u128) >> 64) as usize
}

/// The tag of `key`: its top 8 bits, never 0 (0 marks an empty slot).
#[inline]
fn tag_of(key: u128) -> u8 {
    ((key >> 120) as u8).max(1)
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
    use crate::jti::Jti;

    fn keys(n: usize) -> Vec<u128> {
        (0..n as u128).map(|i| Jti(i).spread(42)).collect()
    }

    /// Every key inserted is found at every size it grows through, and no other key is.
    #[test]
    fn exact_through_growth() {
        let mut table = IdTable::default();
        let all = keys(40_000);
        for (i, &key) in all.iter().enumerate() {
            assert!(table.insert(key));
            if i.is_power_of_two() {
                assert!(all[..=i].iter().all(|&k| table.contains(k)), "at {i}");
            }
        }
        assert!(!table.insert(all[7]));
        assert_eq!(table.len(), 40_000);
        assert!(all.iter().all(|&k| table.contains(k)));
        assert!((40_000..80_000u128).all(|i| !table.contains(Jti(i).spread(42))));
    }

    /// `retain` removes exactly the keys it refuses; the others are still found.
    #[test]
    fn retain_removes_only_refused_keys() {
        let mut table = IdTable::default();
        let all = keys(10_000);
        all.iter().for_each(|&key| assert!(table.insert(key)));
        let refused = all.iter().filter(|&&key| key % 3 == 0).count();
        assert_eq!(table.retain(|key| key % 3 != 0), refused);
        assert_eq!(table.len(), all.len() - refused);
        assert!(all.iter().all(|&key| table.contains(key) == (key % 3 != 0)));
    }

    /// Keys that share tags and home groups (only their middle bits differ) are all found.
    #[test]
    fn colliding_keys_are_found() {
        let mut table = IdTable::default();
        for i in 0..5_000u128 {
            assert!(table.insert(i << 64));
        }
        assert!((0..5_000u128).all(|i| table.contains(i << 64)));
        assert!(!table.contains(5_000 << 64));
        assert!(!table.contains(1));
    }

    /// A table of 1,000 keys or more stays between 0.7 and 0.875 full as it grows: at most 17 / 0.7 ≈ 24.3 bytes per
    /// key, and every key is still found.
    #[test]
    fn load_stays_high() {
        let mut table = IdTable::default();
        let all = keys(100_000);
        for (i, &key) in all.iter().enumerate() {
            table.insert(key);
            let load = table.len() as f64 / table.slots() as f64;
            assert!(i < 1_000 || (0.69..=0.875).contains(&load), "load {load} at {i}");
        }
        assert!(all.iter().all(|&k| table.contains(k)));
        assert!(table.bytes() <= 100_000 * 25, "{} bytes", table.bytes());
    }
}
