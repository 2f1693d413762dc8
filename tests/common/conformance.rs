//! The one test suite every store must pass, written against `RevocationStore` only.
//!
//! Each check is a plain async function; `tests/conformance.rs` runs [`run_all`] for every
//! backend. What a store promises ([`Capabilities`]) decides what is expected of it, so
//! `none:` is held to "never remembers" and `naive:` to "never forgets".

use std::time::Duration;

use revbench::revocation::{Capabilities, Jti, SharedStore, StoreError};
use revbench::time::{now_secs, UnixSeconds};

/// Revokes run concurrently by [`concurrent_revokes_lose_nothing`].
pub const CONCURRENT_REVOKES: usize = 1000;

/// Lifetime, in seconds, of the entry [`expiry_is_exact`] watches.
pub const EXPIRY_SECS: u64 = 2;

/// Runs every check in turn, printing each one's name, and panics on the first failure.
pub async fn run_all(store: SharedStore) {
    let caps = store.capabilities();
    let name = store.name();
    let checks: [(&str, std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>); 5] = [
        ("revoke_then_revoked", Box::pin(revoke_then_revoked(store.clone(), caps))),
        ("unknown_is_not_revoked", Box::pin(unknown_is_not_revoked(store.clone()))),
        ("revoke_is_idempotent", Box::pin(revoke_is_idempotent(store.clone(), caps))),
        (
            "concurrent_revokes_lose_nothing",
            Box::pin(concurrent_revokes_lose_nothing(store.clone(), caps)),
        ),
        ("expiry_is_exact", Box::pin(expiry_is_exact(store.clone(), caps))),
    ];
    for (check, future) in checks {
        let result: Result<(), StoreError> = future.await;
        if let Err(e) = result {
            panic!("{name}: {check} failed with a store error: {e}");
        }
        println!("{name}: {check} ok");
    }
}

fn later(secs: u64) -> UnixSeconds {
    now_secs() + secs
}

/// After `revoke` returns, the id reads as revoked (read-your-writes); `none:` never does.
pub async fn revoke_then_revoked(store: SharedStore, caps: Capabilities) -> Result<(), StoreError> {
    let jti = Jti::random();
    store.revoke(jti, later(60)).await?;
    assert_eq!(store.is_revoked(jti).await?, caps.remembers, "{}: revoked id", store.name());
    Ok(())
}

/// An id never revoked reads as not revoked.
pub async fn unknown_is_not_revoked(store: SharedStore) -> Result<(), StoreError> {
    assert!(!store.is_revoked(Jti::random()).await?, "{}: unknown id", store.name());
    Ok(())
}

/// Revoking twice is the same as once, and does not touch other ids.
pub async fn revoke_is_idempotent(
    store: SharedStore,
    caps: Capabilities,
) -> Result<(), StoreError> {
    let (jti, other) = (Jti::random(), Jti::random());
    let exp = later(60);
    store.revoke(jti, exp).await?;
    store.revoke(jti, exp).await?;
    assert_eq!(store.is_revoked(jti).await?, caps.remembers, "{}: twice revoked", store.name());
    assert!(!store.is_revoked(other).await?, "{}: untouched id", store.name());
    Ok(())
}

/// [`CONCURRENT_REVOKES`] revokes and checks racing on many tasks lose no write.
pub async fn concurrent_revokes_lose_nothing(
    store: SharedStore,
    caps: Capabilities,
) -> Result<(), StoreError> {
    let exp = later(60);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENT_REVOKES {
        let store = store.clone();
        tasks.spawn(async move {
            let (jti, stranger) = (Jti::random(), Jti::random());
            store.revoke(jti, exp).await?;
            let stranger_revoked = store.is_revoked(stranger).await?;
            Ok::<_, StoreError>((jti, stranger_revoked))
        });
    }
    let mut revoked = Vec::with_capacity(CONCURRENT_REVOKES);
    while let Some(joined) = tasks.join_next().await {
        let (jti, stranger_revoked) = joined.expect("check task panicked")?;
        assert!(!stranger_revoked, "{}: a never-revoked id read as revoked", store.name());
        revoked.push(jti);
    }
    let mut seen = 0;
    for jti in &revoked {
        seen += usize::from(store.is_revoked(*jti).await?);
    }
    let expected = if caps.remembers { CONCURRENT_REVOKES } else { 0 };
    assert_eq!(seen, expected, "{}: revokes visible after the race", store.name());
    Ok(())
}

/// An entry counts until its `expires_at` and not after it (`naive:` keeps it forever).
pub async fn expiry_is_exact(store: SharedStore, caps: Capabilities) -> Result<(), StoreError> {
    let jti = Jti::random();
    let exp = later(EXPIRY_SECS);
    store.revoke(jti, exp).await?;
    sleep_until_millis(exp * 1000 - 300).await;
    assert_eq!(store.is_revoked(jti).await?, caps.remembers, "{}: just before exp", store.name());
    sleep_until_millis(exp * 1000 + 100).await;
    let expected_after = caps.remembers && !caps.expires;
    assert_eq!(store.is_revoked(jti).await?, expected_after, "{}: just after exp", store.name());
    Ok(())
}

async fn sleep_until_millis(unix_millis: u64) {
    let now = revbench::time::now_millis();
    if unix_millis > now {
        tokio::time::sleep(Duration::from_millis(unix_millis - now)).await;
    }
}
