//! `hybrid+redis://`: local checks kept in sync through Redis, against the real server.
//!
//! Each test works in a key prefix of its own (`revbench:test_hybrid:<random>:`) and deletes it
//! at the end. `REVBENCH_REQUIRE_REDIS=1` turns an unreachable Redis into a failure instead of
//! a skip. `-- --nocapture` prints the measured revoke times.

use std::time::{Duration, Instant};

use crate::common::backend::{cut_until_unhealthy, require_or_skip, server_addr, via, Backend};
use crate::common::conformance::run_all;
use crate::common::poll::poll_until;
use crate::common::Forwarder;
use revbench::revocation::{namespaced, HybridStore, Jti, RevocationStore, SharedStore};
use revbench::time::now_secs;

/// `hybrid+redis://` on the test Redis in a fresh key prefix, or `None` (skipped, printed).
async fn hybrid_url() -> Option<String> {
    let redis = require_or_skip(Backend::Redis).await?;
    Some(namespaced(&format!("hybrid+{redis}"), "test_hybrid").unwrap())
}

async fn open(url: &str) -> HybridStore {
    HybridStore::connect(url).await.unwrap()
}

fn later(secs: u64) -> u64 {
    now_secs() + secs
}

/// How often the outage test looks for what it waits for: often, so the printed catch-up time
/// is close to the real one.
const POLL: Duration = Duration::from_micros(50);

/// The hybrid store honours the shared contract within one process (read-your-writes there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_conformance_suite() {
    let Some(url) = hybrid_url().await else { return };
    let store: SharedStore = std::sync::Arc::new(open(&url).await);
    run_all(store.clone()).await;
    store.clear().await.unwrap();
}

/// Once a revoke on one instance has returned, another instance already refuses the id (the
/// revoke waited for its acknowledgement); 200 revocations, timed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returned_revoke_is_seen_by_every_instance() {
    let Some(url) = hybrid_url().await else { return };
    let (a, b) = (open(&url).await, open(&url).await);
    let mut took = Vec::new();
    for _ in 0..200 {
        let jti = Jti::random();
        let started = Instant::now();
        let exp = later(60);
        a.revoke(jti, exp).await.unwrap();
        took.push(started.elapsed());
        assert!(b.is_revoked(jti, exp).await.unwrap(), "b had not applied a returned revoke");
    }
    took.sort();
    let (p50, p99, max) = (took[100], took[197], took[199]);
    println!("revoke incl. fan-out and acks, 200 revokes: p50 {p50:?} p99 {p99:?} max {max:?}");
    assert_eq!(a.ack_timeouts(), 0);
    a.clear().await.unwrap();
}

/// An instance that starts after revocations were made has loaded them before `connect`
/// returns, and has loaded only live ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_instance_loads_live_entries_before_it_is_ready() {
    let Some(url) = hybrid_url().await else { return };
    let a = open(&url).await;
    let entries: Vec<(Jti, u64)> = (0..500).map(|_| (Jti::random(), later(60))).collect();
    a.revoke_many(&entries).await.unwrap();
    let late = open(&url).await;
    assert_eq!(late.loads(), 1);
    for &(jti, exp) in &entries {
        assert!(late.is_revoked(jti, exp).await.unwrap(), "a live revocation was not loaded");
    }
    assert_eq!(late.stats().await.unwrap().entries, Some(500));
    a.clear().await.unwrap();
}

/// While Redis is cut off: checks answer locally (no error), a revoke made here is refused
/// here at once, one made elsewhere is late; health says so. When Redis returns the instance
/// reloads (catching up) and writes what it queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_makes_revocations_late_not_lost() {
    let Some(direct) = hybrid_url().await else { return };
    let mut forwarder = Forwarder::start(server_addr(&direct)).await.unwrap();
    let cut_off_url = via(&direct, forwarder.addr);
    let (cut_off, elsewhere) = (open(&cut_off_url).await, open(&direct).await);

    cut_until_unhealthy(&mut forwarder, &cut_off).await;
    let (mine, theirs, exp) = (Jti::random(), Jti::random(), later(60));
    cut_off.revoke(mine, exp).await.unwrap();
    elsewhere.revoke(theirs, exp).await.unwrap();
    assert!(cut_off.is_revoked(mine, exp).await.unwrap(), "own revoke must hold at once");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!cut_off.is_revoked(theirs, exp).await.unwrap(), "a revoke from elsewhere is late");
    assert!(!elsewhere.is_revoked(mine, exp).await.unwrap(), "the queued revoke is not out yet");
    assert_eq!(cut_off.pending(), 1);

    let restored = Instant::now();
    forwarder.restore().await.unwrap();
    let both_seen = async || {
        let seen = cut_off.is_revoked(theirs, exp).await.unwrap()
            && elsewhere.is_revoked(mine, exp).await.unwrap();
        seen.then_some(())
    };
    let caught_up = poll_until("catch-up", Duration::from_secs(5), POLL, both_seen).await;
    println!("caught up {:?} after Redis returned", restored.elapsed());
    caught_up.expect("both revokes are seen within 5 s of Redis returning");
    assert!(cut_off.health().await.is_ok());
    assert_eq!((cut_off.pending(), cut_off.loads()), (0, 2));
    elsewhere.clear().await.unwrap();
}

