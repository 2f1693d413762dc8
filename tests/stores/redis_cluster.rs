//! What the `redis-cluster://` store adds to the shared contract: bulk writes split per
//! master, statistics summed over the masters, a clear that reaches every master, and errors
//! that name the fix. Runs against `REDIS_CLUSTER_URL` or a local cluster the test starts.

use crate::common;
use crate::common::backend::Backend;
use revbench::revocation::{open, Jti, SharedStore};
use revbench::time::now_secs;

const BULK: usize = 3000;

/// A store on the test cluster in a key prefix of its own: (store, cluster URL, prefix).
async fn cluster_store(label: &str) -> Option<(SharedStore, String, String)> {
    let url = Backend::RedisCluster.url_or_skip()?;
    let tag = &Jti::random().to_string()[..10];
    let separator = if url.contains('?') { '&' } else { '?' };
    let prefix = format!("revbench_test_{label}_{tag}:");
    let store = open(&format!("{url}{separator}prefix={prefix}")).await.unwrap();
    Some((store, url, prefix))
}

/// Keys of each master of the cluster whose prefix is `prefix`, counted on that node alone.
async fn keys_per_master(seed_url: &str, prefix: &str) -> Vec<usize> {
    use futures_util::TryStreamExt;
    use redis::AsyncCommands;
    let seed = seed_url.trim_start_matches("redis-cluster://").split([',', '/']).next().unwrap();
    let client = redis::Client::open(format!("redis://{seed}")).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let nodes: String = redis::cmd("CLUSTER").arg("NODES").query_async(&mut conn).await.unwrap();
    let mut counts = Vec::new();
    for line in nodes.lines().filter(|l| l.contains("master")) {
        let address = line.split_whitespace().nth(1).unwrap().split('@').next().unwrap();
        let client = redis::Client::open(format!("redis://{address}")).unwrap();
        let mut node = client.get_multiplexed_async_connection().await.unwrap();
        let count = node
            .scan_options::<String>(
                redis::ScanOptions::default().with_pattern(format!("{prefix}*")).with_count(1000),
            )
            .await
            .unwrap()
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len();
        counts.push(count);
    }
    counts
}

/// `revoke_many` lands every id on the master that owns its slot (spread over all three),
/// every id then reads as revoked, and `clear` removes them from every master.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_writes_are_split_per_master() {
    let Some((store, seed, prefix)) = cluster_store("bulk").await else { return };
    let exp = now_secs() + 120;
    let entries: Vec<(Jti, u64)> = (0..BULK).map(|_| (Jti::random(), exp)).collect();
    store.revoke_many(&entries).await.unwrap();
    for &(jti, _) in entries.iter().step_by(7) {
        assert!(store.is_revoked(jti, exp).await.unwrap(), "{jti} not revoked after revoke_many");
    }
    let counts = keys_per_master(&seed, &prefix).await;
    assert_eq!(counts.len(), 3, "masters: {counts:?}");
    assert_eq!(counts.iter().sum::<usize>(), BULK, "{counts:?}");
    assert!(counts.iter().all(|&c| c > BULK / 5), "keys not spread over masters: {counts:?}");
    store.clear().await.unwrap();
    assert_eq!(keys_per_master(&seed, &prefix).await, vec![0, 0, 0]);
}

/// `stats` sums over the masters: the entry count is the keys of all three (at least the
/// ones written here), and bytes are at least three servers' worth of `used_memory`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_sum_over_the_masters() {
    let Some((store, seed, prefix)) = cluster_store("stats").await else { return };
    let exp = now_secs() + 120;
    let entries: Vec<(Jti, u64)> = (0..300).map(|_| (Jti::random(), exp)).collect();
    store.revoke_many(&entries).await.unwrap();
    let stats = store.stats().await.unwrap();
    let per_master = keys_per_master(&seed, &prefix).await;
    assert!(stats.entries.unwrap() >= 300, "{stats:?}");
    // An empty Redis 7 uses about 0.9 MB; three of them are well above 1.5 MB.
    assert!(stats.bytes.unwrap() > 1_500_000, "{stats:?} over {per_master:?}");
    let version = store.server_version().await.unwrap();
    assert!(version.contains("cluster of 3 masters"), "{version}");
    store.clear().await.unwrap();
}

/// A cluster that does not answer is one line naming the fix; the password never shows.
#[tokio::test]
async fn unreachable_cluster_names_the_fix() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("redis-cluster://bob:hunter2@127.0.0.1:{port}/");
    let message = open(&url).await.err().unwrap().to_string();
    assert!(message.contains("scripts/redis-cluster.sh start"), "{message}");
    assert!(message.contains("bob:****@"), "{message}");
    assert!(!message.contains("hunter2") && !message.contains('\n'), "{message}");
}

/// In a `revbench run`, three replicas sharing the cluster accept no replayed token, and the
/// servers count no store error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_the_cluster_leak_nothing() {
    let Some(url) = Backend::RedisCluster.url_or_skip() else { return };
    let mut scenario = revbench::scenario::Scenario::load("replicas").unwrap();
    scenario.users = 3;
    let options = common::run::short_run("cluster-run", vec![scenario], vec![url]);
    let out_dir = options.out_dir.clone();
    let results = revbench::run::scheduler::run(options).await.unwrap();
    let status = &results.stores[0];
    // Named after its URL: a cluster has no default address, so its nodes are in the label.
    assert!(status.name.starts_with("redis-cluster@"), "{}", status.name);
    assert_eq!(status.scheme.as_deref(), Some("redis-cluster"));
    assert_eq!(status.status, revbench::results::StoreStatus::Measured, "{:?}", status.reason);
    let round = &results.measurements[0].rounds[0];
    assert!(round.replays_attempted > 0, "no replay attempted: {round:?}");
    assert_eq!(round.replays_accepted, 0, "replays accepted across replicas");
    assert_eq!(round.store_errors, 0);
    let _ = std::fs::remove_dir_all(out_dir);
}

/// `store-outage` cuts a store off through one forwarder; a cluster's clients reach every node it
/// announces, so the run records the pair as not applicable, with the reason, instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_cannot_be_cut_off_and_says_so() {
    let Some(url) = Backend::RedisCluster.url_or_skip() else { return };
    let scenario = revbench::scenario::Scenario::load("store-outage").unwrap();
    let options = common::run::short_run("cluster-outage", vec![scenario], vec![url]);
    let out_dir = options.out_dir.clone();
    let results = revbench::run::scheduler::run(options).await.unwrap();
    assert!(results.measurements.is_empty(), "{:?}", results.measurements);
    let pair = results.not_applicable.first().expect("the pair is recorded");
    assert_eq!(pair.scenario, "store-outage");
    assert!(pair.store.starts_with("redis-cluster@"), "{}", pair.store);
    assert!(pair.reason.contains("cluster"), "{}", pair.reason);
    let _ = std::fs::remove_dir_all(out_dir);
}
