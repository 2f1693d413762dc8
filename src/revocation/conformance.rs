//! The one test suite every store must pass, written against [`RevocationStore`](super::RevocationStore) only.
//!
//! Each check is a plain async function; `tests/conformance.rs` runs [`run_all`] for every
//! backend. What a store promises ([`Capabilities`]) decides what is expected of it, so
//! `none:` is held to "never remembers" and `naive:` to "never forgets".

use std::time::Duration;

use super::{Capabilities, Jti, SharedStore, StoreError};
use crate::token::{now_secs, UnixSeconds};

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
    let now = super::now_millis();
    if unix_millis > now {
        tokio::time::sleep(Duration::from_millis(unix_millis - now)).await;
    }
}

/// Why a remote backend's checks did not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped(pub String);

/// Opens the store at `$env_var` (or `default`) with `extra_query` appended to its URL (a
/// test's own key prefix or table), or says why it was skipped.
///
/// When `$require_var=1`, an unset or unreachable store is an error instead of a skip; the
/// caller (a test) panics with it.
pub async fn store_from_env(
    env_var: &str,
    default: Option<&str>,
    require_var: &str,
    extra_query: &[(&str, &str)],
) -> Result<SharedStore, Skipped> {
    let required = std::env::var(require_var).is_ok_and(|v| v == "1");
    let url = match (std::env::var(env_var).ok(), default) {
        (Some(url), _) => url,
        (None, Some(default)) => default.to_string(),
        (None, None) if required => panic!("{require_var}=1 but {env_var} is not set"),
        (None, None) => return Err(Skipped(format!("skipped: {env_var} not set"))),
    };
    let url = with_query(&url, extra_query);
    match super::open(&url).await {
        Ok(store) => Ok(store),
        Err(e) if required => panic!("{require_var}=1 but the store failed to open: {e}"),
        Err(e) => Err(Skipped(format!("skipped: {e} (set {require_var}=1 to fail instead)"))),
    }
}

/// `url` with `pairs` appended to its query string (unchanged when it does not parse: `open`
/// will then report it).
fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if !pairs.is_empty() => {
            parsed.query_pairs_mut().extend_pairs(pairs);
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test parameters are appended to whatever query the URL already has.
    #[test]
    fn query_is_appended() {
        assert_eq!(with_query("redis://h:1/0", &[("prefix", "t:")]), "redis://h:1/0?prefix=t%3A");
        assert_eq!(with_query("redis://h:1/0?a=b", &[("c", "d")]), "redis://h:1/0?a=b&c=d");
        assert_eq!(with_query("memory:", &[]), "memory:");
    }
}
