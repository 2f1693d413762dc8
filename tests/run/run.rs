//! `revbench run` end to end with short runs: real server processes, real load, real stores.

use std::path::PathBuf;
use std::time::Duration;

use crate::common::backend::{require_or_skip, Backend};
use crate::common::run::short_run;
use revbench::results::{
    RoundResult, RunResults, StoreStatus, Values, SCHEMA_VERSION, STORE_BACK, STORE_CUT,
};
use revbench::run::options::RunOptions;
use revbench::run::scheduler::run;
use revbench::scenario::Scenario;

fn scenario(name: &str, users: usize) -> Scenario {
    let mut scenario = Scenario::load(name).unwrap();
    scenario.users = users;
    scenario
}

fn options(scenarios: Vec<Scenario>, stores: Vec<String>, rounds: usize) -> RunOptions {
    RunOptions { rounds, ..short_run("run-test", scenarios, stores) }
}

fn leak(results: &RunResults, store: &str, scenario: &str) -> (u64, u64) {
    let m = results
        .measurements
        .iter()
        .find(|m| m.store == store && m.scenario == scenario)
        .unwrap_or_else(|| panic!("no measurement for {store} under {scenario}"));
    m.rounds.iter().fold((0, 0), |(a, l), r| (a + r.replays_attempted, l + r.replays_accepted))
}

/// Replays leak as the design says: always with none:, never on one server with a store; on
/// three replicas and after a restart only the in-process stores leak, Redis never does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leak_rates_by_store_and_topology() {
    let mut stores = vec!["none:".to_string(), "memory:".to_string(), "cutoff:".to_string()];
    stores.extend(require_or_skip(Backend::Redis).await);
    let scenarios =
        vec![scenario("logout-replay", 2), scenario("replicas", 3), scenario("restart", 2)];
    let options = options(scenarios, stores, 1);
    let out = options.out_dir.clone();
    let results = run(options).await.unwrap();

    let (attempted, accepted) = leak(&results, "none", "logout-replay");
    assert!(attempted > 0 && accepted == attempted, "none: {accepted}/{attempted}");
    let (attempted, accepted) = leak(&results, "memory", "logout-replay");
    assert!(attempted > 0 && accepted == 0, "memory one server: {accepted}/{attempted}");
    let (attempted, accepted) = leak(&results, "memory", "replicas");
    assert!(attempted > 0 && accepted > 0, "memory three replicas: {accepted}/{attempted}");
    let (attempted, accepted) = leak(&results, "memory", "restart");
    assert!(attempted > 0 && accepted > 0, "memory after restart: {accepted}/{attempted}");
    // A per-user cut-off refuses the copy on its server, and the copies' logouts (made as the
    // user's copy identity) never end the session the user's own calls run on.
    let (attempted, accepted) = leak(&results, "cutoff", "logout-replay");
    assert!(attempted > 0 && accepted == 0, "cutoff one server: {accepted}/{attempted}");
    let cutoff = results
        .measurements
        .iter()
        .find(|m| m.store == "cutoff" && m.scenario == "logout-replay")
        .unwrap();
    for round in &cutoff.rounds {
        assert_eq!(round.statuses.get("me 401"), None, "{:?}", round.statuses);
        assert!(round.statuses.get("me 200").copied().unwrap_or(0) > 0, "{:?}", round.statuses);
    }
    if results.stores.iter().any(|s| s.name == "redis" && s.status == StoreStatus::Measured) {
        for scenario in ["logout-replay", "replicas", "restart"] {
            let (attempted, accepted) = leak(&results, "redis", scenario);
            assert!(attempted > 0 && accepted == 0, "redis {scenario}: {accepted}/{attempted}");
        }
    }
    let written = RunResults::read(&out.join("results.json")).unwrap();
    assert_eq!(written.measurements.len(), 3 * results.stores.len());
    assert_eq!(written.header.finished_at, results.header.finished_at);
    assert!(written.header.finished_at.is_some());
    let _ = std::fs::remove_dir_all(out);
}

/// Rounds interleave stores, rotating the order each round (A, B, then B, A), each
/// measurement keeps every round and a median, and an unreachable store is listed as skipped
/// with its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_interleave_and_unreachable_stores_are_skipped() {
    let stores = vec!["none:".to_string(), "naive:".to_string(), "redis://127.0.0.1:1".to_string()];
    let options = options(vec![scenario("check-only", 2)], stores, 2);
    let out = options.out_dir.clone();
    let results = run(options).await.unwrap();
    assert_eq!(results.header.schema_version, SCHEMA_VERSION);
    let order: Vec<(usize, &str)> = {
        let mut all: Vec<(usize, &str)> = results
            .measurements
            .iter()
            .flat_map(|m| m.rounds.iter().map(move |r| (r.sequence, m.store.as_str())))
            .collect();
        all.sort();
        all
    };
    assert_eq!(order, vec![(1, "none"), (2, "naive"), (3, "naive"), (4, "none")]);
    for m in &results.measurements {
        assert_eq!(m.rounds.len(), 2);
        let median = m.median.as_ref().unwrap();
        assert!(median.requests_per_sec.min <= median.requests_per_sec.median);
        assert!(m
            .rounds
            .iter()
            .all(|r| r.requests > 0 && r.statuses.get("me 200").copied().unwrap_or(0) > 0));
    }
    let skipped = results.stores.iter().find(|s| s.status == StoreStatus::Skipped).unwrap();
    assert_eq!(skipped.name, "redis:1", "labelled by what differs from the default URL");
    assert!(skipped.reason.as_deref().unwrap().contains("127.0.0.1:1"), "{skipped:?}");
    let _ = std::fs::remove_dir_all(out);
}

