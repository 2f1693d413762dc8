//! Access tokens: the claims revbench issues and the one way it verifies them.
//!
//! Verification pins the algorithm the server was configured with, so a token whose header
//! says `alg: none` or any other algorithm is refused before its signature is looked at. `exp`
//! and `jti` are required; a token is valid while `now < exp` (no leeway), which is the same
//! instant at which a store may forget its revocation. The server judges `exp` again after the
//! store answered (`AppState::authenticate`), so no revoked token outlives its entry even when
//! the check straddles `exp`.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::jti::Jti;
use crate::time::UnixSeconds;

mod hs256;

/// Environment variable holding the HS256 secret; without it a random one is made per process.
pub const SECRET_ENV: &str = "REVBENCH_JWT_SECRET";

/// The shortest HS256 secret accepted: RFC 7518 §3.2 asks for a key as long as the hash (256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

/// Tokens longer than this are refused before any parsing: ours are about 200 bytes.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// The claims of a revbench access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user the token was issued to.
    pub sub: String,
    /// 128-bit random token id, 32 lowercase hex digits: the key of every revocation store.
    pub jti: String,
    /// Issued at.
    pub iat: UnixSeconds,
    /// Expires at; the token is valid while `now < exp`.
    pub exp: UnixSeconds,
}

/// Why a token was refused. Every variant maps to 401 at the server.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("no token: send it as `Authorization: Bearer <token>` or in the `token` cookie")]
    Missing,
    #[error("token is longer than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    #[error("token has expired")]
    Expired,
    #[error("token has a malformed jti (expected 32 hex digits)")]
    BadJti,
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// Configuration errors for the signing keys.
#[derive(Debug, Error)]
pub enum KeyError {
    #[error(
        "{SECRET_ENV} is {0} bytes; HS256 needs at least {MIN_SECRET_BYTES} \
         (generate one with `openssl rand -hex 32`)"
    )]
    SecretTooShort(usize),
}

/// Which signature algorithm the server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningAlgorithm {
    /// HMAC-SHA256 with a shared secret (the default).
    #[default]
    Hs256,
    /// Ed25519 signatures with a key pair generated per process.
    Eddsa,
}

/// Signs and verifies tokens with one pinned algorithm.
#[derive(Clone)]
pub struct TokenKeys {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// HS256 only: the tokens we issue, checked without jsonwebtoken's general decode.
    fast_path: Option<hs256::Hs256FastPath>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("TokenKeys").field("algorithm", &self.algorithm).finish()
    }
}

impl TokenKeys {
    /// HS256 with the given secret; refuses secrets under [`MIN_SECRET_BYTES`].
    pub fn hs256(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(KeyError::SecretTooShort(secret.len()));
        }
        let mut keys = Self::new(
            Algorithm::HS256,
            EncodingKey::from_secret(secret),
            DecodingKey::from_secret(secret),
        );
        // The header segment exactly as `sign` writes it.
        let probe = Claims { sub: String::new(), jti: String::new(), iat: 0, exp: 0 };
        let signed = keys.sign(&probe);
        let header = signed.split('.').next().expect("a signed token has a header segment");
        keys.fast_path = Some(hs256::Hs256FastPath::new(secret, header));
        Ok(keys)
    }

    /// HS256 with the secret from [`SECRET_ENV`], or a random 32-byte secret when it is unset.
    pub fn hs256_from_env() -> Result<Self, KeyError> {
        match std::env::var_os(SECRET_ENV) {
            Some(secret) => Self::hs256(secret.as_encoded_bytes()),
            None => Self::hs256(&random_bytes::<32>()),
        }
    }

    /// EdDSA (Ed25519) with a key pair made from `seed`.
    pub fn eddsa(seed: [u8; 32]) -> Self {
        let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        Self::new(
            Algorithm::EdDSA,
            EncodingKey::from_ed_der(&ed25519_pkcs8(&seed)),
            DecodingKey::from_ed_der(&public),
        )
    }

    /// EdDSA with a random key pair.
    pub fn eddsa_random() -> Self {
        Self::eddsa(random_bytes::<32>())
    }

    /// Keys for `algorithm`, HS256 reading [`SECRET_ENV`].
    pub fn for_algorithm(algorithm: SigningAlgorithm) -> Result<Self, KeyError> {
        match algorithm {
            SigningAlgorithm::Hs256 => Self::hs256_from_env(),
            SigningAlgorithm::Eddsa => Ok(Self::eddsa_random()),
        }
    }

    fn new(algorithm: Algorithm, encoding: EncodingKey, decoding: DecodingKey) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.algorithms = vec![algorithm];
        validation.leeway = 0;
        // `exp` must be present (below, and `Claims::exp` is not optional), but its check is
        // done in `verify` against the caller's clock so one `now` decides everything.
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp".to_string()].into_iter().collect();
        Self { algorithm, encoding, decoding, validation, fast_path: None }
    }

    /// The pinned algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Issues a token for `sub` that lives `ttl_secs` seconds from `now`.
    pub fn issue(&self, sub: &str, now: UnixSeconds, ttl_secs: u64) -> (String, Claims) {
        self.issue_with_jti(sub, now, ttl_secs, Jti::random())
    }

    /// [`issue`](Self::issue) with a given `jti` (a refresh-token family's access token
    /// carries its family in it, see `revocation::strategies::refresh`).
    pub fn issue_with_jti(
        &self,
        sub: &str,
        now: UnixSeconds,
        ttl_secs: u64,
        jti: Jti,
    ) -> (String, Claims) {
        let claims = Claims {
            sub: sub.to_string(),
            jti: jti.to_string(),
            iat: now,
            // Saturates: a ttl too long for the clock means "never", not a panic.
            exp: now.saturating_add(ttl_secs),
        };
        (self.sign(&claims), claims)
    }

    /// Signs arbitrary claims with this key (tests use it to make expired tokens).
    pub fn sign(&self, claims: &Claims) -> String {
        jsonwebtoken::encode(&Header::new(self.algorithm), claims, &self.encoding)
            .expect("claims of plain strings and integers always serialize")
    }

    /// Verifies signature, algorithm, `exp` (against `now`) and the shape of `jti`.
    ///
    /// An HS256 token of exactly the shape we issue takes a fast path; every other input, and
    /// every refusal, goes through [`verify_full`](Self::verify_full), so the answer is the
    /// same for every input (the tests and the fuzz target compare the two).
    pub fn verify(&self, token: &str, now: UnixSeconds) -> Result<(Claims, Jti), TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        match self.fast_path.as_ref().and_then(|fast| fast.verify(token)) {
            Some(claims) => check_claims(claims, now),
            None => self.verify_full(token, now),
        }
    }

    /// [`verify`](Self::verify) through jsonwebtoken's general decode only: the reference the
    /// fast path is held to.
    pub fn verify_full(&self, token: &str, now: UnixSeconds) -> Result<(Claims, Jti), TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::TooLarge);
        }
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        check_claims(data.claims, now)
    }
}

