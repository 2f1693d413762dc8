//! `redis+buckets://`: the conformance suite, and the layout it promises — every hash within
//! Redis's *default* listpack limits (at most 128 fields), encoded as a listpack, the keys of
//! a bucket expiring together at its end — checked on the real server; and that a replica's
//! copy of the directories, which its checks use, is never trusted once another replica has
//! split a hash.

use futures_util::TryStreamExt;
use redis::AsyncCommands;

use crate::common::backend::{require_or_skip, Backend};
use crate::common::conformance::run_all;
use crate::common::redis_server::{Persistence, RedisServer};
use revbench::revocation::backends::redis_buckets::BUCKET_SECS;
use revbench::revocation::{fill, open, Jti, RevocationStore, ScratchStore};
use revbench::time::now_secs;

/// A `redis+buckets://` store in a namespace of its own, on the test Redis.
async fn scratch(label: &str) -> Option<ScratchStore> {
    let url = require_or_skip(Backend::Redis).await?;
    let url = url.replacen("redis://", "redis+buckets://", 1);
    Some(ScratchStore::open(&url, label).await.expect("redis+buckets opens"))
}

/// `redis+buckets://` honours the contract.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let Some(scratch) = scratch("conformance").await else { return };
    run_all(scratch.store.clone()).await;
    let stats = scratch.store.stats().await.unwrap();
    assert!(stats.entries.unwrap() >= 1, "{stats:?}");
    scratch.remove().await.unwrap();
}

/// 20,000 ids in one expiry bucket are split over many hashes, none over 128 fields (its ids
/// and its depth) and each a listpack (whatever the server's own limit: the store keeps to the
/// default), every id is found and no other, and every key expires at the bucket's end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashes_stay_within_the_default_listpack_limits() {
    const IDS: usize = 20_000;
    let Some(scratch) = scratch("layout").await else { return };
    let exp = now_secs() + 600;
    let ids: Vec<(Jti, u64)> = (0..IDS).map(|_| (Jti::random(), exp)).collect();
    fill(&scratch.store, ids.iter().copied()).await.unwrap();
    scratch.store.revoke(ids[0].0, exp).await.unwrap(); // again: no duplicate

    let prefix = url::Url::parse(&scratch.url.replacen("redis+buckets", "redis", 1))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "prefix")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let client = redis::Client::open(Backend::Redis.url().unwrap()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = conn
        .scan_options::<String>(
            redis::ScanOptions::default().with_pattern(format!("{prefix}*")).with_count(1000),
        )
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let hashes: Vec<&String> = keys.iter().filter(|k| !k.ends_with(":d")).collect();
    assert!(hashes.len() > IDS / 128, "{} hashes for {IDS} ids", hashes.len());
    let bucket_end = (exp / BUCKET_SECS + 1) * BUCKET_SECS;
    let dir_expires: i64 = redis::cmd("EXPIRETIME")
        .arg(keys.iter().find(|k| k.ends_with(":d")).unwrap())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(dir_expires, bucket_end as i64);
    let mut fields = 0;
    for key in &hashes {
        let len: usize = conn.hlen(*key).await.unwrap();
        let encoding: String =
            redis::cmd("OBJECT").arg("ENCODING").arg(*key).query_async(&mut conn).await.unwrap();
        let expires: i64 = redis::cmd("EXPIRETIME").arg(*key).query_async(&mut conn).await.unwrap();
        assert!(len <= 128, "{key}: {len} fields");
        assert_eq!(encoding, "listpack", "{key}");
        assert_eq!(expires, bucket_end as i64, "{key}");
        let depth: Option<u8> = conn.hget(*key, "d").await.unwrap();
        assert!(depth.is_some(), "{key} holds its depth");
        fields += len - 1;
    }
    assert_eq!(fields, IDS);
    assert_eq!(scratch.store.stats().await.unwrap().entries, Some(IDS as u64));
    println!(
        "{IDS} ids in {} hashes (mean {:.1} fields)",
        hashes.len(),
        IDS as f64 / hashes.len() as f64
    );
    for &(jti, exp) in ids.iter().step_by(13) {
        assert!(scratch.store.is_revoked(jti, exp).await.unwrap(), "{jti}");
    }
    for _ in 0..2_000 {
        assert!(!scratch.store.is_revoked(Jti::random(), exp).await.unwrap());
    }
    scratch.remove().await.unwrap();
    let left: Vec<String> =
        redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut conn).await.unwrap();
    assert!(left.is_empty(), "{left:?}");
}