/// A forget that cannot make sure no revocation of its ids is still on its way through the
/// feed (Redis cut off: the marker is not taken) removes nothing, here or in Redis: the id
/// stays revoked, and the forget says why it failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forget_without_redis_removes_nothing() {
    let Some(direct) = hybrid_url().await else { return };
    let mut forwarder = Forwarder::start(server_addr(&direct)).await.unwrap();
    let cut_off = open(&via(&direct, forwarder.addr)).await;
    let (jti, exp) = (Jti::random(), later(60));
    cut_off.revoke(jti, exp).await.unwrap();

    cut_until_unhealthy(&mut forwarder, &cut_off).await;
    let entries = [(jti, exp)];
    let forget = tokio::time::timeout(Duration::from_secs(10), cut_off.forget_many(&entries));
    let err = forget.await.expect("the forget returns within 10 s").unwrap_err();
    assert!(err.to_string().contains("marker"), "the error says what failed: {err}");
    assert!(cut_off.is_revoked(jti, exp).await.unwrap(), "the local copy still holds the id");

    let elsewhere = open(&direct).await;
    assert!(elsewhere.is_revoked(jti, exp).await.unwrap(), "Redis still holds the id");
    elsewhere.clear().await.unwrap();
}

/// While Redis is cut off the queue of revocations for it stops at its bound: the revoke past
/// it fails (the logout gets a 503) and is counted, in the store and in `/stats`; when Redis
/// returns, everything queued is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_and_counts() {
    let Some(direct) = hybrid_url().await else { return };
    let mut forwarder = Forwarder::start(server_addr(&direct)).await.unwrap();
    let cut_off = std::sync::Arc::new(open(&via(&direct, forwarder.addr)).await);
    cut_until_unhealthy(&mut forwarder, &*cut_off).await;
    let mut queued = 0;
    while cut_off.revoke(Jti::random(), later(60)).await.is_ok() {
        queued += 1;
        assert!(queued <= 1_000_000, "the queue has no bound");
    }
    assert_eq!(cut_off.pending(), queued, "the refused revoke was not queued");
    assert_eq!(cut_off.queue_overflows(), 1);
    let server = crate::common::TestServer::start(cut_off.clone() as SharedStore).await;
    let http = crate::common::client();
    let token = crate::common::login(&http, &server, "judy").await;
    let logout = http.post(server.url("/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(logout.status(), 503, "a logout that cannot be queued fails");
    let stats = crate::common::stats(&http, &server).await;
    assert_eq!(stats.queue_overflows, Some(2), "{stats:?}");
    forwarder.restore().await.unwrap();
    let written = async || (cut_off.pending() == 0).then_some(());
    poll_until("queue written", Duration::from_secs(20), Duration::from_millis(50), written)
        .await
        .unwrap();
    cut_off.clear().await.unwrap();
}

/// The subscribers of a store's revocation channel (`PUBSUB NUMSUB`).
async fn subscribers(url: &str) -> u64 {
    let redis_url = url.strip_prefix("hybrid+").unwrap();
    let prefix = url::Url::parse(redis_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "prefix")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let client = redis::Client::open(redis_url.split('?').next().unwrap()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let channel = format!("{prefix}__revoked");
    let answer: (String, u64) =
        redis::cmd("PUBSUB").arg("NUMSUB").arg(&channel).query_async(&mut conn).await.unwrap();
    answer.1
}

/// The harness's own handle on a measured hybrid store (to clear, fill and remove it) takes no
/// part in the replicas' sync: it adds no subscriber, so a logout on N replicas is still
/// delivered 2N − 1 times (the harness used to be one more replica acknowledging every one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harness_handle_is_no_subscriber() {
    let Some(redis) = require_or_skip(Backend::Redis).await else { return };
    let (targets, _) = revbench::harness::probe(&[format!("hybrid+{redis}")], "test_hybrid").await;
    let target = targets.into_iter().next().expect("the hybrid store opened");
    assert_eq!(subscribers(&target.url).await, 0, "the harness subscribed");
    let replica = open(&target.url).await;
    assert_eq!(subscribers(&target.url).await, 1, "one replica, one subscriber");
    drop(replica);
    target.remove().await.unwrap();
}

/// A revoke that another replica does not acknowledge within the bound returns anyway and is
/// counted, in the store and in the server's `/stats` (`sync_timeouts`), where a measurement
/// reads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_revokes_are_counted_in_stats() {
    let Some(url) = hybrid_url().await else { return };
    let store = std::sync::Arc::new(open(&url).await);
    // A subscriber that never acknowledges: `PUBLISH` counts it, so the revoke waits for it.
    let redis_url = url.strip_prefix("hybrid+").unwrap().split('?').next().unwrap().to_string();
    let client = redis::Client::open(redis_url).unwrap();
    let mut silent = client.get_async_pubsub().await.unwrap();
    let prefix = url::Url::parse(url.strip_prefix("hybrid+").unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "prefix")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    silent.subscribe(format!("{prefix}__revoked")).await.unwrap();
    let server = crate::common::TestServer::start(store.clone() as SharedStore).await;
    let http = crate::common::client();
    let token = crate::common::login(&http, &server, "ivan").await;
    let logout = http.post(server.url("/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(logout.status(), 204, "the logout returns, late");
    assert_eq!(store.ack_timeouts(), 1);
    let stats: revbench::server::StatsResponse = crate::common::stats(&http, &server).await;
    assert_eq!(stats.sync_timeouts, Some(1), "{stats:?}");
    assert_eq!(stats.queue_overflows, Some(0), "{stats:?}");
    drop(silent);
    store.clear().await.unwrap();
}
