//! `GET /stats` stays cheap beside a large keyspace: a Redis database holding 1,000,000 keys
//! that are not revbench's. The keys are made under a prefix of this test's own and exactly
//! those are deleted at the end (never `FLUSHDB`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::backend::{require_or_skip, Backend};
use crate::common::{client, TestServer, TEST_ADMIN_TOKEN};
use revbench::revocation::{namespaced, Jti, RedisStore, RevocationStore};

/// Foreign keys made, and how many per command.
const FOREIGN: usize = 1_000_000;
const BATCH: usize = 10_000;

fn foreign_key(prefix: &str, i: usize) -> String {
    format!("{prefix}{i}")
}

/// Runs `command` with the keys of batch `b` as arguments (and a value after each for MSET).
async fn each_batch(conn: &mut redis::aio::MultiplexedConnection, prefix: &str, command: &str) {
    for b in 0..FOREIGN / BATCH {
        let mut cmd = redis::cmd(command);
        for i in b * BATCH..(b + 1) * BATCH {
            cmd.arg(foreign_key(prefix, i));
            if command == "MSET" {
                cmd.arg(1);
            }
        }
        let _: () = cmd.query_async(conn).await.unwrap();
    }
}

/// With 1 M foreign keys in the store's database, `/stats` answers in under 10 ms every time
/// (it reads counters, never the keyspace); `/stats?store=1` walks the prefix at most twice a
/// second, so a second call right after the first is answered from that walk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_ignore_a_large_foreign_keyspace() {
    let Some(redis) = require_or_skip(Backend::Redis).await else { return };
    let mut db = url::Url::parse(&redis).unwrap();
    db.set_path("/12");
    let client_redis = redis::Client::open(db.as_str()).unwrap();
    let mut conn = client_redis.get_multiplexed_async_connection().await.unwrap();
    let prefix = format!("user-data-stats-test-{}:", Jti::random());
    let made = Instant::now();
    each_batch(&mut conn, &prefix, "MSET").await;
    println!("{FOREIGN} foreign keys made in {:?}", made.elapsed());

    let store_url = namespaced(db.as_str(), "test_stats").unwrap();
    let store = Arc::new(RedisStore::connect(&store_url).await.unwrap());
    let server = TestServer::start(store.clone()).await;
    let http = client();
    crate::common::login(&http, &server, "walter").await;
    let get = |path: &'static str| {
        let (http, url) = (http.clone(), server.url(path));
        async move {
            let started = Instant::now();
            let response = http.get(url).bearer_auth(TEST_ADMIN_TOKEN).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let _: serde_json::Value = response.json().await.unwrap();
            started.elapsed()
        }
    };
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        slowest = slowest.max(get("/stats").await);
    }
    let walk = get("/stats?store=1").await;
    let cached = get("/stats?store=1").await;
    println!("/stats: slowest of 20 {slowest:?}; ?store=1: walk {walk:?}, then {cached:?}");

    each_batch(&mut conn, &prefix, "UNLINK").await;
    store.clear().await.unwrap();
    let sample = [0, FOREIGN / 2, FOREIGN - 1].map(|i| foreign_key(&prefix, i));
    let left: u64 = redis::cmd("EXISTS").arg(&sample).query_async(&mut conn).await.unwrap();
    assert_eq!(left, 0, "foreign keys left");
    assert!(slowest < Duration::from_millis(10), "/stats took {slowest:?}");
    assert!(cached < Duration::from_millis(10), "a second ?store=1 walked again: {cached:?}");
}
