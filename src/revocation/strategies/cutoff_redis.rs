//! `cutoff+redis://host:port/db?prefix=P` — the per-user cut-off of [`crate::revocation::in_process::cutoff`], shared
//! through Redis: one key per user who logged out, `SET P<sub> <not_before> EXAT
//! <keep_until>`, read with one `GET` per request (the same round trip as the `redis://`
//! deny-list, keyed by user instead of token).
//!
//! Logout raises the user's key atomically (a script keeps the later of the stored and the new
//! cut-off: a logout of an old token must not lower one that a newer token's logout set).
//! `stats()` is `DBSIZE` and `used_memory`, as for `redis://`.

use async_trait::async_trait;

use crate::revocation::in_process::cutoff::Cutoff;
use crate::revocation::url_params::StoreUrl;

use crate::revocation::{
    opener, profile, Capabilities, EntryUnit, Namespacing, Profile, RedisStore, RevocationStore,
    Scheme, StoreError, StoreStats, TokenFacts,
};
use crate::time::{now_secs, UnixSeconds};

/// Key prefix used when the URL sets none.
const DEFAULT_PREFIX: &str = "revbench:cutoff:";
const BACKEND: &str = "cutoff-redis";

/// Sets the user's cut-off to `ARGV[1]` (expiring at `ARGV[2]`) unless it is already later.
const RAISE: &str = "local current = tonumber(redis.call('GET', KEYS[1]) or '0') \
    if tonumber(ARGV[1]) > current then \
    redis.call('SET', KEYS[1], ARGV[1], 'EXAT', ARGV[2]) end";

/// The `cutoff+redis://` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: BACKEND,
    url_schemes: &["cutoff+redis"],
    example: "cutoff+redis://host:port/db",
    namespacing: Namespacing::KeyPrefix,
    open: opener!(CutoffRedisStore::connect),
    profile: Profile {
        summary: "per-user cut-off in Redis: one `GET` by user per request",
        needs: "Redis",
        when_down: profile::FAILS_CLOSED,
        unit: EntryUnit::LoggedOutUser,
    },
};

/// Per-user cut-offs in Redis.
pub struct CutoffRedisStore {
    redis: RedisStore,
}

impl CutoffRedisStore {
    /// Connects and checks the server answers.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let parsed = StoreUrl::parse(url.strip_prefix("cutoff+").unwrap_or(url))?;
        Ok(Self { redis: RedisStore::connect_parsed(parsed, DEFAULT_PREFIX).await? })
    }

    fn key(&self, sub: &str) -> String {
        format!("{}{sub}", self.redis.prefix())
    }

    /// The user's live cut-off (`not_before`), if any.
    async fn not_before(&self, sub: &str) -> Result<Option<UnixSeconds>, StoreError> {
        redis::cmd("GET")
            .arg(self.key(sub))
            .query_async(&mut self.redis.connection())
            .await
            .map_err(|e| StoreError::backend(BACKEND, e))
    }
}

#[async_trait]
impl RevocationStore for CutoffRedisStore {
    fn name(&self) -> &'static str {
        BACKEND
    }

    /// Keeps no token ids: `revoke` and `is_revoked` are the trait's no-op defaults (see
    /// [`crate::revocation::in_process::cutoff`]'s contract).
    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: false, expires: true, shared: true }
    }

    /// One `GET` of the user's key; Redis drops it at `keep_until`.
    async fn is_refused(&self, token: TokenFacts<'_>) -> Result<bool, StoreError> {
        Ok(self.not_before(token.sub).await?.is_some_and(|not_before| token.iat < not_before))
    }

    async fn log_out(&self, token: TokenFacts<'_>) -> Result<(), StoreError> {
        let cutoff = Cutoff::at_logout(&token, now_secs());
        // EVAL rather than redis::Script: the crate's `script` feature would add a SHA-1 crate.
        redis::cmd("EVAL")
            .arg(RAISE)
            .arg(1)
            .arg(self.key(token.sub))
            .arg(cutoff.not_before)
            .arg(crate::revocation::expiry::stored_exp(cutoff.keep_until))
            .query_async::<()>(&mut self.redis.connection())
            .await
            .map_err(|e| StoreError::backend(BACKEND, e))
    }

    async fn issue_at(&self, sub: &str, now: UnixSeconds) -> Result<UnixSeconds, StoreError> {
        Ok(self.not_before(sub).await?.map_or(now, |not_before| not_before.max(now)))
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
