//! `none:` — no revocation list at all. Logout only expires the cookie, so a copied token
//! stays usable until its `exp`: the replay loophole the other stores close.

use async_trait::async_trait;

use super::{Capabilities, Jti, RevocationStore, StoreError, StoreStats};
use crate::token::UnixSeconds;

/// Remembers nothing; every check answers "not revoked".
#[derive(Debug, Default, Clone, Copy)]
pub struct NoneStore;

#[async_trait]
impl RevocationStore for NoneStore {
    fn name(&self) -> &'static str {
        "none"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { remembers: false, expires: true, shared: false }
    }

    async fn revoke(&self, _jti: Jti, _expires_at: UnixSeconds) -> Result<(), StoreError> {
        Ok(())
    }

    async fn is_revoked(&self, _jti: Jti) -> Result<bool, StoreError> {
        Ok(false)
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        Ok(StoreStats { entries: Some(0), bytes: Some(0) })
    }

    async fn clear(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
