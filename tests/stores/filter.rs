//! `filter+redis://`: a Bloom filter per replica in front of Redis, against the real server.
//!
//! Each test works in a key prefix of its own (`revbench:test_filter:<random>:`) and deletes it
//! at the end. `REVBENCH_REQUIRE_REDIS=1` turns an unreachable Redis into a failure instead of
//! a skip.

use std::sync::Arc;
use std::time::Duration;

use crate::common::backend::{cut_until_unhealthy, require_or_skip, server_addr, via, Backend};
use crate::common::conformance::run_all;
use crate::common::poll::poll_until;
use crate::common::Forwarder;
use revbench::revocation::{namespaced, FilterRedisStore, Jti, RevocationStore, SharedStore};
use revbench::time::now_secs;

/// `filter+redis://` on the test Redis in a fresh key prefix, or `None` (skipped, printed).
async fn filter_url() -> Option<String> {
    let redis = require_or_skip(Backend::Redis).await?;
    Some(namespaced(&format!("filter+{redis}"), "test_filter").unwrap())
}

async fn open(url: &str) -> FilterRedisStore {
    FilterRedisStore::connect(url).await.unwrap()
}

fn later(secs: u64) -> u64 {
    now_secs() + secs
}

/// `(local, store)` checks counted so far.
fn answers(store: &FilterRedisStore) -> (u64, u64) {
    let counted = store.check_answers().expect("a filter store counts its checks");
    (counted.local, counted.store)
}

/// The filter store honours the shared contract.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let Some(url) = filter_url().await else { return };
    let store: SharedStore = Arc::new(open(&url).await);
    run_all(store.clone()).await;
    store.clear().await.unwrap();
}

/// Once a revoke on one replica has returned, another refuses the id, confirming its filter's
/// hit in Redis (one round trip); an id never revoked is answered from the filter alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returned_revoke_is_refused_by_every_replica() {
    let Some(url) = filter_url().await else { return };
    let (a, b) = (open(&url).await, open(&url).await);
    for _ in 0..100 {
        let (jti, exp) = (Jti::random(), later(60));
        a.revoke(jti, exp).await.unwrap();
        assert!(b.is_revoked(jti, exp).await.unwrap(), "b had not applied a returned revoke");
    }
    assert_eq!(answers(&b), (0, 100), "every hit is confirmed in Redis");
    let strangers = 2_000;
    for _ in 0..strangers {
        assert!(!b.is_revoked(Jti::random(), later(60)).await.unwrap());
    }
    let (local, asked) = answers(&b);
    assert_eq!(local + asked, 100 + strangers);
    // 100 ids in one segment of 1,024: far below 1 % false positives.
    assert!(asked - 100 < 20, "{} strangers went to Redis", asked - 100);
    assert_eq!(a.sync_timeouts(), Some(0));
    a.clear().await.unwrap();
}

/// A replica that starts after revocations were made (a restart) has loaded every live one
/// before `connect` returns, into one filter segment per expiry bucket, and refuses them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_replica_loads_live_entries_before_it_is_ready() {
    let Some(url) = filter_url().await else { return };
    let a = open(&url).await;
    // Over three expiry buckets, the first one grown segment by segment.
    let entries: Vec<(Jti, u64)> =
        (0..3_000).map(|i| (Jti::random(), later(150 + 60 * (i % 3)))).collect();
    for chunk in entries.chunks(100) {
        a.revoke_many(chunk).await.unwrap();
    }
    let late = open(&url).await;
    assert_eq!(late.loads(), 1);
    let buckets: std::collections::BTreeSet<u64> = entries.iter().map(|e| e.1 / 60).collect();
    assert_eq!(late.segments(), buckets.len(), "one segment per bucket after a load");
    for &(jti, exp) in &entries {
        assert!(late.is_revoked(jti, exp).await.unwrap(), "a live revocation was not loaded");
    }
    let stats = late.stats().await.unwrap();
    // An id its filter already answered "maybe" for is not counted again (about 0.5 %).
    assert!((2_970..=3_000).contains(&stats.entries.unwrap()), "{stats:?}");
    let per_entry = stats.bytes.unwrap() as f64 / 3_000.0;
    assert!(per_entry < 4.0, "{per_entry} bytes per entry");
    let shared = late.shared_stats().await.unwrap().unwrap();
    assert!(shared.entries.unwrap() >= 3_000, "{shared:?}");
    a.clear().await.unwrap();
}

/// Through the server: tokens logged out on one server are refused by a second one started
/// afterwards on the same prefix (0 of 5 replays accepted after a restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_survive_a_server_restart() {
    let Some(url) = filter_url().await else { return };
    assert_eq!(crate::restart::replays_accepted_after_restart(&url).await, 0);
}

/// While Redis is cut off the filter is out of sync: every check asks Redis and fails (a 503:
/// no replay gets in on a filter that may be missing revocations), and a revoke fails too.
/// When Redis returns the replica reloads and answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_fails_closed() {
    let Some(direct) = filter_url().await else { return };
    let mut forwarder = Forwarder::start(server_addr(&direct)).await.unwrap();
    let cut_off = open(&via(&direct, forwarder.addr)).await;
    let (revoked, exp) = (Jti::random(), later(60));
    cut_off.revoke(revoked, exp).await.unwrap();
    cut_until_unhealthy(&mut forwarder, &cut_off).await;
    assert!(cut_off.is_revoked(Jti::random(), exp).await.is_err(), "a stranger fails closed");
    assert!(cut_off.is_revoked(revoked, exp).await.is_err(), "a hit fails closed");
    assert!(cut_off.revoke(Jti::random(), exp).await.is_err(), "a revoke needs Redis");
    forwarder.restore().await.unwrap();
    let back = async || cut_off.health().await.is_ok().then_some(());
    poll_until("reloaded", Duration::from_secs(5), Duration::from_millis(10), back).await.unwrap();
    assert_eq!(cut_off.loads(), 2);
    assert!(cut_off.is_revoked(revoked, exp).await.unwrap());
    assert!(!cut_off.is_revoked(Jti::random(), exp).await.unwrap());
    cut_off.clear().await.unwrap();
}

/// `/stats` reports the checks the filter answered and those it asked Redis, where a
/// measurement reads them: a fresh token is answered locally, its replay after logout in Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_local_answers_and_round_trips() {
    let Some(url) = filter_url().await else { return };
    let store = Arc::new(open(&url).await);
    let server = crate::common::TestServer::start(store.clone() as SharedStore).await;
    let http = crate::common::client();
    let token = crate::common::login(&http, &server, "kim").await;
    assert_eq!(crate::common::me(&http, &server, &token).await.0, 200);
    let logout = http.post(server.url("/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(logout.status(), 204);
    assert_eq!(crate::common::me(&http, &server, &token).await.0, 401);
    let stats = crate::common::stats(&http, &server).await;
    let answers = stats.check_answers.expect("filter+redis reports its checks");
    assert_eq!(answers.store, 1, "the replay is confirmed in Redis: {answers:?}");
    assert!(answers.local >= 1, "the fresh token is answered locally: {answers:?}");
    store.clear().await.unwrap();
}