/// With the store cut off mid-run, servers fail closed — no `GET /api/me` answered 200 and no
/// replay accepted while it is down — and answer 200 again within 5 s of its return without a
/// restart. In-process stores are listed as not applicable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_outage_fails_closed_and_recovers() {
    let mut stores = vec!["memory:".to_string()];
    stores.extend(require_or_skip(Backend::Redis).await);
    stores.extend(require_or_skip(Backend::Postgres).await);
    if stores.len() == 1 {
        return println!("skipped: no shared store answers");
    }
    let stores_measured = stores.len();
    let mut options = options(vec![scenario("store-outage", 2)], stores, 1);
    options.duration = Some(Duration::from_secs(4));
    let out = options.out_dir.clone();
    let results = run(options).await.unwrap();
    assert_eq!(results.not_applicable.len(), 1, "{:?}", results.not_applicable);
    assert_eq!(results.not_applicable[0].store, "memory");
    assert_eq!(results.measurements.len(), stores_measured - 1, "every shared store measured");
    for m in &results.measurements {
        let outage =
            m.rounds[0].outage.as_ref().unwrap_or_else(|| panic!("{}: no outage", m.store));
        let during = &outage.statuses_during;
        assert_eq!(during.get("me 200"), None, "{}: {during:?}", m.store);
        assert!(during.get("me 503").copied().unwrap_or(0) > 0, "{}: {during:?}", m.store);
        assert_eq!(outage.replays_accepted_during, 0, "{}", m.store);
        let recovery = outage.recovery_ms.unwrap_or_else(|| panic!("{}: never recovered", m.store));
        assert!(recovery < 5000.0, "{}: recovered after {recovery} ms", m.store);
        println!("{}: {during:?}, recovered after {recovery:.0} ms", m.store);
        timeline_shows_the_outage(&m.rounds[0], &m.store);
    }
    let _ = std::fs::remove_dir_all(out);
}

/// The round's timeline counts every answer and error once, in 100 ms intervals over the
/// 4 s window, with the cut and the return marked as long apart as the outage lasted; no
/// check is answered 200 in an interval wholly inside the outage, and some are after it.
fn timeline_shows_the_outage(round: &RoundResult, store: &str) {
    let t = round.timeline.as_ref().unwrap_or_else(|| panic!("{store}: no timeline"));
    let sum = |v: &Values| v.0.iter().flatten().sum::<u64>();
    assert_eq!(t.interval_ms, 100, "{store}");
    assert!((38..=60).contains(&t.intervals()), "{store}: {} intervals", t.intervals());
    assert_eq!(sum(&t.requests), round.requests, "{store}: every answer once");
    let unexpected = round.error_latency.as_ref().map_or(0, |l| l.count);
    let errors = unexpected + round.errors.values().sum::<u64>();
    assert_eq!(sum(&t.errors), errors, "{store}: every error once");
    let at = |what: &str| t.events.iter().find(|e| e.what == what).map(|e| e.at_ms);
    let (cut, back) = (at(STORE_CUT).expect("cut marked"), at(STORE_BACK).expect("back marked"));
    let down_ms = round.outage.as_ref().unwrap().down_secs * 1000.0;
    assert!(((back - cut) as f64 - down_ms).abs() < 50.0, "{store}: {cut}..{back}, {down_ms}");
    // Answers sent just before the cut may come in just after it.
    let inside = (0..t.intervals() as u64)
        .filter(|i| i * 100 >= cut + 200 && (i + 1) * 100 <= back)
        .map(|i| i as usize);
    for i in inside {
        assert_eq!(t.check_p50_us.get(i), None, "{store}: a check answered 200 in interval {i}");
    }
    let after = (back / 100 + 1) as usize..t.intervals();
    assert!(after.clone().any(|i| t.check_p99_us.get(i).is_some()), "{store}: none after");
}

