//! The replay window measured by short `revbench run`s with real server processes: how long a
//! copied token keeps working after logout, by store and topology.
//!
//! Redis-backed stores run in a key prefix of the run's own, removed at the end.

use std::time::Duration;

use crate::common::backend::{require_or_skip, Backend};
use crate::common::run::short_run;
use revbench::results::{ReplayWindow, RunResults};
use revbench::run::options::RunOptions;
use revbench::run::scheduler::run;
use revbench::scenario::Scenario;

fn options(scenarios: &[&str], stores: Vec<String>) -> RunOptions {
    let scenarios = scenarios
        .iter()
        .map(|name| {
            let mut scenario = Scenario::load(name).unwrap();
            scenario.users = 2;
            scenario
        })
        .collect();
    short_run("replay-test", scenarios, stores)
}

fn window<'a>(results: &'a RunResults, store: &str, scenario: &str) -> &'a ReplayWindow {
    let m = results
        .measurements
        .iter()
        .find(|m| m.store == store && m.scenario == scenario)
        .unwrap_or_else(|| panic!("no measurement for {store} under {scenario}"));
    m.rounds[0].replay_window.as_ref().unwrap_or_else(|| panic!("{store} {scenario}: no window"))
}

/// In-process stores on three replicas and after a restart: copies are never refused. Redis:
/// refused at the first replay everywhere. The synced local check: refused within
/// milliseconds on three replicas and at once after a restart (it loads before it is ready).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_by_store_and_topology() {
    let mut stores = vec!["hashmap:".to_string()];
    let redis = require_or_skip(Backend::Redis).await;
    if let Some(redis) = &redis {
        stores.push(redis.clone());
        stores.push(format!("hybrid+{redis}"));
    }
    let options = options(&["logout-replay", "replicas", "restart"], stores);
    let out = options.out_dir.clone();
    let results = run(options).await.unwrap();

    let one_server = window(&results, "hashmap", "logout-replay");
    assert_eq!((one_server.never_refused, one_server.max_us), (0, Some(0)), "{one_server:?}");
    for scenario in ["replicas", "restart"] {
        let w = window(&results, "hashmap", scenario);
        assert!(w.probes > 0 && w.logouts_failed == 0, "hashmap {scenario}: {w:?}");
        assert_eq!(w.never_refused, w.probes, "hashmap {scenario}: {w:?}");
        assert_eq!(w.p50_us, None, "hashmap {scenario}: {w:?}");
    }
    if redis.is_some() {
        for scenario in ["logout-replay", "replicas", "restart"] {
            let w = window(&results, "redis", scenario);
            assert_eq!((w.never_refused, w.logouts_failed), (0, 0), "redis {scenario}: {w:?}");
            assert_eq!(w.max_us, Some(0), "redis {scenario}: refused at the first replay {w:?}");
            let w = window(&results, "hybrid", scenario);
            assert_eq!((w.never_refused, w.logouts_failed), (0, 0), "hybrid {scenario}: {w:?}");
            let max = w.max_us.unwrap();
            assert!(max < 50_000, "hybrid {scenario}: window max {max} µs");
            println!("hybrid {scenario}: {w:?}");
        }
        assert_eq!(window(&results, "hybrid", "restart").max_us, Some(0));
        let m =
            results.measurements.iter().find(|m| m.store == "hybrid" && m.scenario == "replicas");
        let leak = m.unwrap().rounds[0].leak_rate.unwrap();
        assert!(leak <= 0.01, "hybrid on three replicas leaked {:.2}% of replays", leak * 100.0);
    }
    let written = RunResults::read(&out.join("results.json")).unwrap();
    let windows = |r: &RunResults| -> Vec<_> {
        r.measurements.iter().map(|m| m.rounds[0].replay_window.clone()).collect()
    };
    assert_eq!(windows(&written), windows(&results), "the windows survive the file");
    for m in &results.measurements {
        println!("{} {}: leaked {:?}", m.store, m.scenario, m.rounds[0].leak_rate);
    }
    let _ = std::fs::remove_dir_all(out);
}

