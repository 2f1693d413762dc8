//! `naive:` — a plain in-process set that never forgets: what many first implementations do.
//! It grows by one entry per logout for as long as the process lives.

use std::collections::HashSet;
use std::sync::RwLock;

use async_trait::async_trait;

use crate::lock::RwLockExt;
use crate::revocation::{
    fresh, profile, Capabilities, EntryUnit, Jti, Namespacing, Profile, RevocationStore, Scheme,
    StoreError, StoreStats,
};
use crate::time::UnixSeconds;

/// `HashSet<u128>` behind a lock; `expires_at` is ignored.
#[derive(Debug, Default)]
pub struct NaiveStore {
    // A std RwLock: the critical sections are a hash lookup or insert, never held across an
    // await, so an async lock would only add cost.
    revoked: RwLock<HashSet<u128>>,
}

/// The `naive:` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: "naive",
    url_schemes: &["naive"],
    example: "naive:",
    namespacing: Namespacing::InProcess,
    open: fresh::<NaiveStore>,
    profile: Profile {
        summary: "in-process set of revoked ids, never forgets",
        needs: profile::IN_PROCESS,
        when_down: profile::NO_STORE_TO_LOSE,
        unit: EntryUnit::RevokedToken,
    },
};

#[async_trait]
impl RevocationStore for NaiveStore {
    fn name(&self) -> &'static str {
        SCHEME.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: true, expires: false, shared: false }
    }

    async fn revoke(&self, jti: Jti, _expires_at: UnixSeconds) -> Result<(), StoreError> {
        self.revoked.write_locked().insert(jti.0);
        Ok(())
    }

    fn is_revoked_now(&self, jti: Jti, _expires_at: UnixSeconds) -> Option<bool> {
        Some(self.revoked.read_locked().contains(&jti.0))
    }

    async fn forget_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        let mut revoked = self.revoked.write_locked();
        Ok(entries.iter().filter(|(jti, _)| revoked.remove(&jti.0)).count() as u64)
    }

    /// `entries` is the set's length; `bytes` is `None` (measure the process instead).
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        let len = self.revoked.read_locked().len();
        Ok(StoreStats { entries: Some(len as u64), bytes: None })
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.revoked.write_locked().clear();
        Ok(())
    }
}
