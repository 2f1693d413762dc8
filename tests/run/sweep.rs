//! `revbench sweep` end to end: every point measured, fills recorded, a store that cannot
//! reach a size stopped there with the reason while the sweep goes on with the others; the
//! axes that change the scenario (`replicas`) and the path to the store (`store-rtt`) applied;
//! a shared store back to its prefill after every round.

use std::path::PathBuf;
use std::time::Duration;

use revbench::results::sweep::SweepResults;
use revbench::scenario::Scenario;
use revbench::sweep::scheduler::{run, SweepOptions};

use crate::common::backend::{require_or_skip, Backend};

/// A short sweep of `stores` along `axis` (check-only, one round of 300 ms), into a temporary
/// directory of its own.
fn short_sweep(axis: &str, stores: &[&str]) -> SweepOptions {
    let out_dir = std::env::temp_dir()
        .join(format!("revbench-sweep-test-{}", revbench::revocation::Jti::random()));
    SweepOptions {
        axis: axis.parse().unwrap(),
        scenario: Scenario::load("check-only").unwrap(),
        stores: stores.iter().map(|s| s.to_string()).collect(),
        rounds: 1,
        duration: Duration::from_millis(300),
        warmup: Duration::from_millis(100),
        out_dir,
        server_exe: PathBuf::from(env!("CARGO_BIN_EXE_revbench")),
        progress: false,
        max_fill_time: Duration::from_secs(600),
    }
}

/// A fill its server's rate at the previous point projects past `--max-fill-time` is not
/// waited for: hashmap is stopped at 1M with the projection as the reason.
#[tokio::test]
async fn a_fill_projected_past_the_bound_is_stopped() {
    let options = SweepOptions {
        max_fill_time: Duration::from_millis(1),
        ..short_sweep("revoked=100k,1M", &["hashmap:"])
    };
    let out_dir = options.out_dir.clone();
    let results = run(options).await.expect("the sweep finishes");
    assert_eq!(results.point(100_000).unwrap().measurements.len(), 1, "measured at 100k");
    assert!(results.point(1_000_000).unwrap().measurements.is_empty(), "not at 1M");
    let stopped = &results.stopped;
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!((stopped[0].at, stopped[0].reached), (1_000_000, Some(100_000)));
    let reason = &stopped[0].reason;
    assert!(
        reason.contains("beyond --max-fill-time 1ms") && reason.contains("its server's"),
        "{reason}"
    );
    let _ = std::fs::remove_dir_all(out_dir);
}

/// A billion entries at the bytes per entry `hashmap:` takes at 200k cannot fit on a test
/// machine: hashmap is stopped at 1G with the memory in its reason, `none:` (which keeps
/// nothing) is measured at both points, and hashmap's fill at 200k is on record.
#[tokio::test]
async fn a_store_beyond_memory_is_stopped_and_the_sweep_goes_on() {
    let options = short_sweep("revoked=200k,1G", &["none:", "hashmap:"]);
    let out_dir = options.out_dir.clone();
    let results = run(options).await.expect("the sweep finishes");
    let on_disk = SweepResults::read(&out_dir.join("results.json")).unwrap();
    assert_eq!(on_disk.points.len(), 2, "both points are in the file");
    assert_eq!(on_disk.config.values, [200_000, 1_000_000_000]);

    let small = results.point(200_000).unwrap();
    let stores: Vec<&str> = small.measurements.iter().map(|m| m.store.as_str()).collect();
    assert_eq!(stores.len(), 2, "{stores:?}");
    let fill = small.fills.iter().find(|f| f.store == "hashmap").expect("hashmap's fill");
    assert_eq!((fill.entries, fill.filled_by.as_str()), (200_000, "server"));
    assert!(fill.bytes_per_entry.is_some(), "{fill:?}");
    assert!(small.fills.iter().all(|f| f.store != "none"), "none: fills nothing");

    let big = results.point(1_000_000_000).unwrap();
    let measured: Vec<&str> = big.measurements.iter().map(|m| m.store.as_str()).collect();
    assert_eq!(measured, ["none"], "the sweep went on without hashmap");
    let stopped = &results.stopped;
    assert_eq!(stopped.len(), 1, "{stopped:?}");
    assert_eq!((stopped[0].store.as_str(), stopped[0].at), ("hashmap", 1_000_000_000));
    assert_eq!(stopped[0].reached, Some(200_000));
    assert!(stopped[0].reason.contains("available"), "{}", stopped[0].reason);
    let _ = std::fs::remove_dir_all(out_dir);
}

/// `replicas=1,2` starts that many servers per store at each point: the round's counters
/// come from one server, then from two; the file names the axis.
#[tokio::test]
async fn the_replicas_axis_starts_that_many_servers() {
    let options = short_sweep("replicas=1,2", &["hashmap:"]);
    let out_dir = options.out_dir.clone();
    let results = run(options).await.expect("the sweep finishes");
    assert_eq!(
        (results.config.axis.as_str(), &results.config.values[..]),
        ("replicas", &[1, 2][..])
    );
    for servers in [1, 2] {
        let point = results.point(servers).unwrap();
        let round = &point.measurements[0].rounds[0];
        assert_eq!(round.servers.len(), servers as usize, "{:?}", round.servers);
        assert!(round.requests > 0 && point.fills.is_empty(), "{point:?}");
    }
    let _ = std::fs::remove_dir_all(out_dir);
}