/// While Redis is cut off from three replicas, the synced local check keeps answering and a
/// copy logged out on one replica keeps working on the next until Redis returns (late, not
/// lost); Redis itself refuses the logout and every check (fail closed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outage_on_replicas_makes_the_synced_check_late() {
    let Some(redis) = require_or_skip(Backend::Redis).await else { return };
    let mut options = options(&["outage-replicas"], vec![redis.clone(), format!("hybrid+{redis}")]);
    options.duration = Some(Duration::from_secs(4));
    let out = options.out_dir.clone();
    let results = run(options).await.unwrap();

    let hybrid = results.measurements.iter().find(|m| m.store == "hybrid").unwrap();
    let outage = hybrid.rounds[0].outage.as_ref().unwrap();
    assert!(outage.statuses_during.get("me 200").copied().unwrap_or(0) > 0, "{outage:?}");
    assert_eq!(outage.statuses_during.get("me 503"), None, "{outage:?}");
    let w = window(&results, "hybrid", "outage-replicas");
    assert_eq!((w.logouts_failed, w.never_refused), (0, 0), "{w:?}");
    // Probes start 0.2 s into a 1.33 s outage: late by most of what is left of it.
    let p50 = w.p50_us.unwrap();
    assert!((500_000..3_000_000).contains(&p50), "hybrid window p50 {p50} µs");

    let w = window(&results, "redis", "outage-replicas");
    assert_eq!(w.logouts_failed, w.probes, "redis refuses logouts while down: {w:?}");
    println!("hybrid during outage: {:?}", window(&results, "hybrid", "outage-replicas"));
    let _ = std::fs::remove_dir_all(out);
}

/// Refresh-token rotation with 2 s access tokens (`access=` overriding the scenario's 15 min):
/// copies keep working after logout (access tokens are not checked) and are refused within
/// the access lifetime (the 5 s window's probes replay for 2.5 s); the refresh scenario's
/// renewals are counted as refresh requests/s and store writes per user per hour. The store
/// is named (`short=URL`), and results file it under that name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_window_is_at_most_the_access_lifetime() {
    let Some(redis) = require_or_skip(Backend::Redis).await else { return };
    let sep = if redis.contains('?') { '&' } else { '?' };
    let store = format!("short=refresh+{redis}{sep}access=2s");
    let mut options = options(&["logout-replay", "refresh"], vec![store]);
    options.duration = Some(Duration::from_secs(5));
    let out = options.out_dir.clone();
    let results = run(options).await.unwrap();
    assert_eq!(results.stores[0].name, "short");
    assert_eq!(results.stores[0].scheme.as_deref(), Some("refresh-redis"));

    let w = window(&results, "short", "logout-replay");
    assert_eq!((w.never_refused, w.logouts_failed), (0, 0), "{w:?}");
    assert!(w.max_us.unwrap() <= 2_000_000, "window beyond the access lifetime: {w:?}");
    assert!(w.p50_us.unwrap() > 0, "copies must work for a while after logout: {w:?}");
    let m = results.measurements.iter().find(|m| m.scenario == "refresh").unwrap();
    let round = &m.rounds[0];
    assert!(round.refresh_requests_per_sec.unwrap() > 0.0, "{:?}", round.statuses);
    let refresh_writes = round.refresh_writes_per_user_hour.unwrap();
    assert!(refresh_writes > 0.0, "{:?}", round.store_writes);
    assert!(round.store_writes_per_user_hour.unwrap() >= refresh_writes);
    assert_eq!(round.statuses.get("refresh 401"), None, "{:?}", round.statuses);
    println!(
        "refresh: window {w:?}; {:?} refresh/s, {refresh_writes} refresh writes/user/h",
        round.refresh_requests_per_sec
    );
    let _ = std::fs::remove_dir_all(out);
}