/// The checks after the signature: `exp` against `now`, the shape of `jti`.
fn check_claims(claims: Claims, now: UnixSeconds) -> Result<(Claims, Jti), TokenError> {
    // `exp` is the first instant the token is dead, which is also when stores drop it.
    if claims.exp <= now {
        return Err(TokenError::Expired);
    }
    let jti = claims.jti.parse().map_err(|_| TokenError::BadJti)?;
    Ok((claims, jti))
}

/// A short, non-reversible tag for a token, safe to log (never log the token itself).
pub fn fingerprint(token: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    token.hash(&mut hasher);
    format!("{:08x}", hasher.finish() as u32)
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// Wraps an Ed25519 seed in the PKCS#8 v1 envelope of RFC 8410 §7, which jsonwebtoken reads.
fn ed25519_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    const PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let mut der = PREFIX.to_vec();
    der.extend_from_slice(seed);
    der
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::now_secs;

    fn keys() -> TokenKeys {
        TokenKeys::hs256(&[7u8; 32]).unwrap()
    }

    /// A freshly issued token verifies and yields its own claims and jti.
    #[test]
    fn issued_token_verifies() {
        let now = now_secs();
        for keys in [keys(), TokenKeys::eddsa_random()] {
            let (token, claims) = keys.issue("alice", now, 60);
            let (verified, jti) = keys.verify(&token, now).unwrap();
            assert_eq!(verified, claims);
            assert_eq!(jti.to_string(), claims.jti);
        }
    }

    /// Secrets shorter than 32 bytes are refused with a message naming the fix.
    #[test]
    fn short_secret_refused() {
        let err = TokenKeys::hs256(b"too short").unwrap_err();
        assert!(err.to_string().contains("at least 32"), "{err}");
    }

    /// A token is dead from the second of its `exp` on, with no leeway.
    #[test]
    fn expired_at_exp() {
        let keys = keys();
        let (token, claims) = keys.issue("bob", 1_000, 10);
        assert!(keys.verify(&token, claims.exp - 1).is_ok());
        assert_eq!(keys.verify(&token, claims.exp).unwrap_err(), TokenError::Expired);
    }

    /// A token signed with another algorithm or key is refused.
    #[test]
    fn other_algorithm_or_key_refused() {
        let now = now_secs();
        let (token, _) = TokenKeys::eddsa_random().issue("eve", now, 60);
        assert!(matches!(keys().verify(&token, now), Err(TokenError::Invalid(_))));
        let (token, _) = TokenKeys::hs256(&[8u8; 32]).unwrap().issue("eve", now, 60);
        assert!(matches!(keys().verify(&token, now), Err(TokenError::Invalid(_))));
    }

    /// Fingerprints are short, stable for one token and differ between tokens.
    #[test]
    fn fingerprint_is_short_and_distinct() {
        let now = now_secs();
        let (a, _) = keys().issue("carol", now, 60);
        let (b, _) = keys().issue("carol", now, 60);
        assert_eq!(fingerprint(&a).len(), 8);
        assert_eq!(fingerprint(&a), fingerprint(&a));
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
