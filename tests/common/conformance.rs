//! The one test suite every store must pass, written against `RevocationStore` only.
//!
//! Each check is a plain async function; `tests/stores/conformance.rs` runs [`run_all`] for every
//! backend. What a store promises ([`Capabilities`]) decides what is expected of it, so
//! `none:` is held to "never remembers" and `naive:` to "never forgets".

use std::time::Duration;

use revbench::revocation::{Capabilities, Jti, SharedStore, StoreError, MAX_STORED_EXP};
use revbench::time::{now_secs, UnixSeconds};

/// Revokes run concurrently by [`concurrent_revokes_lose_nothing`].
pub const CONCURRENT_REVOKES: usize = 1000;

/// Lifetime, in seconds, of the entry [`expiry_is_exact`] watches.
pub const EXPIRY_SECS: u64 = 2;

/// Runs every check in turn, printing each one's name, and panics on the first failure.
pub async fn run_all(store: SharedStore) {
    let caps = store.capabilities();
    let name = store.name();
    let checks: [(&str, std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>); 8] = [
        ("revoke_then_revoked", Box::pin(revoke_then_revoked(store.clone(), caps))),
        ("unknown_is_not_revoked", Box::pin(unknown_is_not_revoked(store.clone()))),
        ("revoke_is_idempotent", Box::pin(revoke_is_idempotent(store.clone(), caps))),
        (
            "concurrent_revokes_lose_nothing",
            Box::pin(concurrent_revokes_lose_nothing(store.clone(), caps)),
        ),
        (
            "concurrent_checks_get_their_own_answers",
            Box::pin(concurrent_checks_get_their_own_answers(store.clone(), caps)),
        ),
        ("expiry_is_exact", Box::pin(expiry_is_exact(store.clone(), caps))),
        ("any_exp_is_kept_or_past", Box::pin(any_exp_is_kept_or_past(store.clone(), caps))),
        ("forget_removes_only_those", Box::pin(forget_removes_only_those(store.clone(), caps))),
    ];
    for (check, future) in checks {
        let result: Result<(), StoreError> = future.await;
        if let Err(e) = result {
            panic!("{name}: {check} failed with a store error: {e}");
        }
        println!("{name}: {check} ok");
    }
}

/// `is_revoked`, and the answer without waiting where the store gives one: the two must agree
/// (unless the answer changed between the calls, as an entry reaches its `exp`).
async fn checked(store: &SharedStore, jti: Jti, exp: UnixSeconds) -> Result<bool, StoreError> {
    let before = store.is_revoked_now(jti, exp);
    let answer = store.is_revoked(jti, exp).await?;
    let after = store.is_revoked_now(jti, exp);
    if let (Some(now), true) = (before, before == after) {
        assert_eq!(now, answer, "{}: is_revoked_now disagrees with is_revoked", store.name());
    }
    Ok(answer)
}

fn later(secs: u64) -> UnixSeconds {
    now_secs() + secs
}

/// After `revoke` returns, the id reads as revoked (read-your-writes); `none:` never does.
pub async fn revoke_then_revoked(store: SharedStore, caps: Capabilities) -> Result<(), StoreError> {
    let (jti, exp) = (Jti::random(), later(60));
    store.revoke(jti, exp).await?;
    assert_eq!(checked(&store, jti, exp).await?, caps.remembers, "{}: revoked id", store.name());
    Ok(())
}

/// An id never revoked reads as not revoked, also when it expires exactly when a revoked one
/// does (a store partitioned by expiry looks in that partition).
pub async fn unknown_is_not_revoked(store: SharedStore) -> Result<(), StoreError> {
    let exp = later(60);
    assert!(!checked(&store, Jti::random(), exp).await?, "{}: unknown id", store.name());
    store.revoke(Jti::random(), exp).await?;
    let unknown = checked(&store, Jti::random(), exp).await?;
    assert!(!unknown, "{}: unknown id beside a revoked one", store.name());
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
    assert_eq!(checked(&store, jti, exp).await?, caps.remembers, "{}: twice", store.name());
    assert!(!checked(&store, other, exp).await?, "{}: untouched id", store.name());
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
            let stranger_revoked = checked(&store, stranger, exp).await?;
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
        seen += usize::from(checked(&store, *jti, exp).await?);
    }
    let expected = if caps.remembers { CONCURRENT_REVOKES } else { 0 };
    assert_eq!(seen, expected, "{}: revokes visible after the race", store.name());
    Ok(())
}