/// A server that lost its scripts (`SCRIPT FLUSH`, as after a restart: `NOSCRIPT` to the
/// digests the store loaded) still answers checks and takes revocations: the store sends the
/// scripts whole. On a Redis of the test's own (never the shared one's script cache).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_and_revocations_survive_a_script_flush() {
    let Some(redis) = RedisServer::start(Persistence::None) else { return };
    let url = redis.url().replacen("redis://", "redis+buckets://", 1);
    let store = open(&url).await.expect("redis+buckets opens");
    let exp = now_secs() + 600;
    let (before, after) = (Jti::random(), Jti::random());
    store.revoke(before, exp).await.unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let flush = || redis::cmd("SCRIPT").arg("FLUSH").clone();
    flush().query_async::<()>(&mut conn).await.unwrap();
    assert!(store.is_revoked(before, exp).await.unwrap(), "check after SCRIPT FLUSH");
    assert!(!store.is_revoked(after, exp).await.unwrap(), "miss after SCRIPT FLUSH");
    flush().query_async::<()>(&mut conn).await.unwrap();
    store.revoke(after, exp).await.unwrap();
    assert!(store.is_revoked(after, exp).await.unwrap(), "revocation after SCRIPT FLUSH");
}

/// Calls of `command` the server has run (`INFO commandstats`).
async fn calls(conn: &mut redis::aio::MultiplexedConnection, command: &str) -> u64 {
    let info: String = redis::cmd("INFO").arg("commandstats").query_async(conn).await.unwrap();
    let line = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(line.as_str()))
        .map_or(0, |rest| rest.split(',').next().unwrap().parse().unwrap())
}

/// Checks every id of `revoked` and `strangers`, and asserts each answer.
async fn check_all(store: &dyn RevocationStore, revoked: &[Jti], strangers: &[Jti], exp: u64) {
    for &jti in revoked {
        assert!(store.is_revoked(jti, exp).await.unwrap(), "revoked {jti} not found");
    }
    for &jti in strangers {
        assert!(!store.is_revoked(jti, exp).await.unwrap(), "{jti} never revoked");
    }
}

/// One replica's checks read its copy of a bucket's directory; another replica's revocations
/// then split that bucket's hashes many times over. The first still finds every revoked id
/// (the hash's depth in each reply shows the copy stale, and the check script answers), its
/// copy is refreshed on the way (checked again, every id is answered by `HMGET` alone), and a
/// copy taken before the bucket was emptied and refilled is not trusted either. On a Redis of
/// the test's own, whose command counts are the two stores' alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_of_the_directory_is_never_trusted_after_another_replica_splits() {
    let Some(redis) = RedisServer::start(Persistence::None) else { return };
    let url = redis.url().replacen("redis://", "redis+buckets://", 1);
    let (first, second) = (open(&url).await.unwrap(), open(&url).await.unwrap());
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let exp = now_secs() + 600;
    let ids = |n: usize| (0..n).map(|_| Jti::random()).collect::<Vec<Jti>>();
    let (mut revoked, strangers) = (ids(300), ids(1_000));

    check_all(first.as_ref(), &[], &strangers, exp).await; // no bucket yet
    fill(&first, revoked.iter().map(|&jti| (jti, exp))).await.unwrap();
    check_all(first.as_ref(), &revoked, &strangers, exp).await; // the copy: a few hashes
    let more = ids(3_000);
    fill(&second, more.iter().map(|&jti| (jti, exp))).await.unwrap(); // ~8× the hashes
    revoked.extend(more);

    let scripts = calls(&mut conn, "evalsha").await;
    check_all(first.as_ref(), &revoked, &strangers, exp).await;
    let stale = calls(&mut conn, "evalsha").await - scripts;
    assert!(stale > 0, "the second replica's splits went unseen");
    let (scripts, hmgets) = (calls(&mut conn, "evalsha").await, calls(&mut conn, "hmget").await);
    check_all(first.as_ref(), &revoked, &strangers, exp).await;
    assert_eq!(calls(&mut conn, "evalsha").await, scripts, "the copy was not refreshed");
    let checks = (revoked.len() + strangers.len()) as u64;
    assert_eq!(calls(&mut conn, "hmget").await - hmgets, checks);

    second.clear().await.unwrap(); // the bucket goes, and comes back with one hash
    let again = ids(20);
    fill(&second, again.iter().map(|&jti| (jti, exp))).await.unwrap();
    check_all(first.as_ref(), &again, &revoked, exp).await;
}
