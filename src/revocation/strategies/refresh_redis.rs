//! `refresh+redis://host:port/db?access=30s&refresh=1h&prefix=P` — short-lived access tokens
//! with refresh-token rotation ([`crate::revocation::strategies::refresh`]), the families kept in Redis so every
//! replica sharing the URL sees one truth.
//!
//! Keys (under the prefix):
//! - `t:<sha256 of the refresh token>` → state (`L` live / `U` used), family id, user;
//!   expires with the token (`EXAT` its `exp`). Used tokens are kept until then, so their
//!   reuse is recognised.
//! - `f:<family>` → user; exists while the family is alive, expires with its newest token.
//!
//! Writes: login sets 2 keys (one `MULTI`); a rotation 3 (one `EVAL`: old token marked used,
//! new token, family extended); a reuse deletes the family (1); logout deletes the family (1).
//! The rotation's script runs atomically on Redis, so two rotations of one token are ordered:
//! the first rotates, the second finds a used token and revokes the family. Keys are built in
//! the script from the prefix, so this strategy needs one Redis (not a cluster).
//!
//! `access=` (default: the server's `--token-ttl`) and `refresh=` (default 1h) are durations
//! such as `30s`, `15m`. `stats()` is the keys under the prefix and `used_memory`.

use std::time::Duration;

use async_trait::async_trait;

use crate::revocation::strategies::refresh::{
    new_refresh_token, token_hash, FamilyId, Grant, RefreshTokens, Rotation,
};
use crate::revocation::url_params::StoreUrl;
use crate::revocation::{
    opener, stored_exp, Capabilities, EntryUnit, Namespacing, Profile, RedisStore, RevocationStore,
    Scheme, StoreError, StoreStats, TokenFacts,
};
use crate::time::UnixSeconds;

/// Key prefix used when the URL sets none.
const DEFAULT_PREFIX: &str = "revbench:refresh:";
/// Refresh-token lifetime when the URL sets none.
const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(3600);
const BACKEND: &str = "refresh-redis";

/// KEYS: old token, new token. ARGV: family key prefix, new token's `exp`.
/// Returns `""` (refused), `R<n>` (reuse: n family keys deleted) or `O<family><sub>`.
const ROTATE: &str = "local v = redis.call('GET', KEYS[1]) \
    if not v then return '' end \
    local family = ARGV[1] .. string.sub(v, 2, 17) \
    if string.sub(v, 1, 1) == 'U' then return 'R' .. redis.call('DEL', family) end \
    if redis.call('EXISTS', family) == 0 then return '' end \
    local rest = string.sub(v, 2) \
    redis.call('SET', KEYS[1], 'U' .. rest, 'KEEPTTL') \
    redis.call('SET', KEYS[2], 'L' .. rest, 'EXAT', ARGV[2]) \
    redis.call('SET', family, string.sub(v, 18), 'EXAT', ARGV[2]) \
    return 'O' .. rest";

/// Keys a rotation writes (old token, new token, family).
const ROTATION_WRITES: u64 = 3;
/// Keys a login writes (token, family).
const LOGIN_WRITES: u64 = 2;

/// The `refresh+redis://` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: BACKEND,
    url_schemes: &["refresh+redis"],
    example: "refresh+redis://host:port/db",
    namespacing: Namespacing::KeyPrefix,
    open: opener!(RefreshRedisStore::connect),
    profile: Profile {
        summary: "short-lived access tokens, not checked; refresh tokens rotated in Redis, a \
                  reused one revokes its login's family; logout revokes the family",
        needs: "Redis",
        when_down: "access tokens keep working until `exp` (no check); login, refresh and \
                    logout fail closed (503)",
        unit: EntryUnit::RefreshToken,
    },
};

/// Refresh-token families in Redis.
pub struct RefreshRedisStore {
    redis: RedisStore,
    access_ttl: Option<Duration>,
    refresh_ttl: Duration,
}

impl RefreshRedisStore {
    /// Connects and checks the server answers.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut parsed = StoreUrl::parse(url.strip_prefix("refresh+").unwrap_or(url))?;
        let mut lifetime = |name: &str| -> Result<Option<Duration>, StoreError> {
            match parsed.take(name) {
                None => Ok(None),
                Some(raw) => match crate::time::parse_duration(&raw) {
                    Ok(d) if d >= Duration::from_secs(1) => Ok(Some(d)),
                    Ok(_) => Err(parsed.bad(format!("`{name}={raw}` must be at least 1s"))),
                    Err(e) => Err(parsed.bad(format!("parameter `{name}`: {e}"))),
                },
            }
        };
        let access_ttl = lifetime("access")?;
        let refresh_ttl = lifetime("refresh")?.unwrap_or(DEFAULT_REFRESH_TTL);
        let redis = RedisStore::connect_parsed(parsed, DEFAULT_PREFIX).await?;
        Ok(Self { redis, access_ttl, refresh_ttl })
    }

    fn token_key(&self, raw: &str) -> String {
        format!("{}t:{}", self.redis.prefix(), token_hash(raw))
    }

    fn family_key(&self, family: FamilyId) -> String {
        format!("{}f:{family}", self.redis.prefix())
    }

    fn refresh_exp(&self, now: UnixSeconds) -> UnixSeconds {
        stored_exp(now.saturating_add(self.refresh_ttl.as_secs()))
    }
}

