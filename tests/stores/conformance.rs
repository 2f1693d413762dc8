//! The shared conformance suite, run against every store.
//!
//! In-process stores always run. Redis, PostgreSQL and MongoDB run against real servers
//! (`REDIS_URL`, `POSTGRES_URL`, `MONGODB_URL`; Redis and PostgreSQL default to the standard
//! local ports), each test in a namespace of its own that is removed afterwards; an
//! unreachable one is skipped with the reason, or fails under `REVBENCH_REQUIRE_<NAME>=1`.

use crate::common::backend::{scratch_or_skip, Backend};
use crate::common::conformance::run_all;
use crate::common::mongo::{database_names, database_of, with_option};
use revbench::revocation::{open, Jti, SCHEMES};

/// Every in-process store in the scheme table honours the contract (`none:` by never
/// remembering, `naive:` by never forgetting).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_stores() {
    for scheme in SCHEMES.iter().filter(|s| s.in_process()) {
        run_all(open(scheme.example).await.unwrap()).await;
    }
}

/// A shared backend honours the contract against the real server, in its own namespace,
/// and reports how many entries it holds; the namespace is removed afterwards.
async fn shared_backend(backend: Backend, min_entries: u64) {
    let Some(scratch) = scratch_or_skip(backend, "conformance").await else { return };
    run_all(scratch.store.clone()).await;
    let stats = scratch.store.stats().await.unwrap();
    assert!(stats.entries.unwrap() >= min_entries, "{}: {stats:?}", backend.name());
    scratch.remove().await.unwrap();
}

/// `redis://` honours the contract.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store() {
    shared_backend(Backend::Redis, 1).await;
}

/// `refresh+redis://` honours the contract as a store that keeps no token ids (like `none:`:
/// its per-request check is a no-op; its own contract is tested in `tests/stores/refresh.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_redis_store() {
    let Some(scratch) = scratch_or_skip(Backend::Redis, "conformance").await else { return };
    let url =
        revbench::revocation::namespaced(&format!("refresh+{}", scratch.url), "conf").unwrap();
    let store = open(&url).await.unwrap();
    assert!(!store.capabilities().remembers);
    run_all(store.clone()).await;
    store.destroy().await.unwrap();
    scratch.remove().await.unwrap();
}

/// `redis-cluster://` honours the contract on a 3-master cluster (`REDIS_CLUSTER_URL`, or a
/// local one the test starts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_cluster_store() {
    shared_backend(Backend::RedisCluster, 1).await;
}

/// `postgres://` honours the contract, and counts the 1,000 concurrent revocations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store() {
    shared_backend(Backend::Postgres, 1000).await;
}

/// `mongodb://` honours the contract against the server at `MONGODB_URL` (MongoDB, or the
/// wire-compatible server CI starts); its unordered bulk upserts count every id once, it
/// reports a size, and its database is dropped afterwards.
///
/// The contract runs with `timeoutMS=10000`: the stand-in serves about 900 operations/s, so
/// the burst of 2,000 concurrent operations queues longer than the default 1 s bound (which
/// `tests/server/server.rs` proves on a blackholed server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_store() {
    let Some(scratch) = scratch_or_skip(Backend::Mongo, "conformance").await else { return };
    let store = &scratch.store;
    let caveat = store.server_caveat().await.map(|c| format!(" — {c}")).unwrap_or_default();
    println!("mongodb: served by {}{caveat}", store.server_version().await.unwrap_or_default());
    run_all(open(&with_option(&scratch.url, "timeoutMS=10000")).await.unwrap()).await;
    store.clear().await.unwrap();
    let now = revbench::time::now_secs();
    let ids: Vec<_> = (0..2_500).map(|i| (Jti::random(), now + 600 + i % 7)).collect();
    store.revoke_many(&ids).await.unwrap();
    store.revoke_many(&ids[..1_000]).await.unwrap(); // upserts: no duplicates, no error
    assert!(store.is_revoked(ids[2_499].0, ids[2_499].1).await.unwrap());
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.entries, Some(2_500), "{stats:?}");
    assert!(stats.bytes.unwrap_or(0) > 0, "{stats:?}");
    let (url, database) = (scratch.url.clone(), database_of(&scratch.url));
    scratch.remove().await.unwrap();
    assert!(!database_names(&url).await.contains(&database), "{database} was dropped");
}
