//! `revbench footprint` end to end: real fills, real byte counts, nothing left behind.
//!
//! Each test holds [`crate::ALONE`]: a fill is load the latency checks beside it must not see.
//! The in-process footprint runs in a process of its own (it reads that process's resident
//! memory, which this one's other tests would disturb).

use std::time::Duration;

use crate::common;
use crate::common::backend::{require_or_skip, Backend};
use revbench::footprint::{measure, Footprint, FootprintRequest, Method};
use revbench::revocation::RedisStore;

fn request(store_url: &str, entries: u64) -> FootprintRequest {
    FootprintRequest { store_url: store_url.into(), entries, token_ttl: Duration::from_secs(900) }
}

/// An in-process footprint is the RSS delta, and a `u128` set cannot take under 16 bytes each.
/// Measured as users run it, by `revbench footprint` in a process of its own: this test
/// process's memory also moves with what earlier tests' threads and runtimes release (once
/// 9 MB during the fill, giving −29 B per entry).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naive_footprint_counts_process_memory() {
    let _alone = crate::ALONE.lock().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_revbench"))
        .args(["footprint", "--store", "naive:", "--entries", "200000", "--json"])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out).await.expect("within 60 s");
    let out = out.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let footprint: Footprint = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(footprint.method, Method::ProcessRss);
    assert_eq!(footprint.store_entries, Some(200_000));
    assert!(footprint.bytes_per_entry >= 16.0, "{footprint:?}");
}

/// A Redis footprint counts at least each key's 32 hex digits, and deletes its keys after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_footprint_cleans_up() {
    let _alone = crate::ALONE.lock().await;
    let Some(url) = require_or_skip(Backend::Redis).await else { return };
    let footprint = measure(&request(&url, 2_000)).await.unwrap();
    assert_eq!(footprint.method, Method::StoreReported);
    assert!(footprint.bytes_per_entry > 32.0, "{footprint:?}");
    let store = RedisStore::connect(&footprint.store_url).await.unwrap();
    let mut keys = redis::cmd("KEYS");
    keys.arg(format!("{}*", store.prefix()));
    let left: Vec<String> = keys.query_async(&mut store.connection()).await.unwrap();
    assert!(left.is_empty(), "{} keys left under {}", left.len(), store.prefix());
}

/// A MongoDB footprint (the server at `MONGODB_URL`) fills by bulk upserts, reports on-disk
/// bytes, names the server that answered, and drops the database it created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_footprint_drops_its_database() {
    let _alone = crate::ALONE.lock().await;
    let Some(url) = require_or_skip(Backend::Mongo).await else { return };
    let footprint = measure(&request(&url, 5_000)).await.unwrap();
    println!("{}", footprint.summary());
    assert_eq!(footprint.method, Method::StoreReported);
    assert_eq!(footprint.store_entries, Some(5_000), "{footprint:?}");
    assert!(footprint.server.is_some(), "{footprint:?}");
    let name = common::mongo::database_of(&footprint.store_url);
    assert!(name.starts_with("revbench_footprint_"), "{name}");
    let left = common::mongo::database_names(&url).await;
    assert!(!left.contains(&name), "{name} left behind: {left:?}");
}
