//! `exp` as the stores keep it: arithmetic on it that cannot overflow.
//!
//! An `exp` is any `u64` a token can carry. Every backend has a narrower range (PostgreSQL
//! `timestamptz`, BSON dates in `i64` milliseconds, Redis `EXAT` checked against `i64`
//! milliseconds, `SystemTime`), so each store keeps [`stored_exp`] instead: the same instant
//! within 1 AD–9999 AD, and the end of 9999 beyond it. Saturating is safe in the direction
//! that matters: an entry is never kept for less time than its token lives, in any year a
//! clock will show.

use crate::time::UnixSeconds;

/// 9999-12-31T23:59:59Z: the latest `exp` a store keeps exactly.
pub const MAX_STORED_EXP: UnixSeconds = 253_402_300_799;

/// `exp` within `1..=MAX_STORED_EXP` (0 becomes 1: Redis refuses `EXAT 0`, and both are long
/// past).
pub fn stored_exp(exp: UnixSeconds) -> UnixSeconds {
    exp.clamp(1, MAX_STORED_EXP)
}

/// [`stored_exp`] in milliseconds; fits an `i64` with room to spare.
pub fn stored_exp_millis(exp: UnixSeconds) -> u64 {
    stored_exp(exp) * 1000
}

/// `count` values spread over every magnitude of `u64` (a random value shifted right by a
/// random 0..64 bits), from a fixed seed: for property-style tests without a dependency.
#[doc(hidden)]
pub fn sample_u64(seed: u64, count: usize) -> Vec<u64> {
    // splitmix64: tiny, and every seed gives a well-spread sequence.
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..count).map(|_| next() >> (next() % 64)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Edge values and a seeded sample over the whole `u64` range stay in range, keep their
    /// order, and are unchanged inside it.
    #[test]
    fn saturates_over_the_whole_range() {
        let mut values = vec![0, 1, 2, MAX_STORED_EXP - 1, MAX_STORED_EXP, MAX_STORED_EXP + 1];
        values.extend([u32::MAX as u64, i64::MAX as u64 / 1000, i64::MAX as u64, u64::MAX]);
        values.extend(sample_u64(0x5eed, 1000));
        for &exp in &values {
            let stored = stored_exp(exp);
            assert!((1..=MAX_STORED_EXP).contains(&stored), "{exp}");
            assert!(i64::try_from(stored_exp_millis(exp)).is_ok(), "{exp}");
            if (1..=MAX_STORED_EXP).contains(&exp) {
                assert_eq!(stored, exp);
            }
            for &other in &values {
                if exp <= other {
                    assert!(stored <= stored_exp(other), "{exp} {other}");
                }
            }
        }
    }
}
