//! `memory:` — an in-process moka cache in which each entry expires at its own token's `exp`.
//!
//! The cache is unbounded on purpose: evicting a live entry to make room would silently
//! un-revoke a token.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::future::Cache;
use moka::Expiry;

use crate::revocation::{
    fresh, profile, stored_exp_millis, Capabilities, EntryUnit, Jti, Namespacing, Profile,
    RevocationStore, Scheme, StoreError, StoreStats,
};
use crate::time::now_millis;
use crate::time::UnixSeconds;

/// Expires each entry at the `exp` stored as its value.
struct AtTokenExpiry;

impl Expiry<u128, UnixSeconds> for AtTokenExpiry {
    fn expire_after_create(
        &self,
        _key: &u128,
        exp: &UnixSeconds,
        _at: Instant,
    ) -> Option<Duration> {
        Some(Duration::from_millis(stored_exp_millis(*exp).saturating_sub(now_millis())))
    }
}

/// moka `Cache<u128, exp>` with per-entry expiry.
pub struct MemoryStore {
    cache: Cache<u128, UnixSeconds>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self { cache: Cache::builder().expire_after(AtTokenExpiry).build() }
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

/// The `memory:` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: "memory",
    url_schemes: &["memory"],
    example: "memory:",
    namespacing: Namespacing::InProcess,
    open: fresh::<MemoryStore>,
    profile: Profile {
        summary: "in-process cache of revoked ids (moka), entries leave at `exp`",
        needs: profile::IN_PROCESS,
        when_down: profile::NO_STORE_TO_LOSE,
        unit: EntryUnit::RevokedToken,
    },
};

#[async_trait]
impl RevocationStore for MemoryStore {
    fn name(&self) -> &'static str {
        SCHEME.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: true, expires: true, shared: false }
    }

    async fn revoke(&self, jti: Jti, expires_at: UnixSeconds) -> Result<(), StoreError> {
        self.cache.insert(jti.0, expires_at).await;
        Ok(())
    }

    async fn is_revoked(&self, jti: Jti, _expires_at: UnixSeconds) -> Result<bool, StoreError> {
        // moka checks the entry's expiry on read, so an expired entry is never returned even
        // before its housekeeping removes it.
        Ok(self.cache.contains_key(&jti.0))
    }

    async fn forget_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        let mut removed = 0;
        for (jti, _) in entries {
            removed += u64::from(self.cache.remove(&jti.0).await.is_some());
        }
        Ok(removed)
    }

    /// `entries` is moka's entry count after its pending housekeeping has run (so expired
    /// entries it has noticed are gone); `bytes` is `None`.
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.cache.run_pending_tasks().await;
        Ok(StoreStats { entries: Some(self.cache.entry_count()), bytes: None })
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.cache.invalidate_all();
        self.cache.run_pending_tasks().await;
        Ok(())
    }
}
