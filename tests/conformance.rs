//! The shared conformance suite, run against every store.
//!
//! Redis and PostgreSQL run against the real servers (`REDIS_URL`, `POSTGRES_URL`, defaulting
//! to the standard local ports), each test in its own key prefix or table; MongoDB runs when
//! `MONGODB_URL` is set. `REVBENCH_REQUIRE_REDIS=1` / `REVBENCH_REQUIRE_POSTGRES=1` turn an
//! unreachable server into a failure instead of a skip.

use revbench::revocation::conformance::{run_all, store_from_env};
use revbench::revocation::{open, Jti};

fn unique(label: &str) -> String {
    format!("revbench_test_{label}_{}", &Jti::random().to_string()[..12])
}

/// `none:` never remembers a revocation (the loophole), and answers every check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn none_store() {
    run_all(open("none:").await.unwrap()).await;
}

/// `naive:` remembers every revocation and never forgets one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naive_store() {
    run_all(open("naive:").await.unwrap()).await;
}

/// `memory:` (moka) remembers each revocation until its token's `exp`, exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store() {
    run_all(open("memory:").await.unwrap()).await;
}

/// `hashmap:` remembers each revocation until its token's `exp`, exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashmap_store() {
    run_all(open("hashmap:").await.unwrap()).await;
}

/// `redis://` honours the contract against the real server, in its own key prefix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store() {
    let prefix = format!("{}:", unique("redis"));
    let store = store_from_env(
        "REDIS_URL",
        Some("redis://127.0.0.1:6379"),
        "REVBENCH_REQUIRE_REDIS",
        &[("prefix", &prefix)],
    )
    .await;
    match store {
        Ok(store) => {
            run_all(store.clone()).await;
            store.clear().await.unwrap();
        }
        Err(skipped) => println!("redis: {}", skipped.0),
    }
}

/// `mongodb://` honours the contract against a real server when `MONGODB_URL` is set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_store() {
    match store_from_env("MONGODB_URL", None, "REVBENCH_REQUIRE_MONGODB", &[]).await {
        Ok(store) => run_all(store).await,
        Err(skipped) => println!("mongodb: {}", skipped.0),
    }
}

/// `postgres://` honours the contract against the real server, in its own table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store() {
    let table = unique("pg");
    let store = store_from_env(
        "POSTGRES_URL",
        Some("postgres://postgres@127.0.0.1:5432/postgres"),
        "REVBENCH_REQUIRE_POSTGRES",
        &[("table", &table)],
    )
    .await;
    match store {
        Ok(store) => {
            run_all(store.clone()).await;
            let stats = store.stats().await.unwrap();
            assert!(stats.entries.unwrap() >= 1000, "{stats:?}");
            assert!(stats.bytes.unwrap() > 0, "{stats:?}");
            drop_table(&table).await;
        }
        Err(skipped) => println!("postgres: {}", skipped.0),
    }
}

async fn drop_table(table: &str) {
    let url = std::env::var("POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client.batch_execute(&format!("DROP TABLE IF EXISTS {table}")).await.unwrap();
}