/// Checks of revoked and unknown ids racing on many tasks each get their own id's answer (a
/// store that batches concurrent checks must not mix up the replies).
pub async fn concurrent_checks_get_their_own_answers(
    store: SharedStore,
    caps: Capabilities,
) -> Result<(), StoreError> {
    let revoked: Vec<(Jti, UnixSeconds)> = (0..64).map(|_| (Jti::random(), later(60))).collect();
    store.revoke_many(&revoked).await?;
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..8 {
        for (i, &(jti, exp)) in revoked.iter().enumerate() {
            let store = store.clone();
            // Alternate revoked and unknown ids, in a different order each round.
            let (probe, expected) =
                if (i + round) % 2 == 0 { (jti, caps.remembers) } else { (Jti::random(), false) };
            tasks.spawn(async move {
                Ok::<_, StoreError>((checked(&store, probe, exp).await?, expected))
            });
        }
    }
    while let Some(joined) = tasks.join_next().await {
        let (answer, expected) = joined.expect("check task panicked")?;
        assert_eq!(
            answer,
            expected,
            "{}: a concurrent check got another id's answer",
            store.name()
        );
    }
    Ok(())
}

/// An entry counts until its `expires_at` and not after it (`naive:` keeps it forever).
pub async fn expiry_is_exact(store: SharedStore, caps: Capabilities) -> Result<(), StoreError> {
    let jti = Jti::random();
    let exp = later(EXPIRY_SECS);
    store.revoke(jti, exp).await?;
    sleep_until_millis(exp * 1000 - 300).await;
    let before = checked(&store, jti, exp).await?;
    assert_eq!(before, caps.remembers, "{}: just before exp", store.name());
    sleep_until_millis(exp * 1000 + 100).await;
    let expected_after = caps.remembers && !caps.expires;
    let after = checked(&store, jti, exp).await?;
    assert_eq!(after, expected_after, "{}: just after exp", store.name());
    Ok(())
}

/// `forget_many` removes exactly the ids it is given, found with their own `exp` (over three
/// expiry minutes of 200 ids each, so a store partitioned by expiry has split some): they read as not revoked, the others as
/// before; it counts what it removed, and forgetting them again removes nothing.
pub async fn forget_removes_only_those(
    store: SharedStore,
    caps: Capabilities,
) -> Result<(), StoreError> {
    let exp = later(600);
    let entries: Vec<(Jti, UnixSeconds)> =
        (0..600).map(|i| (Jti::random(), exp + i % 3 * 60)).collect();
    store.revoke_many(&entries).await?;
    let (forgotten, kept) = entries.split_at(240);
    let name = store.name();
    let removed = store.forget_many(forgotten).await?;
    assert_eq!(removed, if caps.remembers { 240 } else { 0 }, "{name}: removed");
    for &(jti, exp) in forgotten {
        assert!(!checked(&store, jti, exp).await?, "{name}: a forgotten id is still revoked");
    }
    for &(jti, exp) in kept {
        assert_eq!(checked(&store, jti, exp).await?, caps.remembers, "{name}: a kept id");
    }
    assert_eq!(store.forget_many(forgotten).await?, 0, "{name}: forgotten twice");
    assert_eq!(store.forget_many(&[]).await?, 0, "{name}: nothing to forget");
    Ok(())
}

/// Random `exp` values [`any_exp_is_kept_or_past`] tries beside the edge values.
pub const EXP_SAMPLE: usize = 48;

/// Every `u64` is a valid `exp`: edge values and a seeded sample over the whole range are
/// revoked without error or panic, and each then reads as revoked when it is in the future
/// and as not revoked when it is past (the second around now is not judged).
pub async fn any_exp_is_kept_or_past(
    store: SharedStore,
    caps: Capabilities,
) -> Result<(), StoreError> {
    let now = now_secs();
    let mut exps = vec![0, 1, now - 10, now + 3600, u32::MAX as u64, u32::MAX as u64 + 1];
    exps.extend([i64::MAX as u64 / 1000, i64::MAX as u64 / 1000 + 1, i64::MAX as u64]);
    exps.extend([i64::MAX as u64 + 1, MAX_STORED_EXP, MAX_STORED_EXP + 1, u64::MAX - 1, u64::MAX]);
    exps.extend(revbench::revocation::expiry::sample_u64(0x00e1_7e57, EXP_SAMPLE));
    for exp in exps {
        let jti = Jti::random();
        store.revoke(jti, exp).await?;
        let revoked = checked(&store, jti, exp).await?;
        let now = now_secs();
        let expected = if exp > now + 1 {
            caps.remembers
        } else if exp < now {
            caps.remembers && !caps.expires
        } else {
            continue;
        };
        assert_eq!(revoked, expected, "{}: exp {exp} (now {now})", store.name());
    }
    Ok(())
}

async fn sleep_until_millis(unix_millis: u64) {
    let now = revbench::time::now_millis();
    if unix_millis > now {
        tokio::time::sleep(Duration::from_millis(unix_millis - now)).await;
    }
}
