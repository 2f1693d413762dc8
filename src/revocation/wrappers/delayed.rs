//! A wrapper that adds a known delay before every check, so a test can prove the harness sees
//! a slowdown of a known size (`revbench serve --inject-latency 2ms`); what each wait took is
//! recorded ([`crate::injected_delay`]) and reported in `/stats`.

use std::time::Duration;

use async_trait::async_trait;

use crate::injected_delay::{DelayCounts, InjectedDelay};
use crate::revocation::{
    Capabilities, Jti, RevocationStore, SharedStore, StoreError, StoreStats, TokenFacts,
};
use crate::time::UnixSeconds;

/// Delays `is_revoked` by `delay`, then asks the wrapped store.
pub struct DelayedStore {
    inner: SharedStore,
    delay: InjectedDelay,
}

impl DelayedStore {
    pub fn new(inner: SharedStore, delay: Duration) -> Self {
        Self { inner, delay: InjectedDelay::new(delay) }
    }
}

#[async_trait]
impl RevocationStore for DelayedStore {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn revoke(&self, jti: Jti, expires_at: UnixSeconds) -> Result<(), StoreError> {
        self.inner.revoke(jti, expires_at).await
    }

    async fn revoke_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<(), StoreError> {
        self.inner.revoke_many(entries).await
    }

    async fn forget_many(&self, entries: &[(Jti, UnixSeconds)]) -> Result<u64, StoreError> {
        self.inner.forget_many(entries).await
    }

    async fn is_revoked(&self, jti: Jti, expires_at: UnixSeconds) -> Result<bool, StoreError> {
        // A wait, not CPU: a timerfd wakes the task on time (see crate::precise_sleep), so
        // the delay does not take a core the load client and the servers share.
        self.delay.wait().await;
        self.inner.is_revoked(jti, expires_at).await
    }

    async fn is_refused(&self, token: TokenFacts<'_>) -> Result<bool, StoreError> {
        self.delay.wait().await;
        self.inner.is_refused(token).await
    }

    async fn log_out(&self, token: TokenFacts<'_>) -> Result<(), StoreError> {
        self.inner.log_out(token).await
    }

    async fn issue_at(&self, sub: &str, now: UnixSeconds) -> Result<UnixSeconds, StoreError> {
        self.inner.issue_at(sub, now).await
    }

    fn refresh_tokens(&self) -> Option<&dyn crate::revocation::RefreshTokens> {
        self.inner.refresh_tokens()
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.inner.stats().await
    }

    async fn shared_stats(&self) -> Option<Result<StoreStats, StoreError>> {
        self.inner.shared_stats().await
    }

    fn check_answers(&self) -> Option<crate::revocation::CheckAnswers> {
        self.inner.check_answers()
    }

    fn sync_timeouts(&self) -> Option<u64> {
        self.inner.sync_timeouts()
    }

    fn queue_overflows(&self) -> Option<u64> {
        self.inner.queue_overflows()
    }

    fn injected_delay(&self) -> Option<DelayCounts> {
        Some(self.delay.counts())
    }

    async fn health(&self) -> Result<(), StoreError> {
        self.inner.health().await
    }

    async fn server_version(&self) -> Option<String> {
        self.inner.server_version().await
    }

    async fn server_caveat(&self) -> Option<String> {
        self.inner.server_caveat().await
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.inner.clear().await
    }

    async fn destroy(&self) -> Result<(), StoreError> {
        self.inner.destroy().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check waits about the injected delay, not grossly more (< 30 ms: other tests run
    /// beside it; precision under load is checked end to end in
    /// tests/measuring/injected_latency.rs), still answers correctly, and the wait is recorded.
    /// The first wait is armed with no lead, so it is never shorter than the delay.
    #[tokio::test]
    async fn adds_the_delay_precisely() {
        let store = DelayedStore::new(
            std::sync::Arc::new(crate::revocation::NaiveStore::default()),
            Duration::from_millis(3),
        );
        let jti = Jti::random();
        store.revoke(jti, u64::MAX / 2).await.unwrap();
        let started = std::time::Instant::now();
        assert!(store.is_revoked(jti, u64::MAX / 2).await.unwrap());
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(3) && took < Duration::from_millis(30), "{took:?}");
        let counts = store.injected_delay().unwrap();
        assert_eq!((counts.count, counts.target_us), (1, 3000.0));
        assert!(counts.sum_ns >= 3_000_000, "{counts:?}");
    }
}
