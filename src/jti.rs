//! The token id every store is keyed by.

use std::fmt;
use std::str::FromStr;

use rand::RngCore;

/// A 128-bit token id. Printed and parsed as exactly 32 lowercase hex digits, which is how it
/// appears in the `jti` claim; in-process stores keep the integer itself (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Jti(pub u128);

impl Jti {
    /// A fresh random id (128 bits from the thread-local CSPRNG).
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        Jti(u128::from_le_bytes(bytes))
    }
}

impl Jti {
    /// The id through a bijection of its 128 bits (xor with `seed`, odd multiply, xor-shift,
    /// odd multiply) that spreads any set of ids evenly, sequential ones included: for layouts
    /// that address by some of the bits (a sorted run's directory, Redis sub-buckets). One
    /// `seed` gives one bijection, so nothing is lost: distinct ids stay distinct.
    pub fn spread(self, seed: u128) -> u128 {
        const M1: u128 = 0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835;
        const M2: u128 = 0xd6e8_feb8_6659_fd93_2f2f_ea2b_1a8f_5a6b;
        let mut x = (self.0 ^ seed).wrapping_mul(M1);
        x ^= x >> 64;
        x.wrapping_mul(M2)
    }
}

impl fmt::Display for Jti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// The jti was not 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadJti;

impl FromStr for Jti {
    type Err = BadJti;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let canonical = s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !canonical {
            return Err(BadJti);
        }
        u128::from_str_radix(s, 16).map(Jti).map_err(|_| BadJti)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `spread` is a bijection (ids that differ in one bit or in one place stay distinct) and
    /// spreads sequential ids over the top bits.
    #[test]
    fn spread_keeps_ids_apart_and_spreads_them() {
        let mut seen = std::collections::HashSet::new();
        for i in 1..4096u128 {
            assert!(seen.insert(Jti(i).spread(7)));
            assert!(seen.insert(Jti(i << 100).spread(7)));
        }
        let tops: std::collections::HashSet<u128> =
            (0..4096u128).map(|i| Jti(i).spread(0) >> 120).collect();
        assert!(tops.len() > 200, "{} distinct top bytes", tops.len());
    }

    /// Display and parse round-trip, and only the canonical form parses.
    #[test]
    fn round_trip_and_strict_parse() {
        let jti = Jti::random();
        assert_eq!(jti.to_string().parse::<Jti>().unwrap(), jti);
        assert_eq!(Jti(1).to_string(), "00000000000000000000000000000001");
        for bad in ["", "1", "+0000000000000000000000000000001", "G0000000000000000000000000000000"]
        {
            assert!(bad.parse::<Jti>().is_err(), "{bad}");
        }
        assert!("ABCDEF00000000000000000000000000".parse::<Jti>().is_err());
    }

    /// Two random ids differ.
    #[test]
    fn random_ids_differ() {
        assert_ne!(Jti::random(), Jti::random());
    }
}