/// Parses the rotation script's answer. An answer the script never gives is a store error
/// (503, counted), not a refused token: it would mean the script or Redis misbehaved.
fn rotation(
    answer: &str,
    refresh_token: String,
    refresh_exp: UnixSeconds,
) -> Result<Rotation, StoreError> {
    let malformed =
        || StoreError::backend(BACKEND, format!("unexpected rotation answer {answer:?}"));
    if answer.is_empty() {
        return Ok(Rotation::Refused);
    }
    if let Some(deleted) = answer.strip_prefix('R') {
        let writes = deleted.parse().map_err(|_| malformed())?;
        return Ok(Rotation::Reused { writes });
    }
    let rest = answer.strip_prefix('O').ok_or_else(malformed)?;
    // 16 hex digits of family, then the user (never empty: the server issues no empty `sub`).
    // `get`, not `split_at`: a non-ASCII answer must not panic the handler.
    let (Some(family), Some(sub)) = (rest.get(..16), rest.get(16..)) else {
        return Err(malformed());
    };
    let family = match u64::from_str_radix(family, 16) {
        Ok(family) if !sub.is_empty() => family,
        _ => return Err(malformed()),
    };
    Ok(Rotation::Rotated {
        sub: sub.to_string(),
        grant: Grant {
            family: FamilyId(family),
            refresh_token,
            refresh_exp,
            writes: ROTATION_WRITES,
        },
    })
}

#[async_trait]
impl RefreshTokens for RefreshRedisStore {
    fn access_ttl(&self) -> Option<Duration> {
        self.access_ttl
    }

    fn refresh_ttl(&self) -> Duration {
        self.refresh_ttl
    }

    async fn start(&self, sub: &str, now: UnixSeconds) -> Result<Grant, StoreError> {
        let (family, refresh_token) = (FamilyId::random(), new_refresh_token());
        let refresh_exp = self.refresh_exp(now);
        redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(self.token_key(&refresh_token))
            .arg(format!("L{family}{sub}"))
            .arg("EXAT")
            .arg(refresh_exp)
            .ignore()
            .cmd("SET")
            .arg(self.family_key(family))
            .arg(sub)
            .arg("EXAT")
            .arg(refresh_exp)
            .ignore()
            .query_async::<()>(&mut self.redis.connection())
            .await
            .map_err(|e| StoreError::backend(BACKEND, e))?;
        Ok(Grant { family, refresh_token, refresh_exp, writes: LOGIN_WRITES })
    }

    async fn rotate(&self, raw: &str, now: UnixSeconds) -> Result<Rotation, StoreError> {
        let (next, refresh_exp) = (new_refresh_token(), self.refresh_exp(now));
        // EVAL rather than redis::Script: the crate's `script` feature would add a SHA-1 crate.
        let answer: String = redis::cmd("EVAL")
            .arg(ROTATE)
            .arg(2)
            .arg(self.token_key(raw))
            .arg(self.token_key(&next))
            .arg(format!("{}f:", self.redis.prefix()))
            .arg(refresh_exp)
            .query_async(&mut self.redis.connection())
            .await
            .map_err(|e| StoreError::backend(BACKEND, e))?;
        rotation(&answer, next, refresh_exp)
    }
}

#[async_trait]
impl RevocationStore for RefreshRedisStore {
    fn name(&self) -> &'static str {
        BACKEND
    }

    /// Keeps no token ids: `revoke` and `is_revoked` are the trait's no-op defaults, as for
    /// `none:`.
    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: false, expires: true, shared: true }
    }

    /// No check: an access token is good until its `exp`.
    async fn is_refused(&self, _token: TokenFacts<'_>) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// Revokes the family of the token (one `DEL`); its access tokens live until `exp`.
    async fn log_out(&self, token: TokenFacts<'_>) -> Result<(), StoreError> {
        redis::cmd("DEL")
            .arg(self.family_key(FamilyId::of(token.jti)))
            .query_async::<()>(&mut self.redis.connection())
            .await
            .map_err(|e| StoreError::backend(BACKEND, e))
    }

    fn refresh_tokens(&self) -> Option<&dyn RefreshTokens> {
        Some(self)
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.redis.stats().await
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.redis.health().await
    }

    async fn server_version(&self) -> Option<String> {
        self.redis.server_version().await
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.redis.clear().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The script's three answers parse (an empty one is a refusal).
    #[test]
    fn rotation_answers_parse() {
        assert_eq!(rotation("", "n".into(), 9).unwrap(), Rotation::Refused);
        assert_eq!(rotation("R1", "n".into(), 9).unwrap(), Rotation::Reused { writes: 1 });
        let Ok(Rotation::Rotated { sub, grant }) = rotation("O00000000000000ffa:b", "n".into(), 9)
        else {
            panic!("not rotated")
        };
        assert_eq!((sub.as_str(), grant.family, grant.writes), ("a:b", FamilyId(255), 3));
    }

    /// Answers the script never gives are store errors (503), not a refused token (401): a
    /// misbehaving store must not look like a revoked session.
    #[test]
    fn malformed_rotation_answers_are_store_errors() {
        let answers = [
            "Ozz",
            "O00000000000000ff",
            "Rx",
            "R",
            "X",
            "Ozzzzzzzzzzzzzzzza:b",
            "O000000000000000é",
        ];
        for answer in answers {
            let error = rotation(answer, "n".into(), 9).unwrap_err();
            assert!(error.to_string().contains("unexpected rotation answer"), "{answer}: {error}");
        }
    }
}
