//! `hybrid+redis://`: local checks kept in sync through Redis, against the real server.
//!
//! Each test works in a key prefix of its own (`revbench:test_hybrid:<random>:`) and deletes it
//! at the end. `REVBENCH_REQUIRE_REDIS=1` turns an unreachable Redis into a failure instead of
//! a skip. `-- --nocapture` prints the measured revoke times.

use std::time::{Duration, Instant};

use crate::common::backend::{require_or_skip, server_addr, via, Backend};
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
        a.revoke(jti, later(60)).await.unwrap();
        took.push(started.elapsed());
        assert!(b.is_revoked(jti).await.unwrap(), "b had not applied a returned revoke");
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
    let live: Vec<Jti> = (0..500).map(|_| Jti::random()).collect();
    let entries: Vec<(Jti, u64)> = live.iter().map(|&j| (j, later(60))).collect();
    a.revoke_many(&entries).await.unwrap();
    let late = open(&url).await;
    assert_eq!(late.loads(), 1);
    for jti in &live {
        assert!(late.is_revoked(*jti).await.unwrap(), "a live revocation was not loaded");
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

    forwarder.cut().await;
    let lost = async || cut_off.health().await.is_err().then_some(());
    poll_until("lost connection in health", Duration::from_secs(3), POLL, lost)
        .await
        .expect("health reports the lost connection");
    let (mine, theirs) = (Jti::random(), Jti::random());
    cut_off.revoke(mine, later(60)).await.unwrap();
    elsewhere.revoke(theirs, later(60)).await.unwrap();
    assert!(cut_off.is_revoked(mine).await.unwrap(), "own revoke must hold at once");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!cut_off.is_revoked(theirs).await.unwrap(), "a revoke from elsewhere is late");
    assert!(!elsewhere.is_revoked(mine).await.unwrap(), "the queued revoke is not out yet");
    assert_eq!(cut_off.pending(), 1);

    let restored = Instant::now();
    forwarder.restore().await.unwrap();
    let both_seen = async || {
        let seen =
            cut_off.is_revoked(theirs).await.unwrap() && elsewhere.is_revoked(mine).await.unwrap();
        seen.then_some(())
    };
    let caught_up = poll_until("catch-up", Duration::from_secs(5), POLL, both_seen).await;
    println!("caught up {:?} after Redis returned", restored.elapsed());
    caught_up.expect("both revokes are seen within 5 s of Redis returning");
    assert!(cut_off.health().await.is_ok());
    assert_eq!((cut_off.pending(), cut_off.loads()), (0, 2));
    elsewhere.clear().await.unwrap();
}
