//! The shared conformance suite, run against every store.
//!
//! In-process stores always run. Redis, PostgreSQL and MongoDB run against real servers
//! (`REDIS_URL`, `POSTGRES_URL`, `MONGODB_URL`; Redis and PostgreSQL default to the standard
//! local ports), each test in a namespace of its own that is removed afterwards; an
//! unreachable one is skipped with the reason, or fails under `REVBENCH_REQUIRE_<NAME>=1`.

mod common;

use common::backend::{scratch_or_skip, Backend};
use common::conformance::run_all;
use revbench::revocation::{open, SCHEMES};

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

/// `postgres://` honours the contract, and counts the 1,000 concurrent revocations.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store() {
    shared_backend(Backend::Postgres, 1000).await;
}

/// `mongodb://` honours the contract (wherever `MONGODB_URL` points).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_store() {
    shared_backend(Backend::Mongo, 1).await;
}
