//! `none:` — no revocation list at all. Logout only expires the cookie, so a copied token
//! stays usable until its `exp`: the replay loophole the other stores close.

use async_trait::async_trait;

use crate::revocation::{
    fresh, profile, Capabilities, EntryUnit, Namespacing, Profile, RevocationStore, Scheme,
    StoreError, StoreStats,
};

/// Remembers nothing; every check answers "not revoked".
#[derive(Debug, Default, Clone, Copy)]
pub struct NoneStore;

/// The `none:` line of [`crate::revocation::SCHEMES`].
pub(in crate::revocation) static SCHEME: Scheme = Scheme {
    name: "none",
    url_schemes: &["none"],
    example: "none:",
    namespacing: Namespacing::InProcess,
    open: fresh::<NoneStore>,
    profile: Profile {
        summary: "logout only expires the cookie; nothing is checked",
        needs: profile::IN_PROCESS,
        when_down: "nothing to lose: it never refuses a copy",
        unit: EntryUnit::Nothing,
    },
};

#[async_trait]
impl RevocationStore for NoneStore {
    fn name(&self) -> &'static str {
        SCHEME.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: false, expires: true, shared: false }
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        Ok(StoreStats { entries: Some(0), bytes: Some(0) })
    }

    async fn clear(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