/// `revbench run` measures the server at `MONGODB_URL` and says what it is: a real mongod is
/// "MongoDB x.y"; anything else is named as itself with the wire-compatible caveat in the
/// results, the terminal summary and the report, whose narrative names the server beside its
/// latency. Either way no replay leaks on one server, and a store cut off mid-run (through
/// the forwarder, `directConnection=true`) gives 503s, no 200, and recovery within 5 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_is_measured_and_labelled_for_what_it_is() {
    let Some(url) = require_or_skip(Backend::Mongo).await else { return };
    let scenarios = vec![scenario("logout-replay", 2), scenario("store-outage", 2)];
    let mut options = options(scenarios, vec![url], 1);
    options.duration = Some(Duration::from_secs(4));
    let out = options.out_dir.clone();
    let results = run(options).await.unwrap();

    let status = &results.stores[0];
    assert_eq!(status.status, StoreStatus::Measured, "{status:?}");
    let server = status.server_version.clone().expect("the server is named");
    if server.starts_with("MongoDB ") {
        assert_eq!(status.server_caveat, None, "{status:?}");
    } else {
        let caveat = status.server_caveat.as_deref();
        assert_eq!(caveat, Some(revbench::revocation::backends::mongo_server::WIRE_COMPATIBLE));
        let summary = revbench::run::summary::table(&results);
        assert!(summary.contains("mongodb*") && summary.contains(&server), "{summary}");
        let report = revbench::report::build(&results, &[]).unwrap();
        let markdown = revbench::report::markdown(&report);
        assert!(markdown.contains(&format!("{server} at ")), "{markdown}");
        assert!(markdown.contains(&format!("mongodb (served by {server}, a ")), "{markdown}");
        assert!(!markdown.contains("| mongodb |"), "unmarked mongodb row: {markdown}");
    }
    println!("mongodb measured, served by {server} ({:?})", status.server_caveat);

    let (attempted, accepted) = leak(&results, "mongodb", "logout-replay");
    assert!(attempted > 0 && accepted == 0, "mongodb one server: {accepted}/{attempted}");
    let m = results.measurements.iter().find(|m| m.scenario == "store-outage").unwrap();
    let outage = m.rounds[0].outage.as_ref().expect("an outage was recorded");
    let during = &outage.statuses_during;
    assert_eq!(during.get("me 200"), None, "{during:?}");
    assert!(during.get("me 503").copied().unwrap_or(0) > 0, "{during:?}");
    assert_eq!(outage.replays_accepted_during, 0);
    let recovery = outage.recovery_ms.expect("recovered");
    assert!(recovery < 5000.0, "recovered after {recovery} ms");
    println!("mongodb outage: {during:?}, recovered after {recovery:.0} ms");
    let _ = std::fs::remove_dir_all(out);
}

/// A paired run measures base and candidate servers back to back in ABBA order, after a
/// warm-up that is not recorded; both files keep every pair. A candidate whose servers never
/// start is recorded as failed, the run goes on, and `compare` fails naming the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paired_runs_alternate_and_record_failures() {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_revbench"));
    let mut options = options(vec![scenario("check-only", 2)], vec!["none:".to_string()], 2);
    options.baseline_exe = Some(exe.clone());
    options.warmup = Duration::from_secs(1);
    let out = options.out_dir.clone();
    let both = revbench::run::scheduler::run_paired(options.clone()).await.unwrap();
    let sequence = |r: &RunResults| -> Vec<(usize, Option<usize>)> {
        r.measurements[0].rounds.iter().map(|round| (round.sequence, round.pair)).collect()
    };
    assert_eq!(sequence(&both.base), vec![(1, Some(1)), (4, Some(2))], "base: A, then B A");
    assert_eq!(sequence(&both.candidate), vec![(2, Some(1)), (3, Some(2))]);
    for round in
        both.base.measurements[0].rounds.iter().chain(&both.candidate.measurements[0].rounds)
    {
        assert!(
            round.elapsed_secs < 1.5,
            "the 1 s warm-up is not measured: {}",
            round.elapsed_secs
        );
        assert!(round.requests > 0);
    }
    let written = RunResults::read(&out.join("candidate.json")).unwrap();
    assert_eq!(written.config.paired.as_ref().unwrap().side, "candidate");
    let comparison = revbench::compare::compare(&both.base, &both.candidate, 0.1).unwrap();
    assert!(comparison.problems.is_empty(), "{:?}", comparison.problems);
    assert!(comparison
        .changes
        .iter()
        .all(|c| c.method == revbench::compare::Method::Paired { pairs: 2 }));

    options.server_exe = PathBuf::from("/nonexistent/revbench");
    options.rounds = 1;
    options.warmup = Duration::ZERO;
    let broken = revbench::run::scheduler::run_paired(options).await.unwrap();
    assert_eq!(broken.candidate.failures.len(), 1, "{:?}", broken.candidate.failures);
    let comparison = revbench::compare::compare(&broken.base, &broken.candidate, 0.1).unwrap();
    assert!(comparison.fails());
    assert_eq!(comparison.problems[0].store, "none");
    let _ = std::fs::remove_dir_all(out);
}
