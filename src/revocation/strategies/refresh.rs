//! Short-lived access tokens with refresh-token rotation: the vocabulary every refresh-token
//! strategy shares ([`RefreshTokens`]), whatever keeps its families.
//!
//! # Contract
//!
//! - Access tokens are **not checked** per request (`is_refused` answers `false` with no I/O):
//!   a copied access token keeps working until its `exp`, so the replay window after a logout
//!   is up to the access lifetime.
//! - `/login` starts a *family*: one refresh token, kept server-side by its SHA-256 only (the
//!   raw token is never stored), with the family id and the user.
//! - [`RefreshTokens::rotate`] trades a live refresh token for a new one (the old one is dead
//!   from then on). Presenting a dead one again is *reuse*: the whole family is revoked (OAuth
//!   2.0 Security BCP, RFC 9700 §4.14.2), and its newest refresh token stops working too.
//! - Two concurrent rotations of one token: exactly one wins (the rotation is one atomic step
//!   in the store); the other is a reuse of a token that just died, so it revokes the family
//!   (strict BCP: no grace period). The winner's access token works until its `exp`.
//! - Logout (`log_out`) revokes the family of the access token presented: the family id is the
//!   first 64 bits of the access token's `jti` ([`access_jti`]), so logout needs neither an
//!   extra claim nor a lookup.
//! - A store that cannot answer fails closed: login and rotation answer 503; access tokens
//!   already issued keep working until `exp` (no check touches the store).

use std::time::Duration;

use async_trait::async_trait;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::revocation::{Jti, StoreError};
use crate::time::UnixSeconds;

/// A family of refresh tokens: every token rotated from one login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FamilyId(pub u64);

impl FamilyId {
    pub fn random() -> Self {
        FamilyId(rand::rng().next_u64())
    }

    /// The family an access token belongs to (the first 64 bits of its `jti`).
    pub fn of(jti: Jti) -> Self {
        FamilyId((jti.0 >> 64) as u64)
    }
}

impl std::fmt::Display for FamilyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// An access token id for `family`: the family id, then 64 random bits.
pub fn access_jti(family: FamilyId) -> Jti {
    Jti(((family.0 as u128) << 64) | rand::rng().next_u64() as u128)
}

/// A new raw refresh token: 256 random bits as 64 hex digits. Only its [`token_hash`] is kept.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// What the store keeps instead of the raw token: its SHA-256, as 64 hex digits.
pub fn token_hash(raw: &str) -> String {
    hex(&Sha256::digest(raw.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// What a login or a successful rotation hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub family: FamilyId,
    /// The raw refresh token, for the client only.
    pub refresh_token: String,
    /// When the refresh token dies.
    pub refresh_exp: UnixSeconds,
    /// Store writes (keys set or deleted) this operation made, for the server's counters.
    pub writes: u64,
}

/// The answer to a rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live: here is its successor, for `sub`.
    Rotated { sub: String, grant: Grant },
    /// Unknown, expired, or of a family already revoked: refused, nothing changed.
    Refused,
    /// The token had already been rotated: the whole family is now revoked.
    Reused { writes: u64 },
}

/// Refresh-token rotation, for the strategies that issue refresh tokens
/// ([`RevocationStore::refresh_tokens`](crate::revocation::RevocationStore::refresh_tokens)).
#[async_trait]
pub trait RefreshTokens: Send + Sync {
    /// Lifetime of access tokens when the store URL sets one (`access=`); the server's token
    /// lifetime otherwise.
    fn access_ttl(&self) -> Option<Duration>;

    /// Lifetime of each refresh token (`refresh=`), counted from its issue (each rotation
    /// starts a new one).
    fn refresh_ttl(&self) -> Duration;

    /// Starts a family for `sub` at login.
    async fn start(&self, sub: &str, now: UnixSeconds) -> Result<Grant, StoreError>;

    /// Trades `raw` for its successor (see the module's contract).
    async fn rotate(&self, raw: &str, now: UnixSeconds) -> Result<Rotation, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The family survives the trip through an access token's jti; tokens and hashes have
    /// their documented shape.
    #[test]
    fn family_rides_in_the_jti() {
        let family = FamilyId::random();
        let (a, b) = (access_jti(family), access_jti(family));
        assert_eq!((FamilyId::of(a), FamilyId::of(b)), (family, family));
        assert_ne!(a, b, "each access token has its own jti");
        let raw = new_refresh_token();
        assert_eq!(raw.len(), 64);
        assert_eq!(token_hash(&raw).len(), 64);
        assert_ne!(token_hash(&raw), raw);
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
