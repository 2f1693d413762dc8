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
