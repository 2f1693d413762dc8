//! A wrapper that adds a known delay before every check, so a test can prove the harness sees
//! a slowdown of a known size (`revbench serve --inject-latency 2ms`).

use std::time::Duration;

use async_trait::async_trait;

use super::{Capabilities, Jti, RevocationStore, SharedStore, StoreError, StoreStats, TokenFacts};
use crate::time::UnixSeconds;

/// Delays `is_revoked` by `delay`, then asks the wrapped store.
pub struct DelayedStore {
    inner: SharedStore,
    delay: Duration,
}

impl DelayedStore {
    pub fn new(inner: SharedStore, delay: Duration) -> Self {
        Self { inner, delay }
    }
}

/// How early the kernel sleep ends; the rest is spun. Measured on this project's VMs, a
/// thread sleep overshoots by up to a few hundred µs.
const SPIN_TAIL: Duration = Duration::from_micros(400);

/// Waits `delay` precisely while using little CPU: a blocking-pool thread sleeps in the kernel
/// until [`SPIN_TAIL`] before the deadline and spins the rest, while the async task waits for
/// it. A tokio sleep would round up to the next millisecond tick (`sleep(2ms)` takes 2–3 ms),
/// and spinning the whole delay on a server worker would burn its CPU — under concurrency that
/// queues requests and shows up as far more than the injected delay.
pub async fn precise_sleep(delay: Duration) {
    let deadline = std::time::Instant::now() + delay;
    let wait = move || {
        if let Some(coarse) = delay.checked_sub(SPIN_TAIL) {
            std::thread::sleep(coarse);
        }
        while std::time::Instant::now() < deadline {
            std::hint::spin_loop();
        }
    };
    if tokio::task::spawn_blocking(wait).await.is_err() {
        // The blocking pool is shutting down; fall back to the coarse timer.
        tokio::time::sleep(delay).await;
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

    async fn is_revoked(&self, jti: Jti) -> Result<bool, StoreError> {
        precise_sleep(self.delay).await;
        self.inner.is_revoked(jti).await
    }

    async fn is_refused(&self, token: TokenFacts<'_>) -> Result<bool, StoreError> {
        precise_sleep(self.delay).await;
        self.inner.is_refused(token).await
    }

    async fn log_out(&self, token: TokenFacts<'_>) -> Result<(), StoreError> {
        self.inner.log_out(token).await
    }

    async fn issue_at(&self, sub: &str, now: UnixSeconds) -> Result<UnixSeconds, StoreError> {
        self.inner.issue_at(sub, now).await
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.inner.stats().await
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

    /// The check takes at least the injected delay, not grossly more (precision under load is
    /// checked end to end in tests/injected_latency.rs), and still answers correctly.
    #[tokio::test]
    async fn adds_the_delay_precisely() {
        let store = DelayedStore::new(
            std::sync::Arc::new(super::super::NaiveStore::default()),
            Duration::from_millis(3),
        );
        let jti = Jti::random();
        store.revoke(jti, u64::MAX / 2).await.unwrap();
        let started = std::time::Instant::now();
        assert!(store.is_revoked(jti).await.unwrap());
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(3) && took < Duration::from_millis(8), "{took:?}");
    }
}