/// `store-rtt=0ms,4ms` puts the round trip between the servers and Redis: the added round
/// trip measured by Redis's ping is within a tolerance of what was asked, and the check (one
/// Redis lookup each) takes at least the round trip; `hashmap:`, with no store to reach, has
/// no round trip recorded.
#[tokio::test]
async fn the_store_rtt_axis_delays_the_store_by_what_it_measured() {
    let Some(redis) = require_or_skip(Backend::Redis).await else { return };
    let options = short_sweep("store-rtt=0ms,4ms", &["hashmap:", &redis]);
    let out_dir = options.out_dir.clone();
    let results = run(options).await.expect("the sweep finishes");
    assert!(results.stopped.is_empty(), "{:?}", results.stopped);
    let check_p50 = |value: u64, store: &str| {
        let point = results.point(value).unwrap();
        let m = point.measurements.iter().find(|m| m.store == store).unwrap();
        m.rounds[0].check_latency().expect("checks were timed").p50_us as f64
    };
    let redis_name = results.stores[1].name.clone();
    let delayed = results.point(4_000).unwrap();
    assert_eq!(delayed.store_rtt.len(), 1, "only Redis has a store to reach");
    let rtt = &delayed.store_rtt[0];
    assert_eq!((rtt.store.as_str(), rtt.added_us), (redis_name.as_str(), 4_000));
    // Never less than asked (a chunk is never sent early); late wake-ups and noise in the
    // straight pings on a loaded machine (load 15 on 2 cores here) move the difference.
    assert!(rtt.through_us.min >= 4_000.0, "{rtt:?}");
    assert!((3_000.0..12_000.0).contains(&rtt.measured_added_us), "{rtt:?}");
    // Every check is one Redis lookup through the forwarder: none is quicker than its delay.
    let (slow, fast) = (check_p50(4_000, &redis_name), check_p50(0, &redis_name));
    assert!(slow >= 4_000.0 && slow > fast, "check p50 {slow} µs at 4 ms, {fast} µs at 0 ms");
    // At 0 ms the forwarder only copies: far less than the 4 ms, even on a busy machine.
    assert!(results.point(0).unwrap().store_rtt[0].measured_added_us < 3_000.0);
    let _ = std::fs::remove_dir_all(out_dir);
}

/// A shared store that keeps no token ids (`cutoff+redis`) gets no fill along `revoked`:
/// measured at each point, with no fill (and so no fill rate or entries) on record for it,
/// while Redis beside it is filled.
#[tokio::test]
async fn a_store_that_keeps_no_ids_is_not_filled() {
    let Some(redis) = require_or_skip(Backend::Redis).await else { return };
    let cutoff = format!("cutoff+{redis}");
    let options = short_sweep("revoked=1k,2k", &[&cutoff, &redis]);
    let out_dir = options.out_dir.clone();
    let results = run(options).await.expect("the sweep finishes");
    assert!(results.stopped.is_empty(), "{:?}", results.stopped);
    let cutoff_name = results.stores[0].name.clone();
    for value in [1_000, 2_000] {
        let point = results.point(value).unwrap();
        assert_eq!(point.measurements.len(), 2, "both measured at {value}");
        let filled: Vec<&str> = point.fills.iter().map(|f| f.store.as_str()).collect();
        assert!(!filled.contains(&cutoff_name.as_str()), "{cutoff_name} filled: {filled:?}");
        assert_eq!(filled.len(), 1, "Redis is filled at {value}: {filled:?}");
    }
    let _ = std::fs::remove_dir_all(out_dir);
}

/// Redis is kept filled across a point's two rounds, and only what each round's load revoked
/// (logouts of copies it replays) is removed afterwards: every round records the entries it
/// removed, one per logout, and the store counted back at the point's prefill, 1k then 3k.
#[tokio::test]
async fn a_kept_store_is_back_to_its_prefill_after_every_round() {
    let Some(redis) = require_or_skip(Backend::Redis).await else { return };
    let options = SweepOptions {
        scenario: Scenario::load("logout-replay").unwrap(),
        rounds: 2,
        ..short_sweep("revoked=1k,3k", &[&redis])
    };
    let out_dir = options.out_dir.clone();
    let results = run(options).await.expect("the sweep finishes");
    assert!(results.stopped.is_empty(), "{:?}", results.stopped);
    for value in [1_000, 3_000] {
        let rounds = &results.point(value).unwrap().measurements[0].rounds;
        assert_eq!(rounds.len(), 2);
        for round in rounds {
            let f = round.load_forgotten.as_ref().expect("a kept store's round forgets");
            assert!(f.noted > 0 && f.missed == 0 && f.error.is_none(), "{f:?}");
            assert_eq!(f.removed, Some(f.noted), "every logout left one entry: {f:?}");
            assert_eq!((f.entries_after, f.prefill_entries), (Some(value), Some(value)), "{f:?}");
        }
    }
    let _ = std::fs::remove_dir_all(out_dir);
}
