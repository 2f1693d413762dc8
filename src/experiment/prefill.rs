//! `--prefill N`: put N live entries in a store before the load, with batched writes, so the
//! check latency at large sizes is part of the same series.
//!
//! In-process stores can only be filled from inside the server process (`revbench serve
//! --prefill N` calls [`fill`] before it listens); shared stores are filled by the runner
//! straight into the backend: a Redis pipeline, PostgreSQL `unnest` inserts, MongoDB
//! `insert_many`.

use std::time::{Duration, Instant};

use mongodb::bson::{doc, DateTime};

use crate::revocation::{
    Jti, MongoStore, PostgresStore, RedisStore, Scheme, SharedStore, StoreError,
};
use crate::token::UnixSeconds;

/// Entries per pipeline or statement: large enough to amortise round trips, small enough
/// that one batch stays well inside the stores' 1–2 s query timeouts.
pub const FILL_BATCH: u64 = 5_000;

/// How long entries put in by `revbench serve --prefill` live: longer than any growth run.
pub const SERVE_PREFILL_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Whether `url` names a store that lives in the server process (filled by the server):
/// every scheme but the shared backends, so a new in-process store needs no change here.
pub fn fills_in_process(url: &str) -> bool {
    !matches!(url.parse::<Scheme>(), Ok(Scheme::Redis | Scheme::Postgres | Scheme::Mongo))
}

/// Adds `count` random jtis, each expiring at `expires_at`, and returns the fill's wall time.
///
/// `store` is used directly for in-process stores; shared stores get their own connection to
/// `url` for bulk writes.
pub async fn fill(
    store: &SharedStore,
    url: &str,
    count: u64,
    expires_at: UnixSeconds,
) -> Result<Duration, StoreError> {
    let started = Instant::now();
    match url.parse::<Scheme>()? {
        Scheme::Redis => fill_redis(&RedisStore::connect(url).await?, count, expires_at).await?,
        Scheme::Postgres => {
            let postgres = PostgresStore::connect(url).await?;
            for size in batches(count) {
                let entries: Vec<_> = (0..size).map(|_| (Jti::random(), expires_at)).collect();
                postgres.revoke_many(&entries).await?;
            }
        }
        Scheme::Mongo => fill_mongo(&MongoStore::connect(url).await?, count, expires_at).await?,
        // In-process stores: the handle is the store itself.
        _ => {
            for _ in 0..count {
                store.revoke(Jti::random(), expires_at).await?;
            }
        }
    }
    Ok(started.elapsed())
}

/// Batch sizes that add up to `count`.
fn batches(count: u64) -> impl Iterator<Item = u64> {
    (0..count.div_ceil(FILL_BATCH)).map(move |i| (count - i * FILL_BATCH).min(FILL_BATCH))
}

async fn fill_redis(
    store: &RedisStore,
    count: u64,
    expires_at: UnixSeconds,
) -> Result<(), StoreError> {
    let mut conn = store.connection();
    for size in batches(count) {
        let mut pipe = redis::pipe();
        for _ in 0..size {
            pipe.cmd("SET").arg(store.key(Jti::random())).arg("").arg("EXAT").arg(expires_at);
            pipe.ignore();
        }
        pipe.query_async::<()>(&mut conn).await.map_err(|e| StoreError::backend("redis", e))?;
    }
    Ok(())
}

async fn fill_mongo(
    store: &MongoStore,
    count: u64,
    expires_at: UnixSeconds,
) -> Result<(), StoreError> {
    let expires = DateTime::from_millis((expires_at as i64).saturating_mul(1000));
    for size in batches(count) {
        let docs =
            (0..size).map(|_| doc! { "_id": Jti::random().to_string(), "expiresAt": expires });
        store
            .collection()
            .insert_many(docs)
            .await
            .map_err(|e| StoreError::backend("mongodb", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches cover the count exactly, the last one short.
    #[test]
    fn batches_add_up() {
        let sizes: Vec<u64> = batches(2 * FILL_BATCH + 7).collect();
        assert_eq!(sizes, vec![FILL_BATCH, FILL_BATCH, 7]);
        assert_eq!(batches(0).count(), 0);
    }

    /// An in-process fill puts exactly `count` entries in the store it is given.
    #[tokio::test]
    async fn fills_an_in_process_store() {
        let store = crate::revocation::open("memory:").await.unwrap();
        let exp = crate::token::now_secs() + 60;
        fill(&store, "memory:", 1234, exp).await.unwrap();
        assert_eq!(store.stats().await.unwrap().entries, Some(1234));
        assert!(fills_in_process("naive:") && !fills_in_process("redis://127.0.0.1"));
    }
}
